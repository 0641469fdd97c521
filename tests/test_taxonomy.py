"""Yang et al. taxonomy: cells and grids, per-model metrics on tiny networks, curves, phases and claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from thermoscape.measure.connectivity import mode_connectivity
from thermoscape.measure.curvature import full_hessian
from thermoscape.data.readers import Split
from thermoscape.core.grids import experiment_grid
from thermoscape.nets import build
from thermoscape.nets.networks import evaluate, flat_parameters, parameter_loss
from thermoscape.studies.taxonomy.claims import Criteria as TaxonomyCriteria
from thermoscape.studies.taxonomy.claims import double_descent_claim, taxonomy_claims
from thermoscape.studies.taxonomy.experiment import (
    Cell,
    CellData,
    PhaseRules,
    aggregate_cells,
    cell_data,
    cka_pairs,
    connect_replicas,
    curve_errors,
    hessian_top,
    hessian_trace,
    l2_distance,
    label_phases,
    label_table,
    load_models,
    local_metrics,
    pair_metrics,
    train_curve,
    train_replicas,
)

DEFAULTS = {"width": 64, "batch_size": 128, "lr": 0.05, "weight_decay": 5e-4, "subset": 1.0, "label_noise": 0.0}


def test_cell_names_round_trip_exactly():
    cell = Cell(16, 32, 0.05, 5e-4, 0.25, 0.1)
    assert cell.name == "w16_b32_lr0.05_wd0.0005_s0.25_n0.1"
    assert Cell.from_name(cell.name) == cell
    with pytest.raises(ValueError, match="not a taxonomy cell"):
        Cell.from_name("w16_b32")


def test_experiment_grid_sets_axes_and_shares_cells_between_experiments():
    phase = experiment_grid({"load": {"axis": "width", "values": [4, 16]},
                             "temperature": {"axis": "batch_size", "values": [32, 128]}}, DEFAULTS)
    lr = experiment_grid({"load": {"axis": "width", "values": [16]},
                          "temperature": {"axis": "lr", "values": [0.05, 0.1]}}, DEFAULTS)
    assert len(phase) == 4 and phase["panel"].isna().all()
    assert set(phase["width"]) == {4, 16} and set(phase["batch_size"]) == {32, 128}
    assert (phase["load"] == phase["width"]).all() and (phase["temperature"] == phase["batch_size"]).all()
    # lr = 0.05 at batch 128 is the phase grid's cell: trained once
    assert set(lr["cell"]) & set(phase["cell"]) == {Cell(16, 128, 0.05, 5e-4).name}
    amount = experiment_grid({"load": {"axis": "subset", "values": [0.5, 1.0]},
                              "temperature": {"axis": "batch_size", "values": [32]},
                              "panel": {"axis": "width", "values": [8, 64]},
                              "settings": {"label_noise": 0.1}}, DEFAULTS)
    assert len(amount) == 4 and set(amount["panel"]) == {8.0, 64.0} and (amount["label_noise"] == 0.1).all()
    with pytest.raises(ValueError, match="subset must lie"):
        experiment_grid({"load": {"axis": "subset", "values": [2.0]},
                         "temperature": {"axis": "batch_size", "values": [32]}}, DEFAULTS)


@pytest.fixture(scope="module")
def data() -> CellData:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 5)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.8)
    split = Split(x[:64], y[:64], x[64:], y[64:], 3)
    return cell_data(split, label_table(split, 0.0), Cell(6, 16, 0.05, 5e-4))


def mlp(seed: int, width: int = 6) -> torch.nn.Module:
    return build({"name": "mlp", "in_features": 5, "width": width, "depth": 2, "n_classes": 3}, seed).eval()


def test_label_table_and_cell_data_apply_noise_and_subset():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 40)
    split = Split(rng.standard_normal((40, 2)).astype(np.float32), labels, np.zeros((5, 2), np.float32),
                  np.zeros(5, np.int64), 4)
    table = label_table(split, 0.25)
    assert (table["label"] != table["clean_label"]).sum() == 10
    data = cell_data(split, table, Cell(4, 8, 0.05, 5e-4, subset=0.5, label_noise=0.25))
    assert len(data.x_train) == 20 and torch.equal(data.y_train, torch.tensor(table["label"][:20].to_numpy()))
    with pytest.raises(ValueError, match="fewer than one batch"):
        cell_data(split, table, Cell(4, 32, 0.05, 5e-4, subset=0.5))


def test_power_iteration_and_hutchinson_match_the_explicit_hessian(data):
    model = mlp(3)
    x, y = data.x_train[:40], data.y_train[:40]
    theta = flat_parameters(model).double()
    h = full_hessian(parameter_loss(model.double(), x.double(), y), theta)
    eigenvalues = torch.linalg.eigvalsh(h)
    top, n_iter = hessian_top(mlp(3), x, y, max_iter=500, rel_tol=1e-9, generator=torch.Generator().manual_seed(0))
    largest = eigenvalues[eigenvalues.abs().argmax()]
    assert top == pytest.approx(float(largest), rel=1e-2) and n_iter <= 500
    # Rademacher probes: var(v^T H v) = 2 sum_{i != j} H_ij^2; 100 probes, 4 standard errors
    trace, probes = hessian_trace(mlp(3), x, y, max_iter=100, rel_tol=0.0, generator=torch.Generator().manual_seed(1))
    off = h - torch.diag(torch.diag(h))
    assert probes == 100
    assert abs(trace - float(torch.trace(h))) < 4 * float(torch.sqrt(2 * off.square().sum() / 100))


def test_cka_pairs_cover_ordered_pairs_and_identical_models_are_similar(data):
    models = [mlp(0), mlp(0), mlp(5)]
    table = cka_pairs(models, data.x_train, samples=64, batch_size=32, generator=torch.Generator().manual_seed(0))
    assert len(table) == 6 and set(zip(table["replica_a"], table["replica_b"])) == {
        (i, j) for i in range(3) for j in range(3) if i != j}
    same = table[(table["replica_a"] < 2) & (table["replica_b"] < 2)]
    assert np.allclose(same["cka"], 1.0) and np.allclose(same["l2"], 0.0)
    different = table[table["replica_b"] == 2]
    assert (different["cka"] < 0.999).all()
    assert different["l2"].iloc[0] == pytest.approx(l2_distance(models[0], models[2]))
    assert l2_distance(models[0], models[2]) == pytest.approx(
        float((flat_parameters(models[0]) - flat_parameters(models[2])).double().norm()))


def test_curve_ends_are_the_replicas_and_training_lowers_the_middle(data):
    a, b = mlp(1), mlp(2)
    bend, losses = train_curve(a, b, data, epochs=20, lr=0.05, batch_size=16, seed=0)
    errors = curve_errors(a, bend, b, data, points=5)
    assert list(errors["t"]) == [0.0, 0.25, 0.5, 0.75, 1.0]
    for model, t in ((a, 0.0), (b, 1.0)):  # gamma(0) = theta, gamma(1) = theta'
        loss, accuracy = evaluate(model, data.x_train, data.y_train)
        end = errors[errors["t"] == t].iloc[0]
        assert end["train_loss"] == pytest.approx(loss, rel=1e-5)
        assert end["train_error"] == pytest.approx(100 - accuracy)
    assert losses[-1] < losses[0]


def test_curve_errors_recompute_batchnorm_statistics_at_every_point():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    x, y = torch.randn(64, 4) * 3 + 2, torch.randint(0, 3, (64,))
    data = CellData(x, y, x, y, 3)
    model.eval()  # running statistics still at their initial 0 / 1: evaluating them would be wrong
    errors = curve_errors(model, flat_parameters(model), model, data, points=3)
    with torch.no_grad():
        h = model[0](x)
        expected = torch.nn.functional.batch_norm(h, h.mean(0), h.var(0, unbiased=True), model[1].weight,
                                                  model[1].bias, eps=model[1].eps)
        logits = model[3](torch.relu(expected))
    loss = torch.nn.functional.cross_entropy(logits, y)
    assert errors["train_loss"].to_numpy() == pytest.approx([float(loss)] * 3, rel=1e-4)


def test_train_replicas_is_reproducible_and_records_the_protocol(data, tmp_path):
    study = {"seed": 3, "replicas": 2, "model": {"name": "mlp", "depth": 1},
             "training": {"min_epochs": 2, "max_epochs": 4}}
    cell = Cell(5, 16, 0.05, 5e-4)
    stored, history = train_replicas(cell, data, study, tmp_path)
    again, _ = train_replicas(cell, data, study)
    assert stored["arch"] == {"name": "mlp", "depth": 1, "width": 5, "n_classes": 3, "in_features": 5}
    assert len(stored["states"]) == 2 and set(history["replica"]) == {0, 1}
    for first, second in zip(stored["states"], again["states"]):
        assert all(torch.equal(first[k], second[k]) for k in first)
    first, second = stored["states"]
    assert not all(torch.equal(first[k], second[k]) for k in first)  # independent initialisations
    assert history.groupby("replica")["epoch"].max().max() <= 3


def test_train_replicas_resumes_a_finished_cell_without_training(data, tmp_path, monkeypatch):
    """The cell job re-runs when only a measurement setting changes; its training must then come from the
    finished checkpoint, bitwise, without one more SGD step."""
    study = {"seed": 3, "replicas": 2, "model": {"name": "mlp", "depth": 1},
             "training": {"min_epochs": 2, "max_epochs": 3}}
    cell = Cell(5, 16, 0.05, 5e-4)
    stored, history = train_replicas(cell, data, study, tmp_path)
    steps = []
    step = torch.optim.SGD.step
    monkeypatch.setattr(torch.optim.SGD, "step", lambda self, *a, **k: steps.append(1) or step(self, *a, **k))
    again, again_history = train_replicas(cell, data, study, tmp_path)
    assert steps == []
    for first, second in zip(stored["states"], again["states"]):
        assert all(torch.equal(first[k], second[k]) for k in first)
    pd.testing.assert_frame_equal(history, again_history)


def synthetic_cells() -> pd.DataFrame:
    """A 3 x 3 width x batch-size diagram with the paper's layout: barriers at small width (I; III once
    the training set is fitted), under-trained ends at the smallest batch (II), connected elsewhere (IV)."""
    rows = []
    for width in (2, 16, 128):
        for batch in (8, 64, 256):
            sharp = width == 2 or batch == 8
            rows.append({
                "width": width, "batch_size": batch, "load": width, "temperature": batch,
                "mc": -12.0 if width == 2 else (4.0 if batch == 8 else 0.1),
                "train_accuracy": 99.5 if (width == 2 and batch == 256) else (90.0 if sharp else 100.0),
                "train_loss": 0.5 if sharp else 0.01,
                "test_accuracy": {2: 70.0, 16: 85.0, 128: 90.0}[width] - (5 if batch != 64 else 0),
                "cka": {2: 0.4, 16: 0.6, 128: 0.8}[width] - (0.3 if batch == 8 else 0),
                "hessian_trace": 500.0 if sharp else 20.0 + batch / 64,
            })
    return pd.DataFrame(rows)


def test_phase_labels_follow_the_brief_rules():
    cells = synthetic_cells()
    cells["phase"] = label_phases(cells, PhaseRules(similar_cka=0.7))
    phase = cells.set_index(["width", "batch_size"])["phase"]
    assert phase[(2, 64)] == "I" and phase[(2, 256)] == "III" and phase[(16, 8)] == "II"
    assert phase[(16, 64)] == "IV-A" and phase[(128, 64)] == "IV-B"
    assert label_phases(pd.DataFrame({"mc": [np.nan], "train_accuracy": [100.0], "cka": [1.0]}))[0] == ""


def test_claims_hold_on_the_paper_layout_and_fail_when_it_is_broken():
    cells = synthetic_cells()
    cells["phase"] = label_phases(cells, PhaseRules())
    verdicts = {r["claim"]: r["verdict"] for r in taxonomy_claims(cells, PhaseRules(), TaxonomyCriteria())}
    assert verdicts == {"best accuracy": "holds", "mc small width": "holds", "mc hot wide": "holds",
                        "loss drop": "holds", "cka ordering": "holds"}
    broken = cells.assign(mc=-cells["mc"], cka=1 - cells["cka"])
    broken["phase"] = label_phases(broken, PhaseRules())
    rows = taxonomy_claims(broken, PhaseRules(), TaxonomyCriteria())
    verdicts = {r["claim"]: r["verdict"] for r in rows}
    assert verdicts["mc small width"] == verdicts["mc hot wide"] == verdicts["best accuracy"] == "fails"
    assert verdicts["cka ordering"] == "undetermined"  # with mc flipped no cell is Phase III
    assert all(r["study"] == "taxonomy" and r["slice"] == "phase" for r in rows)


def test_aggregate_takes_replica_means_nan_safe_cka_and_mc_of_the_curve():
    grid = [{"cell": "c", "load": 4.0, "temperature": 32.0, "panel": np.nan}]
    replicas = pd.DataFrame({"replica": [0, 1], "train_loss": [0.1, 0.3], "train_accuracy": [99.0, 100.0],
                             "test_loss": [0.2, 0.4], "test_accuracy": [90.0, 92.0], "hessian_top": [1.0, 3.0],
                             "hessian_trace": [10.0, 30.0], "diverged": [False, True]})
    pairs = pd.DataFrame({"replica_a": [0, 1], "replica_b": [1, 0], "cka": [0.5, np.nan],
                          "cka_logits": [0.7, 0.9], "l2": [2.0, 2.0]})
    curve = pd.DataFrame({"t": [0, 0.25, 0.5, 0.75, 1], "train_error": [0, 6.7, 28, 6.7, 0],
                          "test_error": [5.0] * 5})
    training = pd.DataFrame({"replica": [0, 0, 1], "epoch": [0, 1, 0],
                             "checkpoint": ["best_loss", "best_loss", "early_stopped"]})
    cells, curves = aggregate_cells(grid, {"training": [training], "replicas": [replicas], "pairs": [pairs],
                                           "curve": [curve]}, experiment="phase")
    cell = cells.iloc[0]
    assert cell["train_loss"] == pytest.approx(0.2) and cell["hessian_trace"] == pytest.approx(20.0)
    assert cell["cka"] == pytest.approx(0.5) and cell["cka_logits"] == pytest.approx(0.8)
    assert cell["mc"] == pytest.approx(mode_connectivity([0, 6.7, 28, 6.7, 0])) == pytest.approx(-28)
    assert cell["diverged"] and cell["early_stopped"] == 1 and cell["phase"] == "III"
    assert len(curves) == 5 and (curves["load"] == 4.0).all()


def test_resnet_cell_runs_every_measurement_with_batchnorm():
    """The paper-scale path (ResNet18-k with BatchNorm) through training, local and pair metrics and the curve."""
    rng = np.random.default_rng(0)
    split = Split(rng.standard_normal((32, 3, 32, 32)).astype(np.float32), rng.integers(0, 10, 32),
                  rng.standard_normal((8, 3, 32, 32)).astype(np.float32), rng.integers(0, 10, 8), 10)
    cell = Cell(2, 8, 0.05, 5e-4)
    data = cell_data(split, label_table(split, 0.0), cell)
    study = {"seed": 0, "replicas": 2, "model": {"name": "resnet18"}, "training": {"min_epochs": 1, "max_epochs": 1}}
    stored, _ = train_replicas(cell, data, study)
    assert stored["arch"] == {"name": "resnet18", "width": 2, "n_classes": 10, "in_channels": 3}
    models = load_models(stored)
    local = local_metrics(models, stored, data, {"samples": 16, "max_iter": 3, "rel_tol": 1e-3}, 0, cell)
    assert np.isfinite(local[["train_loss", "test_accuracy", "hessian_top", "hessian_trace"]].to_numpy()).all()
    pairs = pair_metrics(models, data, {"samples": 16, "alpha": 16.0, "batch_size": 8}, 0, cell)
    assert len(pairs) == 2 and pairs["cka"].between(0, 1).all()
    bend, errors = connect_replicas(models, stored["arch"], data, {"epochs": 1, "lr": 0.01, "momentum": 0.9,
                                    "batch_size": 8, "points": 3, "init": "random", "scale_epochs_with_subset": True},
                                    0, cell)
    assert bend.shape == flat_parameters(models[0]).shape and len(errors) == 3
    assert np.isfinite(errors.to_numpy()).all()


def test_double_descent_claim_finds_a_dip_between_neighbours():
    cells = pd.DataFrame({"width": [4, 8, 16, 32] * 2, "temperature": [64] * 4 + [128] * 4,
                          "test_accuracy": [84.6, 88.2, 86.6, 90.3, 80.0, 82.0, 84.0, 86.0],
                          "train_accuracy": [80.0, 90.0, 97.5, 100.0] * 2})
    found = double_descent_claim(cells, TaxonomyCriteria())
    assert found["verdict"] == "holds" and found["value"] == 1 and "64: width 16 (1.6 pp" in found["detail"]
    monotone = cells[cells["temperature"] == 128]
    assert double_descent_claim(monotone, TaxonomyCriteria())["verdict"] == "fails"


def test_claims_state_their_cells_and_need_the_phases_they_are_about():
    cells = synthetic_cells()
    cells["phase"] = label_phases(cells, PhaseRules())
    rows = {r["claim"]: r for r in taxonomy_claims(cells, PhaseRules(), TaxonomyCriteria())}
    assert rows["best accuracy"]["fit_range"] == "9 cells: width 2-128, batch_size 8-256"
    assert rows["mc small width"]["fit_range"] == "3 cells: width 2, batch_size 8-256"
    assert rows["loss drop"]["fit_range"] == "1 of 3 batch_size rows cross training accuracy 99 % along width"
    assert all(r["regime"] == "" for r in rows.values())
    # no cell fits the training set: no Phase III/IV, no sharp/flat boundary, nothing to order by phase
    unfitted = cells.assign(train_accuracy=90.0)
    unfitted["phase"] = label_phases(unfitted, PhaseRules())
    rows = {r["claim"]: r for r in taxonomy_claims(unfitted, PhaseRules(), TaxonomyCriteria())}
    assert rows["loss drop"]["verdict"] == "undetermined"
    assert rows["loss drop"]["regime"] == "no row crosses the sharp/flat boundary"
    assert rows["cka ordering"]["regime"] == "a phase group is empty"
    assert rows["cka ordering"]["detail"].startswith("outside the regime: a phase group is empty; I/II:")
    # every cell connected but none fitted: Phase I/II only, so the best cell cannot be Phase IV-B
    barriers = cells.assign(mc=-12.0)
    barriers["phase"] = label_phases(barriers, PhaseRules())
    best = taxonomy_claims(barriers, PhaseRules(), TaxonomyCriteria())[0]
    assert best["verdict"] == "undetermined" and best["regime"].startswith("no Phase IV cell")
    assert best["value"] == pytest.approx(90.0)


def test_double_descent_needs_the_interpolation_threshold():
    cells = pd.DataFrame({"width": [4, 8, 16, 32] * 2, "temperature": [64] * 4 + [128] * 4,
                          "test_accuracy": [84.6, 88.2, 86.6, 90.3, 80.0, 82.0, 84.0, 86.0],
                          "train_accuracy": [80.0, 90.0, 97.5, 100.0] * 2})
    found = double_descent_claim(cells, TaxonomyCriteria())
    assert found["fit_range"] == "8 cells: width 4-32, temperature 64-128" and found["regime"] == ""
    cells["train_accuracy"] = [80.0, 90.0, 95.0, 97.0] * 2  # below 99 % everywhere
    never_fitted = double_descent_claim(cells, TaxonomyCriteria())
    assert never_fitted["verdict"] == "undetermined" and never_fitted["value"] == 1
    assert "no row crosses the interpolation threshold (training accuracy 99 %)" in never_fitted["regime"]
    lower = double_descent_claim(cells, TaxonomyCriteria(), rules=PhaseRules(interpolation_accuracy=96.0))
    assert lower["verdict"] == "holds"
