"""Mini-batch SGD training of one grid point (Yang et al., NeurIPS 2021, App. A "training protocol").

SGD with momentum 0.9 and weight decay 5e-4 (the optimizer's ``weight_decay``), learning rate 0.05,
constant or with one 10x decay at 75% of the epoch budget. The training set is reshuffled every epoch by
a ``torch.Generator`` seeded from the caller's seed and the last incomplete batch is dropped, so every
step sees exactly ``B`` samples (the batch size is the "temperature" axis of the grid).

Stopping: once at least ``min_epochs`` epoch losses exist, training stops when the last ``patience``
consecutive changes of the epoch loss are all ``<= tol``; that early-stopped model is the result.
Otherwise training runs ``max_epochs`` and the epoch with the lowest training loss is the result. (The
authors keep training after the early stop but evaluate the early-stopped checkpoint; stopping there
gives the same evaluated model.)

With ``checkpoint_path`` the run saves its whole state after every epoch and resumes from it, bit for bit.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from thermoscape.io import atomic_path

SCHEDULES = ("constant", "one_decay")
HISTORY_COLUMNS = ["epoch", "lr", "loss", "accuracy", "finite"]
_CHECKPOINT_FORMAT = 1


@dataclass(frozen=True)
class SGDSettings:
    """Hyper-parameters of the paper's SGD protocol (App. A); ``batch_size`` is the grid's temperature axis."""

    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 5e-4
    batch_size: int = 128
    min_epochs: int = 30
    max_epochs: int = 150
    patience: int = 5
    tol: float = 1e-4
    schedule: str = "constant"  # or "one_decay"
    decay_at: float = 0.75
    decay_factor: float = 0.1

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; valid: {', '.join(SCHEDULES)}")
        if self.batch_size < 1 or self.max_epochs < 1 or self.patience < 1:
            raise ValueError("batch_size, max_epochs and patience must be >= 1")
        if not 0.0 <= self.decay_at <= 1.0:
            raise ValueError(f"decay_at must lie in [0, 1], got {self.decay_at}")


def learning_rate(settings: SGDSettings, epoch: int) -> float:
    """Learning rate of the 0-based ``epoch``: ``lr``, or for ``"one_decay"`` ``lr * decay_factor`` from the
    first epoch with ``epoch >= decay_at * max_epochs`` on (epoch 113 of 0..149 for the defaults)."""
    if settings.schedule == "one_decay" and epoch >= settings.decay_at * settings.max_epochs:
        return settings.lr * settings.decay_factor
    return settings.lr


def early_stop_reached(losses: Sequence[float], min_epochs: int = 30, patience: int = 5, tol: float = 1e-4) -> bool:
    """True once ``len(losses) >= min_epochs`` and ``|L[-1-j] - L[-2-j]| <= tol`` for ``j = 0..patience-1``.

    Non-finite losses never satisfy the test.
    """
    if len(losses) < max(min_epochs, patience + 1):
        return False
    tail = [float(v) for v in losses[-(patience + 1) :]]
    return all(abs(b - a) <= tol for a, b in itertools.pairwise(tail))


def epoch_batches(n: int, batch_size: int, generator: torch.Generator) -> list[Tensor]:
    """Index batches of one random permutation of ``range(n)``; the last incomplete batch is dropped."""
    if batch_size < 1 or batch_size > n:
        raise ValueError(f"batch_size must lie in [1, n={n}], got {batch_size}")
    order = torch.randperm(n, generator=generator)
    n_batches = n // batch_size
    return list(order[: n_batches * batch_size].split(batch_size))


@dataclass
class TrainingResult:
    state: dict  # state_dict (cloned tensors) of the selected model
    history: pd.DataFrame  # epoch (0-based), lr, loss, accuracy (running train-mode %), finite
    checkpoint: str  # "early_stopped" | "best_loss"
    epochs: int  # epochs run
    diverged: bool  # a non-finite epoch loss occurred; training stopped there


class _SimulatedKill(RuntimeError):
    """Raised by the ``_stop_after`` test hook: the run stops as if killed, leaving its checkpoint."""


def _clone_state(model: nn.Module) -> dict[str, Tensor]:
    return {name: t.detach().clone() for name, t in model.state_dict().items()}


def _load_checkpoint(path: str, settings: SGDSettings, seed: int) -> dict[str, Any]:
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved.get("format") != _CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a training checkpoint of format {_CHECKPOINT_FORMAT}")
    if saved["settings"] != asdict(settings) or saved["seed"] != seed:
        raise ValueError(
            f"{path}: checkpoint was written with settings {saved['settings']} and seed {saved['seed']},"
            f" not {asdict(settings)} and seed {seed}"
        )
    return saved


def train_sgd(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    settings: SGDSettings,
    seed: int,
    checkpoint_path: str | None = None,
    progress: bool = False,
    *,
    _stop_after: int | None = None,
) -> TrainingResult:
    """Train ``model`` in place on ``(x, y)`` (on the model's device) by the paper's SGD protocol.

    Each epoch: a fresh permutation from the seeded generator, ``n // B`` steps of
    ``zero_grad(set_to_none=True)`` -> mean cross-entropy -> backward -> SGD step. The epoch loss is the
    mean of the per-batch losses (no weight-decay term), accuracy the running train-mode accuracy.
    A non-finite epoch loss stops training at once (``diverged``, the row is kept) and the best finite
    state is returned (the initial state if no epoch was finite). On return the model holds the
    selected state, in evaluation mode.

    ``checkpoint_path``: after every epoch the model and optimizer states, best state, history and
    generator state are saved atomically; a call finding the file resumes from it and gives results
    identical to an uninterrupted run (a finished run's file just returns its result again).
    ``_stop_after`` (test hook): raise ``_SimulatedKill`` after that many epochs of this call.
    """
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"x has {n} samples but y has {y.shape[0]}")
    if settings.batch_size > n:
        raise ValueError(f"batch_size {settings.batch_size} exceeds the {n} training samples")
    params = [p for p in model.parameters() if p.requires_grad]
    device = params[0].device
    if x.device != device or y.device != device:
        raise ValueError(f"data on {x.device}/{y.device} but model on {device}")

    optimizer = torch.optim.SGD(
        params, lr=settings.lr, momentum=settings.momentum, weight_decay=settings.weight_decay
    )
    generator = torch.Generator().manual_seed(seed)
    rows: list[list] = []
    best_state, best_loss = _clone_state(model), math.inf
    stopped: str | None = None  # None (running) | "early_stopped" | "diverged" | "max_epochs"

    if checkpoint_path is not None and os.path.exists(checkpoint_path):
        saved = _load_checkpoint(checkpoint_path, settings, seed)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        generator.set_state(saved["generator"])
        best_state = {name: t.to(device) for name, t in saved["best_state"].items()}
        best_loss, rows, stopped = saved["best_loss"], [list(r) for r in saved["history"]], saved["stopped"]

    bar = tqdm(total=settings.max_epochs, initial=len(rows), disable=not progress, desc="sgd", leave=False)
    epochs_this_call = 0
    while stopped is None:
        epoch = len(rows)
        lr = learning_rate(settings, epoch)
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        correct = torch.zeros((), dtype=torch.int64, device=device)
        batches = epoch_batches(n, settings.batch_size, generator)
        for index in batches:
            index = index.to(device)
            xb, yb = x.index_select(0, index), y.index_select(0, index)
            optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach().double()
            correct += (logits.detach().argmax(dim=1) == yb).sum()
        epoch_loss = float(loss_sum) / len(batches)
        accuracy = 100.0 * int(correct) / (len(batches) * settings.batch_size)
        finite = math.isfinite(epoch_loss)
        rows.append([epoch, lr, epoch_loss, accuracy, finite])
        if finite and epoch_loss < best_loss:
            best_state, best_loss = _clone_state(model), epoch_loss
        losses = [r[2] for r in rows]
        if not finite:
            stopped = "diverged"
        elif early_stop_reached(losses, settings.min_epochs, settings.patience, settings.tol):
            stopped = "early_stopped"
        elif len(rows) >= settings.max_epochs:
            stopped = "max_epochs"
        bar.update(1)
        bar.set_postfix(loss=f"{epoch_loss:.4g}", acc=f"{accuracy:.1f}")
        if checkpoint_path is not None:
            with atomic_path(checkpoint_path) as tmp:
                torch.save(
                    {
                        "format": _CHECKPOINT_FORMAT,
                        "settings": asdict(settings),
                        "seed": seed,
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "generator": generator.get_state(),
                        "best_state": best_state,
                        "best_loss": best_loss,
                        "history": rows,
                        "stopped": stopped,
                    },
                    tmp,
                )
        epochs_this_call += 1
        if stopped is None and _stop_after is not None and epochs_this_call >= _stop_after:
            bar.close()
            raise _SimulatedKill(f"stopped after {epochs_this_call} epochs (test hook)")
    bar.close()

    if stopped == "early_stopped":
        state, checkpoint = _clone_state(model), "early_stopped"
    else:
        state, checkpoint = {name: t.clone() for name, t in best_state.items()}, "best_loss"
    model.load_state_dict(state)
    model.eval()
    history = pd.DataFrame(rows, columns=HISTORY_COLUMNS).astype(
        {"epoch": "int64", "lr": "float64", "loss": "float64", "accuracy": "float64", "finite": "bool"}
    )
    return TrainingResult(state, history, checkpoint, len(rows), stopped == "diverged")
