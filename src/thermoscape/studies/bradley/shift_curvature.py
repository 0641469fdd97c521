"""Train/test minima, shift and curvature along the line between them, and the temperature sweeps of
Bradley et al., "Shift-Curvature, SGD, and Generalization" (brief Secs. 3.2-3.4 and 4 A-C).

* SGD at temperature ``T = lr / B`` (Eq. 9), with weight decay as the L2 term ``wd/2 ||theta||^2``;
* stage A (``T``, ``E = ceil(ET / T)`` epochs), stage B (low-temperature descent from ``theta_SGD`` on the
  train set and on the test set), the line ``Theta(r) = theta_tr + r s/|s|`` (Eq. 31), reflected one-sided
  quadratic fits (App. F), ``u^T H u`` by Hessian-vector products and the one-row summary of Eq. 3;
* the Fig. 5 temperature sweep (stage 1 with a step-decay schedule, stage 2 at constant ``lr = T B``,
  final loss = median of the last ``k`` epoch evaluations) and the reshuffled / subsampled splits.

Losses along the line, ``U_k`` and the curvatures are the mean cross-entropy without the L2 term (the
paper's L2_AT_EVAL False for reported losses); the descents minimise CE + L2 and their gradient norm is
that objective's. Every function works on the device of the model and tensors it is given.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import grad

from thermoscape.measure.curvature import hvp
from thermoscape.data.tensors import Data
from thermoscape.nets.small import loss_fn
from thermoscape.nets.networks import evaluate, flat_parameters, functional_logits, set_flat_parameters
from thermoscape.data.batches import BatchOrder
from thermoscape.dynamics.train import Optimizer, train

LINE_COLUMNS = ["r", "train_loss", "test_loss", "train_accuracy", "test_accuracy"]
SUMMARY_COLUMNS = [
    "T", "seed", "lr", "batch", "epochs", "shift_norm", "train_minimum_loss", "test_minimum_loss",
    "test_at_train", "c_train", "c_test", "c_train_half", "c_test_half", "shift_curvature", "prediction",
    "prediction_half", "hvp_train", "hvp_test", "grad_norm_train", "grad_norm_test", "sgd_train_loss",
    "sgd_test_loss", "finite",
]
SWEEP_COLUMNS = ["seed", "batch", "T", "lr", "final_train", "final_test", "finite"]
EvalFn = Callable[[nn.Module], dict[str, float]]


# --- SGD (Eq. 9) ------------------------------------------------------------------------------------------


def temperature(lr: float, batch_size: int) -> float:
    """Eq. 9: the SGD temperature ``T = lr / B``."""
    return lr / batch_size


def stage_a_schedule(T: float, batch_size: int, ET: float) -> tuple[float, int]:
    """Stage A's ``(lr, epochs)``: ``lr = T B`` and ``E = ceil(ET / T)`` (so ``lr n_steps`` is the same for
    every T, the time-rescaling rule after Eq. 11); a relative 1e-9 guards the ceiling against rounding."""
    return T * batch_size, max(1, math.ceil(ET / T * (1 - 1e-9)))


def step_decay_lr(lr: float, epoch: int, epochs: int, milestones: Sequence[float] = (),
                  factor: float = 0.1) -> float:
    """Learning rate of the 0-based ``epoch``: ``lr`` times ``factor`` once per milestone fraction ``m``
    with ``epoch >= m * epochs`` (Fig. 5 stage 1: 0.1, x0.1 at 0.5 and 0.75)."""
    return lr * factor ** sum(epoch >= m * epochs for m in milestones)


@dataclass(frozen=True)
class SGDRun:
    theta: Tensor  # final flat parameters (non-finite if the run diverged)
    epochs: int  # epochs completed
    finite: bool  # False: a non-finite minibatch loss or parameter occurred; training stopped there
    history: pd.DataFrame  # epoch (1-based), lr, mean minibatch loss (with L2) and the eval_fn columns


def sgd(model: nn.Module, x: Tensor, y: Tensor, lr: float, batch_size: int | None, epochs: int,
        weight_decay: float = 0.0, seed: int = 0, shuffle: bool = True, drop_last: bool = True,
        momentum: float = 0.0, milestones: Sequence[float] = (), decay: float = 0.1,
        eval_fn: EvalFn | None = None, theta0: Tensor | None = None,
        progress: Callable[[int], None] | None = None) -> SGDRun:
    """Minibatch SGD (Eq. 9) on the mean cross-entropy plus ``weight_decay/2 ||theta||^2`` (as the
    optimiser's weight decay), in place on ``model`` (starting from ``theta0`` when given).

    The epoch's batches come from ``(seed, epoch)``, so a run is reproducible; ``shuffle=False,
    drop_last=False`` gives fixed cyclic batches (stage B); ``batch_size=None`` or ``>= n`` is full-batch
    gradient descent. The learning rate follows ``step_decay_lr(lr, epoch, epochs, milestones, decay)``;
    ``momentum`` is PyTorch's heavy ball. ``eval_fn(model)`` runs after every epoch and its values join
    the history. A non-finite loss or parameter ends training with ``finite`` False; nothing is raised.
    The loop is ``dynamics.train.train``; the batches are ``data.batches.BatchOrder`` with the ``"affine"``
    seeding of 1-based epochs.
    """
    if theta0 is not None:
        set_flat_parameters(model, theta0)
    n = x.shape[0]
    batch_size = n if batch_size is None else min(int(batch_size), n)
    params = [p for p in model.parameters() if p.requires_grad]
    rows: list[dict] = []
    order = BatchOrder(n, None if batch_size == n else batch_size, seed, "affine", shuffle, drop_last)

    def step(index: Tensor | slice) -> Tensor:
        if isinstance(index, Tensor):
            index = index.to(x.device)
        loss = F.cross_entropy(model(x[index]), y[index])
        loss.backward()
        return loss

    def epoch_lr(epoch: int) -> float:
        return step_decay_lr(lr, epoch - 1, epochs, milestones, decay)

    def end_of_epoch(epoch: int, run) -> str | None:
        theta = flat_parameters(model)
        mean_loss = run.epoch_losses[-1] + 0.5 * weight_decay * float(theta.square().sum())
        finite = math.isfinite(mean_loss) and bool(torch.isfinite(theta).all())
        row = {"epoch": epoch, "lr": epoch_lr(epoch), "loss": mean_loss}
        if eval_fn is not None and finite:
            row.update(eval_fn(model))
        rows.append(row)
        if progress is not None:
            progress(epoch)
        return None if finite else "diverged"

    model.train()
    run = train(params, step, Optimizer("sgd", lr=lr, momentum=momentum, weight_decay=weight_decay), epochs,
                batches=order, first_epoch=1, lr=epoch_lr, on_epoch_end=end_of_epoch, divergence="never")
    finite = not run.diverged
    history = pd.DataFrame(rows)
    last = run.epoch - 1  # the last epoch run (0 if none)
    return SGDRun(flat_parameters(model).clone(), last if finite else last - 1, finite, history)


def loss_evaluator(data: Data, chunk: int = 1000) -> EvalFn:
    """``eval_fn`` for ``sgd``: full-dataset train and test loss (mean CE without L2) of the model."""
    def evaluate_model(model: nn.Module) -> dict[str, float]:
        return {"train_loss": evaluate(model, data.x_train, data.y_train, chunk)[0],
                "test_loss": evaluate(model, data.x_test, data.y_test, chunk)[0]}
    return evaluate_model


def gradient_norm(model: nn.Module, theta: Tensor, x: Tensor, y: Tensor, weight_decay: float = 0.0,
                  chunk: int = 5000) -> float:
    """``||grad (U + wd/2 ||theta||^2)||`` at ``theta`` on the full ``(x, y)``: chunk gradients weighted by
    chunk size (the mean over the data)."""
    logits_fn, n = functional_logits(model), x.shape[0]
    total = weight_decay * theta
    for start in range(0, n, chunk):
        xs, ys = x[start : start + chunk], y[start : start + chunk]
        total = total + grad(loss_fn(logits_fn, xs, ys))(theta) * (xs.shape[0] / n)
    return float(total.norm())


# --- stages A and B (brief 4.B) ----------------------------------------------------------------------------


def stage_a(model: nn.Module, data: Data, T: float, seed: int, batch: int, epochs_times_T: float,
            weight_decay: float = 0.0, momentum: float = 0.0, progress=None) -> dict:
    """Stage A (brief 4.B): SGD at ``T = lr / B`` (Eq. 9) for ``E = ceil(ET / T)`` epochs from the model's
    parameters, on the training set. Returns ``{"theta", "buffers"`` (batch-norm statistics), ``"finite",
    "lr", "batch", "epochs", "train_loss", "test_loss"}`` (mean cross-entropy without L2 at ``theta``; NaN
    if the run diverged), on the CPU. ``progress(epochs)``, given the epoch count, returns the per-epoch
    callback (e.g. ``lambda total: ProgressLog(total, "SGD", "epochs")``)."""
    lr, epochs = stage_a_schedule(T, batch, epochs_times_T)
    run = sgd(model, data.x_train, data.y_train, lr, batch, epochs, weight_decay, seed, momentum=momentum,
              progress=None if progress is None else progress(epochs))
    train_loss, test_loss = (evaluate(model, x, y)[0] if run.finite else math.nan
                             for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)))
    return {"theta": run.theta.cpu(), "buffers": model_buffers(model), "finite": run.finite, "lr": lr,
            "batch": batch, "epochs": epochs, "train_loss": train_loss, "test_loss": test_loss}


def stage_b(model: nn.Module, start: dict, x: Tensor, y: Tensor, lr: float, batch_size: int | None,
            epochs: int, weight_decay: float) -> dict:
    """Stage B on one split (brief 4.B): from stage A's ``start`` (its ``theta`` and batch-norm
    ``buffers``), low-temperature descent with fixed cyclic batches (no shuffling, no dropping; ``None``:
    full batch). Returns ``{"theta", "buffers", "finite", "grad_norm"}`` (of CE + L2 on the split), on the
    CPU; a diverged stage A is passed on as not finite."""
    if not start["finite"]:
        return {"theta": start["theta"], "buffers": start["buffers"], "finite": False, "grad_norm": math.nan}
    load_buffers(model, start["buffers"])
    run = sgd(model, x, y, lr, batch_size, epochs, weight_decay, shuffle=False, drop_last=False,
              theta0=start["theta"].to(device=x.device, dtype=x.dtype))
    norm = gradient_norm(model, run.theta, x, y, weight_decay) if run.finite else math.nan
    return {"theta": run.theta.cpu(), "buffers": model_buffers(model), "finite": run.finite, "grad_norm": norm}


# --- the line (Eq. 31) and the fits (App. F) ---------------------------------------------------------------


def line_fractions(lo: float = -1.0, hi: float = 2.0, n: int = 61) -> Tensor:
    """``r / |s|`` on an even grid from ``lo`` to ``hi`` that holds 0 and 1 exactly (float64, CPU)."""
    steps = torch.arange(n, dtype=torch.float64)
    fractions = lo + (hi - lo) * steps / (n - 1)
    for anchor in (0.0, 1.0):
        position = (anchor - lo) / (hi - lo) * (n - 1)
        if not 0 <= round(position) < n or abs(position - round(position)) > 1e-9:
            raise ValueError(f"the grid ({lo}, {hi}, n={n}) does not contain r/|s| = {anchor}")
        fractions[round(position)] = anchor
    return fractions


def line_losses(model: nn.Module, data: Data, theta_tr: Tensor, theta_test: Tensor,
                fractions: Tensor | None = None, chunk: int = 1000) -> pd.DataFrame:
    """Eq. 31: full-dataset train/test loss (mean CE, no L2) and accuracy (%) at
    ``Theta(r) = theta_tr + r s/|s|``, ``s = theta_test - theta_tr``, for ``r = fraction |s|``.

    ``Theta`` is ``torch.lerp(theta_tr, theta_test, fraction)``, exactly ``theta_tr`` at 0 and
    ``theta_test`` at 1. Leaves ``model`` at the last point.
    """
    fractions = line_fractions() if fractions is None else fractions
    shift_norm = float((theta_test - theta_tr).norm())
    rows = []
    for fraction in fractions.tolist():
        set_flat_parameters(model, torch.lerp(theta_tr, theta_test, fraction))
        train_loss, train_accuracy = evaluate(model, data.x_train, data.y_train, chunk)
        test_loss, test_accuracy = evaluate(model, data.x_test, data.y_test, chunk)
        rows.append((fraction * shift_norm, train_loss, test_loss, train_accuracy, test_accuracy))
    return pd.DataFrame(rows, columns=LINE_COLUMNS)


def reflected_fit(x: Sequence[float] | Tensor, y: Sequence[float] | Tensor, max_x: float,
                  offset: bool = False) -> tuple[float, float]:
    """App. F: ``(a, c)`` of the least-squares fit ``y = a + c x^2 / 2`` to the points with
    ``0 <= x <= max_x`` and their reflections ``(-x, y)`` (``a = 0`` unless ``offset``).

    Without offset ``c = 2 sum x^2 y / sum x^4``; reflecting duplicates every point, which changes no
    estimate of a fit in ``x^2``, so it is documented rather than performed.
    """
    x, y = torch.as_tensor(x, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    keep = (x >= 0) & (x <= max_x * (1 + 1e-9))
    q, y = 0.5 * x[keep] ** 2, y[keep]
    if not offset:
        return 0.0, float((q * y).sum() / (q * q).sum())
    design = torch.stack([torch.ones_like(q), q], dim=1)
    a, c = torch.linalg.lstsq(design, y[:, None]).solution[:, 0].tolist()
    return a, c


def reflected_curvature(x: Sequence[float] | Tensor, y: Sequence[float] | Tensor, max_x: float,
                        offset: bool = False) -> float:
    """The curvature ``c`` of ``reflected_fit``."""
    return reflected_fit(x, y, max_x, offset)[1]


def line_curvatures(line: pd.DataFrame, shift_norm: float, range_fraction: float = 1.0,
                    offset: bool = False) -> tuple[float, float]:
    """``(c_train, c_test)`` from a ``line_losses`` table (brief 4.C).

    Test: ``r`` in ``[0, |s|]``, ``x = |s| - r``, ``y = U^test(Theta(r)) - U^test(theta_test)``. Train:
    ``r <= 0`` (away from the test minimum), ``x = -r``, ``y = U^tr(Theta(r)) - U^tr(theta_tr)``. Both up
    to ``x = range_fraction |s|``. By Eq. 31, ``c = s^T C s / |s|^2``.
    """
    r, train, test = (torch.tensor(line[key].to_numpy(), dtype=torch.float64)
                      for key in ("r", "train_loss", "test_loss"))
    at_train, at_test = int((r - 0.0).abs().argmin()), int((r - shift_norm).abs().argmin())
    max_x = range_fraction * shift_norm
    side = r <= 0
    c_train = reflected_fit(-r[side], train[side] - train[at_train], max_x, offset)[1]
    side = (r >= 0) & (r <= shift_norm * (1 + 1e-9))
    c_test = reflected_fit(shift_norm - r[side], test[side] - test[at_test], max_x, offset)[1]
    return c_train, c_test


def directional_curvature(model: nn.Module, theta: Tensor, x: Tensor, y: Tensor, direction: Tensor,
                          chunk: int = 5000) -> float:
    """``u^T H u`` of the mean CE (no L2) on ``(x, y)`` at ``theta``, ``u = direction / |direction|``, by
    Hessian-vector products over chunks (a mean over chunks = their size-weighted mean); the independent
    check of the line fit (brief 3.2 C.7: App. F expects it smaller)."""
    logits_fn, n = functional_logits(model), x.shape[0]
    u = direction / direction.norm()
    total = 0.0
    for start in range(0, n, chunk):
        xs, ys = x[start : start + chunk], y[start : start + chunk]
        total += float(torch.dot(hvp(loss_fn(logits_fn, xs, ys), theta, u), u)) * xs.shape[0] / n
    return total


# --- the one-row summary (Eq. 3, Figs. 2-3) -------------------------------------------------------------


def shift_row(T: float, seed: int, lr: float, batch: int, epochs: int, line: pd.DataFrame | None,
              shift_norm: float = math.nan, hvp_train: float = math.nan, hvp_test: float = math.nan,
              grad_norm_train: float = math.nan, grad_norm_test: float = math.nan,
              sgd_train_loss: float = math.nan, sgd_test_loss: float = math.nan, finite: bool = True,
              offset: bool = False, half: float = 0.5) -> dict:
    """One ``SUMMARY_COLUMNS`` row. Eq. 3 with ``theta_hat = theta_tr``: measured ``U^test(theta_tr)``
    against the prediction ``U_k^test + c_test |s|^2 / 2`` (Eq. 31: ``s^T C^test s = c_test |s|^2``), with
    the fits on the full range and on ``x <= half |s|``. ``line=None`` or ``finite`` False (a diverged
    run) gives NaN for every measured value."""
    row = dict.fromkeys(SUMMARY_COLUMNS, math.nan)
    row.update(T=float(T), seed=int(seed), lr=float(lr), batch=int(batch), epochs=int(epochs),
               finite=bool(finite and line is not None))
    if not row["finite"]:
        return row
    r = line["r"].to_numpy()
    at_train, at_test = int(abs(r).argmin()), int(abs(r - shift_norm).argmin())
    c_train, c_test = line_curvatures(line, shift_norm, 1.0, offset)
    c_train_half, c_test_half = line_curvatures(line, shift_norm, half, offset)
    test_minimum = float(line["test_loss"].iloc[at_test])
    row.update(
        shift_norm=shift_norm, train_minimum_loss=float(line["train_loss"].iloc[at_train]),
        test_minimum_loss=test_minimum, test_at_train=float(line["test_loss"].iloc[at_train]),
        c_train=c_train, c_test=c_test, c_train_half=c_train_half, c_test_half=c_test_half,
        shift_curvature=c_test * shift_norm**2, prediction=test_minimum + 0.5 * c_test * shift_norm**2,
        prediction_half=test_minimum + 0.5 * c_test_half * shift_norm**2, hvp_train=hvp_train,
        hvp_test=hvp_test, grad_norm_train=grad_norm_train, grad_norm_test=grad_norm_test,
        sgd_train_loss=sgd_train_loss, sgd_test_loss=sgd_test_loss,
    )
    row["finite"] = all(math.isfinite(row[k]) for k in ("shift_norm", "c_train", "c_test", "test_at_train"))
    return row


def line_summary(model: nn.Module, data: Data, T: float, seed: int, start: dict, train: dict, test: dict,
                 fractions: Tensor, offset: bool = False, half: float = 0.5) -> tuple[dict, pd.DataFrame]:
    """The line between stage B's minima (Eq. 31) at ``fractions`` of ``|s|``, the reflected fits (App. F),
    ``u^T H u`` by HVP and the Eq. 3 summary row of one ``(T, seed)``, from the results of ``stage_a``
    (``start``) and ``stage_b`` on the train and test sets. Returns the row and the line table (empty, with
    ``finite`` False and NaNs in the row, when a stage diverged)."""
    keys = {"T": T, "seed": seed, "lr": start["lr"], "batch": start["batch"], "epochs": start["epochs"],
            "sgd_train_loss": start["train_loss"], "sgd_test_loss": start["test_loss"]}
    if not (train["finite"] and test["finite"]):
        return shift_row(**keys, line=None, finite=False), pd.DataFrame(columns=LINE_COLUMNS)
    load_buffers(model, train["buffers"])  # with batch norm, the train minimum's statistics along the line
    theta_tr, theta_test = (m["theta"].to(device=data.x_train.device, dtype=data.x_train.dtype)
                            for m in (train, test))
    line = line_losses(model, data, theta_tr, theta_test, fractions)
    shift = theta_test - theta_tr
    row = shift_row(
        **keys, line=line, shift_norm=float(shift.norm()),
        hvp_train=directional_curvature(model, theta_tr, data.x_train, data.y_train, shift),
        hvp_test=directional_curvature(model, theta_test, data.x_test, data.y_test, shift),
        grad_norm_train=train["grad_norm"], grad_norm_test=test["grad_norm"], offset=offset, half=half,
    )
    return row, line


# --- the temperature sweep and the shift experiments (Fig. 5, brief 3.3-3.4) ------------------------------


def median_last(values: Sequence[float] | Tensor, k: int) -> float:
    """Fig. 5's "final loss": the median of the last ``k`` values (all of them if fewer); for an even
    count the mean of the two middle values."""
    tail = torch.as_tensor(values, dtype=torch.float64).flatten()[-k:]
    return float(tail.quantile(0.5)) if tail.numel() else math.nan


def final_losses(run: SGDRun, k: int, n_classes: int) -> dict:
    """``final_train``, ``final_test`` (median of the last ``k`` evaluations) and ``finite``: False for a
    non-finite run and for one that collapsed to chance (final train loss >= ln C, the loss of uniform
    predictions: dead ReLUs keep a float64 loss finite even at absurd learning rates)."""
    finals = {f"final_{split}": median_last(run.history[f"{split}_loss"], k) if run.finite else math.nan
              for split in ("train", "test")}
    return finals | {"finite": bool(run.finite and finals["final_train"] < math.log(n_classes))}


def model_buffers(model: nn.Module) -> dict[str, Tensor]:
    """Copies of the model's buffers on the CPU (batch-norm running statistics; empty without BN): they
    belong to a trained state as much as ``theta`` does."""
    return {name: buffer.detach().cpu().clone() for name, buffer in model.named_buffers()}


def load_buffers(model: nn.Module, buffers: dict[str, Tensor]) -> None:
    """Restore ``model_buffers`` into ``model`` (on its device)."""
    own = dict(model.named_buffers())
    for name, value in buffers.items():
        own[name].copy_(value)


def sweep_row(model: nn.Module, data: Data, theta_stage1: Tensor, T: float, batch: int, epochs: int,
              weight_decay: float, k: int, seed: int, buffers: dict[str, Tensor] | None = None) -> dict:
    """Fig. 5 stage 2: from the stage-1 weights (and ``buffers``, the stage-1 batch-norm statistics of
    VGG9, restored before every run), SGD at constant ``lr = T B``, momentum 0, ``epochs`` regardless of
    ``B``, full-dataset train and test loss after every epoch; ``final_*`` = median of the last ``k``
    evaluations (``final_losses``: a diverged or collapsed run is flagged ``finite`` False)."""
    lr = T * batch
    load_buffers(model, buffers or {})
    run = sgd(model, data.x_train, data.y_train, lr, batch, epochs, weight_decay, seed,
              eval_fn=loss_evaluator(data), theta0=theta_stage1)
    return {"seed": int(seed), "batch": int(batch), "T": float(T), "lr": float(lr),
            **final_losses(run, k, data.n_classes)}


def train_stage1(model: nn.Module, data: Data, stage: dict, seed: int) -> SGDRun:
    """Fig. 5 stage 1 (and the shift experiments' training): SGD from the model's parameters with
    ``stage`` = the config's ``{lr, batch_size, epochs, momentum, weight_decay, decay, decay_at}`` (the
    learning rate times ``decay`` at each ``decay_at`` fraction of the epochs), full-dataset train and test
    loss after every epoch."""
    return sgd(model, data.x_train, data.y_train, stage["lr"], stage["batch_size"], stage["epochs"],
               stage.get("weight_decay", 0.0), seed, momentum=stage.get("momentum", 0.0),
               milestones=tuple(stage.get("decay_at", ())), decay=stage.get("decay", 1.0),
               eval_fn=loss_evaluator(data))


def _merged(data: Data) -> tuple[Tensor, Tensor]:
    return torch.cat([data.x_train, data.x_test]), torch.cat([data.y_train, data.y_test])


def _split(data: Data, x: Tensor, y: Tensor, n_train: int) -> Data:
    return Data(x[:n_train], y[:n_train], x[n_train:], y[n_train:], data.n_classes, data.preprocess)


def _permutation(n: int, seed: int, device: torch.device) -> Tensor:
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed)).to(device)


def shuffled_split(data: Data, seed: int) -> Data:
    """Fig. 5 right, shuffling: train and test merged, permuted by ``seed`` and split back into the
    original sizes (the preprocessing is kept as it was applied)."""
    x, y = _merged(data)
    order = _permutation(x.shape[0], seed, x.device)
    return _split(data, x[order], y[order], data.x_train.shape[0])


def subsampled_split(data: Data, n: int, seed: int) -> Data:
    """Fig. 5 right, sample size: ``n`` samples of the merged set drawn by ``seed``, split proportionally
    (``round(n * n_train / (n_train + n_test))`` train samples)."""
    x, y = _merged(data)
    if not 2 <= n <= x.shape[0]:
        raise ValueError(f"sample size must lie in [2, {x.shape[0]}], got {n}")
    n_train = round(n * data.x_train.shape[0] / x.shape[0])
    n_train = min(max(n_train, 1), n - 1)
    order = _permutation(x.shape[0], seed, x.device)[:n]
    return _split(data, x[order], y[order], n_train)
