"""The loss landscape of any ``torch.nn.Module`` through ``torch.func``: the Langevin engine's generic path.

``ModuleLandscape(model, x, y, loss)`` is a :class:`thermoscape.nets.losses.Landscape`: the flat vector
``theta`` of the model's trainable parameters (``parameters_to_vector`` order) is split into the module's
parameter tensors, the module runs through ``torch.func.functional_call``, and ``torch.func.vmap`` maps
that over the ``K`` chains of a batch; the gradient of the mean loss is ``torch.func.grad_and_value`` under
the same ``vmap``. The engine (``thermoscape.dynamics.langevin``: the update of Jules et al.'s Eq. 7, the
noise, chunking, resuming, the per-sample losses of Eq. 8) sees it like any other landscape. The
hand-fused ``MLPLandscape`` (and the C++ kernel behind it) stays the fast path for the project's MLP; on
that MLP both give the same trajectory under the same noise (``tests/test_module_landscape.py``).

Losses (per sample ``l_i``, the landscape ``L = mean_i l_i``):

* ``cross_entropy``: ``l_i = -log softmax(f(x_i))_{y_i}`` (Jules et al., Eq. 5-6) in the stable form of
  ``losses.cross_entropy_per_sample`` (tiny losses near a minimum are kept, not rounded to 0); outputs
  ``(D, C)``, integer labels ``(D,)`` in ``[0, C)``.
* ``mse``: ``l_i = mean_j (f(x_i)_j - y_ij)^2``, so ``L`` is ``torch.nn.functional.mse_loss`` (mean over
  every element); outputs and targets of the same shape ``(D, ...)``.

Batch norm, dropout and other train/eval switches: the model is **always evaluated in eval mode**
(``model.eval()``, logged): dropout is off and batch norm normalises with its running statistics, which
are constants of the landscape (those stored with the weights, never updated). The landscape is therefore
the eval-mode loss, not the training-mode one. The exact refusal rule, checked on a probe of two data
points when the landscape is built: (1) an eval-mode forward must leave every buffer unchanged (a module
that updates state outside training, e.g. a running average kept in ``forward`` regardless of the mode,
would make ``L`` change while sampling), (2) two eval-mode forwards of the same input must agree (no
randomness left in eval mode), (3) the model must have trainable parameters, (4) its loss must go through
``torch.func`` (``vmap`` of ``grad`` on the probe: no ``.item()``, data-dependent Python branches or in-place
changes of inputs in ``forward``). Batch norm built with
``track_running_stats=False`` passes but uses the batch's statistics even in eval mode, so each ``l_i``
depends on the whole data set (a warning is logged; the full-batch ``L`` is still a function of ``theta``).

Errors name the argument that is wrong (``ModelInputError.argument``: ``model``, ``x``, ``y``, ``loss``), so
a caller with a configuration can name its key.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn
from torch.func import functional_call, grad_and_value, vmap

from thermoscape.nets.losses import cross_entropy_per_sample

LOSSES = ("cross_entropy", "mse")
# per element saved for the backward pass: the saved tensor itself and, during the backward pass, the gradient
# flowing through it (the tensors saved are measured on the probe, activation_bytes)
ACTIVATION_FACTOR = 2.0

_log = logging.getLogger(__name__)


class ModelInputError(ValueError):
    """A model, data set or setting that cannot be charted; ``argument`` names the input at fault."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(f"{argument}: {message}")
        self.argument = argument


class ModelTypeError(ModelInputError, TypeError):
    """An input of the wrong type (e.g. a model callable that does not return a ``torch.nn.Module``)."""


def trainable_parameters(model: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """``(name, parameter)`` of every parameter with ``requires_grad``, in ``named_parameters`` order."""
    return [(name, p) for name, p in model.named_parameters() if p.requires_grad]


def per_sample_losses(outputs: Tensor, y: Tensor, loss: str) -> Tensor:
    """``l_i`` ``(D,)`` of one chain's outputs (see the module docstring for the two losses)."""
    if loss == "cross_entropy":
        return cross_entropy_per_sample(outputs, y)[0]
    return ((outputs - y) ** 2).flatten(1).mean(dim=1)


def check_targets(outputs: Tensor, y: Tensor, loss: str) -> None:
    """``ModelInputError`` unless the model's outputs on the probe points fit ``y`` and ``loss``."""
    if loss == "cross_entropy":
        if outputs.dim() != 2:
            raise ModelInputError("x", f"cross_entropy needs outputs (points, classes); the model gives "
                                       f"{tuple(outputs.shape)} for 2 points")
        if y.dim() != 1 or y.dtype not in (torch.int64, torch.int32, torch.uint8, torch.int16, torch.int8):
            raise ModelInputError("y", f"cross_entropy needs integer class labels of shape (points,), got "
                                       f"{tuple(y.shape)} {y.dtype}")
        n_classes = outputs.shape[1]
        if len(y) and (int(y.min()) < 0 or int(y.max()) >= n_classes):
            raise ModelInputError("y", f"labels must lie in [0, {n_classes}) for the model's {n_classes} outputs, "
                                       f"got [{int(y.min())}, {int(y.max())}]")
    elif outputs.shape[1:] != y.shape[1:]:
        raise ModelInputError("y", f"mse needs targets shaped like the outputs: the model gives "
                                   f"{tuple(outputs.shape[1:])} per point, y has {tuple(y.shape[1:])}")


@dataclass
class ModuleLandscape:
    """Mean loss of ``model`` on the fixed data ``(x, y)``, full batch, for ``(K, N)`` parameter batches.

    ``model`` is put in eval mode and probed (see the module docstring); its parameters' dtype and device
    are the landscape's (``x`` is cast to them). ``chunk_size``: chains per ``vmap`` call (``None``: all at
    once), to bound the memory of a large model. ``theta0`` (``initial_parameters``) is the model's own
    parameter vector.
    """

    model: nn.Module
    x: Tensor
    y: Tensor
    loss_name: str = "cross_entropy"
    chunk_size: int | None = None
    activations_per_sample: float = field(init=False, default=0.0)
    activations_fixed: float = field(init=False, default=0.0)
    n_outputs: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if self.loss_name not in LOSSES:
            raise ModelInputError("loss", f"must be one of {', '.join(LOSSES)}, got {self.loss_name!r}")
        if not isinstance(self.model, nn.Module):
            raise ModelTypeError("model", f"must be a torch.nn.Module, got {type(self.model).__name__}")
        trainable = trainable_parameters(self.model)
        if not trainable:
            raise ModelInputError("model", "has no trainable parameters (requires_grad) to sample")
        reference = trainable[0][1]
        self.x = self.x.to(device=reference.device, dtype=reference.dtype if self.x.is_floating_point() else None)
        if self.loss_name == "mse":
            self.y = self.y.to(device=reference.device, dtype=reference.dtype)
        else:
            self.y = self.y.to(device=reference.device)
        if len(self.x) != len(self.y):
            raise ModelInputError("y", f"has {len(self.y)} points but x has {len(self.x)}")
        if len(self.x) < 2:
            raise ModelInputError("x", f"needs at least 2 points, got {len(self.x)}")
        self.model.eval()
        _log.info("%s is evaluated in eval mode (dropout off, batch norm on its running statistics, frozen)",
                  type(self.model).__name__)
        self._names = [name for name, _ in trainable]
        self._shapes = [p.shape for _, p in trainable]
        self._sizes = [p.numel() for _, p in trainable]
        names = set(self._names)
        self._fixed = {name: p.detach() for name, p in self.model.named_parameters() if name not in names}
        self._fixed.update(dict(self.model.named_buffers()))
        self._probe()
        self.activations_per_sample, self.activations_fixed = self._saved_elements()

    @property
    def n_params(self) -> int:
        return sum(self._sizes)

    def flat_parameters(self) -> Tensor:
        """The model's trainable parameters as one ``(N,)`` vector (a copy)."""
        return nn.utils.parameters_to_vector([p for _, p in trainable_parameters(self.model)]).detach().clone()

    def _outputs(self, theta: Tensor, x: Tensor) -> Tensor:
        tensors = dict(self._fixed)
        for name, shape, piece in zip(self._names, self._shapes, theta.split(self._sizes)):
            tensors[name] = piece.view(shape)
        return functional_call(self.model, tensors, (x,))

    def _losses_one(self, theta: Tensor) -> Tensor:
        return per_sample_losses(self._outputs(theta, self.x), self.y, self.loss_name)

    def _loss_one(self, theta: Tensor) -> Tensor:
        return self._losses_one(theta).mean()

    def per_sample_loss(self, theta: Tensor) -> Tensor:
        return vmap(self._losses_one, chunk_size=self.chunk_size)(theta)

    def loss(self, theta: Tensor) -> Tensor:
        return self.per_sample_loss(theta).mean(dim=-1)

    def loss_and_grad(self, theta: Tensor) -> tuple[Tensor, Tensor]:
        grad, loss = vmap(grad_and_value(self._loss_one), chunk_size=self.chunk_size)(theta)
        return loss.detach(), grad.detach()

    def initial_parameters(self, generator: torch.Generator) -> Tensor:
        """The model's own parameters (``generator`` is unused: the user's model brings its initialisation)."""
        return self.flat_parameters()

    def with_dtype(self, dtype: torch.dtype) -> ModuleLandscape:
        """A copy of the landscape in ``dtype`` (model and floating data): the fast half of ``mixed_precision``."""
        model = copy.deepcopy(self.model).to(dtype)
        x = self.x.to(dtype) if self.x.is_floating_point() else self.x
        return ModuleLandscape(model, x, self.y, self.loss_name, self.chunk_size)

    def activation_bytes(self, n_chains: int) -> float:
        """Memory of one gradient evaluation of ``n_chains`` chains on the whole data set: the elements autograd
        saves for the backward pass, measured on the probe (``_saved_elements``: every operation, submodules and
        ``torch.nn.functional`` calls alike, per data point plus a part that does not grow with the data), times
        the data size, ``n_chains`` (``vmap`` keeps one copy per chain) and ``ACTIVATION_FACTOR`` (their
        gradients during the backward pass)."""
        itemsize = torch.finfo(self.x.dtype).bits // 8 if self.x.is_floating_point() else 8
        per_chain = len(self.x) * self.activations_per_sample + self.activations_fixed
        return ACTIVATION_FACTOR * n_chains * per_chain * itemsize

    def _saved_elements(self) -> tuple[float, float]:
        """Elements saved for the backward pass by the loss's gradient, measured with
        ``torch.autograd.graph.saved_tensors_hooks`` on 2 and 4 points (distinct storages counted once):
        ``(per data point, fixed)``, the fixed part (weights saved by matmuls, ...) being what does not grow
        with the points. With fewer than 4 points, the 2-point count over 2 (an upper bound per point)."""
        def saved(n: int) -> float:
            storages: dict[tuple[int, int], int] = {}

            def pack(tensor: Tensor) -> Tensor:
                storages[(tensor.untyped_storage().data_ptr(), tensor.storage_offset())] = tensor.numel()
                return tensor

            theta = self.flat_parameters().requires_grad_(True)
            with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
                per_sample_losses(self._outputs(theta, self.x[:n]), self.y[:n], self.loss_name).mean()
            return float(sum(storages.values()))

        two = saved(2)
        if len(self.x) < 4:
            return two / 2.0, 0.0
        per_point = max((saved(4) - two) / 2.0, 0.0)
        return per_point, max(two - 2.0 * per_point, 0.0)

    def _probe(self) -> None:
        """Forward two points twice in eval mode (the refusal rules of the module docstring)."""
        x2 = self.x[:2]
        before = {name: b.detach().clone() for name, b in self.model.named_buffers()}
        theta = self.flat_parameters()
        try:
            with torch.no_grad():
                first = self._outputs(theta, x2)
        except Exception as error:  # noqa: BLE001 -- any failure of the user's forward means x does not fit
            raise ModelInputError("x", f"points of shape {tuple(self.x.shape[1:])} do not fit the model: a "
                                       f"forward pass of 2 points failed ({type(error).__name__}: {error})") from error
        if not isinstance(first, Tensor):
            raise ModelTypeError("model", f"forward must return one tensor, got {type(first).__name__}")
        with torch.no_grad():
            second = self._outputs(theta, x2)
        changed = [name for name, b in self.model.named_buffers() if not torch.equal(before[name], b)]
        if changed:
            raise ModelInputError("model", f"an eval-mode forward pass changed the buffers {', '.join(changed)}: "
                                           "its landscape would change while it is sampled; refused")
        if not torch.allclose(first, second, rtol=1e-6, atol=0.0, equal_nan=True):
            raise ModelInputError("model", "two eval-mode forward passes of the same input differ: the loss "
                                           "is not a function of the parameters (randomness in eval mode); refused")
        if first.shape[0] != 2:
            raise ModelInputError("x", f"the model maps 2 points to outputs of shape {tuple(first.shape)}; "
                                       "the first dimension must stay the data index")
        check_targets(first, self.y, self.loss_name)
        self.n_outputs = first[0].numel()
        y2 = self.y[:2]
        try:
            vmap(grad_and_value(lambda t: per_sample_losses(self._outputs(t, x2), y2, self.loss_name).mean()))(
                theta.unsqueeze(0))
        except Exception as error:  # noqa: BLE001 -- whatever torch.func cannot transform
            raise ModelInputError("model", f"its loss cannot be differentiated under torch.func.vmap ("
                                           f"{type(error).__name__}: {error}); a forward without .item(), "
                                           "data-dependent Python branches or in-place changes of its inputs "
                                           "runs") from error
        if any(isinstance(m, nn.modules.batchnorm._BatchNorm) and not m.track_running_stats
               for m in self.model.modules()):
            _log.warning("batch norm without running statistics normalises with the batch's statistics even in "
                         "eval mode: each per-sample loss depends on the whole data set")
