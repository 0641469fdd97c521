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
  from it and ends bitwise where an uninterrupted run ends.

Epochs are numbered ``first_epoch .. first_epoch + epochs - 1``; ``batches``, ``lr`` and the hooks see those
numbers.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
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
    """Raised by the ``_stop_after`` test hook: the run stops as if killed, leaving its checkpoint."""


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
        if self.kind == "adam":
            return torch.optim.Adam(params, lr=self.lr, betas=self.betas, eps=self.eps,
                                    weight_decay=self.weight_decay)
        return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay)


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
    batch loss seen."""

    epoch: int
    epochs_run: int = 0
    epoch_losses: list[float] = field(default_factory=list)
    steps: int = 0
    stopped: str | None = None
    last_loss: float = math.nan

    @property
    def diverged(self) -> bool:
        return self.stopped == "diverged"


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
                        "steps": run.steps, "stopped": run.stopped, "last_loss": run.last_loss}}
        torch.save({**checkpoint.save_state(), "format": _CHECKPOINT_FORMAT, "fingerprint": checkpoint.fingerprint,
                    "trainer": mine}, tmp)


def _stop_reason(value: Any) -> str | None:
    if not value:
        return None
    return value if isinstance(value, str) else "hook"


def train(
    params: Sequence[Tensor],
    step: Callable[[Any], Tensor],
    optimizer: Optimizer | torch.optim.Optimizer,
    epochs: int,
    *,
    batches: Callable[[int], Iterable[Any]] = _full_batch,
    first_epoch: int = 0,
    lr: Callable[[int], float] | None = None,
    on_epoch_start: Callable[[int], Any] | None = None,
    on_loss: Callable[[int, int, Tensor], Any] | None = None,
    on_step: Callable[[int, int, Tensor], Any] | None = None,
    on_epoch_end: Callable[[int, Run], Any] | None = None,
    divergence: str = "step",
    track_loss: bool = True,
    checkpoint: Checkpoint | None = None,
    _stop_after: int | None = None,
) -> Run:
    """Train ``params`` (leaf tensors, updated in place) for ``epochs`` epochs; see the module docstring.

    Each epoch starts with ``on_epoch_start(epoch)`` (e.g. ``model.train()``) and the epoch's learning rate.
    Each step: ``zero_grad(set_to_none=True)``, ``loss = step(batch)`` (which fills the ``.grad``s),
    the divergence test (``"step"``), ``on_loss``, the optimizer step, ``on_step``. After the epoch's
    batches (or a stop inside them): the epoch's mean loss, the divergence test (``"epoch"``),
    ``on_epoch_end`` (also after a stop inside the epoch, with ``run.stopped`` set), the checkpoint.
    ``track_loss=False`` skips the epoch losses (NaN; no host synchronisation per epoch).
    ``optimizer`` may be a spec or a built ``torch.optim`` optimizer over ``params``.
    ``_stop_after`` (test hook): raise ``SimulatedKill`` after that many epochs of this call, the
    checkpoint written.
    """
    if divergence not in DIVERGENCE:
        raise ValueError(f"divergence must be one of {DIVERGENCE}, got {divergence!r}")
    params = list(params)
    opt = optimizer.build(params) if isinstance(optimizer, Optimizer) else optimizer
    run = Run(first_epoch)
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
        total = torch.zeros((), dtype=torch.float64, device=device)
        count = 0
        for i, batch in enumerate(batches(epoch)):
            opt.zero_grad(set_to_none=True)
            loss = step(batch)
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
        run.epoch_losses.append(float(total) / max(count, 1) if track_loss else math.nan)
        if divergence == "epoch" and run.stopped is None and not math.isfinite(run.epoch_losses[-1]):
            run.stopped = "diverged"
        run.epoch, run.epochs_run = epoch + 1, run.epochs_run + 1
        if on_epoch_end is not None:
            reason = _stop_reason(on_epoch_end(epoch, run))
            if reason and run.stopped is None:
                run.stopped = reason
        if run.stopped is None and run.epoch >= first_epoch + epochs:
            run.stopped = "epochs"
        epochs_this_call += 1
        killed = run.stopped is None and _stop_after is not None and epochs_this_call >= _stop_after
        if checkpoint is not None and (run.stopped is not None or killed
                                       or time.monotonic() - last_save >= checkpoint.every_s):
            _save(checkpoint, params, opt, batches, run)
            last_save = time.monotonic()
        if killed:
            raise SimulatedKill(f"stopped after {epochs_this_call} epochs (test hook)")
    if run.stopped is None:
        run.stopped = "epochs"
    return run


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
