"""Yang et al. phase-diagram figures (thermoscape.studies.taxonomy.plots) on synthetic tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from thermoscape.plotting import save_figure
from thermoscape.studies.taxonomy import plots as tx

pytestmark = pytest.mark.usefixtures("close_figures")

WIDTHS = (4, 16, 64, 256)
BATCHES = (16, 64, 256)
LRS = (0.0125, 0.05, 0.2)
PHASES = {4: "I", 16: "III", 64: "IV-A", 256: "IV-B"}


def make_cells(temperature_axis: str = "batch_size", temperatures=BATCHES, load_axis: str = "width",
               loads=WIDTHS, experiment: str = "E1", panel: float = np.nan) -> pd.DataFrame:
    """4 x 3 grid; mc negative at small load, positive at the hottest row of large loads."""
    rows = []
    for i, load in enumerate(loads):
        for j, T in enumerate(temperatures):
            row = {"experiment": experiment, "width": 64, "batch_size": 128, "lr": 0.05, "weight_decay": 5e-4,
                   "subset": 1.0, "label_noise": 0.0, "panel": panel,
                   "test_accuracy": 80.0 + 3 * i - j, "train_loss": 1.0 / (1 + i), "train_accuracy": 88.0 + 4 * i,
                   "hessian_top": 50.0 / (1 + i), "hessian_trace": 500.0 / (1 + i),
                   "mc": -12.0 + 4 * i + (3.0 if j == 0 else 0.0), "cka": 0.3 + 0.1 * i, "l2": 10.0 + i,
                   "diverged": False, "phase": PHASES.get(load if load_axis == "width" else WIDTHS[i], "")}
            row[load_axis] = load
            row[temperature_axis] = T
            row["load"], row["temperature"] = float(load), float(T)
            rows.append(row)
    return pd.DataFrame(rows)


def make_curves(cells: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, cell in cells.iterrows():
        for t in (0.0, 0.25, 0.5, 0.75, 1.0):
            barrier = -cell["mc"] * (1 - abs(2 * t - 1)) if cell["mc"] < 0 else 0.0
            rows.append({"experiment": cell["experiment"], "load": cell["load"], "temperature": cell["temperature"],
                         "panel": cell["panel"], "t": t, "train_error": 100 - cell["train_accuracy"] + barrier,
                         "test_error": 100 - cell["test_accuracy"] + barrier})
    return pd.DataFrame(rows)


def meshes(fig: Figure, metric: str | None = None) -> list:
    """(axes, mesh) of the phase-diagram panels (colorbar meshes excluded via the gid)."""
    found = [(ax, c) for ax in fig.axes for c in ax.collections if str(c.get_gid()).startswith("taxonomy:")]
    return [(ax, c) for ax, c in found if metric is None or c.get_gid() == f"taxonomy:{metric}"]


def test_phase_diagram_panels_and_axes():
    cells = make_cells()
    fig = tx.phase_diagram(cells, title="synthetic")
    assert isinstance(fig, Figure)
    assert sorted(c.get_gid() for _, c in meshes(fig)) == sorted(f"taxonomy:{m}" for m in tx.IMAGE_METRICS)
    assert fig.get_suptitle() == "synthetic"
    for ax, mesh in meshes(fig):
        assert ax.yaxis_inverted() and not ax.xaxis_inverted()  # batch size: small (hot) at the top
        assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
        assert ax.get_xlabel() == "Width of model" and ax.get_ylabel() == "Batch size"
        assert ax.get_title() == tx.METRICS[mesh.get_gid().split(":")[1]]["title"]
        assert mesh.get_array().shape == (len(BATCHES), len(WIDTHS))
    colorbar_labels = {ax.get_ylabel() for ax in fig.axes if hasattr(ax, "_colorbar")}
    assert {tx.METRICS[m]["label"] for m in tx.IMAGE_METRICS} <= colorbar_labels


def test_save_figure_writes_pdf_and_png(tmp_path):
    fig = tx.phase_diagram(make_cells(), metrics=("test_accuracy", "mc"))  # small: saving is the slow part
    pdf, png = tmp_path / "phase.pdf", tmp_path / "phase.png"
    save_figure(fig, pdf, png)
    assert pdf.stat().st_size > 0 and png.stat().st_size > 0


def test_cell_edges_geometric_midpoints_and_single_value():
    edges = tx._edges(np.array([4.0, 16.0, 64.0]), log=True)
    np.testing.assert_allclose(edges, [2.0, 8.0, 32.0, 128.0])
    np.testing.assert_allclose(tx._edges(np.array([0.1, 0.2, 0.4]), log=False), [0.05, 0.15, 0.3, 0.5])
    np.testing.assert_allclose(tx._edges(np.array([32.0]), log=True), [32 / math.sqrt(2), 32 * math.sqrt(2)])
    fig = tx.phase_diagram(make_cells(loads=(64,), temperatures=(128,)), metrics=("test_accuracy", "mc"))
    ax, _ = meshes(fig, "test_accuracy")[0]
    np.testing.assert_allclose(ax.get_xlim(), [64 / math.sqrt(2), 64 * math.sqrt(2)])
    np.testing.assert_allclose(sorted(ax.get_ylim()), [128 / math.sqrt(2), 128 * math.sqrt(2)])


def test_lr_axis_not_inverted_and_linear_load_axes():
    fig = tx.phase_diagram(make_cells("lr", LRS), temperature_axis="lr", metrics=("test_accuracy", "cka"))
    assert len(meshes(fig)) == 2
    for ax, _ in meshes(fig):
        assert not ax.yaxis_inverted() and ax.get_yscale() == "log" and ax.get_ylabel() == "Learning rate"
    for load_axis, loads in (("subset", (0.1, 0.4, 0.7, 1.0)), ("label_noise", (0.0, 0.1, 0.2, 0.4))):
        fig = tx.phase_diagram(make_cells(load_axis=load_axis, loads=loads), load_axis=load_axis,
                               metrics=("mc",))
        ax, _ = meshes(fig)[0]
        assert ax.get_xscale() == "linear" and ax.yaxis_inverted()


def test_mc_colour_limits_symmetric_and_clipped():
    cells = make_cells()
    (_, mesh), = meshes(tx.phase_diagram(cells, metrics=("mc",)))
    lo, hi = mesh.get_clim()
    assert lo == -hi == -12.0  # max |mc| of the synthetic grid
    cells["mc"] = np.where(cells["mc"] < 0, -80.0, 0.2)
    (_, mesh), = meshes(tx.phase_diagram(cells, metrics=("mc",)))
    assert mesh.get_clim() == (-30.0, 30.0)
    cells["mc"] = 0.1
    (_, mesh), = meshes(tx.phase_diagram(cells, metrics=("mc",)))
    assert mesh.get_clim() == (-1.0, 1.0)
    assert tx.METRICS["mc"]["cmap"] == "seismic"


def test_nan_missing_cells_log_metrics_and_diverged():
    cells = make_cells().iloc[1:].copy()  # one grid cell absent altogether
    cells.loc[cells.index[0], ["test_accuracy", "mc", "hessian_trace"]] = np.nan
    cells.loc[cells.index[1], "hessian_top"] = -3.0  # non-positive: no log, drawn blank
    cells["cka"] = np.nan  # an all-NaN metric
    cells.loc[cells.index[2], "diverged"] = True
    cells.loc[cells.index[3], "phase"] = None
    fig = tx.phase_diagram(cells)
    fig.canvas.draw()
    assert np.ma.count_masked(meshes(fig, "test_accuracy")[0][1].get_array()) == 2
    assert np.ma.count_masked(meshes(fig, "hessian_top")[0][1].get_array()) == 2  # absent + negative
    assert np.ma.count_masked(meshes(fig, "cka")[0][1].get_array()) == len(WIDTHS) * len(BATCHES)
    values = meshes(fig, "hessian_trace")[0][1].get_array().compressed()
    np.testing.assert_allclose(sorted(set(np.round(values, 9))), sorted(set(np.round(np.log(500 / np.arange(1, 5)), 9))))
    for ax, _ in meshes(fig):
        assert sum(isinstance(p, Rectangle) and bool(p.get_hatch()) for p in ax.patches) == 1


def test_phase_labels_and_best_star_on_accuracy_panel():
    cells = make_cells()
    fig = tx.phase_diagram(cells, metrics=("test_accuracy", "mc"))
    ax, _ = meshes(fig, "test_accuracy")[0]
    labels = [t.get_text() for t in ax.texts]
    assert sorted(labels) == sorted(cells["phase"])
    stars = [line for line in ax.get_lines() if line.get_marker() == "*"]
    assert len(stars) == 1
    best = cells.loc[cells["test_accuracy"].idxmax()]
    assert stars[0].get_xdata()[0] == best["width"] and stars[0].get_ydata()[0] == best["batch_size"]
    ax_mc, _ = meshes(fig, "mc")[0]
    assert not ax_mc.texts and not ax_mc.get_lines()


def test_duplicate_cells_rejected():
    with pytest.raises(ValueError, match="several rows"):
        tx.phase_diagram(pd.concat([make_cells(), make_cells()]), metrics=("mc",))


def test_curve_grid_rows_hottest_on_top():
    cells = make_cells()
    fig = tx.curve_grid(make_curves(cells), cells)
    axes = np.array(fig.axes).reshape(len(BATCHES), len(WIDTHS))
    assert [ax.get_ylabel() for ax in axes[:, 0]] == [f"B = {b}" for b in BATCHES]  # smallest batch on top
    assert [ax.get_title() for ax in axes[0]] == [f"w = {w}" for w in WIDTHS]
    assert all(ax.get_ylabel() == "" for ax in axes[:, 1:].ravel())
    assert len({ax.get_ylim() for ax in axes.ravel()}) == 1
    assert all(len(ax.get_lines()) == 2 and ax.get_lines()[1].get_linestyle() == "--" for ax in axes.ravel())
    assert axes[0, 0].texts[0].get_text() == "mc -9.0"
    cells_lr = make_cells("lr", LRS)
    fig = tx.curve_grid(make_curves(cells_lr), cells_lr, temperature_axis="lr")
    assert [ax.get_ylabel() for ax in np.array(fig.axes).reshape(3, 4)[:, 0]] == ["lr = 0.2", "lr = 0.05", "lr = 0.0125"]


def test_temperature_axes_figure():
    fig = tx.temperature_axes_figure({"lr": make_cells("lr", LRS, experiment="E12"),
                                      "weight_decay": make_cells("weight_decay", (5e-5, 5e-4, 5e-3), experiment="E4")})
    assert isinstance(fig, Figure)
    found = meshes(fig)
    assert [c.get_gid().split(":")[1] for _, c in found] == ["test_accuracy", "hessian_trace", "mc", "cka"] * 2
    assert {ax.get_ylabel() for ax, _ in found} == {"Learning rate", "Weight decay"}
    assert all(not ax.yaxis_inverted() and ax.get_xlabel() == "Width of model" for ax, _ in found)
    assert fig.get_suptitle()


def test_data_amount_figure_shares_colour_range_per_row():
    cells = pd.concat([make_cells(load_axis="subset", loads=(0.1, 0.3, 0.6, 1.0), panel=w)
                       .assign(width=w, mc=lambda d, w=w: d["mc"] + w / 8) for w in (8, 32)], ignore_index=True)
    fig = tx.data_amount_figure(cells)
    found = meshes(fig)
    assert len(found) == 4 * 2
    for metric in ("test_accuracy", "hessian_trace", "mc", "cka"):
        row = meshes(fig, metric)
        assert len(row) == 2 and len({c.get_clim() for _, c in row}) == 1
    for ax, _ in found:
        assert ax.get_xscale() == "linear" and ax.yaxis_inverted()
    assert [ax.get_title() for ax, _ in meshes(fig, "test_accuracy")] == ["w = 8", "w = 32"]
    colorbar_labels = {ax.get_ylabel() for ax in fig.axes if hasattr(ax, "_colorbar")}
    assert colorbar_labels == {tx.METRICS[m]["label"] for m in ("test_accuracy", "hessian_trace", "mc", "cka")}


def test_noise_figure_line_panel_marks_interpolation_threshold():
    cells = make_cells(experiment="E3")
    fig = tx.noise_figure(cells)
    assert len(meshes(fig)) == len(tx.IMAGE_METRICS)
    line_ax = next(ax for ax in fig.axes if ax.get_title().startswith("Test accuracy vs width"))
    assert line_ax.get_xscale() == "log" and line_ax.get_legend() is not None
    open_circles = [line for line in line_ax.get_lines() if line.get_marker() == "o"
                    and line.get_markerfacecolor() == "none" and len(line.get_xdata())]
    # train_accuracy = 88 + 4 i reaches 99 first at the last width, for every batch size
    assert len(open_circles) == len(BATCHES)
    assert {line.get_xdata()[0] for line in open_circles} == {WIDTHS[3]}


def test_default_diagram_has_the_seven_image_panels_only():
    """The translation metrics (BLEU, mc on the loss) joined METRICS and once left four empty grey panels on every
    image-classification diagram (e.g. fig16_vgg_diagram.png)."""
    fig = tx.phase_diagram(make_cells())
    assert [ax.get_title() for ax, _ in meshes(fig)] == [tx.METRICS[m]["title"] for m in tx.IMAGE_METRICS]
    assert len(tx.IMAGE_METRICS) == 7 and "test_bleu" not in tx.IMAGE_METRICS
