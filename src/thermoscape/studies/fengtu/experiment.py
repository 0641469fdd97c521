"""Feng & Tu, "How neural networks find generalizable solutions: self-tuned annealing in deep learning":
the networks, plain SGD with a snapshot of chosen weight matrices after every iteration, and the loss
as a function of one weight matrix with every other layer fixed (the landscape scanned in Eq. 6): an MLP's
(:class:`LayerLandscape`) or any module's, e.g. LeNet-CIFAR's convolutions for Fig. S3D
(:class:`ModuleLayerLandscape`).

Networks (paper, Methods): bias-free ReLU MLPs ``784-50-50-10`` (MLP-2) and ``784-50-50-50-50-10``
(MLP-4) on a flat float64 parameter vector, forward and backward from :mod:`thermoscape.nets.mlp`
(hand-derived backward, no autograd graph in the SGD loop); LeNet (any ``nn.Module``) through
``torch.func`` on its flat parameters. Initialisation: PyTorch's default for ``nn.Linear``,
``U(+-1/sqrt(fan_in))`` (brief 2.2 [ASSUMPTION]).

SGD (Eq. 2): ``w <- w - alpha grad L^mu(w)`` on minibatches of ``B`` drawn without replacement, a new
permutation each epoch, ``M // B`` iterations per epoch. Each epoch's permutation comes from a seed
derived from the run seed and the epoch, so a resumed run draws exactly the batches of an uninterrupted
one.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch
from torch import Tensor, nn
from torch.nn import functional as F

from thermoscape.core.io import InputFileError, atomic_path
from thermoscape.nets import build
from thermoscape.nets.losses import cross_entropy_per_sample
from thermoscape.nets.mlp import MLPSpec, mlp_backward, mlp_forward, unflatten
from thermoscape.nets.networks import flat_parameters, functional_logits, set_flat_parameters
from thermoscape.core.seeds import derive_seed
from thermoscape.data.batches import BatchOrder
from thermoscape.dynamics.train import Checkpoint, Optimizer, SimulatedKill, train

HISTORY_COLUMNS = ["epoch", "loss", "train_error", "test_error", "finite"]
_STATE_FORMAT = "fengtu_sgd/3"
OPTIMIZERS = ("sgd", "adam")
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8  # PyTorch's defaults (brief E6: "default betas")

_log = logging.getLogger(__name__)

BatchLossAndGrad = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def mlp_spec(n_inputs: int, hidden: Sequence[int], n_classes: int) -> MLPSpec:
    """The paper's fully connected network: ReLU hidden layers, no bias neurons."""
    return MLPSpec((n_inputs, *hidden, n_classes), bias=False)


def layer_slices(spec: MLPSpec) -> list[slice]:
    """Where each weight matrix ``W_l`` (``l = 1..L``, list index ``l - 1``) lies in the flat vector."""
    slices, offset = [], 0
    for n_in, n_out in spec.layer_sizes():
        slices.append(slice(offset, offset + n_in * n_out))
        offset += n_in * n_out
    return slices


def hidden_layers(spec: MLPSpec) -> list[int]:
    """1-based indices ``l`` of the hidden-to-hidden matrices ``W_l`` (``W_2`` for MLP-2; 2, 3, 4 for MLP-4)."""
    return list(range(2, len(spec.widths) - 1))


def uniform_init(spec: MLPSpec, seed: int) -> Tensor:
    """PyTorch's default ``nn.Linear`` weights, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``, float64."""
    generator = torch.Generator().manual_seed(seed)
    pieces = [(torch.rand(n_out * n_in, generator=generator, dtype=torch.float64) * 2 - 1) / math.sqrt(n_in)
              for n_in, n_out in spec.layer_sizes()]
    return torch.cat(pieces)


def epoch_order(n_samples: int, batch_size: int, seed: int, epoch: int) -> Tensor:
    """The minibatches ``(M // B, B)`` of one epoch: a fresh permutation, the last partial batch dropped
    (``data.batches.BatchOrder`` with the ``"derived"`` seeding)."""
    return torch.stack(BatchOrder(n_samples, batch_size, seed, "derived")(epoch))


# -- losses ------------------------------------------------------------------------------------------------


@dataclass
class MLPTask:
    """Cross-entropy of a bias-free MLP on a training set (Eq. 1, S1), float64, hand-derived gradients."""

    spec: MLPSpec
    x: Tensor  # (M, d)
    labels: Tensor  # (M,)

    @property
    def n_samples(self) -> int:
        return self.x.shape[0]

    def batch_loss_and_grad(self, theta: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
        """Minibatch loss ``L^mu`` (Eq. 3) and its gradient at ``theta`` ``(N,)``."""
        logits, activations = mlp_forward(theta[None], self.x[index], self.spec)
        losses, d_logits = cross_entropy_per_sample(logits, self.labels[index])
        grad = mlp_backward(theta[None], activations, d_logits / index.numel(), self.spec)
        return losses.mean(), grad[0]

    def logits(self, theta: Tensor, x: Tensor | None = None) -> Tensor:
        return mlp_forward(theta[None], self.x if x is None else x, self.spec)[0][0]


@dataclass
class ModuleTask:
    """Cross-entropy of any ``nn.Module`` (LeNet) on its flat parameters, gradients by autograd."""

    model: nn.Module
    x: Tensor
    labels: Tensor
    _logits: Callable[[Tensor, Tensor], Tensor] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._logits = functional_logits(self.model)

    @property
    def n_samples(self) -> int:
        return self.x.shape[0]

    def batch_loss_and_grad(self, theta: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
        theta = theta.detach().requires_grad_(True)
        loss = F.cross_entropy(self._logits(theta, self.x[index]), self.labels[index])
        (grad,) = torch.autograd.grad(loss, theta)
        return loss.detach(), grad

    def logits(self, theta: Tensor, x: Tensor | None = None) -> Tensor:
        with torch.no_grad():
            return self._logits(theta, self.x if x is None else x)


def loss_and_error(logits_fn: Callable[[Tensor], Tensor], x: Tensor, labels: Tensor,
                   chunk: int = 2000) -> tuple[float, float]:
    """Mean cross-entropy and error fraction of ``logits_fn`` on ``(x, labels)``, in chunks of samples."""
    total, wrong = 0.0, 0
    with torch.no_grad():
        for start in range(0, x.shape[0], chunk):
            logits = logits_fn(x[start : start + chunk])
            y = labels[start : start + chunk]
            total += float(cross_entropy_per_sample(logits.double(), y)[0].sum())
            wrong += int((logits.argmax(dim=-1) != y).sum())
    return total / x.shape[0], wrong / x.shape[0]


# -- SGD with snapshots -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SGDRun:
    """One SGD run: ``lr`` (alpha), ``batch_size`` (B), ``epochs`` in all, of which the last ``window``
    (the paper's T = 10 epochs of the exploration phase) snapshot the chosen weights after every
    iteration. ``checkpoint_epochs`` keep the whole parameter vector (Fig. 5C/D need w(t))."""

    lr: float
    batch_size: int
    epochs: int
    window: int
    momentum: float = 0.0
    checkpoint_epochs: tuple[int, ...] = ()
    optimizer: str = "sgd"  # "adam": Adam with ADAM_BETAS, ADAM_EPS (E6; momentum unused)

    def __post_init__(self) -> None:
        if not 0 <= self.window <= self.epochs:
            raise ValueError(f"window ({self.window} epochs) must lie in [0, epochs={self.epochs}]")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")

    @property
    def window_start(self) -> int:
        return self.epochs - self.window


@dataclass
class SGDOutcome:
    theta: Tensor  # final parameters
    history: pd.DataFrame  # HISTORY_COLUMNS, one row per epoch (0 = initialisation)
    snapshots: dict[str, np.ndarray]  # name -> (n_snapshots, n) weights after each window iteration
    checkpoints: dict[int, Tensor]  # epoch -> parameters at the end of that epoch (0: initialisation)
    diverged: bool


def _history_row(epoch: int, theta: Tensor, evaluate: Callable[[Tensor], tuple[float, float, float]]) -> list:
    loss, train_error, test_error = evaluate(theta)
    return [epoch, loss, train_error, test_error, math.isfinite(loss)]


def train_with_snapshots(
    theta0: Tensor,
    batch_loss_and_grad: BatchLossAndGrad,
    n_samples: int,
    run: SGDRun,
    seed: int,
    evaluate: Callable[[Tensor], tuple[float, float, float]],
    snapshot_slices: dict[str, slice] | None = None,
    state_path: str | Path | None = None,
    save_every_s: float = 10.0,
    _stop_after_epochs: int | None = None,
) -> SGDOutcome:
    """Plain SGD (Eq. 2; heavy-ball momentum if ``run.momentum > 0``; Adam if ``run.optimizer`` is ``"adam"``,
    brief E6) from ``theta0``.

    ``evaluate(theta) -> (training loss, training error, test error)`` fills the per-epoch history.
    After every iteration of the last ``run.window`` epochs, ``theta[slice]`` of each ``snapshot_slices``
    entry is stored (the rows of the PCA matrix of Eq. 5). A non-finite minibatch loss stops the run and
    marks it ``diverged``. With ``state_path`` the state is saved every ``save_every_s`` seconds (at an
    epoch's end) and a rerun resumes from it; the result equals that of an uninterrupted run.

    The loop is ``dynamics.train.train``: ``torch.optim.SGD`` (dampening 0) or ``torch.optim.Adam``, equal
    to the former hand-written steps up to rounding; the window snapshots are its ``on_step`` hook.
    """
    snapshot_slices = snapshot_slices or {}
    fingerprint = repr((run, seed, n_samples, sorted((k, s.start, s.stop) for k, s in snapshot_slices.items()),
                        float(theta0.double().sum()), theta0.numel()))
    theta = theta0.detach().clone()
    state = {"rows": [_history_row(0, theta, evaluate)], "checkpoints": {}, "diverged": False,
             "snapshots": {name: [] for name in snapshot_slices}}
    if 0 in run.checkpoint_epochs:
        state["checkpoints"][0] = theta.clone()
    window: dict[str, list[Tensor]] = {}

    def step(index: Tensor) -> Tensor:
        loss, grad = batch_loss_and_grad(theta, index)
        theta.grad = grad
        return loss

    def start_epoch(epoch: int) -> None:
        window.clear()
        window.update({name: [] for name in snapshot_slices})

    def after_step(epoch: int, _i: int, _loss: Tensor) -> None:
        if epoch >= run.window_start:
            for name, s in snapshot_slices.items():
                window[name].append(theta[s].clone())

    def end_epoch(epoch: int, trained) -> None:
        for name, rows in window.items():
            if rows:
                state["snapshots"][name].append(torch.stack(rows).numpy())
        if trained.diverged:  # the epoch's row records the non-finite loss
            _log.warning("SGD diverged in epoch %d (minibatch loss %s)", epoch, trained.last_loss)
            state["diverged"] = True
            state["rows"].append([epoch + 1, math.nan, math.nan, math.nan, False])
            return
        state["rows"].append(_history_row(epoch + 1, theta, evaluate))
        if epoch + 1 in run.checkpoint_epochs:
            state["checkpoints"][epoch + 1] = theta.clone()

    def save_state() -> dict:
        return {"rows": state["rows"], "checkpoints": state["checkpoints"], "diverged": state["diverged"],
                "snapshots": {k: [torch.from_numpy(a) for a in v] for k, v in state["snapshots"].items()}}

    def load_state(saved: dict) -> None:
        state.update(rows=saved["rows"], checkpoints=saved["checkpoints"], diverged=saved["diverged"],
                     snapshots={k: [t.numpy() for t in v] for k, v in saved["snapshots"].items()})

    optimizer = (Optimizer("adam", lr=run.lr, betas=ADAM_BETAS, eps=ADAM_EPS) if run.optimizer == "adam"
                 else Optimizer("sgd", lr=run.lr, momentum=run.momentum))
    checkpoint = None if state_path is None else Checkpoint(
        state_path, (_STATE_FORMAT, fingerprint), save_state, load_state, every_s=save_every_s, on_mismatch="ignore")
    try:
        train([theta], step, optimizer, run.epochs, batches=BatchOrder(n_samples, run.batch_size, seed, "derived"),
              on_epoch_start=start_epoch, on_step=after_step, on_epoch_end=end_epoch, divergence="step",
              track_loss=False, checkpoint=checkpoint, _stop_after=_stop_after_epochs)
    except SimulatedKill as kill:
        raise KeyboardInterrupt(f"test hook: {kill}") from None
    theta.grad = None
    history = pd.DataFrame(state["rows"], columns=HISTORY_COLUMNS)
    snapshots = {name: np.concatenate(rows) if rows else np.zeros((0, s.stop - s.start))
                 for (name, rows), s in zip(state["snapshots"].items(), snapshot_slices.values())}
    return SGDOutcome(theta, history, snapshots, state["checkpoints"], state["diverged"])


# -- the landscape of one weight matrix ---------------------------------------------------------------------


class _LayerScan:
    """The gradients shared by :class:`LayerLandscape` and :class:`ModuleLayerLandscape`, both built on their
    ``_loss_and_grad(points, index)`` (full batch for ``index=None``)."""

    def batch_loss_and_grad(self, w: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
        """Minibatch loss (Eq. 3) and its gradient with respect to the scanned parameter only."""
        loss, grad = self._loss_and_grad(w[None], index)
        return loss[0], grad[0]

    def loss_and_grad(self, points: Tensor) -> tuple[Tensor, Tensor]:
        """Full-batch loss ``(K,)`` and gradient ``(K, n)``: the Langevin engine's landscape interface."""
        return self._loss_and_grad(points, None)

    def initial_parameters(self, generator: torch.Generator) -> Tensor:
        raise NotImplementedError(f"a {type(self).__name__} is explored from a trained network's weights")


@dataclass
class LayerLandscape(_LayerScan):
    """The loss as a function of one weight matrix ``W_l`` of a bias-free MLP, all other layers fixed.

    The activations entering layer ``l`` do not depend on ``W_l``: they are computed once (the brief's
    "cheap trick", 3.2) and each evaluation only runs the layers from ``l`` on. Points are flattened
    ``W_l`` batches ``(G, n)``; evaluations run in chunks of ``chunk`` points to bound memory.
    """

    tail: MLPSpec  # widths from layer l's input to the output
    inputs: Tensor  # (M, d_in) activations entering W_l
    labels: Tensor  # (M,)
    rest: Tensor  # flattened W_{l+1}, ..., W_L
    chunk: int = 64

    @property
    def n_params(self) -> int:
        return self.tail.widths[0] * self.tail.widths[1]

    @property
    def n_samples(self) -> int:
        return self.inputs.shape[0]

    def _theta(self, points: Tensor) -> Tensor:
        return torch.cat([points, self.rest.expand(points.shape[0], -1)], dim=1)

    def logits(self, points: Tensor, index: Tensor | None = None) -> Tensor:
        """Logits ``(G, M, C)`` (of the samples ``index`` only, if given)."""
        inputs = self.inputs if index is None else self.inputs[index]
        return torch.cat([mlp_forward(self._theta(p), inputs, self.tail)[0]
                          for p in points.split(self.chunk)])

    def per_sample_loss(self, points: Tensor) -> Tensor:
        """Per-sample cross-entropy ``(G, M)`` (Eq. S1); differentiable in ``points``."""
        return torch.cat([cross_entropy_per_sample(mlp_forward(self._theta(p), self.inputs, self.tail)[0],
                                                   self.labels)[0] for p in points.split(self.chunk)])

    def loss(self, points: Tensor) -> Tensor:
        """Full training loss ``L`` (Eq. 1) at every point ``(G,)``."""
        return self.per_sample_loss(points).mean(dim=1)

    def _loss_and_grad(self, points: Tensor, index: Tensor | None) -> tuple[Tensor, Tensor]:
        theta = self._theta(points)
        inputs, labels = (self.inputs, self.labels) if index is None else (self.inputs[index], self.labels[index])
        logits, activations = mlp_forward(theta, inputs, self.tail)
        losses, d_logits = cross_entropy_per_sample(logits, labels)
        grad = mlp_backward(theta, activations, d_logits / labels.numel(), self.tail)
        return losses.mean(dim=1), grad[:, : self.n_params]

    def loss_and_error(self, w: Tensor, classes: Sequence[int] | None = None) -> tuple[float, float]:
        """Mean cross-entropy and error fraction at one point ``w`` ``(n,)``; the prediction is the argmax over
        all outputs, or over ``classes`` only (a task's own classes, brief 6.1 step 8)."""
        with torch.no_grad():
            logits = self.logits(w[None])[0]
            loss = float(cross_entropy_per_sample(logits, self.labels)[0].mean())
            if classes is None:
                predicted = logits.argmax(dim=-1)
            else:
                allowed = torch.as_tensor(list(classes), device=logits.device)
                predicted = allowed[logits[:, allowed].argmax(dim=-1)]
            return loss, float((predicted != self.labels).double().mean())



@dataclass
class ModuleLayerLandscape(_LayerScan):
    """The loss as a function of one parameter tensor of an ``nn.Module`` (a LeNet's convolution weights, Fig.
    S3D), every other parameter fixed: :class:`LayerLandscape`'s interface for any network.

    Each evaluation runs the whole network (``torch.func.functional_call`` with the parameter ``name``
    replaced, ``torch.vmap`` over the points); nothing is cached. Points are flattened parameters ``(G, n)``;
    evaluations run ``chunk`` points on ``sample_chunk`` samples at a time to bound memory. The defaults suit
    a CPU, where float64 convolutions on small batches avoid the page faults of large im2col buffers (on 2
    cores: ~0.3 ms per image and point for LeNet-CIFAR's conv1); :func:`lenet_landscape` takes bigger
    sample chunks on a GPU.
    """

    model: nn.Module
    name: str  # the parameter, e.g. "features.0.weight"
    x: Tensor  # (M, ...) inputs as the model takes them
    labels: Tensor  # (M,)
    chunk: int = 16
    sample_chunk: int = 32
    _fixed: dict[str, Tensor] = field(init=False, repr=False)
    _shape: torch.Size = field(init=False, repr=False)

    def __post_init__(self) -> None:
        parameters = dict(self.model.named_parameters())
        if self.name not in parameters:
            raise ValueError(f"the model has no parameter {self.name!r}; it has {', '.join(parameters)}")
        self._shape = parameters[self.name].shape
        self._fixed = {k: p.detach() for k, p in parameters.items() if k != self.name}
        self._fixed.update(dict(self.model.named_buffers()))
        self.model.eval()

    @property
    def n_params(self) -> int:
        return math.prod(self._shape)

    @property
    def n_samples(self) -> int:
        return self.x.shape[0]

    def _one(self, w: Tensor, x: Tensor) -> Tensor:
        return torch.func.functional_call(self.model, self._fixed | {self.name: w.view(self._shape)}, (x,))

    def _chunks(self, index: Tensor | None) -> list[tuple[Tensor, Tensor]]:
        x, labels = (self.x, self.labels) if index is None else (self.x[index], self.labels[index])
        return list(zip(x.split(self.sample_chunk), labels.split(self.sample_chunk), strict=True))

    def logits(self, points: Tensor, index: Tensor | None = None) -> Tensor:
        """Logits ``(G, M, C)`` (of the samples ``index`` only, if given)."""
        batched = torch.vmap(self._one, in_dims=(0, None))
        return torch.cat([torch.cat([batched(p, x) for x, _ in self._chunks(index)], dim=1)
                          for p in points.split(self.chunk)])

    def per_sample_loss(self, points: Tensor, index: Tensor | None = None) -> Tensor:
        """Per-sample cross-entropy ``(G, M)`` (Eq. S1); differentiable in ``points``."""
        batched = torch.vmap(self._one, in_dims=(0, None))
        return torch.cat([torch.cat([cross_entropy_per_sample(batched(p, x), y)[0] for x, y in self._chunks(index)],
                                    dim=1) for p in points.split(self.chunk)])

    def loss(self, points: Tensor) -> Tensor:
        """Full training loss ``L`` (Eq. 1) at every point ``(G,)``."""
        return self.per_sample_loss(points).mean(dim=1)

    def _loss_and_grad(self, points: Tensor, index: Tensor | None) -> tuple[Tensor, Tensor]:
        with torch.enable_grad():
            points = points.detach().requires_grad_(True)
            loss = self.per_sample_loss(points, index).mean(dim=1)
            (grad,) = torch.autograd.grad(loss.sum(), points)
        return loss.detach(), grad

    def loss_and_error(self, w: Tensor) -> tuple[float, float]:
        """Mean cross-entropy and error fraction at one point ``w`` ``(n,)``."""
        with torch.no_grad():
            logits = self.logits(w[None])[0]
            loss = float(cross_entropy_per_sample(logits, self.labels)[0].mean())
            return loss, float((logits.argmax(dim=-1) != self.labels).double().mean())



def layer_landscape(spec: MLPSpec, theta: Tensor, layer: int, x: Tensor, labels: Tensor) -> LayerLandscape:
    """:class:`LayerLandscape` of ``W_layer`` (1-based) at ``theta`` on ``(x, labels)``."""
    if spec.bias:
        raise ValueError("layer_landscape supports bias-free MLPs only (the networks of Feng & Tu)")
    if not 1 <= layer <= len(spec.widths) - 1:
        raise ValueError(f"layer must lie in [1, {len(spec.widths) - 1}], got {layer}")
    weights = [w[0] for w, _ in unflatten(theta[None], spec)]
    h = x
    with torch.no_grad():
        for weight in weights[: layer - 1]:
            h = torch.relu(h @ weight.T)
    rest = torch.cat([w.reshape(-1) for w in weights[layer:]]) if layer < len(weights) else theta[:0]
    return LayerLandscape(MLPSpec(spec.widths[layer - 1 :], bias=False), h.contiguous(), labels, rest)


# -- LeNet (Figs. S1B, S3C-D): the network is ``nets.lenet``, built in float64 by ``nets.build`` ---------------


def lenet_layers(model: nn.Module) -> dict[str, str]:
    """The convolution weights by layer name: ``conv1``, ``conv2`` -> the parameter's name in ``model``."""
    names = [name for name, _ in model.named_parameters() if name.startswith("features") and name.endswith("weight")]
    return {f"conv{i}": name for i, name in enumerate(names, 1)}


def parameter_slices(model: nn.Module) -> dict[str, slice]:
    """Where each named parameter lies in the flat parameter vector (``networks.flat_parameters`` order)."""
    slices, offset = {}, 0
    for name, p in model.named_parameters():
        slices[name] = slice(offset, offset + p.numel())
        offset += p.numel()
    return slices


# -- runs and their files ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tensors:
    """A split as float64 tensors on one device (images flattened, pixels as stored)."""

    x: Tensor
    y: Tensor
    x_test: Tensor
    y_test: Tensor
    n_classes: int


def split_tensors(split, device: torch.device | str = "cpu") -> Tensors:
    def as_x(a: np.ndarray) -> Tensor:
        return torch.as_tensor(a.reshape(len(a), -1), dtype=torch.float64, device=device)

    def as_y(a: np.ndarray) -> Tensor:
        return torch.as_tensor(a, dtype=torch.int64, device=device)

    return Tensors(as_x(split.x_train), as_y(split.y_train), as_x(split.x_test), as_y(split.y_test),
                   split.n_classes)


def task_tensors(data: Tensors, digits: Sequence[int], test: bool = False) -> Tensors:
    """The samples of some classes only (a task of the forgetting experiment, brief 6.1), as a training set
    (its ``test`` split when ``test``); the labels keep their 10-way values."""
    x, y = (data.x_test, data.y_test) if test else (data.x, data.y)
    keep = torch.isin(y, torch.as_tensor(list(digits), device=y.device))
    return Tensors(x[keep], y[keep], x[:0], y[:0], data.n_classes)


def build_task(settings: dict, data: Tensors, seed: int) -> tuple[MLPTask | ModuleTask, Tensor, dict[str, slice]]:
    """The training task of a run (``settings``: ``arch`` mlp | lenet_mnist | lenet_cifar, ``hidden``,
    ``seed``), its initial parameters and the weight matrices it snapshots (``W2``... for an MLP)."""
    init_seed = derive_seed(seed, "init", settings["seed"])
    variant = lenet_variant(settings["arch"])
    if variant is None:
        spec = mlp_spec(data.x.shape[1], settings["hidden"], data.n_classes)
        slices = layer_slices(spec)
        snapshots = {f"W{layer}": slices[layer - 1] for layer in hidden_layers(spec)}
        return MLPTask(spec, data.x, data.y), uniform_init(spec, init_seed).to(data.x.device), snapshots
    model = build({"name": "lenet", "variant": variant}, init_seed, torch.float64).to(data.x.device)
    slices = parameter_slices(model)
    snapshots = {layer: slices[name] for layer, name in lenet_layers(model).items()}
    return ModuleTask(model, data.x, data.y), flat_parameters(model).detach().double(), snapshots


def lenet_variant(arch: str) -> str | None:
    """``None`` for ``mlp``, the LeNet variant (``mnist``, ``cifar``) for ``lenet_*``; otherwise an error."""
    if arch == "mlp":
        return None
    if arch.startswith("lenet_"):
        return arch.removeprefix("lenet_")
    raise ValueError(f"unknown architecture {arch!r}; valid: mlp, lenet_mnist, lenet_cifar")


def evaluator(task: MLPTask | ModuleTask, data: Tensors) -> Callable[[Tensor], tuple[float, float, float]]:
    """``theta -> (training loss, training error, test error)`` for :func:`train_with_snapshots`."""
    def evaluate(theta: Tensor) -> tuple[float, float, float]:
        loss, error = loss_and_error(lambda x: task.logits(theta, x), data.x, data.y)
        _, test_error = loss_and_error(lambda x: task.logits(theta, x), data.x_test, data.y_test)
        return loss, error, test_error

    return evaluate


def write_snapshots(snapshots: dict[str, np.ndarray], path: str | Path) -> None:
    """Snapshots as one Parquet table: ``layer``, ``step`` (0-based within the window), ``w`` (the matrix)."""
    schema = pa.schema([("layer", pa.string()), ("step", pa.int64()), ("w", pa.list_(pa.float64()))])
    tables = [schema.empty_table()]
    for name, rows in snapshots.items():
        n_rows, n = rows.shape
        w = pa.ListArray.from_arrays(np.arange(0, n_rows * n + 1, max(n, 1), dtype=np.int32)[: n_rows + 1],
                                     pa.array(np.ascontiguousarray(rows, dtype=np.float64).ravel()))
        tables.append(pa.table({"layer": [name] * n_rows, "step": np.arange(n_rows, dtype=np.int64), "w": w},
                               schema=schema))
    table = pa.concat_tables(tables)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_snapshots(path: str | Path, layer: str) -> np.ndarray:
    """The ``(n_snapshots, n)`` snapshots of one layer written by :func:`write_snapshots`."""
    try:
        table = pq.read_table(path, filters=[("layer", "=", layer)], columns=["step", "w"])
    except (OSError, ValueError) as error:
        raise InputFileError(f"cannot read snapshots {path}: {error}") from None
    if table.num_rows == 0:
        return np.zeros((0, 0))
    table = table.sort_by("step")
    return np.stack(table["w"].to_numpy(zero_copy_only=False))


def network_landscape(data: Tensors, hidden: Sequence[int], theta: Tensor, layer: int) -> tuple[LayerLandscape, Tensor]:
    """The training-set :class:`LayerLandscape` of ``W_layer`` of the MLP ``theta`` and the matrix itself, ``w0``."""
    spec = mlp_spec(data.x.shape[1], hidden, data.n_classes)
    return layer_landscape(spec, theta, layer, data.x, data.y), theta[layer_slices(spec)[layer - 1]]


def lenet_landscape(variant: str, data: Tensors, theta: Tensor, layer: str) -> tuple[ModuleLayerLandscape, Tensor]:
    """The training-set :class:`ModuleLayerLandscape` of the weights of ``layer`` (``conv1``, ``conv2``) of the
    LeNet ``variant`` with flat parameters ``theta``, and those weights flattened, ``w0``."""
    model = build({"name": "lenet", "variant": variant}, 0, torch.float64).to(theta.device)
    set_flat_parameters(model, theta)
    layers = lenet_layers(model)
    if layer not in layers:
        raise ValueError(f"LeNet-{variant} has no layer {layer!r}; valid: {', '.join(layers)}")
    sample_chunk = 4096 if theta.device.type == "cuda" else ModuleLayerLandscape.sample_chunk
    landscape = ModuleLayerLandscape(model, layers[layer], data.x, data.y, sample_chunk=sample_chunk)
    return landscape, theta[parameter_slices(model)[layers[layer]]]


def run_landscape(arch: str, hidden: Sequence[int], data: Tensors, theta: Tensor,
                  layer: str) -> tuple[LayerLandscape | ModuleLayerLandscape, Tensor]:
    """The landscape of one snapshotted layer of a run (``W2``... of an MLP, ``conv1``/``conv2`` of a LeNet)
    and the layer's weights at ``theta``."""
    variant = lenet_variant(arch)
    if variant is None:
        return network_landscape(data, hidden, theta, int(layer.removeprefix("W")))
    return lenet_landscape(variant, data, theta, layer)
