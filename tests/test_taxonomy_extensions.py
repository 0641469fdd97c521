"""Yang et al. extensions of issue 26: the learning-rate schedule as a cell setting (Fig. 3), the Fig. 13
gain from decay and its claims on synthetic diagrams with known answers, and the new targets' dry runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from thermoscape.core.grids import CELL_PATTERN, Cell, experiment_grid
from thermoscape.studies.taxonomy.claims import Criteria, label_noise_claims, lr_decay_claims, phase_iv_split_claims
from thermoscape.studies.taxonomy.experiment import (
    CellData,
    PhaseRules,
    label_phases,
    connectivity_transition,
    decay_gain,
    sgd_settings,
    train_replicas,
)

DEFAULTS = {"width": 64, "batch_size": 128, "lr": 0.05, "weight_decay": 5e-4, "subset": 1.0, "label_noise": 0.0,
            "schedule": "constant"}


def test_schedule_is_a_cell_setting_with_its_own_name():
    constant = Cell(16, 32, 0.1, 5e-4)
    decayed = Cell(16, 32, 0.1, 5e-4, schedule="one_decay")
    assert constant.name == "w16_b32_lr0.1_wd0.0005_s1.0_n0.0"  # existing names unchanged
    assert decayed.name == "w16_b32_lr0.1_wd0.0005_s1.0_n0.0_one-decay"
    assert Cell.from_name(decayed.name) == decayed and Cell.from_name(constant.name) == constant
    import re
    assert re.fullmatch(CELL_PATTERN, decayed.name) and re.fullmatch(CELL_PATTERN, constant.name)
    with pytest.raises(ValueError, match="unknown schedule"):
        Cell(16, 32, 0.1, 5e-4, schedule="cosine")
    grid = experiment_grid({"settings": {"lr": 0.1, "schedule": "one_decay"},
                            "load": {"axis": "width", "values": [4, 16]},
                            "temperature": {"axis": "batch_size", "values": [32]}}, DEFAULTS)
    assert (grid["schedule"] == "one_decay").all() and grid["cell"].str.endswith("_one-decay").all()
    # a defaults mapping without a schedule (older callers) gives constant cells
    old = experiment_grid({"load": {"axis": "width", "values": [4]},
                           "temperature": {"axis": "batch_size", "values": [32]}},
                          {k: v for k, v in DEFAULTS.items() if k != "schedule"})
    assert old["cell"].tolist() == ["w4_b32_lr0.05_wd0.0005_s1.0_n0.0"]


def test_one_decay_cells_train_the_authors_fixed_budget_without_early_stop():
    training = {"min_epochs": 2, "max_epochs": 30, "tol": 1.0, "decay_epochs": 8}
    constant = sgd_settings(Cell(4, 8, 0.1, 5e-4), training)
    assert constant.schedule == "constant" and constant.max_epochs == 30
    decayed = sgd_settings(Cell(4, 8, 0.1, 5e-4, schedule="one_decay"), training)
    assert decayed.schedule == "one_decay" and decayed.max_epochs == 8 and decayed.min_epochs > 8
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(64, 5, generator=generator)
    data = CellData(x, (x[:, 0] > 0).long(), x[:16], (x[:16, 0] > 0).long(), 2)
    study = {"seed": 0, "replicas": 2, "model": {"name": "mlp", "depth": 1}, "training": training}
    _, history = train_replicas(Cell(4, 8, 0.1, 5e-4, schedule="one_decay"), data, study)
    # tol 1.0 would early-stop a constant run at epoch 2: the decay run goes the full 8 epochs
    assert history.groupby("replica")["epoch"].max().tolist() == [7, 7]
    lrs = history[history["replica"] == 0]["lr"].to_numpy()
    assert np.allclose(lrs[:6], 0.1) and np.allclose(lrs[6:], 0.01)  # decay from 75 % of 8 epochs
    assert (history["checkpoint"] == "best_loss").all()
    _, history = train_replicas(Cell(4, 8, 0.1, 5e-4), data, study)
    assert history.groupby("replica")["epoch"].max().max() < 7


WIDTHS = (2, 4, 8, 16, 32)


def diagram(accuracy: dict[int, float], boundary_width: int, batches=(16, 64)) -> pd.DataFrame:
    """A width x batch diagram: mc = -10 below ``boundary_width``, 0 from it on; test accuracy per width,
    0.5 pp lower in the second row."""
    rows = []
    for k, batch in enumerate(batches):
        for width in WIDTHS:
            rows.append({"width": width, "batch_size": batch, "load": width, "temperature": batch,
                         "test_accuracy": accuracy[width] - 0.5 * k,
                         "mc": -10.0 if width < boundary_width else 0.0})
    return pd.DataFrame(rows)


REFERENCE = {2: 60.0, 4: 70.0, 8: 80.0, 16: 90.0, 32: 92.0}


def test_decay_gain_and_connectivity_boundary_have_known_answers():
    decayed = diagram({2: 61.0, 4: 72.0, 8: 85.0, 16: 91.0, 32: 92.5}, boundary_width=8, batches=(16, 64, 256))
    gain = decay_gain(diagram(REFERENCE, 8), decayed)
    assert gain["width"].tolist() == list(WIDTHS)
    assert np.allclose(gain["gain"], [1.0, 2.0, 5.0, 1.0, 0.5])  # max over the shared rows 16, 64 only
    assert gain["temperatures"].iloc[0] == "16, 64"
    assert connectivity_transition(decayed) == 1.5  # between widths 4 and 8
    assert connectivity_transition(diagram(REFERENCE, 2)) == -0.5
    assert connectivity_transition(diagram(REFERENCE, 64)) == 4.5
    # one row connected from width 4, one from 16: the median of 0.5 and 2.5
    mixed = pd.concat([diagram(REFERENCE, 4, (16,)), diagram(REFERENCE, 16, (64,))])
    assert connectivity_transition(mixed) == 1.5


def verdicts(reference, decayed, criteria=Criteria()):
    rows = lr_decay_claims(reference, decayed, criteria)
    assert all(r["study"] == "taxonomy" and r["slice"] == "lr_decay" and r["fit_range"] for r in rows)
    return {r["claim"]: r["verdict"] for r in rows}, {r["claim"]: r["value"] for r in rows}


def test_lr_decay_claims_hold_fail_and_need_the_transition():
    reference = diagram(REFERENCE, 8)
    peak_at_boundary = diagram({2: 61.0, 4: 72.0, 8: 85.0, 16: 91.0, 32: 92.5}, boundary_width=8)
    verdict, value = verdicts(reference, peak_at_boundary)
    assert verdict == {"lr decay best accuracy": "holds", "lr decay gain peak": "holds"}
    assert value["lr decay best accuracy"] == pytest.approx(0.5) and value["lr decay gain peak"] == 0.5
    # the gain peaks at width 32, three steps past the boundary between 4 and 8
    peak_far = diagram({2: 61.0, 4: 71.0, 8: 81.0, 16: 91.0, 32: 97.0}, boundary_width=8)
    verdict, value = verdicts(reference, peak_far)
    assert verdict["lr decay gain peak"] == "fails" and value["lr decay gain peak"] == 2.5
    # decay lowers the best accuracy
    worse = diagram({2: 61.0, 4: 72.0, 8: 85.0, 16: 89.0, 32: 90.0}, boundary_width=8)
    assert verdicts(reference, worse)[0]["lr decay best accuracy"] == "fails"
    # connected everywhere: no transition in the grid
    verdict, _ = verdicts(reference, diagram({w: a + 1 for w, a in REFERENCE.items()}, boundary_width=2))
    assert verdict["lr decay gain peak"] == "undetermined"
    # replica spreads make the 4 pp peak (median gain 1 pp) a standard error of ~2.9 pp: flat within noise
    noisy = [d.assign(test_accuracy_std=5.0, n_replicas=6) for d in (reference, peak_at_boundary)]
    row = lr_decay_claims(*noisy, Criteria())[1]
    assert row["verdict"] == "undetermined" and "flat within its noise" in row["detail"]
    quiet = [d.assign(test_accuracy_std=0.5, n_replicas=6) for d in (reference, peak_at_boundary)]
    assert lr_decay_claims(*quiet, Criteria())[1]["verdict"] == "holds"
    # a stricter criterion than the paper's statement cannot hold on a peak one width away
    assert verdicts(reference, peak_at_boundary, Criteria(transition_steps=0.0))[0]["lr decay gain peak"] == "fails"


@pytest.mark.workflow
def test_lr_decay_target_dry_run_plans_decay_cells_and_the_figures(tmp_path):
    from test_workflow import SMOKE, planned_jobs
    jobs = planned_jobs(tmp_path, "taxonomy_lr_decay", "--configfile", str(SMOKE))
    rules = [rule for rule, _ in jobs]
    assert rules.count("taxonomy_figure") == 1 and rules.count("taxonomy_diagram") == 1
    trained = [wildcards for rule, wildcards in jobs if rule == "taxonomy_cell"]
    assert any(w.endswith("_one-decay") for w in trained) and not all(w.endswith("_one-decay") for w in trained)


def noise_diagram(trace_noise_slope: float = 0.05, mc_slope: float = -10.0) -> pd.DataFrame:
    """Load = noise fraction, temperature = batch size, width 64: ln(trace) falls by 1 per batch doubling
    and rises by ``trace_noise_slope`` per 0.1 noise; mc = ``mc_slope`` x noise; the 0.6 column does not
    fit its labels (training loss 0.5)."""
    rows = []
    for noise in (0.0, 0.1, 0.2, 0.4, 0.6):
        for k, batch in enumerate((16, 32, 64, 128)):
            rows.append({"width": 64, "batch_size": batch, "label_noise": noise, "load": noise,
                         "temperature": batch, "test_accuracy": 95 - 50 * noise, "mc": mc_slope * noise + 0.01 * k,
                         "train_loss": 0.5 if noise == 0.6 else 0.01,
                         "hessian_trace": float(np.exp(5 - k + trace_noise_slope * noise * 10))})
    return pd.DataFrame(rows)


def test_label_noise_claims_have_known_answers():
    rows = label_noise_claims(noise_diagram(), Criteria())
    verdict = {r["claim"]: r["verdict"] for r in rows}
    value = {r["claim"]: r["value"] for r in rows}
    assert verdict == {"noise worsens connectivity": "holds", "trace insensitive to noise": "holds"}
    assert value["noise worsens connectivity"] == pytest.approx(-1.0)
    # small-loss cells: noise 0-0.4 -> ln-trace spread 0.2 along noise, 3 along batch
    assert value["trace insensitive to noise"] == pytest.approx(0.2 / 3)
    assert "16 cells with training loss < 0.1" in rows[1]["fit_range"]
    rows = label_noise_claims(noise_diagram(trace_noise_slope=2.0, mc_slope=10.0), Criteria())
    assert {r["claim"]: r["verdict"] for r in rows} == {"noise worsens connectivity": "fails",
                                                         "trace insensitive to noise": "fails"}
    unfitted = noise_diagram().assign(train_loss=1.0)
    assert label_noise_claims(unfitted, Criteria())[1]["verdict"] == "undetermined"


def test_label_noise_axis_accepts_zero_noise():
    grid = experiment_grid({"load": {"axis": "label_noise", "values": [0.0, 0.2]},
                            "temperature": {"axis": "batch_size", "values": [32]}}, DEFAULTS)
    assert grid["cell"].tolist() == ["w64_b32_lr0.05_wd0.0005_s1.0_n0.0", "w64_b32_lr0.05_wd0.0005_s1.0_n0.2"]


@pytest.mark.workflow
def test_label_noise_target_dry_run_plans_its_figure(tmp_path):
    from test_workflow import SMOKE, planned_jobs
    jobs = planned_jobs(tmp_path, "taxonomy_label_noise", "--configfile", str(SMOKE))
    assert ("taxonomy_figure", "figure=label_noise") in jobs
    assert {w for rule, w in jobs if rule == "taxonomy_labels"} == {f"source=data, noise={n}" for n in ("0.0", "0.1", "0.4")}


def phase_iv_cells(cka_slope: float) -> pd.DataFrame:
    """Width 2 poorly connected (I), widths 16-128 in Phase IV with CKA 0.95 + ``cka_slope`` per batch doubling."""
    rows = []
    for k, batch in enumerate((16, 32, 64, 128)):
        for width in (2, 16, 128):
            rows.append({"width": width, "batch_size": batch, "load": width, "temperature": batch,
                         "mc": -10.0 if width == 2 else 0.0, "train_accuracy": 80.0 if width == 2 else 100.0,
                         "cka": 0.4 if width == 2 else 0.95 + cka_slope * k + 0.001 * width})
    cells = pd.DataFrame(rows)
    cells["phase"] = label_phases(cells, PhaseRules())
    return cells


def test_phase_iv_split_claims_absolute_and_relative():
    rows = phase_iv_split_claims(phase_iv_cells(-0.1), PhaseRules())
    verdict = {r["claim"]: r["verdict"] for r in rows}
    value = {r["claim"]: r["value"] for r in rows}
    assert verdict == {"phase IV-A": "holds", "phase IV crossover": "holds"}
    assert value["phase IV-A"] == 1  # batch 128, width 16: CKA 0.65 + 0.016 < 0.7 (width 128: 0.778)
    assert value["phase IV crossover"] < -0.8 and "8 cells" in rows[0]["fit_range"]
    # the default-scale situation: CKA 0.95 everywhere in IV, rising with batch: no IV-A, no crossover
    rows = phase_iv_split_claims(phase_iv_cells(0.01), PhaseRules())
    assert {r["claim"]: r["verdict"] for r in rows} == {"phase IV-A": "fails", "phase IV crossover": "fails"}
    # lr as the temperature: larger lr is hotter, so the sign flips
    assert phase_iv_split_claims(phase_iv_cells(-0.1), PhaseRules(), "lr")[1]["verdict"] == "fails"
    none = phase_iv_cells(-0.1).assign(phase="I")
    assert {r["verdict"] for r in phase_iv_split_claims(none, PhaseRules())} == {"undetermined"}


def test_cubic_bezier_and_linear_bends():
    from thermoscape.measure.connectivity import bezier_point, linear_bends
    a, b = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64) * 3
    bends = linear_bends(a, b, 4)
    assert bends.shape == (2, 3) and torch.allclose(bends[0], a + 1) and torch.allclose(bends[1], a + 2)
    # control points on the segment: the cubic curve is the segment traversed linearly
    assert torch.allclose(bezier_point(a, bends, b, 0.25), torch.full((3,), 0.75, dtype=torch.float64))
    # a cubic with middle points p1, p2: B(1/2) = (a + 3 p1 + 3 p2 + b) / 8
    p = torch.stack([torch.full((3,), 8.0), torch.full((3,), -8.0)]).double()
    assert torch.allclose(bezier_point(a, p, b, 0.5), (a + 3 * p[0] + 3 * p[1] + b) / 8)
    # one middle point: the quadratic formula, vector t too
    mid = torch.full((3,), 5.0, dtype=torch.float64)
    ts = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    assert torch.allclose(bezier_point(a, mid.unsqueeze(0), b, ts), bezier_point(a, mid, b, ts))
    with pytest.raises(ValueError):
        linear_bends(a, b, 2)


def test_pixel_noise_inputs_stay_in_each_features_range_and_grow_with_magnitude():
    from thermoscape.studies.taxonomy.experiment import pixel_noise_inputs
    x = torch.stack([torch.linspace(-1, 1, 50), torch.linspace(0, 10, 50)], 1)
    small = pixel_noise_inputs(x, 40, 5.0, torch.Generator().manual_seed(0))
    large = pixel_noise_inputs(x, 40, 80.0, torch.Generator().manual_seed(0))
    clean = pixel_noise_inputs(x, 40, 0.0, torch.Generator().manual_seed(0))
    assert small.shape == (40, 2)
    assert (large <= x.max(0).values).all() and (large >= x.min(0).values).all()
    shift_small, shift_large = (small - clean).mean(0), (large - clean).mean(0)
    assert ((shift_small >= 0) & (shift_large > shift_small)).all()
    assert shift_large[1] / shift_large[0] == pytest.approx(5.0, rel=0.3)  # scaled by the feature range


def ablation_synthetic(alpha_noise: float, curve_sign: float) -> pd.DataFrame:
    """12 cells with reference CKA rising with width and mc rising with width; alpha settings equal to it up
    to ``alpha_noise``-scaled shuffling, pixel noise 5 uninformative (constant), 80 equal to the reference."""
    rng = np.random.default_rng(0)
    rows = []
    for k, (width, batch) in enumerate([(w, b) for w in (2, 8, 32, 128) for b in (16, 64, 256)]):
        cka, mc = 0.2 + 0.002 * width + 0.0001 * batch, -10 + 0.08 * width
        base = {"cell": f"c{k}", "width": width, "batch_size": batch, "load": width, "temperature": batch}
        for alpha in (1.0, 16.0):
            rows.append({**base, "figure": "cka_alpha", "setting": f"alpha {alpha:g}", "parameter": alpha,
                         "value": cka + alpha_noise * rng.normal(), "reference": cka})
        for magnitude, value in ((5.0, 0.99 + 0.001 * rng.normal()), (80.0, cka)):
            rows.append({**base, "figure": "cka_pixel_noise", "setting": f"noise {magnitude:g}",
                         "parameter": magnitude, "value": value, "reference": cka})
        rows.append({**base, "figure": "curves", "setting": "lr 0.03", "parameter": 0.03,
                     "value": curve_sign * mc, "reference": mc})
    return pd.DataFrame(rows)


def test_ablation_claims_judge_rank_agreement():
    verdict = {r["claim"]: (r["verdict"], r["value"]) for r in
               lr_rows(ablation_synthetic(alpha_noise=0.0, curve_sign=1.0))}
    assert verdict["cka alpha ablation"] == ("holds", pytest.approx(1.0))
    assert verdict["curves ablation"][0] == "holds"
    assert verdict["cka pixel noise ablation"][0] == "holds" and verdict["cka pixel noise ablation"][1] > 0.5
    verdict = {r["claim"]: r["verdict"] for r in lr_rows(ablation_synthetic(alpha_noise=1.0, curve_sign=-1.0))}
    assert verdict["cka alpha ablation"] == "fails" and verdict["curves ablation"] == "fails"
    flipped = ablation_synthetic(0.0, 1.0)
    flipped.loc[flipped["figure"] == "cka_pixel_noise", "parameter"] *= -1  # 80 becomes the smallest
    assert {r["claim"]: r["verdict"] for r in lr_rows(flipped)}["cka pixel noise ablation"] == "fails"
    assert {r["verdict"] for r in lr_rows(flipped[flipped["figure"] == "none"])} == {"undetermined"}


def lr_rows(table):
    from thermoscape.studies.taxonomy.claims import ablation_claims
    rows = ablation_claims(table, Criteria())
    assert all(r["study"] == "taxonomy" and r["slice"] == "ablation" for r in rows)
    return rows


def test_ablation_metrics_cover_every_setting(tmp_path):
    from thermoscape.studies.taxonomy.experiment import ablation_metrics
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(96, 5, generator=generator)
    data = CellData(x, (x[:, 0] > 0).long(), x[:16], (x[:16, 0] > 0).long(), 2)
    study = {"seed": 0, "replicas": 2, "model": {"name": "mlp", "depth": 1},
             "training": {"min_epochs": 2, "max_epochs": 3}}
    cell = Cell(4, 16, 0.05, 5e-4)
    stored, _ = train_replicas(cell, data, study)
    from thermoscape.studies.taxonomy.experiment import load_models
    models = load_models(stored)
    curve = {"epochs": 2, "lr": 0.01, "momentum": 0.9, "batch_size": 32, "points": 5, "init": "midpoint",
             "scale_epochs_with_subset": True}
    table = ablation_metrics(models, data, {"cka_alpha": [1.0, 16.0], "cka_pixel_noise": [5.0],
                                            "curves": [{"lr": 0.03}, {"bends": 4}]},
                             {"samples": 64, "batch_size": 32}, curve, 0, cell)
    assert table["figure"].tolist() == ["cka_alpha", "cka_alpha", "cka_pixel_noise", "curves", "curves"]
    assert table["setting"].tolist()[-2:] == ["lr 0.03, 2 epochs, 3 bends", "lr 0.01, 2 epochs, 4 bends"]
    assert table["value"].notna().all() and (table.loc[table["figure"] != "curves", "value"] <= 1 + 1e-9).all()


@pytest.mark.workflow
def test_ablations_target_dry_run_plans_one_ablation_job_per_cell(tmp_path):
    from test_workflow import SMOKE, planned_jobs
    jobs = planned_jobs(tmp_path, "taxonomy_ablations", "--configfile", str(SMOKE))
    assert sum(rule == "taxonomy_ablation" for rule, _ in jobs) == 2
    assert ("taxonomy_ablations_figure", "experiment=ablation") in jobs


def test_new_figures_have_labelled_axes(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from thermoscape.studies.taxonomy import plots
    reference = diagram(REFERENCE, 8)
    fig = plots.lr_decay_figure(reference, diagram({2: 61.0, 4: 72.0, 8: 85.0, 16: 91.0, 32: 92.5}, 8))
    left, right = fig.axes[:2]
    assert left.get_xlabel() == "Width of model" and "Improvement" in right.get_ylabel()
    assert any("connectivity boundary" in t.get_text() for t in right.get_legend().get_texts())
    cells = noise_diagram().assign(train_accuracy=100.0, cka=0.5, phase="IV-A")
    fig = plots.label_noise_figure(cells)
    assert fig.axes[0].get_xlabel() == "Fraction of randomized labels"
    assert any(ax.get_title().startswith("(e)") and ax.get_legend() for ax in fig.axes)
    table = ablation_synthetic(0.0, 1.0).assign(phase="IV-B")
    fig = plots.ablations_figure(table)
    titles = [ax.get_title() for ax in fig.axes]
    assert any("alpha 16" in t and "rho 1.00" in t for t in titles) and any("Fig. 11" in t for t in titles)


def test_ablations_figure_columns_align_and_a_short_row_keeps_its_colour_bar_beside_it():
    """A row with fewer settings (Fig. 11: 3 curves vs 5 alphas) once shifted the other rows' columns (its
    colour bar took width from its own columns only: an empty gap column) and then left a bar detached
    across blank slots; every column must start at the same x in every row, the short row's bar beside it."""
    import matplotlib
    matplotlib.use("Agg")
    from thermoscape.studies.taxonomy import plots
    table = ablation_synthetic(0.0, 1.0).assign(phase="IV-B")
    fig = plots.ablations_figure(table)
    fig.canvas.draw()
    panels = [ax for ax in fig.axes if ax.get_visible()
              and any(str(c.get_gid()).startswith("taxonomy:") for c in ax.collections)]
    rows = {}
    for ax in panels:
        rows.setdefault(round(ax.get_position().y0, 3), []).append(ax.get_position())
    rows = [sorted(r, key=lambda p: p.x0) for _, r in sorted(rows.items(), reverse=True)]
    assert [len(r) for r in rows] == [3, 3, 2]  # reference + 2, 2, 1 settings
    for column in range(2):
        assert np.ptp([r[column].x0 for r in rows]) < 1e-3 and np.ptp([r[column].x1 for r in rows]) < 1e-3
    last = rows[2][-1]
    every = fig.axes + [child for ax in fig.axes for child in ax.child_axes]  # the short row's bar is an inset
    bars = [ax.get_position() for ax in every if ax.get_visible() and hasattr(ax, "_colorbar")]
    short_bar = [b for b in bars if abs(b.y0 - last.y0) < 0.05]
    assert len(bars) == 3 and len(short_bar) == 1
    assert last.x1 < short_bar[0].x0 < rows[0][2].x1  # in the free slot beside the row's last panel
