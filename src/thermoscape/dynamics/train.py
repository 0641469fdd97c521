"""One trainer for every optimisation loop of the workflow, and full-batch descent to a minimum (Jules et
al., Sec. II).

``train`` runs epochs of optimizer steps on a list of leaf tensors: ``step(batch)`` computes the loss of one
batch and leaves its gradient in each tensor's ``.grad`` (by ``backward()`` or by assigning a hand-derived
gradient), then a ``torch.optim`` optimizer (``Optimizer``: SGD, heavy-ball momentum or Adam, with weight
decay) takes the step. What differs between the studies' protocols is a setting or a hook, not a loop:

* the batch order, ``batches(epoch) -> batches`` (``data.batches.BatchOrder`` with the study's seed
  convention; full batch by default);
* the schedule, ``lr(epoch) -> learning rate`` (e.g. Yang's one decay, Garipov's curve schedule);
* ``on_loss(epoch, i, loss)`` before the update (Jules' convergence test), ``on_step(epoch, i, loss)`` after
  it (Feng & Tu's snapshot window, the forgetting evaluations, a proximal penalty step) and
  ``on_epoch_end(epoch, run)`` (histories, Yang's stop rule, checkpoints kept by epoch); a hook returning a
  truthy value stops training (a string return names the reason);
* divergence: ``"step"`` stops before the update on a non-finite batch loss, ``"epoch"`` after an epoch with
  a non-finite mean loss, ``"never"`` leaves it to the hooks; ``Run.stopped == "diverged"`` either way;
* ``Checkpoint``: the parameters, optimizer state, batch-order state (the ``"stream"`` generator), run
  record and the caller's own state, written atomically after an epoch; a call finding the file resumes
  from it and ends bitwise where an uninterrupted run ends;
* ``replicas=R``: R independent runs batched into one (e.g. Yang et al.'s replicas of a grid cell, trained
  as stacked weights with batched matrix products): every tensor in ``params`` holds the replicas along its
  first axis, each replica has its own batch order and its own stop, and a stopped replica is frozen (no
  updates, no draws) while the others go on. Per replica this is the plain trainer's run (elementwise
  optimizer state: ``torch.optim`` on the stacked tensor is the optimizer of each replica; see ``train``).

Epochs are numbered ``first_epoch .. first_epoch + epochs - 1``; ``batches``, ``lr`` and the hooks see those
numbers.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import torch
from torch import Tensor

from thermoscape.core.io import atomic_path
from thermoscape.nets.losses import Landscape

OPTIMIZERS = ("sgd", "adam")
DIVERGENCE = ("step", "epoch", "never")
_CHECKPOINT_FORMAT = "trainer/1"

_log = logging.getLogger(__name__)


class SimulatedKill(RuntimeError):
    """Raised by the ``_stop_after`` test hook: the run stops as if killed after an epoch, leaving the
    checkpoint file as it was then (written at that epoch only if one was due)."""


@dataclass(frozen=True)
class Optimizer:
    """A ``torch.optim`` optimizer: ``"sgd"`` (``momentum`` > 0: PyTorch's heavy ball, dampening 0) or
    ``"adam"`` (``betas``, ``eps``; PyTorch's defaults), with coupled L2 ``weight_decay`` (the optimizer's
    ``weight_decay``: ``wd * theta`` added to the gradient, the gradient of ``wd/2 ||theta||^2``)."""

    kind: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.0
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8

    def __post_init__(self) -> None:
        if self.kind not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.kind!r}")

    def build(self, params: Sequence[Tensor]) -> torch.optim.Optimizer:
        """The optimizer over ``params``. On the CPU ``foreach=False`` is what PyTorch picks anyway; saying so
        skips its per-step check (a few microseconds, a tenth of a small replicas step)."""
        foreach = False if all(p.device.type == "cpu" for p in params) else None
        if self.kind == "adam":
            return torch.optim.Adam(params, lr=self.lr, betas=self.betas, eps=self.eps,
                                    weight_decay=self.weight_decay, foreach=foreach)
        return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay,
                               foreach=foreach)


@dataclass
class Checkpoint:
    """Where and how ``train`` keeps its per-epoch state.

    ``fingerprint``: anything picklable as plain data (settings, seed, ...), stored and compared on resume;
    a mismatch raises ``ValueError`` (``on_mismatch="raise"``) or starts afresh (``"ignore"``).
    ``save_state() -> dict`` and ``load_state(dict)``: the caller's own state (histories, best states,
    module buffers), saved at the top level of the file beside the trainer's keys ``format``,
    ``fingerprint`` and ``trainer``. The file is written when at least ``every_s`` seconds have
    passed since the last write (or the start; 0: after every epoch) and always when the run stops.
    """

    path: str | os.PathLike
    fingerprint: Any = None
    save_state: Callable[[], dict] = dict
    load_state: Callable[[dict], None] = lambda state: None
    every_s: float = 0.0
    on_mismatch: str = "raise"


@dataclass
class Run:
    """The trainer's record: the next epoch, the epochs run (a stopped epoch counts), the mean batch loss of
    each epoch (float64 sum of the batch losses over the steps taken), the steps taken, why it stopped
    (``None`` while running; ``"epochs"``, ``"diverged"``, ``"hook"`` or a hook's string) and the last
    batch loss seen.

    Replica mode: ``replicas`` holds each replica's stop reason (``None`` while it runs), ``ran`` the
    replicas that ran the last epoch, and each ``epoch_losses`` entry is a list over all replicas (NaN
    for those that did not run); ``stopped`` is ``"replicas"`` once every replica has stopped."""

    epoch: int
    epochs_run: int = 0
    epoch_losses: list = field(default_factory=list)
    steps: int = 0
    stopped: str | None = None
    last_loss: float = math.nan
    replicas: list[str | None] | None = None
    ran: list[int] = field(default_factory=list)

    @property
    def diverged(self) -> bool:
        return self.stopped == "diverged"

    @property
    def active(self) -> list[int]:
        """The replicas still running (replica mode)."""
        return [k for k, reason in enumerate(self.replicas or []) if reason is None]


def _full_batch(epoch: int) -> list[None]:
    return [None]


def _load(checkpoint: Checkpoint, params: Sequence[Tensor], optimizer: torch.optim.Optimizer,
          batches: Any, run: Run) -> Run:
    try:
        saved = torch.load(checkpoint.path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 -- torch raises many types for a truncated or corrupt file
        _log.warning("checkpoint %s is truncated or corrupt (%s): starting this run from scratch", checkpoint.path,
                     error)
        os.remove(checkpoint.path)
        return run
    if saved.get("format") != _CHECKPOINT_FORMAT or "trainer" not in saved or saved.get("fingerprint") != checkpoint.fingerprint:
        if checkpoint.on_mismatch == "ignore":
            _log.info("ignoring %s: written by another run or format", checkpoint.path)
            return run
        raise ValueError(f"{checkpoint.path}: checkpoint was written by {saved.get('fingerprint')!r}"
                         f" (format {saved.get('format')!r}), not {checkpoint.fingerprint!r}")
    mine = saved.pop("trainer")
    with torch.no_grad():
        for p, value in zip(params, mine["params"]):
            p.copy_(value)
    optimizer.load_state_dict(mine["optimizer"])
    if hasattr(batches, "load_state_dict"):
        batches.load_state_dict(mine["batches"])
    checkpoint.load_state(saved)
    return Run(**mine["run"])


def _save(checkpoint: Checkpoint, params: Sequence[Tensor], optimizer: torch.optim.Optimizer,
          batches: Any, run: Run) -> None:
    with atomic_path(checkpoint.path) as tmp:
        mine = {"params": [p.detach() for p in params], "optimizer": optimizer.state_dict(),
                "batches": batches.state_dict() if hasattr(batches, "state_dict") else {},
                "run": {"epoch": run.epoch, "epochs_run": run.epochs_run, "epoch_losses": list(run.epoch_losses),
                        "steps": run.steps, "stopped": run.stopped, "last_loss": run.last_loss,
                        "replicas": run.replicas, "ran": list(run.ran)}}
        torch.save({**checkpoint.save_state(), "format": _CHECKPOINT_FORMAT, "fingerprint": checkpoint.fingerprint,
                    "trainer": mine}, tmp)


def _stop_reason(value: Any) -> str | None:
    if not value:
        return None
    return value if isinstance(value, str) else "hook"


def _per_replica(value: Any, param: Tensor) -> bool:
    """An optimizer state entry of one value per parameter element (momentum, Adam's moments), as opposed to
    one shared by all elements (Adam's step count)."""
    return torch.is_tensor(value) and value.shape == param.shape


def _narrow(opt: torch.optim.Optimizer, params: Sequence[Tensor], rows: Tensor) -> list[Tensor]:
    """The replicas ``rows`` of each param as new leaf tensors, put in the params' place in ``opt`` with the
    same rows of their per-element optimizer state (shared entries are carried over as they are)."""
    live = [p.detach().index_select(0, rows).requires_grad_(p.requires_grad) for p in params]
    swap = {id(p): q for p, q in zip(params, live)}
    for group in opt.param_groups:
        group["params"] = [swap.get(id(p), p) for p in group["params"]]
    for p, q in zip(params, live):
        opt.state[q] = {k: v.index_select(0, rows) if _per_replica(v, p) else v
                        for k, v in opt.state[p].items()}
    return live


def _widen(opt: torch.optim.Optimizer, params: Sequence[Tensor], live: Sequence[Tensor],
           rows: Tensor) -> None:
    """Undo ``_narrow``: the live rows and their optimizer state written back into the full tensors."""
    back = {id(q): p for p, q in zip(params, live)}
    for group in opt.param_groups:
        group["params"] = [back.get(id(q), q) for q in group["params"]]
    with torch.no_grad():
        for p, q in zip(params, live):
            p.index_copy_(0, rows, q)
            state = opt.state[p]
            for k, v in opt.state.pop(q, {}).items():
                if _per_replica(v, q):
                    state.setdefault(k, torch.zeros_like(p)).index_copy_(0, rows, v)
                else:
                    state[k] = v


def train(
    params: Sequence[Tensor],
    step: Callable[..., Tensor | None],
    optimizer: Optimizer | torch.optim.Optimizer,
    epochs: int,
    *,
    batches: Callable[..., Iterable[Any]] = _full_batch,
    first_epoch: int = 0,
    lr: Callable[[int], float] | None = None,
    on_epoch_start: Callable[[int], Any] | None = None,
    on_loss: Callable[[int, int, Tensor], Any] | None = None,
    on_step: Callable[[int, int, Tensor], Any] | None = None,
    on_epoch_end: Callable[[int, Run], Any] | None = None,
    divergence: str = "step",
    track_loss: bool = True,
    checkpoint: Checkpoint | None = None,
    replicas: int | None = None,
    _stop_after: int | None = None,
) -> Run:
    """Train ``params`` (leaf tensors, updated in place) for ``epochs`` epochs; see the module docstring.

    Each epoch starts with ``on_epoch_start(epoch)`` (e.g. ``model.train()``) and the epoch's learning rate.
    Each step: the gradients set to ``None`` (``zero_grad(set_to_none=True)``), ``loss = step(batch)``
    (which fills the ``.grad``s), the divergence test (``"step"``), ``on_loss``, the optimizer step,
    ``on_step``. After the epoch's batches (or a stop inside them): the epoch's mean loss, the divergence
    test (``"epoch"``), ``on_epoch_end`` (also after a stop inside the epoch, with ``run.stopped`` set),
    the checkpoint. ``track_loss=False`` skips the epoch losses (NaN; no host synchronisation per epoch).
    ``optimizer`` may be a spec or a built ``torch.optim`` optimizer over ``params``.

    ``replicas=R`` (replica mode): the first axis of every param indexes R replicas. The epoch's batches
    are ``batches(epoch, active)`` for the replicas ``active`` still running (only they draw), a step is
    ``step(batch, live)`` with ``live`` the active replicas' params (the params themselves while all run,
    else leaf copies of their rows, whose optimizer state rows are narrowed alike and written back after
    the epoch) and returns the ``(len(active),)`` batch losses (or ``None`` if nothing reads them: no
    ``track_loss``, no loss hooks, ``divergence="never"``). ``on_epoch_end(epoch, run)`` may return a
    mapping ``{replica: reason}`` that stops those replicas (a plain truthy value stops them all);
    ``divergence="epoch"`` stops a replica whose epoch mean is not finite (``"step"`` is refused). Since
    the active set only shrinks, every running replica has taken every step so far, and ``torch.optim``
    on the stacked tensors is each replica's own optimizer wherever its state is elementwise (SGD with
    momentum and weight decay, Adam): the replicas equal R separate runs up to the rounding of the
    caller's batched ``step``.

    ``_stop_after`` (test hook): raise ``SimulatedKill`` after that many epochs of this call, as a kill
    there would leave it: the checkpoint written only if one was due (``every_s``).
    """
    if divergence not in DIVERGENCE:
        raise ValueError(f"divergence must be one of {DIVERGENCE}, got {divergence!r}")
    if divergence == "epoch" and not track_loss:
        raise ValueError("divergence 'epoch' tests the epoch losses: it needs track_loss")
    if replicas is not None and divergence == "step":
        raise ValueError("replica mode stops diverged replicas per epoch: divergence 'epoch' or 'never'")
    params = list(params)
    if replicas is not None and any(p.dim() == 0 or p.shape[0] != replicas for p in params):
        raise ValueError(f"replica mode: every param needs a first axis of {replicas} replicas")
    opt = optimizer.build(params) if isinstance(optimizer, Optimizer) else optimizer
    run = Run(first_epoch, replicas=None if replicas is None else [None] * replicas)
    if checkpoint is not None and os.path.exists(checkpoint.path):
        run = _load(checkpoint, params, opt, batches, run)
    device = params[0].device
    last_save, epochs_this_call = time.monotonic(), 0
    while run.stopped is None and run.epoch < first_epoch + epochs:
        epoch = run.epoch
        if on_epoch_start is not None:
            on_epoch_start(epoch)
        if lr is not None:
            epoch_lr = lr(epoch)
            for group in opt.param_groups:
                group["lr"] = epoch_lr
        live, rows = params, None
        if replicas is not None:
            run.ran = run.active
            if len(run.ran) < replicas:
                rows = torch.tensor(run.ran, device=device)
                live = _narrow(opt, params, rows)
        total = torch.zeros(() if replicas is None else (len(run.ran),), dtype=torch.float64, device=device)
        count = 0
        for i, batch in enumerate(batches(epoch) if replicas is None else batches(epoch, run.ran)):
            for p in live:  # what opt.zero_grad(set_to_none=True) does, without its profiler record
                p.grad = None
            loss = step(batch) if replicas is None else step(batch, live)
            if divergence == "step" and not bool(torch.isfinite(loss)):
                run.last_loss, run.stopped = float(loss.detach()), "diverged"
                break
            reason = _stop_reason(on_loss(epoch, i, loss)) if on_loss is not None else None
            if reason:
                run.stopped = reason
                break
            opt.step()
            if track_loss:
                total += loss.detach()
            count += 1
            run.steps += 1
            reason = _stop_reason(on_step(epoch, i, loss)) if on_step is not None else None
            if reason:
                run.stopped = reason
                break
        if rows is not None:
            _widen(opt, params, live, rows)
        if replicas is None:
            run.epoch_losses.append(float(total) / max(count, 1) if track_loss else math.nan)
            if divergence == "epoch" and run.stopped is None and not math.isfinite(run.epoch_losses[-1]):
                run.stopped = "diverged"
        else:
            _replica_losses(run, total, count, track_loss, divergence)
        run.epoch, run.epochs_run = epoch + 1, run.epochs_run + 1
        if on_epoch_end is not None:
            _end_epoch(run, on_epoch_end(epoch, run))
        if run.stopped is None and run.epoch >= first_epoch + epochs:
            run.stopped = "epochs"
        if replicas is not None:
            _close_replicas(run)
        epochs_this_call += 1
        killed = run.stopped is None and _stop_after is not None and epochs_this_call >= _stop_after
        due = checkpoint is not None and time.monotonic() - last_save >= checkpoint.every_s
        if checkpoint is not None and (run.stopped is not None or due):
            _save(checkpoint, params, opt, batches, run)
            last_save = time.monotonic()
        if killed:
            raise SimulatedKill(f"stopped after {epochs_this_call} epochs (test hook)")
    if run.stopped is None:
        run.stopped = "epochs"
    return run


def _replica_losses(run: Run, total: Tensor, count: int, track_loss: bool, divergence: str) -> None:
    """Replica mode: the epoch's mean loss per replica (NaN for those that did not run) and the per-replica
    divergence test (``"epoch"``)."""
    losses = [math.nan] * len(run.replicas)
    if track_loss:
        for k, total_k in zip(run.ran, total.tolist()):
            losses[k] = total_k / max(count, 1)
    run.epoch_losses.append(losses)
    if divergence == "epoch" and run.stopped is None:
        for k in run.ran:
            if not math.isfinite(losses[k]):
                run.replicas[k] = "diverged"


def _end_epoch(run: Run, value: Any) -> None:
    """Apply ``on_epoch_end``'s return: a reason stops the run; in replica mode a mapping stops replicas."""
    if run.replicas is not None and isinstance(value, Mapping):
        for k, reason in value.items():
            reason = _stop_reason(reason)
            if reason and run.replicas[k] is None:
                run.replicas[k] = reason
        return
    reason = _stop_reason(value)
    if reason and run.stopped is None:
        run.stopped = reason


def _close_replicas(run: Run) -> None:
    """Replica mode: a stopped run stops its running replicas with its reason; all replicas stopped stop
    the run."""
    if run.stopped is not None:
        run.replicas = [run.stopped if reason is None else reason for reason in run.replicas]
    elif all(reason is not None for reason in run.replicas):
        run.stopped = "replicas"


# --- full-batch descent to a minimum (Jules et al., Sec. II) ----------------------------------------------


@dataclass
class Descent:
    theta: Tensor  # (N,)
    curve: pd.DataFrame  # step, loss, grad_norm
    converged: bool


def adam_descent(
    landscape: Landscape,
    theta: Tensor,
    lr: float,
    max_steps: int,
    target_loss: float,
    grad_norm_tol: float = float("inf"),
    record_every: int = 10,
    progress: Callable[[int], None] | None = None,
) -> Descent:
    """Full-batch Adam from ``theta`` until ``L <= target_loss`` and ``|grad L| <= grad_norm_tol``.

    The convergence test runs every ``record_every`` steps (the only host synchronisations), which is
    also the resolution of the returned training curve. Cross-entropy on separable data has no point
    minimum: the loss keeps falling, so ``target_loss`` sets how deep the "minimum" is (brief, section 7).
    One ``train`` epoch is one full-batch step; the test runs before the step (``on_loss``) and once more
    after the last one.
    """
    param = theta.detach().clone().unsqueeze(0).requires_grad_(True)
    rows: list[tuple[int, float, float]] = []
    current: dict[str, Tensor] = {}

    def step(_batch: None) -> Tensor:
        with torch.no_grad():
            loss, grad = landscape.loss_and_grad(param)
        param.grad, current["grad"] = grad, grad
        return loss[0]

    def check(epoch: int, _i: int, loss: Tensor) -> str | None:
        if epoch % record_every != 0 and epoch != max_steps:
            return None
        loss_value, grad_norm = float(loss), float(torch.linalg.vector_norm(current["grad"]))
        rows.append((epoch, loss_value, grad_norm))
        if progress is not None:
            progress(epoch)
        if not math.isfinite(loss_value):
            return "diverged"
        if loss_value <= target_loss and grad_norm <= grad_norm_tol:
            return "converged"
        return None

    run = train([param], step, Optimizer("adam", lr=lr), max_steps, on_loss=check, divergence="never",
                track_loss=False)
    converged = run.stopped == "converged"
    if run.stopped == "epochs":  # the test at max_steps, after the last step
        converged = check(max_steps, 0, step(None)) == "converged"
    curve = pd.DataFrame(rows, columns=["step", "loss", "grad_norm"])
    return Descent(param.detach()[0], curve, converged)
