"""Refine the user's minimum, then sample one temperature: every chain of it batched in one engine run.

As in Jules et al. (Sec. II): full-batch Adam to a gradient-norm tolerance (``dynamics.train.adam_descent``),
float64; then Euler-Maruyama chains of Eq. 7 started at the minimum (``dynamics.langevin.run_chunked``:
chunked, resumable from ``workdir``, per-sample loss snapshots kept for phi, Eq. 8).
"""

from __future__ import annotations

import logging
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from thermoscape.core.seeds import derive_seed
from thermoscape.dynamics.langevin import Chain, Schedule, compiled, run_chunked
from thermoscape.dynamics.train import Descent, adam_descent
from thermoscape.nets.losses import Landscape, mixed_precision
from thermoscape.nets.module_landscape import ModelInputError

PRECISIONS = ("float64", "mixed")

_log = logging.getLogger(__name__)


class RefinementError(RuntimeError):
    """The refinement stopped short of its tolerance (raise ``max_steps`` or ``lr``, or loosen the tolerance)."""


@dataclass(frozen=True)
class Refine:
    """Full-batch Adam to the minimum (Jules et al., Sec. II; brief section 7): stop when ``|grad L| <=
    grad_norm_tol`` and ``L <= target_loss`` (cross-entropy on separable data has no point minimum: the
    tolerance sets the depth), checked every ``record_every`` steps, at most ``max_steps``."""

    lr: float = 1e-3
    max_steps: int = 20_000
    grad_norm_tol: float = 1e-4
    target_loss: float = math.inf
    record_every: int = 10


@dataclass(frozen=True)
class Sampling:
    """One temperature's run: ``chains`` independent noises from the minimum, each ``duration`` long in
    continuous time ``t = step x eta``. The time step is ``eta``, or ``eta_times_T / T`` (the project's
    ``eta T = c`` policy: ``eta lambda_max`` stays put where ``lambda_max ~ T``). ``precision``: ``float64``
    everywhere, or ``mixed`` (float32 gradient and noise, float64 state: ``nets.losses.MixedPrecision``)."""

    chains: int = 8
    eta: float | None = 1e-2
    eta_times_T: float | None = None
    duration: float = 1000.0
    record_every: int = 1
    snapshot_interval: float = 10.0
    chunk_steps: int = 100_000
    noise_block: int = 256
    precision: str = "float64"
    compile: bool = False

    def __post_init__(self) -> None:
        if (self.eta is None) == (self.eta_times_T is None):
            raise ModelInputError("eta", "give exactly one of eta and eta_times_T")
        step = self.eta if self.eta is not None else self.eta_times_T
        if not (math.isfinite(step) and step > 0):
            raise ModelInputError("eta", f"must be positive and finite, got {step}")
        if self.chains < 2:
            raise ModelInputError("chains", f"must be at least 2 (the uncertainties come from the chains), got "
                                            f"{self.chains}")
        if not self.duration > 0:
            raise ModelInputError("duration", f"must be positive, got {self.duration}")
        if self.precision not in PRECISIONS:
            raise ModelInputError("precision", f"must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")

    def time_step(self, temperature: float) -> float:
        return self.eta if self.eta is not None else self.eta_times_T / temperature

    def time_step_label(self) -> str:
        return f"eta = {self.eta:g}" if self.eta is not None else f"eta T = {self.eta_times_T:g}"

    def schedule(self, temperature: float) -> Schedule:
        eta = self.time_step(temperature)
        return Schedule(n_steps=max(1, round(self.duration / eta)), record_every=self.record_every,
                        snapshot_every=max(1, round(self.snapshot_interval / eta)), chunk_steps=self.chunk_steps,
                        noise_block=self.noise_block)


def loss_at(landscape: Landscape, theta: Tensor) -> float:
    """``L(theta)`` of one ``(N,)`` point."""
    with torch.no_grad():
        return float(landscape.loss(theta.unsqueeze(0))[0])


def refine_minimum(landscape: Landscape, theta: Tensor, settings: Refine = Refine(), strict: bool = True,
                   progress: Callable[[int], None] | None = None) -> Descent:
    """Adam from ``theta`` to the minimum (:class:`Refine`). A loss that is not finite at the start or at the
    minimum is a ``ModelInputError`` (``weights`` / ``loss``); with ``strict``, a refinement that stops short of
    its tolerance raises :class:`RefinementError` with the loss and gradient norm it reached."""
    start = loss_at(landscape, theta)
    if not math.isfinite(start):
        raise ModelInputError("weights", f"the loss at the given weights is {start}: the model's outputs are not "
                                         "finite on these data")
    descent = adam_descent(landscape, theta, lr=settings.lr, max_steps=settings.max_steps,
                           target_loss=settings.target_loss, grad_norm_tol=settings.grad_norm_tol,
                           record_every=settings.record_every, progress=progress)
    final = descent.curve.iloc[-1]
    minimum = loss_at(landscape, descent.theta)
    if not math.isfinite(minimum):
        raise ModelInputError("loss", f"is {minimum} at the refined minimum (step {int(final.step)}): lower the "
                                      "refinement's lr")
    if strict and not descent.converged:
        raise RefinementError(
            f"refine: after {int(final.step)} steps the loss is {final.loss:.3e} and |grad L| is "
            f"{final.grad_norm:.3e}, short of grad_norm_tol = {settings.grad_norm_tol:.3e} (target_loss = "
            f"{settings.target_loss:.3e}); raise max_steps or lr, or loosen the tolerance")
    _log.info("refined: loss %.3e, |grad L| %.3e after %d steps (%s)", minimum, final.grad_norm, int(final.step),
              "converged" if descent.converged else "not converged")
    return descent


def sample_temperature(landscape: Landscape, theta: Tensor, temperature: float, sampling: Sampling = Sampling(),
                       seed: int = 0, workdir: str | Path | None = None,
                       progress: Callable[[int], None] | None = None) -> dict[str, pd.DataFrame]:
    """Langevin chains of Eq. 7 at ``temperature``, all started at ``theta`` ``(N,)`` and advanced as one batch.

    Chain ``c`` draws its noise from ``derive_seed(seed, "chart", c, T, eta)``. ``workdir``: where the engine
    keeps its chunks and checkpoints (a killed run resumes from it); a temporary folder when ``None``.
    Returns ``trajectory`` (chain, step, t, loss, distance), ``samples`` (chain, step, t, sample, loss: the
    per-sample losses every ``snapshot_interval``) and ``status`` (one row per chain: ``chain, replica,
    temperature, eta, time_step, seed, n_steps, duration, diverged, diverged_step``).
    """
    if not (math.isfinite(temperature) and temperature > 0):
        raise ModelInputError("temperatures", f"must be positive and finite, got {temperature}")
    eta = sampling.time_step(temperature)
    schedule = sampling.schedule(temperature)
    chains = [Chain(temperature, eta, derive_seed(seed, "chart", c, temperature, eta)) for c in range(sampling.chains)]
    theta0 = theta.detach().unsqueeze(0).repeat(sampling.chains, 1)
    engine = mixed_precision(landscape) if sampling.precision == "mixed" else landscape
    if sampling.compile:
        engine = compiled(engine, theta0)
    _log.info("T = %g: %d chains x %d steps of eta = %g", temperature, sampling.chains, schedule.n_steps, eta)
    with tempfile.TemporaryDirectory(prefix="thermoscape-chart-") as scratch:
        state, parts = run_chunked(engine, theta0, chains, schedule, workdir or scratch, progress=progress)
        records = {name: pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True) if paths else pd.DataFrame()
                   for name, paths in parts.items() if name != "params"}
    diverged = [d is not None for d in state.diverged_step]
    records["status"] = pd.DataFrame({
        "chain": np.arange(len(chains)), "replica": np.arange(len(chains)), "temperature": temperature, "eta": eta,
        "time_step": sampling.time_step_label(), "seed": [c.seed for c in chains], "n_steps": state.step,
        "duration": state.step * eta, "diverged": diverged,
        "diverged_step": [np.nan if d is None else d for d in state.diverged_step],
    })
    if any(diverged):
        _log.warning("T = %g: %d of %d chains diverged (non-finite loss)", temperature, sum(diverged), len(chains))
    return records
