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

``train_mlp_replicas`` is a fast path for plain ReLU MLPs: it trains the ``K`` replicas of a cell together
(each with its own seed, minibatch order and stop rule) as one batched, hand-differentiated computation
on a ``(K, N)`` parameter matrix (``thermoscape.nets.mlp``), with the same results per replica as
``train_sgd`` up to floating-point rounding. Both are calls to the one trainer (``dynamics.train.train``;
the replicas in its replica mode) with ``torch.optim.SGD``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from thermoscape.data.batches import BatchOrder, ReplicaBatchOrder
from thermoscape.dynamics.train import Checkpoint, Optimizer, SimulatedKill, train
from thermoscape.nets.mlp import MLPSpec, unflatten
from thermoscape.nets.networks import flat_parameters, set_flat_parameters

SCHEDULES = ("constant", "one_decay")
HISTORY_COLUMNS = ["epoch", "lr", "loss", "accuracy", "finite"]


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


@dataclass
class TrainingResult:
    state: dict  # state_dict (cloned tensors) of the selected model
    history: pd.DataFrame  # epoch (0-based), lr, loss, accuracy (running train-mode %), finite
    checkpoint: str  # "early_stopped" | "best_loss"
    epochs: int  # epochs run
    diverged: bool  # a non-finite epoch loss occurred; training stopped there


_SimulatedKill = SimulatedKill  # raised by the ``_stop_after`` test hooks


@dataclass
class _Progress:
    """Epoch bookkeeping of one run, shared by ``train_sgd`` and ``train_mlp_replicas``: the history rows,
    the lowest finite epoch loss so far and the stop status."""

    rows: list[list] = field(default_factory=list)
    best_loss: float = math.inf
    stopped: str | None = None  # None (running) | "early_stopped" | "diverged" | "max_epochs"

    def record(self, lr: float, loss_sum: float, correct: int, n_batches: int, settings: SGDSettings) -> bool:
        """Close an epoch of ``n_batches`` steps from its summed batch losses and correct predictions:
        append its history row and update the stop status. True if it is the new best finite loss
        (the caller then keeps the current state as the best one)."""
        loss = loss_sum / n_batches
        accuracy = 100.0 * correct / (n_batches * settings.batch_size)
        finite = math.isfinite(loss)
        self.rows.append([len(self.rows), lr, loss, accuracy, finite])
        improved = finite and loss < self.best_loss
        if improved:
            self.best_loss = loss
        if not finite:
            self.stopped = "diverged"
        elif early_stop_reached([r[2] for r in self.rows], settings.min_epochs, settings.patience,
                                settings.tol):
            self.stopped = "early_stopped"
        elif len(self.rows) >= settings.max_epochs:
            self.stopped = "max_epochs"
        return improved

    @property
    def checkpoint(self) -> str:
        """Which state is the result: the last one if early-stopped, else the best-loss one."""
        return "early_stopped" if self.stopped == "early_stopped" else "best_loss"

    def result(self, state: dict[str, Tensor]) -> TrainingResult:
        history = pd.DataFrame(self.rows, columns=HISTORY_COLUMNS).astype(
            {"epoch": "int64", "lr": "float64", "loss": "float64", "accuracy": "float64", "finite": "bool"}
        )
        return TrainingResult(state, history, self.checkpoint, len(self.rows), self.stopped == "diverged")


def _clone_state(model: nn.Module) -> dict[str, Tensor]:
    return {name: t.detach().clone() for name, t in model.state_dict().items()}


def _check_data(x: Tensor, y: Tensor, settings: SGDSettings, device: torch.device) -> None:
    n = x.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"x has {n} samples but y has {y.shape[0]}")
    if settings.batch_size > n:
        raise ValueError(f"batch_size {settings.batch_size} exceeds the {n} training samples")
    if x.device != device or y.device != device:
        raise ValueError(f"data on {x.device}/{y.device} but model on {device}")


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

    The loop is ``dynamics.train.train`` (``torch.optim.SGD``, the ``"stream"`` batch order of
    ``data.batches``, the stop rule as its per-epoch hook, its checkpoint with this run's state).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    device = params[0].device
    _check_data(x, y, settings, device)

    run = _Progress()
    best = {"state": _clone_state(model)}
    epoch_sums: dict[str, Tensor] = {}

    def start_epoch(epoch: int) -> None:
        model.train()
        epoch_sums["loss"] = torch.zeros((), dtype=torch.float64, device=device)
        epoch_sums["correct"] = torch.zeros((), dtype=torch.int64, device=device)

    def step(index: Tensor) -> Tensor:
        index = index.to(device)
        xb, yb = x.index_select(0, index), y.index_select(0, index)
        logits = model(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        epoch_sums["loss"] += loss.detach().double()
        epoch_sums["correct"] += (logits.detach().argmax(dim=1) == yb).sum()
        return loss

    def end_epoch(epoch: int, _run) -> str | None:
        n_batches = x.shape[0] // settings.batch_size
        if run.record(learning_rate(settings, epoch), float(epoch_sums["loss"]), int(epoch_sums["correct"]),
                      n_batches, settings):
            best["state"] = _clone_state(model)
        bar.update(1)
        bar.set_postfix(loss=f"{run.rows[-1][2]:.4g}", acc=f"{run.rows[-1][3]:.1f}")
        return run.stopped

    def save_state() -> dict:
        return {"model": model.state_dict(), "best_state": best["state"], "best_loss": run.best_loss,
                "history": run.rows, "stopped": run.stopped}

    def load_state(saved: dict) -> None:
        nonlocal run
        model.load_state_dict(saved["model"])
        best["state"] = {name: t.to(device) for name, t in saved["best_state"].items()}
        run = _Progress([list(r) for r in saved["history"]], saved["best_loss"], saved["stopped"])
        bar.update(len(run.rows))

    checkpoint = None if checkpoint_path is None else Checkpoint(
        checkpoint_path, {"settings": asdict(settings), "seed": seed}, save_state, load_state)
    bar = tqdm(total=settings.max_epochs, disable=not progress, desc="sgd", leave=False)
    try:
        train(params, step, Optimizer("sgd", lr=settings.lr, momentum=settings.momentum,
                                      weight_decay=settings.weight_decay),
              settings.max_epochs, batches=BatchOrder(x.shape[0], settings.batch_size, seed, "stream"),
              lr=lambda epoch: learning_rate(settings, epoch), on_epoch_start=start_epoch, on_epoch_end=end_epoch,
              divergence="never", track_loss=False, checkpoint=checkpoint, _stop_after=_stop_after)
    finally:
        bar.close()
    best_state = best["state"]

    if run.checkpoint == "early_stopped":
        state = _clone_state(model)
    else:
        state = {name: t.clone() for name, t in best_state.items()}
    model.load_state_dict(state)
    model.eval()
    return run.result(state)


# --- all replicas of a cell at once, for plain ReLU MLPs ------------------------------------------------


def mlp_layers(model: nn.Module) -> list[nn.Linear] | None:
    """The ``Linear`` layers of a plain ReLU MLP (``[Flatten,] Linear, ReLU, ..., Linear`` as built by
    ``nets.build({"name": "mlp", ...})``), or None for any other module.

    Plain means: an ``nn.Sequential`` of exactly these modules, consecutive widths matching, all layers
    with a bias or all without, every parameter trainable, so that ``networks.flat_parameters`` is the
    ``models.MLPSpec`` layout (per layer the row-major weight, then the bias).
    """
    if type(model) is not nn.Sequential:
        return None
    modules = list(model)
    if modules and type(modules[0]) is nn.Flatten:
        if (modules[0].start_dim, modules[0].end_dim) != (1, -1):
            return None
        modules = modules[1:]
    layers = modules[0::2]
    if len(modules) % 2 != 1 or any(type(m) is not nn.ReLU for m in modules[1::2]):
        return None
    if any(type(m) is not nn.Linear for m in layers):
        return None
    if any(a.out_features != b.in_features for a, b in itertools.pairwise(layers)):
        return None
    if len({m.bias is None for m in layers}) != 1 or not all(p.requires_grad for p in model.parameters()):
        return None
    return layers


def _mlp_spec(models: Sequence[nn.Module]) -> MLPSpec:
    """The common ``MLPSpec`` of the replicas; ValueError if one is not a plain MLP or they differ in
    widths, dtype or device."""
    specs = []
    for index, model in enumerate(models):
        layers = mlp_layers(model)
        if layers is None:
            raise ValueError(f"model {index} is not a plain ReLU MLP (Flatten, Linear, ReLU, ..., Linear)")
        widths = (layers[0].in_features, *(m.out_features for m in layers))
        weight = layers[0].weight
        specs.append((MLPSpec(widths, bias=layers[0].bias is not None), weight.dtype, weight.device))
    if len(set(specs)) != 1:
        raise ValueError("the replicas must share one architecture, dtype and device,"
                         f" got {sorted(set(specs), key=str)}")
    return specs[0][0]


# per layer (W (K, out, in), b (K, out) or None), as models.unflatten views them
_Layers = list[tuple[Tensor, Tensor | None]]


def _sample_major(layers: _Layers) -> _Layers:
    """The operands of ``_mlp_forward`` per layer: ``W^T`` ``(K, in, out)`` and ``b`` ``(K, 1, out)`` (or None),
    views of the ``unflatten`` views (so they follow in-place updates of the parameters)."""
    return [(weight.transpose(1, 2), None if bias is None else bias.unsqueeze(1)) for weight, bias in layers]


def _mlp_forward(operands: _Layers, xb: Tensor, out: Tensor | None = None) -> tuple[Tensor, list[Tensor]]:
    """Logits ``(K, B, C)`` of every replica on its own batch ``xb`` ``(K, B, d)`` (written to ``out`` if
    given), and each layer's input (``xb``, then the post-ReLU hidden layers ``(K, B, width)``);
    ``operands`` are ``_sample_major(layers)``.

    Sample-major (``z = h W^T + b``), unlike ``models.mlp_forward``'s feature-major layout: for small SGD
    batches the per-replica GEMMs are several times faster this way on a CPU (float32, width 512, batch
    8: 4x forward, 7x for the input gradient); the feature-major layout pays off for the full-batch,
    narrow networks of the Langevin engine.
    """
    h, inputs = xb, [xb]
    for index, (weight_t, bias) in enumerate(operands):
        target = out if index == len(operands) - 1 else None
        if bias is None:
            z = torch.bmm(h, weight_t, out=target)
        else:
            z = torch.baddbmm(bias, h, weight_t, out=target)
        if index == len(operands) - 1:
            return z, inputs
        h = torch.relu(z)
        inputs.append(h)
    raise ValueError("an MLP needs at least one layer")


def _mlp_backward(layers: _Layers, inputs: list[Tensor], d_logits: Tensor, grads: _Layers) -> None:
    """Backpropagate ``d_logits`` ``(K, B, C)`` into ``grads``, the per-layer views of a ``(K, N)`` buffer:
    ``dW_l = delta_l^T h_{l-1}``, ``db_l = sum_B delta_l``,
    ``delta_{l-1} = (delta_l W_l) * [h_{l-1} > 0]``."""
    delta = d_logits
    for index in range(len(layers) - 1, -1, -1):
        (weight, _), (grad_weight, grad_bias), h = layers[index], grads[index], inputs[index]
        if grad_bias is not None:
            torch.sum(delta, dim=1, out=grad_bias)
        torch.bmm(delta.transpose(1, 2), h, out=grad_weight)
        if index > 0:  # the ReLU mask, as autograd applies it
            delta = torch.ops.aten.threshold_backward(torch.bmm(delta, weight), h, 0.0)


@dataclass
class _ReplicaEpochs:
    """The trainer's ``batches`` for ``train_mlp_replicas``: each epoch's ``(S, K, B)`` order of the running
    replicas (``ReplicaBatchOrder``, one ``"stream"`` order per replica, drawn as ``train_sgd`` draws it),
    gathered once into per-step inputs and one-hot labels / B, and the epoch's buffer of every step's
    logits, from which ``totals`` computes the epoch's losses and accuracies once."""

    order: ReplicaBatchOrder
    x: Tensor
    y: Tensor
    n_classes: int
    labels: Tensor = field(init=False)
    logits: Tensor = field(init=False)

    def __call__(self, epoch: int, replicas: list[int]) -> list[tuple[Tensor, Tensor, Tensor]]:
        order = self.order(epoch, replicas).to(self.x.device)
        n_steps, n_replicas, batch = order.shape
        self.labels = self.y[order]  # (S, K, B)
        onehot_over_b = F.one_hot(self.labels, self.n_classes).to(self.x.dtype).mul_(1.0 / batch)  # (S,K,B,C)
        self.logits = torch.empty_like(onehot_over_b)
        return list(zip(self.x[order], onehot_over_b, self.logits, strict=True))

    def totals(self) -> tuple[list[float], list[int]]:
        """Per replica of the epoch: the sum of its ``S`` batch-mean cross-entropies (``log_softmax`` as
        ``F.cross_entropy`` computes it, in the model's precision; float64 sum in step order as
        ``train_sgd`` adds them) and its number of correct predictions."""
        log_p = torch.log_softmax(self.logits, dim=3).gather(3, self.labels.unsqueeze(3))
        batch_losses = -log_p.sum(dim=(2, 3)) / self.labels.shape[2]  # (S, K)
        loss_sums = batch_losses.double().cumsum(dim=0)[-1]  # ((0 + l_0) + l_1) + ...
        correct = (self.logits.argmax(dim=3) == self.labels).sum(dim=(0, 2))
        return loss_sums.tolist(), correct.tolist()

    def state_dict(self) -> dict:
        return self.order.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.order.load_state_dict(state)


def _replica_step(spec: MLPSpec, weight_decay: float) -> Callable[[tuple, list[Tensor]], None]:
    """The trainer's ``step`` for ``train_mlp_replicas``: forward (the logits into the epoch's buffer), the
    mean cross-entropy's gradient with respect to the logits, ``(softmax - onehot) / B`` with the softmax
    as ``exp(log_softmax)`` as ``F.cross_entropy`` has it, the hand-derived backward pass into a ``(K, N)``
    gradient buffer set as ``theta.grad``, and the weight decay's gradient ``weight_decay * theta`` added
    to it in place: the sum ``torch.optim.SGD(weight_decay=...)`` forms, bit for bit, but without a new
    ``(K, N)`` tensor per step (a third of a step's time at width 512). The views of ``theta`` and of the
    buffer are made once per live ``theta`` (they follow its in-place updates)."""
    views: dict[str, Any] = {"theta": None}

    def step(batch: tuple[Tensor, Tensor, Tensor], live: list[Tensor]) -> None:
        xb, onehot_over_b, logits = batch
        theta = live[0]
        if views["theta"] is not theta:
            grad = torch.empty_like(theta)
            layers = unflatten(theta, spec)
            views.update(theta=theta, grad=grad, layers=layers, operands=_sample_major(layers),
                         grads=unflatten(grad, spec))
        _, inputs = _mlp_forward(views["operands"], xb, out=logits)
        d_logits = torch.log_softmax(logits, dim=2).exp_().mul_(1.0 / xb.shape[1]).sub_(onehot_over_b)
        _mlp_backward(views["layers"], inputs, d_logits, views["grads"])
        if weight_decay != 0:
            views["grad"].add_(theta, alpha=weight_decay)
        theta.grad = views["grad"]

    return step


def train_mlp_replicas(
    models: Sequence[nn.Module],
    x: Tensor,
    y: Tensor,
    settings: SGDSettings,
    seeds: Sequence[int],
    checkpoint_path: str | None = None,
    *,
    checkpoint_every: float = 10.0,
    _stop_after: int | None = None,
) -> list[TrainingResult]:
    """``[train_sgd(m, x, y, settings, s) for m, s in zip(models, seeds)]`` for plain ReLU MLPs, batched.

    The ``K`` replicas (``mlp_layers``; one architecture, dtype and device) are stacked into a ``(K, N)``
    parameter matrix (the ``MLPSpec`` layout) and trained by ``dynamics.train.train`` in replica mode:
    per step replica ``k`` takes its own batch from its own ``"stream"`` order (seeded ``seeds[k]``,
    ``ReplicaBatchOrder``), the forward and the hand-derived backward pass run as batched matrix products
    over the replicas (``_replica_step``, which also adds the weight decay's gradient), and
    ``torch.optim.SGD`` on the stacked matrix takes every replica's step. Each replica keeps its own
    history, best state and stop rule (the ``on_epoch_end`` hook); a replica that has stopped is frozen (no updates, no more draws from its order) while the
    others go on. Per replica the history rows, checkpoint kind, epochs and divergence flag are those of
    ``train_sgd`` and the state equals it up to rounding (sums run in another order; the accuracy of a
    diverged epoch, whose logits are NaN, may differ). On return each model holds its selected state, in
    evaluation mode.

    ``checkpoint_path``: one trainer checkpoint for the whole batch (parameters, momentum buffers, order
    states, best parameters, histories, stop states), written atomically after an epoch when at least
    ``checkpoint_every`` seconds have passed since the last write (or the start), and always when all
    replicas have stopped. Writing costs ~7 ms for width 64 (half an epoch at batch 128) and up to
    ~0.1 s for width 512, hence the throttle; a killed run loses at most that much work. A call finding
    the file resumes from it, bit for bit (the run is deterministic, so resuming from an older epoch
    gives the same result); a finished run's file just returns its result again. ``checkpoint_every=0``
    writes after every epoch, like ``train_sgd``.
    ``_stop_after`` (test hook): raise ``_SimulatedKill`` after that many epochs of this call.
    """
    if not models or len(models) != len(seeds):
        raise ValueError(f"need one seed per model, got {len(models)} models and {len(seeds)} seeds")
    spec = _mlp_spec(models)
    theta = torch.stack([flat_parameters(m) for m in models])  # (K, N), a copy
    _check_data(x, y, settings, theta.device)
    x = x.flatten(1)
    if x.dtype != theta.dtype or x.shape[1] != spec.widths[0]:
        raise ValueError(f"x is {x.dtype} with {x.shape[1]} features, the MLPs take {theta.dtype}"
                         f" with {spec.widths[0]}")
    seeds = [int(s) for s in seeds]
    runs = [_Progress() for _ in models]
    best_theta = theta.clone()
    epochs = _ReplicaEpochs(ReplicaBatchOrder([BatchOrder(x.shape[0], settings.batch_size, s, "stream")
                                               for s in seeds]), x, y, spec.widths[-1])

    def end_epoch(epoch: int, run) -> dict[int, str | None]:
        loss_sums, correct = epochs.totals()
        stops = {}
        for k, loss_sum, right in zip(run.ran, loss_sums, correct, strict=True):
            n_steps = epochs.labels.shape[0]
            if runs[k].record(learning_rate(settings, epoch), loss_sum, right, n_steps, settings):
                best_theta[k] = theta[k]
            stops[k] = runs[k].stopped
        return stops

    def save_state() -> dict:
        return {"best_theta": best_theta, "best_loss": [run.best_loss for run in runs],
                "history": [run.rows for run in runs], "stopped": [run.stopped for run in runs]}

    def load_state(saved: dict) -> None:
        best_theta.copy_(saved["best_theta"])
        records = zip(saved["history"], saved["best_loss"], saved["stopped"], strict=True)
        runs[:] = [_Progress([list(r) for r in rows], best, stopped) for rows, best, stopped in records]

    checkpoint = None if checkpoint_path is None else Checkpoint(
        checkpoint_path, {"kind": "mlp_replicas", "widths": list(spec.widths), "bias": spec.bias,
                          "settings": asdict(settings), "seed": seeds},
        save_state, load_state, every_s=checkpoint_every)
    with torch.no_grad():
        train([theta], _replica_step(spec, settings.weight_decay),
              Optimizer("sgd", lr=settings.lr, momentum=settings.momentum),  # the weight decay: in the step
              settings.max_epochs, batches=epochs, lr=lambda epoch: learning_rate(settings, epoch),
              on_epoch_end=end_epoch, divergence="never", track_loss=False, checkpoint=checkpoint,
              replicas=len(models), _stop_after=_stop_after)

    results = []
    for model, run, last, best in zip(models, runs, theta, best_theta):
        set_flat_parameters(model, last if run.checkpoint == "early_stopped" else best)
        model.eval()
        results.append(run.result(_clone_state(model)))
    return results
