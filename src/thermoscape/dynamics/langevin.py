"""Euler-Maruyama integration of overdamped Langevin dynamics over a batch of chains.

``theta_{s+1} = theta_s - eta grad L(theta_s) + sqrt(2 eta T) xi_s`` (Jules et al., Eq. 7), the
discretisation of ``d theta = -grad L dt + sqrt(2T) dW`` (Eq. 1), with continuous time ``t = s eta``.

All chains of a batch share the landscape (data and architecture) and advance together in one
vectorised computation; each has its own temperature, time step and random stream, so a chain's
trajectory does not depend on which other chains share its batch. Setting ``drift=False`` drops the
gradient term (free diffusion).

Position-dependent noise: if the landscape has a method ``noise_amplitude(theta) -> Tensor (K, N)``, each
step's noise is multiplied elementwise by it, evaluated at ``theta_s`` before the drift update (Ito), i.e.
``theta_{s+1} = theta_s - eta grad L(theta_s) + sqrt(2 eta T) a(theta_s) xi_s``. With ``a = sqrt(D)`` and
``T = T_SGD / 2`` this is Bradley et al.'s Eq. 11 discretised, ``theta - eta U' + sqrt(eta T_SGD D) xi``
(``thermoscape.studies.bradley.basins``). Landscapes without the method run exactly as before.

Noise precision: a landscape with an attribute ``noise_dtype`` has its normals drawn in that dtype and
then scaled in the state's dtype (``losses.MixedPrecision`` draws float32 normals, ~4x cheaper on a CPU).

Speed: ``compiled(landscape, example)`` runs each step (gradient, update, distance) as one ``torch.compile``
graph, which fuses the update and its dtype casts into the gradient's last kernels; a mixed-precision MLP on
the CPU runs the step in the hand-written kernel of ``thermoscape.dynamics.mlp_kernel`` instead.

The run advances in chunks: ``run_chunked`` writes each chunk's records to Parquet parts and a checkpoint,
so a killed run resumes from its last chunk and produces the same files as an uninterrupted one.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
from torch import Tensor

from thermoscape.core.device import try_compile
from thermoscape.core.io import InputFileError, checksum_path, file_sha256, load_tensors, save_tensors, write_table
from thermoscape.nets.losses import Landscape
from thermoscape.dynamics.mlp_kernel import fused_mlp_step

_KEYS = [("chain", pa.int64()), ("step", pa.int64()), ("t", pa.float64())]
RECORD_SCHEMAS = {
    "trajectory": pa.schema(_KEYS + [("loss", pa.float64()), ("distance", pa.float64())]),
    "samples": pa.schema(_KEYS + [("sample", pa.int64()), ("loss", pa.float64())]),
    "params": pa.schema(_KEYS + [("theta", pa.list_(pa.float64()))]),
}


@dataclass(frozen=True)
class Chain:
    """One Langevin chain: its temperature, time step, noise seed and parameter-snapshot steps."""

    temperature: float
    eta: float
    seed: int
    param_snapshot_steps: tuple[int, ...] = ()


@dataclass(frozen=True)
class Schedule:
    """How long to run and what to record (all in steps)."""

    n_steps: int
    record_every: int = 1  # loss and distance from the start
    snapshot_every: int = 1000  # per-sample losses
    chunk_steps: int = 100_000
    noise_block: int = 256  # noise drawn per chain in blocks: fewer RNG calls
    drift: bool = True
    # adaptive length: run at least min_steps, then check the stop rule every check_every steps up to n_steps
    min_steps: int | None = None
    check_every: int | None = None

    @property
    def adaptive(self) -> bool:
        return self.min_steps is not None and self.min_steps < self.n_steps

    @property
    def guaranteed_steps(self) -> int:
        """Steps every run reaches (unless it diverges): ``min_steps`` of an adaptive run, else ``n_steps``."""
        return self.min_steps if self.adaptive else self.n_steps

    def next_chunk(self, step: int) -> int:
        """Steps to advance from ``step``: chunks end at ``min_steps`` and then every ``check_every``."""
        n = min(self.chunk_steps, self.n_steps - step)
        if self.adaptive:
            n = min(n, self.min_steps - step) if step < self.min_steps else min(n, self.check_every or n)
        return n


@dataclass
class EngineState:
    """Everything needed to continue a batch of chains exactly where it stopped."""

    theta: Tensor  # (K, N)
    theta_start: Tensor  # (K, N)
    step: int
    generators: list[torch.Generator]
    diverged_step: list[int | None] = field(default_factory=list)
    stop_reason: str = ""  # "length" (n_steps, or min_steps of a fixed run), "stop rule", "max length", "diverged"


def engine_bytes(n_chains: int, n_params: int, n_samples: int, schedule: Schedule,
                 state_dtype: torch.dtype = torch.float64, noise_dtype: torch.dtype | None = None) -> dict[str, float]:
    """Memory the engine itself holds for a batch, by part (bytes), excluding the landscape's own work:

    ``state``: ``theta``, ``theta_start``, the next ``theta`` and the gradient, ``(K, N)`` each; ``noise``: one
    block of ``noise_block`` standard normals per chain and parameter (``_draw_noise``); ``records``: a chunk's
    loss and distance series and its per-sample snapshots (``K x D`` each).
    """
    size = torch.finfo(state_dtype).bits // 8
    noise_size = torch.finfo(noise_dtype or state_dtype).bits // 8
    chunk = min(schedule.chunk_steps, schedule.n_steps)
    return {
        "state": 4.0 * n_chains * n_params * size,
        "noise": float(n_chains) * schedule.noise_block * n_params * noise_size,
        "records": n_chains * 8.0 * (2 * chunk / schedule.record_every + n_samples * chunk / schedule.snapshot_every),
    }


def start_state(theta0: Tensor, chains: list[Chain]) -> EngineState:
    generators = [torch.Generator(device=theta0.device).manual_seed(c.seed) for c in chains]
    return EngineState(theta0.clone(), theta0.clone(), 0, generators, [None] * len(chains))


def _draw_noise(state: EngineState, n: int, dtype: torch.dtype, capacity: int) -> Tensor:
    """Standard normals for ``n`` steps, ``noise[:, :n]`` of a ``(K, capacity, N)`` block in ``dtype``: one RNG
    call per chain, each filling its own contiguous slab (no stacking, casting or scaling pass over the
    block: the update applies ``sqrt(2 eta T)``). A fixed ``capacity`` gives every step's ``noise[:, j]``
    the same strides, so a compiled step is not recompiled for a short last block."""
    k, dim = state.theta.shape
    noise = torch.empty(k, capacity, dim, dtype=dtype, device=state.theta.device)
    for generator, slab in zip(state.generators, noise):
        slab[:n].normal_(generator=generator)
    return noise


def euler_maruyama_step(
    landscape: Landscape, drift: bool, theta: Tensor, theta_start: Tensor | None, noise: Tensor, neg_eta: Tensor,
    noise_scale: Tensor,
) -> tuple[Tensor, Tensor | None, Tensor]:
    """One step of Eq. 7 for every chain: ``theta - eta grad L(theta) + sqrt(2 eta T) a(theta) xi``.

    ``noise`` holds the standard normals ``xi`` ``(K, N)``, ``neg_eta`` and ``noise_scale`` are ``-eta`` and
    ``sqrt(2 eta T)`` per chain ``(K, 1)``. Returns the loss at ``theta``, the distance ``|theta -
    theta_start|`` (``None`` without ``theta_start``: a step that records nothing) and the next ``theta``
    (a new tensor).
    """
    loss, grad = landscape.loss_and_grad(theta)
    amplitude = getattr(landscape, "noise_amplitude", None)
    if amplitude is not None:  # Ito: the amplitude at theta_s, before the drift update
        noise = noise * amplitude(theta)
    distance = None if theta_start is None else torch.linalg.vector_norm(theta - theta_start, dim=1)
    moved = theta + grad * neg_eta if drift else theta
    return loss, distance, moved + noise * noise_scale


def compiled(landscape: Landscape, example: Tensor) -> Landscape:
    """A copy of ``landscape`` whose Langevin step (gradient, Eq. 7 update, distance) runs as one
    ``torch.compile`` (inductor) graph, used by ``advance`` for drift runs.

    Fusing the many small elementwise passes of the forward/backward, the update and its dtype casts
    speeds up the engine on the paper's MLP ~2x on one CPU thread (benchmarks/README.md), after a one-off
    compilation (~20 s) for the batch shape of ``example`` ``(K, N)``. Same arithmetic up to rounding
    (kernels may contract multiply-adds). Falls back to the eager step if compilation fails.

    A ``precision: mixed`` MLP on the CPU (``losses.MixedPrecision`` over an ``MLPLandscape``, float64
    state) gets the hand-written kernel of ``thermoscape.dynamics.mlp_kernel`` instead: the whole step per chain in
    L1-resident buffers, ~2.1x the compiled graph's throughput at K = 32 (benchmarks/README.md), built in ~2 s.
    """
    fast = copy.copy(landscape)
    kernel = fused_mlp_step(landscape, example)
    if kernel is not None:
        fast.fused_step = kernel
        return fast
    k, dim = example.shape
    # the strides of one step's noise in advance's blocks: a compiled graph is specialised to them
    noise = torch.zeros(k, Schedule.noise_block, dim, dtype=getattr(landscape, "noise_dtype", example.dtype),
                        device=example.device)[:, 0]
    per_chain = torch.zeros(k, 1, dtype=example.dtype, device=example.device)
    # distinct tensors for distinct arguments: the graph is specialised to which arguments alias
    fast.fused_step, _ = try_compile(functools.partial(euler_maruyama_step, landscape, True),
                                     example, example.clone(), noise, per_chain, per_chain.clone())
    return fast


def advance(
    landscape: Landscape,
    state: EngineState,
    chains: list[Chain],
    schedule: Schedule,
    n_steps: int,
    progress: Callable[[int], None] | None = None,
) -> dict[str, pd.DataFrame]:
    """Advance ``state`` in place by ``n_steps`` and return this stretch's records as tables.

    Tables: ``trajectory`` (chain, step, t, loss, distance) every ``record_every`` steps, the loss
    being that of ``theta_s`` before step ``s``; ``samples`` (chain, step, t, sample, loss) every
    ``snapshot_every`` steps; ``params`` (chain, step, t, theta) at each chain's snapshot steps.
    No per-step host synchronisation: records stay on the device until the stretch ends.
    """
    theta = state.theta
    k = theta.shape[0]
    eta = torch.tensor([c.eta for c in chains], dtype=theta.dtype, device=theta.device)
    temperature = torch.tensor([c.temperature for c in chains], dtype=theta.dtype, device=theta.device)
    neg_eta = (-eta).view(k, 1)
    noise_scale = torch.sqrt(2 * eta * temperature).view(k, 1)
    snapshot_chains: dict[int, list[int]] = {}
    for index, chain in enumerate(chains):
        for s in chain.param_snapshot_steps:
            snapshot_chains.setdefault(int(s), []).append(index)

    first, last = state.step, state.step + n_steps
    rec_steps = list(range(first + (-first) % schedule.record_every, last, schedule.record_every))
    # preallocated: one small tensor per step would cost ~1 kB of allocator overhead each
    rec_loss = torch.empty(len(rec_steps), k, dtype=theta.dtype, device=theta.device)
    rec_dist = torch.empty_like(rec_loss)
    snap_steps, snap_losses = [], []
    par_rows: list[tuple[int, int, Tensor]] = []
    record = 0
    noise_dtype = getattr(landscape, "noise_dtype", theta.dtype)
    fused = getattr(landscape, "fused_step", None)
    step = fused if fused is not None and schedule.drift else functools.partial(euler_maruyama_step, landscape,
                                                                                  schedule.drift)
    for block_start in range(first, last, schedule.noise_block):
        block = min(schedule.noise_block, last - block_start)
        noise = _draw_noise(state, block, noise_dtype, schedule.noise_block)
        for j in range(block):
            s = block_start + j
            if s % schedule.snapshot_every == 0:
                snap_steps.append(s)
                snap_losses.append(landscape.per_sample_loss(theta))
            for index in snapshot_chains.get(s, ()):
                par_rows.append((index, s, theta[index].clone()))
            recorded = s % schedule.record_every == 0
            loss, distance, theta = step(theta, state.theta_start if recorded else None, noise[:, j], neg_eta,
                                         noise_scale)
            if recorded:
                rec_loss[record] = loss
                rec_dist[record] = distance
                record += 1
        if progress is not None:
            progress(block)
    state.theta = theta
    state.step = last
    return _records(chains, rec_steps, rec_loss, rec_dist, snap_steps, snap_losses, par_rows)


def _records(chains, rec_steps, rec_loss, rec_dist, snap_steps, snap_losses, par_rows):
    k = len(chains)
    eta = np.array([c.eta for c in chains])
    steps = np.asarray(rec_steps, dtype=np.int64)
    loss, dist = rec_loss.cpu().numpy(), rec_dist.cpu().numpy()
    chain_col = np.repeat(np.arange(k)[None, :], len(steps), axis=0)
    trajectory = pd.DataFrame(
        {
            "chain": chain_col.T.ravel(),
            "step": np.tile(steps, k),
            "t": (np.tile(steps, k) * np.repeat(eta, len(steps))),
            "loss": loss.T.ravel(),
            "distance": dist.T.ravel(),
        }
    )
    if snap_losses:
        per_sample = torch.stack(snap_losses).cpu().numpy()  # (S, K, D)
        n_snap, _, n_samples = per_sample.shape
        idx_snap, idx_chain, idx_sample = np.meshgrid(
            np.arange(n_snap), np.arange(k), np.arange(n_samples), indexing="ij"
        )
        snap_step = np.asarray(snap_steps)[idx_snap.ravel()]
        samples = pd.DataFrame(
            {
                "chain": idx_chain.ravel(),
                "step": snap_step,
                "t": snap_step * eta[idx_chain.ravel()],
                "sample": idx_sample.ravel(),
                "loss": per_sample.ravel(),
            }
        )
    else:
        samples = pd.DataFrame({"chain": [], "step": [], "t": [], "sample": [], "loss": []})
    params = pd.DataFrame(
        {
            "chain": [r[0] for r in par_rows],
            "step": [r[1] for r in par_rows],
            "t": [r[1] * eta[r[0]] for r in par_rows],
            "theta": pd.Series([r[2].cpu().numpy() for r in par_rows], dtype=object),
        }
    )
    return {"trajectory": trajectory, "samples": samples, "params": params}


def _mark_divergence(state: EngineState, records: dict[str, pd.DataFrame]) -> None:
    """Record the first step with a non-finite loss per chain and drop that chain's later records."""
    trajectory = records["trajectory"]
    bad = trajectory[~np.isfinite(trajectory["loss"])]
    for chain, group in bad.groupby("chain"):
        if state.diverged_step[chain] is None:
            state.diverged_step[chain] = int(group["step"].min())
    for index, step in enumerate(state.diverged_step):
        if step is None and not torch.isfinite(state.theta[index]).all():
            state.diverged_step[index] = state.step
    never = np.iinfo(np.int64).max
    cutoff = np.array([never if d is None else d for d in state.diverged_step], dtype=np.int64)
    for name, table in records.items():
        chain = table["chain"].to_numpy(dtype=np.int64)
        records[name] = table[table["step"].to_numpy() < cutoff[chain]]


def fingerprint(theta0: Tensor, chains: list[Chain], schedule: Schedule) -> str:
    """Identity of a run: resuming is only allowed into a checkpoint of the very same run."""
    digest = hashlib.sha256(theta0.cpu().numpy().tobytes())
    digest.update(json.dumps([asdict(c) for c in chains] + [asdict(schedule)], default=str).encode())
    return digest.hexdigest()


CHECKPOINT = "checkpoint-{chunk:06d}.pt"  # after `chunk` chunks; the last two are kept, each with its .sha256


def _checkpoints(workdir: Path) -> list[tuple[int, Path]]:
    """(chunk, path) of the checkpoints in ``workdir``, the latest first."""
    found = []
    for path in workdir.glob("checkpoint-*.pt"):
        try:
            found.append((int(path.stem.split("-")[1]), path))
        except (IndexError, ValueError):
            continue
    return sorted(found, reverse=True)


def _remove_checkpoints(workdir: Path, below: int | None = None, above: int | None = None) -> None:
    for chunk, path in _checkpoints(workdir):
        if (below is not None and chunk < below) or (above is not None and chunk > above):
            path.unlink(missing_ok=True)
            checksum_path(path).unlink(missing_ok=True)


def _valid_checkpoint(workdir: Path, key: str, device) -> dict | None:
    """The latest checkpoint of this run (``key``) whose file and chunk parts match their checksums.

    A truncated or corrupt checkpoint (or part file) falls back to the checkpoint before it, and without a
    valid one the run starts from scratch; each case is logged as a warning naming the file."""
    log = logging.getLogger(__name__)
    candidates = _checkpoints(workdir)
    for chunk, path in candidates:
        try:
            saved = load_tensors(path, device=device, verify=True)
        except InputFileError as error:
            log.warning("checkpoint %s is unusable (%s): trying the one before it", path, error)
            continue
        if saved.get("fingerprint") != key:
            log.warning("checkpoint %s belongs to another run (other settings): ignored", path)
            continue
        bad = [name for name, digest in saved.get("parts", {}).items()
               if not (workdir / name).exists() or file_sha256(workdir / name) != digest]
        if bad:
            log.warning("checkpoint %s: its chunk files %s are missing or corrupt: trying the one before it",
                        path, ", ".join(sorted(bad)))
            continue
        if chunk != candidates[0][0]:
            log.warning("resuming from the earlier checkpoint %s (chunk %d); later chunks are recomputed", path, chunk)
        _remove_checkpoints(workdir, above=chunk)
        return saved
    if candidates:
        log.warning("no valid checkpoint in %s: starting from scratch", workdir)
        _remove_checkpoints(workdir, above=-1)
    return None


def run_chunked(
    landscape: Landscape,
    theta0: Tensor,
    chains: list[Chain],
    schedule: Schedule,
    workdir: str | Path,
    progress: Callable[[int], None] | None = None,
    stop_rule: Callable[[dict[str, list[Path]], EngineState], bool] | None = None,
) -> tuple[EngineState, dict[str, list[Path]]]:
    """Run all chains for ``schedule.n_steps`` in chunks, resuming from ``workdir`` if possible.

    Each chunk's tables go to ``workdir/{name}-{chunk:06d}.parquet``, then a checkpoint (state, fingerprint,
    the parts' SHA-256) is written atomically with its own SHA-256 (``checkpoint-{chunk:06d}.pt.sha256``);
    the last two are kept. A restart continues after the latest checkpoint whose file and parts match their
    checksums: a truncated or corrupt one falls back to the one before it, or to scratch, with a warning.
    Chains whose loss becomes non-finite are marked diverged (first bad step) and stop recording;
    the run ends early when every chain has diverged. Returns the final state and the part files.

    Adaptive length (``schedule.min_steps < n_steps``): after ``min_steps`` and then every ``check_every``
    steps, ``stop_rule(parts, state)`` sees the part files written so far (and which chains diverged) and ends the
    run when it returns true;
    otherwise the run ends at ``n_steps``. The rule reads only recorded data, so the stopping step is
    deterministic for a seed and a resumed run stops where an uninterrupted one does. ``state.stop_reason``
    says why the run ended: ``fixed length``, ``stop rule``, ``maximum length`` or ``all diverged``.
    """
    if schedule.adaptive and stop_rule is None:
        raise ValueError("an adaptive schedule (min_steps < n_steps) needs a stop_rule")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    key = fingerprint(theta0, chains, schedule)
    state = start_state(theta0, chains)
    chunk = 0
    part_sums: dict[str, str] = {}
    saved = _valid_checkpoint(workdir, key, theta0.device)
    if saved is not None:
        state.theta, state.theta_start = saved["theta"], saved["theta_start"]
        state.step, chunk = int(saved["step"]), int(saved["chunk"])
        part_sums = dict(saved["parts"])
        for g, g_state in zip(state.generators, saved["generators"]):
            g.set_state(g_state)
        state.diverged_step = [None if d < 0 else int(d) for d in saved["diverged_step"]]
        logging.getLogger(__name__).info("resumed from the checkpoint at step %d (chunk %d)", state.step, chunk)
        if progress is not None:
            progress(state.step)
    names = ("trajectory", "samples", "params")

    def written() -> dict[str, list[Path]]:
        return {name: [workdir / f"{name}-{i:06d}.parquet" for i in range(chunk)] for name in names}

    while True:
        if all(d is not None for d in state.diverged_step):
            state.stop_reason = "all diverged"
            break
        if state.step >= schedule.n_steps:
            state.stop_reason = "maximum length" if schedule.adaptive else "fixed length"
            break
        if schedule.adaptive and state.step >= schedule.min_steps and stop_rule(written(), state):
            state.stop_reason = "stop rule"
            break
        n = schedule.next_chunk(state.step)
        records = advance(landscape, state, chains, schedule, n, progress)
        _mark_divergence(state, records)
        for name in names:
            write_table(records[name], workdir / f"{name}-{chunk:06d}.parquet", RECORD_SCHEMAS[name])
        part_sums.update({f"{name}-{chunk:06d}.parquet": file_sha256(workdir / f"{name}-{chunk:06d}.parquet")
                          for name in names})
        chunk += 1
        save_tensors(
            {
                "fingerprint": key,
                "theta": state.theta,
                "theta_start": state.theta_start,
                "step": state.step,
                "chunk": chunk,
                "generators": [g.get_state() for g in state.generators],
                "diverged_step": [-1 if d is None else d for d in state.diverged_step],
                "parts": dict(part_sums),
            },
            workdir / CHECKPOINT.format(chunk=chunk),
            checksum=True,
        )
        _remove_checkpoints(workdir, below=chunk - 1)  # keep this one and the one before (a fallback)
    return state, written()


def free_diffusion(
    landscape: Landscape,
    theta0: Tensor,
    temperature: float,
    times: np.ndarray,
    n_walks: int,
    generator: torch.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Free diffusion from ``theta0``: Eq. 1 without the gradient term, ``d theta = sqrt(2T) dW``
    (Jules et al., Fig. 3b, black).

    Brownian motion is sampled exactly at the increasing ``times`` (independent Gaussian increments of
    variance ``2 T dt`` per coordinate), so no time step is involved and ``|theta - theta0|`` concentrates
    at ``sqrt(2 T N t)``. Returns ``(distance, loss)``, each ``(n_walks, len(times))``.
    """
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or np.any(np.diff(times) <= 0) or times[0] <= 0:
        raise ValueError("times must be positive and strictly increasing")
    dt = torch.as_tensor(np.diff(times, prepend=0.0), dtype=theta0.dtype)
    noise = torch.randn(len(times), n_walks, theta0.numel(), generator=generator, dtype=theta0.dtype)
    displacement = torch.cumsum(noise * torch.sqrt(2 * temperature * dt)[:, None, None], dim=0).to(theta0.device)
    loss = landscape.loss((theta0 + displacement).reshape(-1, theta0.numel())).reshape(len(times), n_walks)
    return displacement.norm(dim=-1).T.cpu().numpy(), loss.T.detach().cpu().numpy()
