"""Yang et al., "Taxonomizing local versus global structure in neural network loss landscapes".

A *cell* of a phase diagram is one training configuration (width, batch size, learning rate, weight
decay, data fraction, label noise); an *experiment* is a grid of cells over a load axis and a
temperature axis (and optionally a third, panel axis). Cells are named by their full configuration, so
two experiments that need the same configuration share its trained models.

Per cell the workflow trains ``R`` replicas (``sgd.train_sgd``, the paper's protocol) and measures, with
the functions here (brief section 3):

* ``loss_acc``: training loss / accuracy on the (possibly noisy) training labels, test accuracy on clean
  test labels, eval mode (3.1);
* ``hessian_top`` / ``hessian_trace``: power iteration / Hutchinson on one batch of 200 training samples,
  cross-entropy without weight decay (App. B.4; 3.2);
* ``cka_pairs``: linear CKA (Eq. 3) of the softmax outputs on fresh mixup samples for every ordered pair
  of replicas (App. A.1; 3.3), and ``l2_distance`` (3.5);
* ``train_curve`` / ``curve_errors``: the quadratic Bezier curve between replicas 0 and 1 and the errors
  along it, from which ``connectivity.mode_connectivity`` gives ``mc`` (Eq. 4; 3.4).

``label_phases`` applies the brief's rules (3.6) and ``taxonomy_claims`` checks the paper's claims.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from thermoscape.measure import connectivity

from thermoscape.measure import curvature

from thermoscape.measure import similarity
from thermoscape.data.readers import Split, corrupt_labels
from thermoscape.core.grids import Cell
from thermoscape.nets import build
from thermoscape.nets.networks import (
    evaluate,
    flat_parameters,
    functional_logits,
    has_batchnorm,
    outputs,
    parameter_loss,
    recompute_batchnorm,
    set_flat_parameters,
)
from thermoscape.core.seeds import derive_seed
from thermoscape.data.batches import epoch_batches
from thermoscape.dynamics.sgd import SGDSettings, mlp_layers, train_mlp_replicas, train_sgd

PHASES = ("I", "II", "III", "IV-A", "IV-B")


# --- data -----------------------------------------------------------------------------------------


def label_table(split: Split, label_noise: float, rule: str = "different", seed: int = 12345) -> pd.DataFrame:
    """The training labels with ``label_noise`` of them changed, fixed once for every run (brief 2.3)."""
    noisy = corrupt_labels(split.y_train_clean, label_noise, split.n_classes, seed=seed, rule=rule)
    return pd.DataFrame({"index": np.arange(len(noisy)), "label": noisy, "clean_label": split.y_train_clean})


@dataclass
class CellData:
    """Tensors of one cell: the first ``subset`` of the training set with its (noisy) labels, the test set."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    n_classes: int


def cell_data(split: Split, labels: pd.DataFrame, cell: Cell, device: torch.device | str = "cpu") -> CellData:
    n_train = int(len(split.x_train) * cell.subset)
    if n_train < cell.batch_size:
        raise ValueError(f"cell {cell.name}: {n_train} training samples are fewer than one batch")

    def tensor(a, dtype=torch.float32):
        return torch.tensor(np.asarray(a), dtype=dtype, device=device)

    return CellData(tensor(split.x_train[:n_train]), tensor(labels["label"].to_numpy()[:n_train], torch.int64),
                    tensor(split.x_test), tensor(split.y_test, torch.int64), split.n_classes)


def architecture(model: Mapping[str, Any], width: int, data: CellData) -> dict[str, Any]:
    """The ``nets.build`` spec of the config's model at ``width`` for ``data``: an MLP takes the flattened
    features, a convolutional network the channels of image data, or one channel for flat square images
    (Fashion-MNIST for the VGG11 of Fig. 16)."""
    arch = {**model, "width": int(width), "n_classes": int(data.n_classes)}
    if arch["name"] == "mlp":
        arch["in_features"] = int(data.x_train[0].numel())
    else:
        arch["in_channels"] = int(data.x_train.shape[1]) if data.x_train.ndim == 4 else 1
    return arch


def sgd_settings(cell: Cell, training: Mapping[str, Any]) -> SGDSettings:
    """The SGD settings of a cell: ``taxonomy.training`` with the cell's lr, weight decay, batch size and
    schedule. A ``one_decay`` cell follows the authors' learning-rate-decay runs (brief 2.2): a fixed
    ``decay_epochs`` (100) with one 10x decay at 75 % of them, no early stop (min_epochs beyond the last
    epoch), the best-training-loss model."""
    training = dict(training)
    decay_epochs = int(training.pop("decay_epochs", 100))
    fixed = {"lr": cell.lr, "weight_decay": cell.weight_decay, "batch_size": cell.batch_size,
             "schedule": cell.schedule}
    if cell.schedule == "one_decay":
        fixed |= {"max_epochs": decay_epochs, "min_epochs": decay_epochs + 1}
    return SGDSettings(**{**training, **fixed})


def train_replicas(cell: Cell, data: CellData, study: Mapping[str, Any],
                   workdir: Path | None = None) -> tuple[dict[str, Any], pd.DataFrame]:
    """Train ``study["replicas"]`` networks of the cell with the paper's SGD protocol (brief 2.1).

    Replica ``r`` starts from the initialisation seeded by (width, r), shared by every cell of that width,
    and draws its minibatch order from a seed of (cell, r). MLPs train all replicas together
    (``sgd.train_mlp_replicas``, the same result per replica as ``sgd.train_sgd``, several times faster);
    other networks one by one. ``workdir`` holds the resumable checkpoint(s). Returns the stored form (``arch``, ``states``, ``checkpoint``, ``diverged``) and the
    epoch histories.
    """
    arch = architecture(study["model"], cell.width, data)
    settings = sgd_settings(cell, study["training"])
    device = data.x_train.device
    models = [build(arch, derive_seed(study["seed"], "init", cell.width, r)).to(device)
              for r in range(study["replicas"])]
    seeds = [derive_seed(study["seed"], "order", cell.name, r) for r in range(study["replicas"])]
    folder = None if workdir is None else Path(workdir)
    if mlp_layers(models[0]) is not None:  # all replicas in one batched computation, identical per replica
        results = train_mlp_replicas(models, data.x_train, data.y_train, settings, seeds,
                                     None if folder is None else str(folder / "replicas.pt"))
    else:
        results = [train_sgd(model, data.x_train, data.y_train, settings, seed,
                             None if folder is None else str(folder / f"replica{r}.pt"))
                   for r, (model, seed) in enumerate(zip(models, seeds))]
    stored = {"arch": arch, "states": [{k: v.detach().cpu() for k, v in r.state.items()} for r in results],
              "checkpoint": [r.checkpoint for r in results], "diverged": [bool(r.diverged) for r in results]}
    history = pd.concat([r.history.assign(replica=k, checkpoint=r.checkpoint, diverged=r.diverged)
                         for k, r in enumerate(results)], ignore_index=True)
    return stored, history


def load_models(stored: Mapping[str, Any], device: torch.device | str = "cpu") -> list[nn.Module]:
    """The trained replicas of a ``train_replicas`` file, in eval mode."""
    models = []
    for state in stored["states"]:
        model = build(stored["arch"], 0)
        model.load_state_dict(state)
        models.append(model.to(device).eval())
    return models


# --- local metrics --------------------------------------------------------------------------------


def loss_acc(model: nn.Module, data: CellData) -> dict[str, float]:
    """Training loss and accuracy on the training labels (noisy if any), test loss and accuracy on clean
    test labels, in eval mode and without weight decay (brief 3.1)."""
    train_loss, train_accuracy = evaluate(model, data.x_train, data.y_train)
    test_loss, test_accuracy = evaluate(model, data.x_test, data.y_test)
    return {"train_loss": train_loss, "train_accuracy": train_accuracy, "test_loss": test_loss,
            "test_accuracy": test_accuracy}


def hessian_batch(data: CellData, samples: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """One random batch of ``samples`` training samples (App. B.4: "one batch of 200 random samples")."""
    index = torch.randperm(len(data.x_train), generator=generator)[:samples].to(data.x_train.device)
    return data.x_train[index], data.y_train[index]


def _hessian_setup(model: nn.Module, x: Tensor, y: Tensor, dtype: torch.dtype):
    model = copy.deepcopy(model).to(dtype).eval()
    return parameter_loss(model, x.to(dtype), y), flat_parameters(model).to(dtype)


def hessian_top(model: nn.Module, x: Tensor, y: Tensor, max_iter: int = 100, rel_tol: float = 1e-3,
                generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64) -> tuple[float, int]:
    """Top Hessian eigenvalue of the mean cross-entropy on ``(x, y)`` by power iteration (brief 3.2);
    returns ``(lambda_max, HVPs used)``."""
    loss_fn, theta = _hessian_setup(model, x, y, dtype)
    eigenvalue, _, n_iter = curvature.top_eigenvalue(loss_fn, theta, max_iter, rel_tol, generator)
    return eigenvalue, n_iter


def hessian_trace(model: nn.Module, x: Tensor, y: Tensor, max_iter: int = 100, rel_tol: float = 1e-3,
                  generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64) -> tuple[float, int]:
    """Hessian trace of the mean cross-entropy on ``(x, y)`` by Hutchinson's method (brief 3.2);
    returns ``(trace, probes used)``."""
    loss_fn, theta = _hessian_setup(model, x, y, dtype)
    return curvature.hutchinson_trace(loss_fn, theta, max_iter, rel_tol, generator)


def local_metrics(models: Sequence[nn.Module], stored: Mapping[str, Any], data: CellData,
                  hessian: Mapping[str, Any], seed: int, cell: Cell) -> pd.DataFrame:
    """One row per replica: ``loss_acc``, ``hessian_top`` and ``hessian_trace`` (each replica on its own
    random batch of ``hessian["samples"]``, brief 3.2), and the training outcome."""
    rows = []
    for replica, model in enumerate(models):
        generator = torch.Generator().manual_seed(derive_seed(seed, "hessian", cell.name, replica))
        x, y = hessian_batch(data, hessian["samples"], generator)
        top, n_top = hessian_top(model, x, y, hessian["max_iter"], hessian["rel_tol"], generator)
        trace, n_trace = hessian_trace(model, x, y, hessian["max_iter"], hessian["rel_tol"], generator)
        rows.append({"replica": replica, **loss_acc(model, data), "hessian_top": top, "hessian_top_iterations": n_top,
                     "hessian_trace": trace, "hessian_trace_probes": n_trace,
                     "checkpoint": stored["checkpoint"][replica], "diverged": stored["diverged"][replica]})
    return pd.DataFrame(rows)


def pair_metrics(models: Sequence[nn.Module], data: CellData, cka: Mapping[str, Any], seed: int,
                 cell: Cell) -> pd.DataFrame:
    """``cka_pairs`` with the config's mixup settings and a seed of the cell."""
    generator = torch.Generator().manual_seed(derive_seed(seed, "cka", cell.name))
    return cka_pairs(models, data.x_train, cka["samples"], cka["alpha"], cka["batch_size"], generator)


# --- global metrics -------------------------------------------------------------------------------


def l2_distance(model_a: nn.Module, model_b: nn.Module) -> float:
    """``||theta - theta'||_2`` over the trainable parameters (BN running statistics excluded; brief 3.5)."""
    return float((flat_parameters(model_a).double() - flat_parameters(model_b).double()).norm())


def cka_pairs(models: Sequence[nn.Module], x_train: Tensor, samples: int = 640, alpha: float = 16.0,
              batch_size: int = 128, generator: torch.Generator | None = None) -> pd.DataFrame:
    """Linear CKA (Eq. 3) for every ordered pair ``i != j`` of replicas, each pair on fresh mixup samples
    (App. A.1; brief 3.3), of the softmax outputs (the paper's ``cka``) and the logits (``cka_logits``),
    with the L2 distance of the pair."""
    rows = []
    for i, model_a in enumerate(models):
        for j, model_b in enumerate(models):
            if i == j:
                continue
            inputs = similarity.mixup_inputs(x_train, samples, alpha, generator, batch_size)
            logits_a, logits_b = outputs(model_a, inputs), outputs(model_b, inputs)
            rows.append({"replica_a": i, "replica_b": j,
                         "cka": similarity.linear_cka(logits_a.softmax(-1), logits_b.softmax(-1)),
                         "cka_logits": similarity.linear_cka(logits_a, logits_b),
                         "l2": l2_distance(model_a, model_b)})
    return pd.DataFrame(rows, columns=["replica_a", "replica_b", "cka", "cka_logits", "l2"])


def _curve_loss(template: nn.Module):
    """``(theta, (x, y)) -> mean CE`` of the network at ``theta`` in train mode (BN on batch statistics,
    as in Garipov's curve training); updates ``template``'s running statistics, so pass a copy."""
    logits = functional_logits(template, train=True)
    return lambda theta, batch: nn.functional.cross_entropy(logits(theta, batch[0]), batch[1])


def train_curve(model_a: nn.Module, model_b: nn.Module, data: CellData, epochs: int = 50, lr: float = 0.01,
                momentum: float = 0.9, weight_decay: float = 5e-4, batch_size: int = 128, init: str = "midpoint",
                init_model: nn.Module | None = None, seed: int = 0, bends: int = 3) -> tuple[Tensor, list[float]]:
    """Train the middle bend of the quadratic Bezier curve between two replicas (App. A.2; brief 3.4):
    SGD with momentum, one ``t ~ U(0, 1)`` per minibatch, loss ``CE + 0.5 wd ||gamma(t)||^2``, the
    paper's learning-rate schedule, minibatches as in training (reshuffled, last partial one dropped).

    ``init="random"`` starts the bend at ``init_model``'s parameters (a freshly initialised network,
    what the authors' script effectively did); the default starts it at the midpoint. ``bends`` (end
    points included) other than 3 trains a higher-degree curve, e.g. 4: cubic (Fig. 11).
    """
    theta_a, theta_b = flat_parameters(model_a), flat_parameters(model_b)
    generator = torch.Generator().manual_seed(seed)
    bend = connectivity.init_bend(theta_a, theta_b, init, generator,
                                  None if init_model is None else lambda _: flat_parameters(init_model))
    if bends != 3:  # Fig. 11's 4-bend (cubic) curve: middle points on the segment (Garipov's init_linear)
        if init != "midpoint":
            raise ValueError("curves with other than 3 bends start on the straight segment (init midpoint)")
        bend = connectivity.linear_bends(theta_a, theta_b, bends)

    def batches(_epoch: int):
        for index in epoch_batches(len(data.x_train), batch_size, generator):
            index = index.to(data.x_train.device)
            yield data.x_train[index], data.y_train[index]

    return connectivity.train_bezier_curve(_curve_loss(copy.deepcopy(model_a)), theta_a, theta_b, batches, epochs,
                                           lr, momentum, weight_decay, generator=generator, bend=bend)


def curve_errors(model_a: nn.Module, bend: Tensor, model_b: nn.Module, data: CellData,
                 points: int = 5) -> pd.DataFrame:
    """Training and test error (%) and training loss at ``t = linspace(0, 1, points)`` on the curve, with
    BatchNorm statistics recomputed over the training set at every ``t`` when the network has BN (brief
    3.4); ``connectivity.mode_connectivity(train_error)`` is the cell's ``mc``."""
    probe = copy.deepcopy(model_a)
    theta_a, theta_b = flat_parameters(model_a), flat_parameters(model_b)
    rows = []
    for t in np.linspace(0.0, 1.0, points):
        set_flat_parameters(probe, connectivity.bezier_point(theta_a, bend, theta_b, float(t)))
        if has_batchnorm(probe):
            recompute_batchnorm(probe, data.x_train)
        train_loss, train_accuracy = evaluate(probe, data.x_train, data.y_train)
        _, test_accuracy = evaluate(probe, data.x_test, data.y_test)
        rows.append({"t": float(t), "train_error": 100.0 - train_accuracy, "test_error": 100.0 - test_accuracy,
                     "train_loss": train_loss})
    return pd.DataFrame(rows)


def connect_replicas(models: Sequence[nn.Module], arch: Mapping[str, Any], data: CellData,
                     curve: Mapping[str, Any], seed: int, cell: Cell) -> tuple[Tensor, pd.DataFrame]:
    """Train the curve between replicas 0 and 1 (the authors' single pair) and evaluate it (brief 3.4).

    With ``scale_epochs_with_subset`` the epochs are divided by the data fraction, keeping the number of
    curve steps fixed as in the authors' code.
    """
    epochs = curve["epochs"]
    if curve["scale_epochs_with_subset"]:
        epochs = max(1, round(epochs / cell.subset))
    init_model = build(dict(arch), derive_seed(seed, "bend", cell.name)) if curve["init"] == "random" else None
    bend, _ = train_curve(models[0], models[1], data, epochs, curve["lr"], curve["momentum"], cell.weight_decay,
                          curve["batch_size"], curve["init"], init_model, derive_seed(seed, "curve", cell.name))
    return bend, curve_errors(models[0], bend, models[1], data, curve["points"])


# --- phases and claims ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PhaseRules:
    """Thresholds of the phase labels (brief 3.6; config ``taxonomy.phases``)."""

    connected_tolerance: float = 1.0  # |mc| <= this (percentage points) is well connected
    interpolation_accuracy: float = 99.0  # training accuracy (%) from which a cell is "flat"
    similar_cka: float = 0.7  # Phase IV cells at or above this CKA are IV-B


def label_phases(cells: pd.DataFrame, rules: PhaseRules = PhaseRules()) -> pd.Series:
    """Phase of every cell (brief 3.6, operational form): ``mc < -tol``: I if the training accuracy is
    below ``interpolation_accuracy`` (locally sharp), else III; ``mc > +tol``: II; ``|mc| <= tol``: IV,
    split into IV-B where CKA >= ``similar_cka``, else IV-A. Cells with a NaN ``mc`` get ""."""
    tol = rules.connected_tolerance
    mc, flat = cells["mc"], cells["train_accuracy"] >= rules.interpolation_accuracy
    phase = np.select(
        [mc < -tol, mc > tol, mc.abs() <= tol],
        [np.where(flat, "III", "I"), "II", np.where(cells["cka"] >= rules.similar_cka, "IV-B", "IV-A")],
        default="")
    return pd.Series(phase, index=cells.index, name="phase")


METRIC_COLUMNS = ("train_loss", "train_accuracy", "test_loss", "test_accuracy", "hessian_top", "hessian_trace")


def aggregate_cells(grid: Sequence[Mapping[str, Any]], tables: Mapping[str, Sequence[pd.DataFrame]],
                    rules: PhaseRules = PhaseRules(), experiment: str = "",
                    mc_column: str = "train_error") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The phase-diagram table of one experiment: per cell the replica means of the local metrics (the
    paper plots ``log(mean)`` of the Hessian; brief 3.2), the NaN-safe mean CKA and L2 over ordered pairs,
    ``mc`` of the curve's training errors (Eq. 4; ``mc_column="train_loss"``: of the training loss, the
    paper's choice for machine translation), ``diverged`` if any replica diverged, and the phase.

    ``tables`` maps ``training``, ``replicas``, ``pairs`` and ``curve`` to one table per grid row, in order.
    Returns ``(cells, curves)``; ``curves`` is the errors along every cell's curve with its coordinates.
    """
    rows, curves = [], []
    for index, cell in enumerate(grid):
        replicas, pairs, curve = (tables[name][index] for name in ("replicas", "pairs", "curve"))
        training = tables["training"][index]
        last_epoch = training.groupby("replica").tail(1)
        rows.append({
            "experiment": experiment, **cell,
            **{column: float(replicas[column].mean()) for column in METRIC_COLUMNS},
            "test_accuracy_std": float(replicas["test_accuracy"].std()),
            "cka": float(np.nanmean(pairs["cka"])) if pairs["cka"].notna().any() else np.nan,
            "cka_logits": float(np.nanmean(pairs["cka_logits"])) if pairs["cka_logits"].notna().any() else np.nan,
            "l2": float(pairs["l2"].mean()),
            "mc": connectivity.mode_connectivity(curve[mc_column].to_numpy()),
            "epochs": float(last_epoch["epoch"].mean() + 1),
            "early_stopped": int((last_epoch["checkpoint"] == "early_stopped").sum()),
            "diverged": bool(replicas["diverged"].any()),
            "n_replicas": len(replicas),
        })
        curves.append(curve.assign(experiment=experiment, cell=cell["cell"], load=cell["load"],
                                   temperature=cell["temperature"], panel=cell["panel"]))
    cells = pd.DataFrame(rows)
    cells["phase"] = label_phases(cells, rules)
    return cells, pd.concat(curves, ignore_index=True)


# --- learning-rate decay (Figs. 3 and 13) ---------------------------------------------------------


def decay_gain(reference: pd.DataFrame, decayed: pd.DataFrame) -> pd.DataFrame:
    """Fig. 13 (brief 3.6): per width, the best test accuracy over the temperature rows with and without
    learning-rate decay and their difference, on the cells both diagrams have (the common widths and
    temperatures, so the max runs over the same rows). Columns ``width``, ``best_reference``,
    ``best_decay``, ``gain``, ``temperatures`` (the common rows, as a string)."""
    widths = sorted(set(reference["width"]) & set(decayed["width"]))
    temperatures = sorted(set(reference["temperature"]) & set(decayed["temperature"]))
    rows = []
    for width in widths:
        best, se = [], []
        for cells in (reference, decayed):
            column = cells[(cells["width"] == width) & cells["temperature"].isin(temperatures)]
            top = column.loc[column["test_accuracy"].idxmax()] if column["test_accuracy"].notna().any() else None
            best.append(np.nan if top is None else float(top["test_accuracy"]))
            spread = np.nan if top is None else float(top.get("test_accuracy_std", np.nan))
            se.append(spread / np.sqrt(float(top.get("n_replicas", np.nan))) if top is not None else np.nan)
        rows.append({"width": width, "best_reference": best[0], "best_decay": best[1], "gain": best[1] - best[0],
                     "gain_se": float(np.hypot(*se)), "temperatures": ", ".join(f"{t:g}" for t in temperatures)})
    return pd.DataFrame(rows, columns=["width", "best_reference", "best_decay", "gain", "gain_se", "temperatures"])


def connectivity_transition(cells: pd.DataFrame, tolerance: float = 1.0,
                            temperatures: Sequence[float] | None = None) -> float:
    """The width index (0-based, among the sorted widths of ``cells``) of the poorly -> well connected
    boundary: per temperature row, the boundary lies half a step before the first width from which every
    wider cell has ``mc >= -tolerance`` (II and IV are both well connected); the median over the rows
    (``temperatures``, default all). ``-0.5``: already connected at the narrowest width; NaN: no row."""
    widths = sorted(cells["width"].unique())
    positions = []
    for temperature, line in cells.groupby("temperature"):
        if temperatures is not None and temperature not in set(temperatures):
            continue
        mc = line.set_index("width")["mc"].reindex(widths).to_numpy()
        poor = np.flatnonzero(~(mc >= -tolerance))  # NaN counts as not connected
        positions.append((poor[-1] + 1 if len(poor) else 0) - 0.5)
    return float(np.median(positions)) if positions else np.nan


# --- metric ablations (Figs. 9-11) ----------------------------------------------------------------


def pixel_noise_inputs(x: Tensor, samples: int, magnitude: float, generator: torch.Generator,
                       scale: float = 255.0) -> Tensor:
    """Fig. 10's CKA inputs: ``samples`` training inputs (a random permutation, cycled) plus uniform noise
    ``U[0, magnitude)`` on the 0-``scale`` pixel range, clipped to the range (brief 2.3, computed in float,
    not the code's wrapping uint8). For standardised features the pixel range of feature ``f`` is its
    training range ``[min_f, max_f]``: the noise is ``U[0, magnitude / scale) * (max_f - min_f)``."""
    n = len(x)
    order = torch.cat([torch.randperm(n, generator=generator) for _ in range(-(-samples // n))])[:samples]
    chosen = x[order.to(x.device)]
    low, high = x.min(0).values, x.max(0).values
    noise = torch.rand(chosen.shape, generator=generator, dtype=chosen.dtype).to(x.device)
    return torch.minimum(chosen + noise * (magnitude / scale) * (high - low), high)


def _mean_cka(models: Sequence[nn.Module], inputs_for_pair) -> float:
    values = []
    for i, model_a in enumerate(models):
        for j, model_b in enumerate(models):
            if i != j:
                inputs = inputs_for_pair()
                values.append(similarity.linear_cka(outputs(model_a, inputs).softmax(-1),
                                                    outputs(model_b, inputs).softmax(-1)))
    return float(np.nanmean(values)) if np.isfinite(values).any() else np.nan


def ablation_metrics(models: Sequence[nn.Module], data: CellData, ablations: Mapping[str, Any],
                     cka: Mapping[str, Any], curve: Mapping[str, Any], seed: int, cell: Cell,
                     weight_decay: float | None = None) -> pd.DataFrame:
    """The metric ablations of one cell's replicas (brief 3.3, 3.4; Figs. 9-11), one row each with
    ``figure``, ``setting`` and ``value``:

    * Fig. 9: mean CKA over ordered pairs with mixup ``lambda ~ Beta(alpha, alpha)`` for every
      ``ablations["cka_alpha"]``;
    * Fig. 10: mean CKA on pixel-noised training inputs for every ``ablations["cka_pixel_noise"]``
      (``pixel_noise_inputs``);
    * Fig. 11: mc of a curve between replicas 0 and 1 trained with each ``ablations["curves"]`` entry
      (``lr``, ``epochs``, ``bends`` over the config's ``curve``).
    Seeds derive from the cell and the setting, so each value is reproducible on its own."""
    rows = []
    for alpha in ablations.get("cka_alpha", []):
        generator = torch.Generator().manual_seed(derive_seed(seed, "cka_alpha", cell.name, float(alpha)))
        value = _mean_cka(models, lambda: similarity.mixup_inputs(data.x_train, cka["samples"], float(alpha),
                                                                   generator, cka["batch_size"]))
        rows.append({"figure": "cka_alpha", "setting": f"alpha {float(alpha):g}", "parameter": float(alpha),
                     "value": value})
    for magnitude in ablations.get("cka_pixel_noise", []):
        generator = torch.Generator().manual_seed(derive_seed(seed, "cka_pixel", cell.name, float(magnitude)))
        value = _mean_cka(models, lambda: pixel_noise_inputs(data.x_train, cka["samples"], float(magnitude),
                                                             generator))
        rows.append({"figure": "cka_pixel_noise", "setting": f"noise {float(magnitude):g}",
                     "parameter": float(magnitude), "value": value})
    for variant in ablations.get("curves", []):
        settings = {**curve, **variant}
        bends = int(settings.get("bends", 3))
        epochs = int(settings["epochs"])
        if settings.get("scale_epochs_with_subset", True):
            epochs = max(1, round(epochs / cell.subset))
        label = f"lr {settings['lr']:g}, {epochs} epochs, {bends} bends"
        bend, _ = train_curve(models[0], models[1], data, epochs, settings["lr"], settings["momentum"],
                              cell.weight_decay if weight_decay is None else weight_decay, settings["batch_size"],
                              "midpoint", None, derive_seed(seed, "curve_ablation", cell.name, label), bends)
        errors = curve_errors(models[0], bend, models[1], data, settings["points"])
        rows.append({"figure": "curves", "setting": label, "parameter": float(settings["lr"]),
                     "value": connectivity.mode_connectivity(errors["train_error"].to_numpy())})
    return pd.DataFrame(rows, columns=["figure", "setting", "parameter", "value"])


def ablation_table(cells: pd.DataFrame, tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The per-cell ablation tables (in the order of ``cells``' rows) with each cell's coordinates,
    phase and reference value (``cka`` for the CKA ablations, ``mc`` for the curves) as ``reference``."""
    keep = ["cell", "width", "batch_size", "load", "temperature", "phase", "cka", "mc"]
    rows = []
    for (_, cell), table in zip(cells.iterrows(), tables):
        table = table.assign(**{k: cell[k] for k in keep})
        table["reference"] = np.where(table["figure"] == "curves", cell["mc"], cell["cka"])
        rows.append(table.drop(columns=["cka", "mc"]))
    return pd.concat(rows, ignore_index=True)
