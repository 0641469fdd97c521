"""Load and check what a user charts: the model, its weights, the data, and whether the run fits in memory.

Every refusal is a :class:`thermoscape.nets.module_landscape.ModelInputError` (a ``ValueError``; the
``TypeError`` cases are ``ModelTypeError``) whose ``argument`` names the input at fault (``model``,
``weights``, ``x``, ``y``, ``loss``, ``chains``), raised before any sampling.
"""

from __future__ import annotations

import copy
import importlib
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from thermoscape.core.device import available_memory
from thermoscape.dynamics.langevin import Schedule, engine_bytes
from thermoscape.nets.module_landscape import ModelInputError, ModelTypeError, ModuleLandscape

ModelSource = nn.Module | Callable[[], nn.Module] | str
GIB = 2.0**30

_log = logging.getLogger(__name__)


def import_callable(path: str, search_path: Sequence[str | os.PathLike] = ()) -> Any:
    """The object named by ``"package.module:attribute"`` (``attribute`` may be dotted).

    The module is looked for in ``search_path`` (e.g. the config file's folder), then in the current
    directory, then on the usual ``sys.path``: those folders are put at the front of ``sys.path`` (and stay
    there, for the imports the model makes when it runs), so a ``my_module.py`` next to the config or in the
    working directory imports as ``my_module:build_model``."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ModelInputError("model", f"{path!r} is not of the form 'package.module:callable'")
    folders = dict.fromkeys(os.path.abspath(folder) for folder in (*search_path, os.getcwd()))
    sys.path[:0] = [folder for folder in folders if folder not in sys.path]
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise ModelInputError("model", f"cannot import {module_name!r} ({error}; looked in {', '.join(folders)} "
                                       "and on sys.path)") from error
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError as error:
            raise ModelInputError("model", f"{module_name!r} has no attribute {attribute!r}") from error
    return target


def load_model(model: ModelSource, weights: Mapping[str, Tensor] | str | os.PathLike | None = None,
               dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu",
               search_path: Sequence[str | os.PathLike] = ()) -> nn.Module:
    """The user's network as a private float64 copy, with ``weights`` loaded (strictly) if given.

    ``model``: an ``nn.Module`` (copied: the caller's object is never changed), a callable returning one
    (called without arguments), or ``"package.module:callable"`` (looked for in ``search_path``, the current
    directory and ``sys.path``: :func:`import_callable`). TorchScript modules are refused:
    ``torch.func.functional_call`` cannot replace their parameters. ``weights``: a state dict or a file
    holding one (``torch.load(weights_only=True)``; a ``{"state_dict": ...}`` wrapper is unpacked).
    """
    source = import_callable(model, search_path) if isinstance(model, str) else model
    if isinstance(source, nn.Module):
        module = copy.deepcopy(source)
    elif callable(source):
        module = source()
        if not isinstance(module, nn.Module):
            raise ModelTypeError("model", f"the callable {getattr(source, '__name__', source)!r} returned "
                                          f"{type(module).__name__}, not a torch.nn.Module")
    else:
        raise ModelTypeError("model", f"must be a torch.nn.Module, a callable returning one or "
                                      f"'package.module:callable', got {type(source).__name__}")
    if isinstance(module, torch.jit.ScriptModule):
        raise ModelTypeError("model", "TorchScript modules cannot be charted (torch.func.functional_call cannot "
                                      "replace their parameters): pass the Python module")
    if weights is not None:
        load_weights(module, weights)
    return module.to(device=device, dtype=dtype)


def load_weights(module: nn.Module, weights: Mapping[str, Tensor] | str | os.PathLike) -> None:
    """Load a state dict into ``module`` strictly; a mismatch lists the missing, unexpected and misshapen keys."""
    state = weights
    if isinstance(weights, (str, os.PathLike)):
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
        except (OSError, RuntimeError, ValueError) as error:
            raise ModelInputError("weights", f"cannot read {os.fspath(weights)!r} ({error})") from error
    if isinstance(state, Mapping) and isinstance(state.get("state_dict"), Mapping):
        state = state["state_dict"]
    if not isinstance(state, Mapping):
        raise ModelTypeError("weights", f"must be a state dict (name -> tensor), got {type(state).__name__}")
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    misshapen = [f"{name} {tuple(state[name].shape)} (model: {tuple(expected[name].shape)})"
                 for name in sorted(set(expected) & set(state))
                 if not isinstance(state[name], Tensor) or state[name].shape != expected[name].shape]
    if missing or unexpected or misshapen:
        problems = [f"{what}: {', '.join(names)}" for what, names in
                    (("missing keys", missing), ("unexpected keys", unexpected), ("shape mismatches", misshapen))
                    if names]
        raise ModelInputError("weights", "do not match the model; " + "; ".join(problems))
    module.load_state_dict(state, strict=True)


def as_tensors(x: Any, y: Any, loss: str, dtype: torch.dtype = torch.float64,
               device: torch.device | str = "cpu") -> tuple[Tensor, Tensor]:
    """``x`` (floating inputs cast to ``dtype``; integer inputs such as token ids kept) and ``y`` (integer
    labels for ``cross_entropy``, ``dtype`` targets for ``mse``) as tensors on ``device``, checked finite."""
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, Tensor) else x)
    y = torch.as_tensor(np.asarray(y) if not isinstance(y, Tensor) else y)
    x = x.to(device=device, dtype=dtype if x.is_floating_point() else None)
    if x.dim() == 0 or y.dim() == 0:
        raise ModelInputError("x" if x.dim() == 0 else "y", "must have a first dimension indexing the points")
    if len(x) != len(y):
        raise ModelInputError("y", f"has {len(y)} points but x has {len(x)}")
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise ModelInputError("x", f"holds {int((~torch.isfinite(x)).sum())} non-finite values")
    if loss == "cross_entropy":
        if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
            raise ModelInputError("y", f"cross_entropy needs integer class labels, got {y.dtype} (one-hot targets: "
                                       "pass their argmax)")
        return x, y.to(device=device, dtype=torch.int64)
    y = y.to(device=device, dtype=dtype)
    if not torch.isfinite(y).all():
        raise ModelInputError("y", f"holds {int((~torch.isfinite(y)).sum())} non-finite values")
    return x, y


def memory_estimate(landscape: ModuleLandscape, n_chains: int, schedule: Schedule,
                    noise_dtype: torch.dtype | None = None) -> dict[str, float]:
    """Bytes one temperature's batch of ``n_chains`` chains needs, by part: the engine's state, noise block and
    records (``dynamics.langevin.engine_bytes``), the activations of a gradient evaluation
    (``ModuleLandscape.activation_bytes``) and the model's own parameters and buffers; ``total`` sums them."""
    reference = landscape.flat_parameters()
    parts = engine_bytes(n_chains, landscape.n_params, len(landscape.x), schedule, reference.dtype, noise_dtype)
    chains_at_once = n_chains if landscape.chunk_size is None else min(n_chains, landscape.chunk_size)
    parts["activations"] = landscape.activation_bytes(chains_at_once)
    parts["model"] = float(sum(t.numel() * t.element_size() for t in landscape.model.state_dict().values()))
    parts["total"] = sum(parts.values())
    return parts


def check_memory(landscape: ModuleLandscape, n_chains: int, schedule: Schedule, device: torch.device | str,
                 available: float | None = None, fraction: float = 0.8,
                 noise_dtype: torch.dtype | None = None) -> dict[str, float]:
    """:func:`memory_estimate`, refused (``ModelInputError`` naming ``chains``) when it exceeds ``fraction`` of
    the memory available on ``device`` (``available`` bytes if given, e.g. a quota; else measured)."""
    parts = memory_estimate(landscape, n_chains, schedule, noise_dtype)
    free = float(available_memory(device) if available is None else available)
    detail = ", ".join(f"{name} {value / GIB:.3g}" for name, value in parts.items() if name != "total")
    _log.info("memory estimate for %d chains x %d parameters: %.3g GiB (%s GiB) of %.3g GiB available on %s",
              n_chains, landscape.n_params, parts["total"] / GIB, detail, free / GIB, device)
    if parts["total"] > fraction * free:
        raise ModelInputError("chains", f"{n_chains} chains x {landscape.n_params} parameters need about "
                                        f"{parts['total'] / GIB:.3g} GiB ({detail} GiB) but {free / GIB:.3g} GiB are "
                                        f"available on {device} (at most {fraction:.0%} used): use fewer chains, a "
                                        "smaller noise_block or chunk_size, or a device with more memory")
    return parts
