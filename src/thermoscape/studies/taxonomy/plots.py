"""Yang et al. (NeurIPS 2021) phase-diagram figures (Figs. 2-5, 7, 12, 17, 20 analogues) from the tables.

Inputs are the aggregated tables only (nothing is recomputed here):

- ``cells``: one row per grid cell (means over replicas), with the control columns (``width``, ``batch_size``,
  ``lr``, ``weight_decay``, ``subset``, ``label_noise``, the generic ``load`` / ``temperature`` / ``panel``),
  the metric columns of :data:`METRICS`, ``train_accuracy``, ``diverged`` and ``phase``;
- ``curves``: training / test error (%) along the Bezier curve, one row per (cell, t).

Conventions (brief section 1): x = load increasing to the right, y = temperature increasing to the top, so a
batch-size axis is inverted (small batch at the top); ``pcolormesh`` on log axes with cell edges at the
geometric midpoints between grid values; the colour maps of the authors' notebook. Colour ranges come from
the data (the paper's CIFAR ranges do not fit digits), except mode connectivity, which is symmetric about 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import QuadMesh
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle
from matplotlib.ticker import FixedLocator, FormatStrFormatter
from matplotlib.transforms import offset_copy

from thermoscape.plotting import plain_log_ticks

METRICS: dict[str, dict] = {
    # title: panel title; label: colorbar label; log: plot the natural log of the value;
    # paper_range: the authors' fixed CIFAR colour range (reference only); symmetric: limits +-max|v|
    "test_accuracy": {"title": "Test accuracy (%)", "label": "test accuracy (%)", "cmap": "viridis",
                      "log": False, "paper_range": (56.0, 91.0)},
    "train_loss": {"title": "Training loss", "label": "training loss (cross-entropy)", "cmap": "viridis_r",
                   "log": False, "paper_range": (0.0, 3.0)},
    "hessian_top": {"title": "Log Hessian eigenvalue", "label": r"$\ln \lambda_{\max}$", "cmap": "viridis_r",
                    "log": True, "paper_range": (0.0, 6.0)},
    "hessian_trace": {"title": "Log Hessian trace", "label": r"$\ln \mathrm{tr}\, H$", "cmap": "viridis_r",
                      "log": True, "paper_range": (3.0, 8.0)},
    "mc": {"title": "Mode connectivity (pp)", "label": "mc (percentage points)", "cmap": "seismic",
           "log": False, "paper_range": (-30.0, 30.0), "symmetric": True},
    "cka": {"title": "CKA similarity", "label": "CKA (softmax outputs)", "cmap": "viridis",
            "log": False, "paper_range": (0.3, 0.8)},
    "l2": {"title": "Model distance (L2)", "label": r"$\Vert\theta - \theta'\Vert_2$", "cmap": "viridis_r",
           "log": False, "paper_range": (0.0, 100.0)},
}
# the seven panels of an image-classification diagram (Fig. 2); the translation metrics below are not among them
IMAGE_METRICS = tuple(METRICS)
# machine translation (Figs. 18-19): BLEU of greedy translations and mc on the training loss
METRICS |= {
    "test_bleu": {"title": "Test BLEU (final model)", "label": "test BLEU", "cmap": "viridis", "log": False,
                  "paper_range": (0.0, 40.0)},
    "final_bleu": {"title": "Test BLEU", "label": "test BLEU", "cmap": "viridis", "log": False,
                   "paper_range": (0.0, 40.0)},
    "best_bleu": {"title": "Test BLEU", "label": "test BLEU", "cmap": "viridis", "log": False,
                  "paper_range": (0.0, 40.0)},
    "mc_loss": {"title": "Mode connectivity (loss)", "label": "mc (training loss, nats/token)", "cmap": "seismic",
                "log": False, "paper_range": (-3.0, 3.0), "symmetric": True},
}
MC_LIMITS = (1.0, 30.0)  # the symmetric mc colour limit max|mc| is clipped to this range (paper: +-30)

AXIS_LABELS = {
    "width": "Width of model",
    "batch_size": "Batch size",
    "lr": "Learning rate",
    "weight_decay": "Weight decay",
    "subset": "Fraction of training data",
    "label_noise": "Fraction of randomized labels",
    "pixel_noise": "Pixel noise u (0-255 scale)",
}
AXIS_SYMBOLS = {"width": "w", "batch_size": "B", "lr": "lr", "weight_decay": "wd", "subset": "fraction",
                "label_noise": "noise", "pixel_noise": "u"}
LINEAR_AXES = ("subset", "label_noise", "pixel_noise")
INVERTED_AXES = ("batch_size",)  # inverse temperatures: small values go at the top
MISSING_COLOR = "0.85"  # NaN / absent cells
DIVERGED_HATCH = "xxxx"
MAX_TICKS = 6
STAR_COLOR = "#ff2a2a"  # the best-accuracy star (red reads on every viridis shade)
LINE_CMAP_RANGE = (0.0, 0.85)  # viridis without its pale yellow end, for lines on white


# --------------------------------------------------------------------------------------------------
# grid helpers


def _is_log(axis: str, values: np.ndarray) -> bool:
    """Log scale for every axis except the linear ones, and only when all values are positive."""
    return axis not in LINEAR_AXES and bool(np.all(values > 0))


def _edges(values: np.ndarray, log: bool) -> np.ndarray:
    """Cell edges: (geometric, for log) midpoints between sorted grid values, half a step beyond the ends;
    a single value gets edges x/÷ sqrt(2) (log) or +-half its size (linear)."""
    v = np.log(values) if log else np.asarray(values, dtype=float)
    if len(v) == 1:
        half = math.log(math.sqrt(2.0)) if log else (0.25 * abs(v[0]) or 0.5)
        edges = np.array([v[0] - half, v[0] + half])
    else:
        mid = (v[1:] + v[:-1]) / 2
        edges = np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])
    return np.exp(edges) if log else edges


def _grid(cells: pd.DataFrame, column: str, load_axis: str, temperature_axis: str):
    """(x values, y values, Z[temperature, load]) of one column; absent cells are NaN."""
    for axis in (load_axis, temperature_axis):
        if axis not in cells:
            raise KeyError(f"cells has no column {axis!r} for an axis")
    cells = cells.dropna(subset=[load_axis, temperature_axis])
    if cells.duplicated([load_axis, temperature_axis]).any():
        raise ValueError(f"cells has several rows per ({load_axis}, {temperature_axis}); "
                         "select one experiment / panel first")
    x = np.unique(cells[load_axis].to_numpy(dtype=float))
    y = np.unique(cells[temperature_axis].to_numpy(dtype=float))
    ix = np.searchsorted(x, cells[load_axis].to_numpy(dtype=float))
    iy = np.searchsorted(y, cells[temperature_axis].to_numpy(dtype=float))
    if column in cells:
        values = pd.to_numeric(cells[column], errors="coerce").to_numpy(dtype=float)
    else:
        values = np.full(len(cells), np.nan)
    z = np.full((len(y), len(x)), np.nan)
    z[iy, ix] = values
    return x, y, z, ix, iy


def _metric_values(values: np.ndarray, metric: str) -> np.ndarray:
    """What is coloured: the natural log for log metrics (non-positive values become NaN)."""
    values = np.asarray(values, dtype=float)
    if METRICS[metric]["log"]:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(values > 0, np.log(np.where(values > 0, values, 1.0)), np.nan)
    return values


def _color_limits(values: np.ndarray, metric: str) -> tuple[float, float]:
    """Colour range from the data; mc symmetric about 0 with limit max|mc| clipped to MC_LIMITS."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if METRICS[metric].get("symmetric"):
        lim = float(np.clip(np.abs(finite).max() if finite.size else MC_LIMITS[0], *MC_LIMITS))
        return -lim, lim
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        pad = 0.5 * abs(lo) or 0.5
        lo, hi = lo - pad, hi + pad
    return lo, hi


def _set_ticks(ax: plt.Axes, name: str, values: np.ndarray, log: bool) -> None:
    """Major ticks at (at most MAX_TICKS of) the grid values on log axes, minor labels off."""
    if not log:
        return
    axis = getattr(ax, f"{name}axis")
    step = max(1, math.ceil(len(values) / MAX_TICKS))
    axis.set_major_locator(FixedLocator(values[::step]))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    plain_log_ticks(ax, name)


def _best_cell(cells: pd.DataFrame) -> pd.Series | None:
    if "test_accuracy" not in cells:
        return None
    accuracy = pd.to_numeric(cells["test_accuracy"], errors="coerce")
    return None if accuracy.isna().all() else cells.loc[accuracy.idxmax()]


def _diverged(cells: pd.DataFrame) -> pd.Series:
    return cells["diverged"].eq(True) if "diverged" in cells else pd.Series(False, index=cells.index)


# --------------------------------------------------------------------------------------------------
# the shared panel


def _draw_panel(ax: plt.Axes, cells: pd.DataFrame, metric: str, load_axis: str, temperature_axis: str, *,
                vlim: tuple[float, float] | None = None, colorbar: bool = True) -> QuadMesh:
    """One phase-diagram panel of ``metric``: pcolormesh over (load, temperature), NaN cells grey,
    diverged cells hatched; on test accuracy also the phase labels and a star on the best cell.
    ``vlim`` overrides the colour range (to share it between panels); returns the mesh (gid
    ``"taxonomy:<metric>"``)."""
    spec = METRICS[metric]
    cells = cells.dropna(subset=[load_axis, temperature_axis]).reset_index(drop=True)
    x, y, z, ix, iy = _grid(cells, metric, load_axis, temperature_axis)
    z = _metric_values(z, metric)
    x_log, y_log = _is_log(load_axis, x), _is_log(temperature_axis, y)
    xe, ye = _edges(x, x_log), _edges(y, y_log)
    vmin, vmax = vlim if vlim is not None else _color_limits(z, metric)
    mesh = ax.pcolormesh(xe, ye, np.ma.masked_invalid(z), cmap=spec["cmap"], vmin=vmin, vmax=vmax,
                         shading="flat")
    mesh.set_gid(f"taxonomy:{metric}")
    ax.set_facecolor(MISSING_COLOR)
    ax.set_xscale("log" if x_log else "linear")
    ax.set_yscale("log" if y_log else "linear")
    ax.set_xlim(xe[0], xe[-1])
    ax.set_ylim((ye[-1], ye[0]) if temperature_axis in INVERTED_AXES else (ye[0], ye[-1]))
    _set_ticks(ax, "x", x, x_log)
    _set_ticks(ax, "y", y, y_log)
    ax.tick_params(labelsize=8)
    ax.set_xlabel(AXIS_LABELS.get(load_axis, load_axis))
    ax.set_ylabel(AXIS_LABELS.get(temperature_axis, temperature_axis))
    ax.set_title(spec["title"], fontsize=10)

    diverged = _diverged(cells).to_numpy()
    for i, j in zip(ix[diverged], iy[diverged]):
        ax.add_patch(Rectangle((xe[i], ye[j]), xe[i + 1] - xe[i], ye[j + 1] - ye[j], fill=False,
                               hatch=DIVERGED_HATCH, edgecolor="0.25", linewidth=0, zorder=2))

    if metric == "test_accuracy":
        _annotate_phases(ax, cells, mesh, x, y, z, ix, iy)
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label=spec["label"], pad=0.02)
    return mesh


def _annotate_phases(ax: plt.Axes, cells: pd.DataFrame, mesh: QuadMesh, x, y, z, ix, iy) -> None:
    """Phase label (small text, black or white for contrast) in each cell and a star on the best cell."""
    fontsize = 9 if max(len(x), len(y)) <= 6 else (7 if max(len(x), len(y)) <= 10 else 5)
    phases = cells["phase"] if "phase" in cells else pd.Series("", index=cells.index)
    best = _best_cell(cells)
    best_index = None if best is None else best.name
    below = offset_copy(ax.transData, fig=ax.figure, y=-3.0, units="points")
    above = offset_copy(ax.transData, fig=ax.figure, y=3.5, units="points")
    for k, (index, phase) in enumerate(phases.items()):
        if not _has_label(phase):
            continue
        value = z[iy[k], ix[k]]
        if np.isfinite(value):
            r, g, b, _ = mesh.cmap(mesh.norm(value))
            color = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
        else:
            color = "black"
        ax.text(x[ix[k]], y[iy[k]], phase, ha="center", va="center", fontsize=fontsize, color=color,
                transform=below if index == best_index else ax.transData, zorder=3)
    if best is not None:
        k = cells.index.get_loc(best_index)
        ax.plot(x[ix[k]], y[iy[k]], marker="*", ms=9, color=STAR_COLOR, mec="black", mew=0.6, ls="none",
                transform=above if _has_label(phases.get(best_index)) else ax.transData, zorder=4)


def _has_label(phase) -> bool:
    return isinstance(phase, str) and bool(phase)


def _add_key(fig: plt.Figure, cells: pd.DataFrame, metrics: Sequence[str]) -> None:
    """Figure-level key for the marks drawn on the panels."""
    handles = []
    if "test_accuracy" in metrics:
        handles.append(Line2D([], [], marker="*", ms=9, color=STAR_COLOR, mec="black", ls="none",
                              label="best test accuracy"))
        handles.append(Line2D([], [], marker=r"$\mathrm{IV}$", ms=11, color="black", ls="none",
                              label="phase label (I, II, III, IV-A, IV-B; rule-based)"))
    if _diverged(cells).any():
        handles.append(Patch(facecolor="none", edgecolor="0.25", hatch=DIVERGED_HATCH,
                             label="a replica diverged"))
    handles.append(Patch(facecolor=MISSING_COLOR, edgecolor="0.5", label="no value"))
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), fontsize=8, frameon=False)


def _panel_grid(n: int, ncols: int = 4, panel_size=(3.9, 3.1)):
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel_size[0] * ncols, panel_size[1] * nrows + 0.8),
                             layout="constrained", squeeze=False)
    axes = axes.ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, axes[:n]


def _experiment_name(cells: pd.DataFrame) -> str:
    names = cells["experiment"].dropna().unique() if "experiment" in cells else []
    return ", ".join(map(str, names))


def _phase_panels(axes, cells, metrics, load_axis, temperature_axis) -> None:
    for ax, metric in zip(axes, metrics):
        _draw_panel(ax, cells, metric, load_axis, temperature_axis)


# --------------------------------------------------------------------------------------------------
# figures


def phase_diagram(cells: pd.DataFrame, load_axis: str = "width", temperature_axis: str = "batch_size",
                  metrics: Sequence[str] = IMAGE_METRICS, title: str = "") -> plt.Figure:
    """Figs. 2-4 / 14-17 / 20-23 analogue: one phase-diagram panel per metric (x = load, y = temperature)."""
    fig, axes = _panel_grid(len(metrics))
    _phase_panels(axes, cells, metrics, load_axis, temperature_axis)
    _add_key(fig, cells, metrics)
    name = _experiment_name(cells)
    fig.suptitle(title or f"Phase diagrams{f' ({name})' if name else ''}: "
                 f"{AXIS_LABELS.get(load_axis, load_axis).lower()} x "
                 f"{AXIS_LABELS.get(temperature_axis, temperature_axis).lower()}, means over replicas")
    return fig


def noise_figure(cells: pd.DataFrame, metrics: Sequence[str] = IMAGE_METRICS, load_axis: str = "width",
                 temperature_axis: str = "batch_size", title: str = "") -> plt.Figure:
    """Fig. 4 analogue (10 % noisy labels): the phase-diagram panels plus test accuracy versus load, one
    line per temperature, with an open circle at the first load where training accuracy >= 99 %
    (the interpolation threshold), to show the double-descent dip."""
    fig, axes = _panel_grid(len(metrics) + 1)
    _phase_panels(axes, cells, metrics, load_axis, temperature_axis)
    _double_descent_panel(axes[-1], cells, load_axis, temperature_axis)
    _add_key(fig, cells, metrics)
    name = _experiment_name(cells)
    fig.suptitle(title or f"Noisy labels{f' ({name})' if name else ''}: phase diagrams and width-wise "
                 "double descent")
    return fig


def _double_descent_panel(ax: plt.Axes, cells: pd.DataFrame, load_axis: str, temperature_axis: str) -> None:
    cells = cells.dropna(subset=[load_axis, temperature_axis])
    temperatures = np.unique(cells[temperature_axis].to_numpy(dtype=float))
    cmap = plt.get_cmap("viridis")
    lo, hi = LINE_CMAP_RANGE
    colors = {T: cmap(lo + (hi - lo) * i / max(1, len(temperatures) - 1)) for i, T in enumerate(temperatures)}
    symbol = AXIS_SYMBOLS.get(temperature_axis, temperature_axis)
    for T in temperatures:
        line = cells[cells[temperature_axis] == T].sort_values(load_axis)
        load = line[load_axis].to_numpy(dtype=float)
        accuracy = pd.to_numeric(line.get("test_accuracy"), errors="coerce").to_numpy(dtype=float)
        ax.plot(load, accuracy, "o-", ms=2.5, lw=1.2, color=colors[T], label=f"{symbol} = {T:g}")
        if "train_accuracy" in line:
            fitted = np.flatnonzero(pd.to_numeric(line["train_accuracy"], errors="coerce").to_numpy() >= 99)
            if fitted.size:
                k = fitted[0]
                ax.plot(load[k], accuracy[k], "o", ms=9, mfc="none", mec=colors[T], mew=1.5)
    ax.plot([], [], "o", ms=8, mfc="none", mec="black", mew=1.5, label="train acc. $\\geq$ 99 % first")
    if _is_log(load_axis, cells[load_axis].to_numpy(dtype=float)):
        ax.set_xscale("log")
        _set_ticks(ax, "x", np.unique(cells[load_axis].to_numpy(dtype=float)), True)
    ax.tick_params(labelsize=8)
    ax.set_xlabel(AXIS_LABELS.get(load_axis, load_axis))
    ax.set_ylabel("Test accuracy (%)")
    ax.set_title("Test accuracy vs width (double descent)", fontsize=10)
    ax.grid(alpha=0.3)
    # legend inside the axes, in headroom above the lines (a legend outside would widen this grid column)
    accuracy = pd.to_numeric(cells.get("test_accuracy"), errors="coerce")
    if accuracy.notna().any():
        lo, hi = float(accuracy.min()), float(accuracy.max())
        span = max(hi - lo, 1.0)
        ax.set_ylim(lo - 0.05 * span, hi + 0.45 * span)
        ax.set_yticks([t for t in ax.get_yticks() if lo - 0.05 * span <= t <= min(hi + 0.05 * span, 100.0)])
    ax.legend(fontsize=6.5, title=AXIS_LABELS.get(temperature_axis, temperature_axis), title_fontsize=7,
              loc="upper left", ncol=3 if len(temperatures) > 4 else 2, handlelength=1.2, columnspacing=0.8,
              framealpha=0.85)


def temperature_axes_figure(cells_by_axis: dict[str, pd.DataFrame],
                            metrics: Sequence[str] = ("test_accuracy", "hessian_trace", "mc", "cka"),
                            load_axis: str = "width", title: str = "") -> plt.Figure:
    """Figs. 5 and 20 analogue: one row per temperature axis (e.g. ``{"lr": ..., "weight_decay": ...}``),
    one panel per metric, load = width."""
    if not cells_by_axis:
        raise ValueError("no temperature axis given")
    n = len(metrics)
    fig, axes = plt.subplots(len(cells_by_axis), n, figsize=(3.9 * n, 3.1 * len(cells_by_axis) + 0.8),
                             layout="constrained", squeeze=False)
    for row, (axis, cells) in zip(axes, cells_by_axis.items()):
        _phase_panels(row, cells, metrics, load_axis, axis)
    _add_key(fig, pd.concat(cells_by_axis.values(), ignore_index=True), metrics)
    fig.suptitle(title or "Other temperature axes: "
                 + "; ".join(f"{AXIS_LABELS.get(a, a).lower()} (row {i + 1})" for i, a in enumerate(cells_by_axis))
                 + f"; load = {AXIS_LABELS.get(load_axis, load_axis).lower()}")
    return fig


def data_amount_figure(cells: pd.DataFrame, metrics: Sequence[str] = ("test_accuracy", "hessian_trace", "mc", "cka"),
                       load_axis: str = "subset", temperature_axis: str = "batch_size",
                       title: str = "") -> plt.Figure:
    """Fig. 7 analogue: x = fraction of training data, y = batch size; one column per width (``panel``;
    per experiment when several are given, e.g. clean and noisy), one row per metric with a colour range
    shared along the row."""
    cells = cells.dropna(subset=["panel"])
    keys = ["experiment", "panel"] if "experiment" in cells else ["panel"]
    groups = list(cells.groupby(keys, sort=True))
    if not groups:
        raise ValueError("cells has no rows with a panel (width) value")
    several = "experiment" in cells and cells["experiment"].nunique() > 1
    fig, axes = plt.subplots(len(metrics), len(groups), figsize=(2.9 * len(groups) + 1.2, 2.6 * len(metrics) + 0.8),
                             layout="constrained", squeeze=False, sharex=True, sharey=True)
    for r, metric in enumerate(metrics):
        vlim = _color_limits(_metric_values(pd.to_numeric(cells.get(metric, pd.Series(np.nan, index=cells.index)),
                                                          errors="coerce").to_numpy(), metric), metric)
        mesh = None
        for c, (key, group) in enumerate(groups):
            ax = axes[r, c]
            mesh = _draw_panel(ax, group, metric, load_axis, temperature_axis, vlim=vlim, colorbar=False)
            width = key[-1] if isinstance(key, tuple) else key
            ax.set_title(f"{key[0]}: " * several + f"w = {width:g}", fontsize=9)
            if c:
                ax.set_ylabel("")
            else:
                ax.set_ylabel(f"{METRICS[metric]['title']}\n{AXIS_LABELS.get(temperature_axis, temperature_axis)}",
                              fontsize=9)
            if r < len(metrics) - 1:
                ax.set_xlabel("")
                ax.tick_params(labelbottom=False)
            if r:
                ax.set_title("")
        fig.colorbar(mesh, ax=list(axes[r]), label=METRICS[metric]["label"], pad=0.01, aspect=15)
    _add_key(fig, cells, metrics)
    name = _experiment_name(cells)
    fig.suptitle(title or f"Amount of training data{f' ({name})' if name else ''}: "
                 f"one column per width of model, one row per metric")
    return fig


def curve_grid(curves: pd.DataFrame, cells: pd.DataFrame, temperature_axis: str = "batch_size",
               load_axis: str = "width", title: str = "") -> plt.Figure:
    """Fig. 12 analogue: one subplot per (temperature row, load column), hottest row at the top; training
    error (%) (solid) and test error (dashed) versus the Bezier parameter t, the cell's mc in the corner."""
    curves = curves.dropna(subset=["load", "temperature"])
    panels = curves["panel"].dropna().unique() if "panel" in curves else []
    if len(panels) > 1:
        raise ValueError("curves has several panels; select one first")
    loads = np.unique(curves["load"].to_numpy(dtype=float))
    temperatures = np.unique(curves["temperature"].to_numpy(dtype=float))
    if temperature_axis not in INVERTED_AXES:
        temperatures = temperatures[::-1]  # hottest (largest lr / wd) at the top
    mc = {}
    if "mc" in cells:
        for _, row in cells.dropna(subset=["load", "temperature"]).iterrows():
            if len(panels) and not np.isclose(row.get("panel", np.nan), panels[0]):
                continue
            mc[(float(row["load"]), float(row["temperature"]))] = row["mc"]
    nr, nc = len(temperatures), len(loads)
    fig, axes = plt.subplots(nr, nc, figsize=(1.35 * nc + 1.0, 1.0 * nr + 1.2), sharex=True, sharey=True,
                             layout="constrained", squeeze=False)
    top = np.nanmax(curves[["train_error", "test_error"]].to_numpy(dtype=float)) if len(curves) else 1.0
    top = max(1.0, top if np.isfinite(top) else 1.0) * 1.12
    load_symbol = AXIS_SYMBOLS.get(load_axis, load_axis)
    temp_symbol = AXIS_SYMBOLS.get(temperature_axis, temperature_axis)
    for r, T in enumerate(temperatures):
        for c, load in enumerate(loads):
            ax = axes[r, c]
            cell = curves[np.isclose(curves["load"], load) & np.isclose(curves["temperature"], T)].sort_values("t")
            if len(cell):
                ax.plot(cell["t"], cell["train_error"], "-o", ms=2, lw=1.2, color="C0")
                ax.plot(cell["t"], cell["test_error"], "--", lw=1.0, color="C1")
            else:
                ax.text(0.5, 0.5, "no curve", ha="center", va="center", fontsize=6, color="0.5",
                        transform=ax.transAxes)
            value = mc.get((float(load), float(T)), np.nan)
            if np.isfinite(value):
                color = "C3" if value > 1 else "C0" if value < -1 else "black"
                ax.text(0.96, 0.93, f"mc {round(value, 1) + 0.0:+.1f}", ha="right", va="top", fontsize=6, color=color,
                        transform=ax.transAxes)
            ax.set_ylim(0, top)
            ax.set_xlim(0, 1)
            ax.set_xticks([0, 0.5, 1])
            ax.tick_params(labelsize=6, length=2)
            if r == 0:
                ax.set_title(f"{load_symbol} = {load:g}", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"{temp_symbol} = {T:g}", fontsize=8)
    fig.supxlabel(f"Bezier curve parameter t (columns: {AXIS_LABELS.get(load_axis, load_axis).lower()})",
                  fontsize=9)
    hot = "smallest at top" if temperature_axis in INVERTED_AXES else "largest at top"
    fig.supylabel(f"Error (%) (rows: {AXIS_LABELS.get(temperature_axis, temperature_axis).lower()}, "
                  f"{hot} = hottest)", fontsize=9)
    name = _experiment_name(curves)
    fig.suptitle(title or f"Mode-connectivity curves{f' ({name})' if name else ''}: training error (solid) "
                 "and test error (dashed) along the Bezier curve; mc (pp) in the corner", fontsize=10)
    return fig


def lr_decay_figure(reference: pd.DataFrame, decayed: pd.DataFrame, connected_tolerance: float = 1.0,
                    title: str = "") -> plt.Figure:
    """Fig. 13 analogue: (left) the best test accuracy per width, max over the batch-size rows both diagrams
    share, with and without learning-rate decay; (right) their difference, with the poorly -> well
    connected boundary of the decay diagram (median over rows, ``experiment.connectivity_transition``)."""
    from thermoscape.studies.taxonomy.experiment import connectivity_transition, decay_gain

    gain = decay_gain(reference, decayed)
    shared = decayed[decayed["width"].isin(gain["width"])
                     & decayed["temperature"].isin(set(reference["temperature"]))]
    boundary = connectivity_transition(shared, connected_tolerance) if len(shared) else np.nan
    widths = gain["width"].to_numpy(dtype=float)
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.5, 3.8), layout="constrained")
    left.plot(widths, gain["best_reference"], "o-", color="C0", label="constant lr (Fig. 2 analogue)")
    left.plot(widths, gain["best_decay"], "s-", color="C3", label="lr decay (Fig. 3 analogue)")
    left.set_ylabel("Best test accuracy over batch sizes (%)")
    left.legend(fontsize=8)
    right.plot(widths, gain["gain"], "o-", color="k", label="decay minus constant")
    right.axhline(0.0, color="0.6", lw=0.8)
    if np.isfinite(boundary) and 0 <= boundary <= len(widths) - 1:
        low, high = int(np.floor(boundary)), int(np.ceil(boundary))
        x = widths[low] if low == high else math.sqrt(widths[low] * widths[high])
        right.axvline(x, color="C2", ls="--", label=f"connectivity boundary (mc $\\geq$ -{connected_tolerance:g})")
    right.set_ylabel("Improvement from lr decay (pp)")
    right.legend(fontsize=8)
    for ax in (left, right):
        if len(widths) and np.all(widths > 0):
            ax.set_xscale("log")
            _set_ticks(ax, "x", widths, True)
        ax.set_xlabel(AXIS_LABELS["width"])
        ax.grid(alpha=0.3)
    rows = gain["temperatures"].iloc[0] if len(gain) else ""
    fig.suptitle(title or f"Improvement from learning-rate decay (max over batch sizes {rows})", fontsize=10)
    return fig


def label_noise_figure(cells: pd.DataFrame, metrics: Sequence[str] = ("test_accuracy", "train_loss", "hessian_trace",
                                                                        "mc", "cka"),
                       load_axis: str = "label_noise", temperature_axis: str = "batch_size",
                       small_loss: float = 0.1, title: str = "") -> plt.Figure:
    """Fig. 8 analogue: the fraction of randomized labels as the load (x), batch size as the temperature
    (y), panels (a)-(d) as phase diagrams, and (e) the Hessian trace against batch size, one line per
    noise level (filled markers where the training loss is below ``small_loss``, "when training loss is
    small")."""
    fig, axes = _panel_grid(len(metrics) + 1)
    _phase_panels(axes, cells, metrics, load_axis, temperature_axis)
    ax = axes[len(metrics)]
    levels = np.unique(cells[load_axis].to_numpy(dtype=float))
    cmap = plt.get_cmap("viridis")
    lo, hi = LINE_CMAP_RANGE
    for i, level in enumerate(levels):
        line = cells[cells[load_axis] == level].sort_values(temperature_axis)
        color = cmap(lo + (hi - lo) * i / max(1, len(levels) - 1))
        x, trace = line[temperature_axis].to_numpy(dtype=float), line["hessian_trace"].to_numpy(dtype=float)
        ax.plot(x, trace, "-", color=color, lw=1.2, label=f"noise {level:g}")
        small = line["train_loss"].to_numpy(dtype=float) < small_loss
        ax.plot(x[small], trace[small], "o", color=color, ms=4)
        ax.plot(x[~small], trace[~small], "o", mfc="none", mec=color, ms=4)
    ax.plot([], [], "o", color="k", ms=4, label=f"training loss < {small_loss:g}")
    ax.plot([], [], "o", mfc="none", mec="k", ms=4, label=f"training loss >= {small_loss:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    _set_ticks(ax, "x", np.unique(cells[temperature_axis].to_numpy(dtype=float)), True)
    ax.set_xlabel(AXIS_LABELS.get(temperature_axis, temperature_axis))
    ax.set_ylabel("Hessian trace")
    ax.set_title("(e) Hessian trace vs batch size", fontsize=10)
    ax.grid(alpha=0.3)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high * (high / low) ** 0.6)  # headroom above the lines for the legend
    ax.legend(fontsize=6.5, loc="upper left", ncol=3, handlelength=1.2, columnspacing=0.8, framealpha=0.85)
    _add_key(fig, cells, metrics)
    width = cells["width"].iloc[0] if "width" in cells and cells["width"].nunique() == 1 else None
    fig.suptitle(title or "Fraction of randomized labels as the load" + (f" (width {width:g})" if width else ""))
    return fig


ABLATION_ROWS = {"cka_alpha": ("cka", "Fig. 9 (CKA, mixup alpha)"),
                 "cka_pixel_noise": ("cka", "Fig. 10 (CKA, pixel noise)"),
                 "curves": ("mc", "Fig. 11 (mc, curves)")}


def _ablation_colorbar(fig: plt.Figure, mesh: QuadMesh, row_axes, used: int, label: str) -> None:
    """One row's colour bar. A colour bar attached to some of a row's axes takes its width from their columns
    only, so constrained layout shifts those columns against the other rows (an empty gap column); hence a
    full row gets its bar on the whole row, and a shorter row draws it inside its first unused slot, beside
    its last panel, and hides the slots after it (no detached bar across blank panels)."""
    if used == len(row_axes):
        fig.colorbar(mesh, ax=list(row_axes), label=label, pad=0.01)
        return
    slot = row_axes[used]
    slot.axis("off")
    fig.colorbar(mesh, cax=slot.inset_axes((0.0, 0.0, 0.06, 1.0)), label=label)
    for ax in row_axes[used + 1:]:
        ax.set_visible(False)


def ablations_figure(table: pd.DataFrame, load_axis: str = "width", temperature_axis: str = "batch_size",
                     title: str = "") -> plt.Figure:
    """Figs. 9-11 analogue: one row per ablation (CKA with mixup alpha, CKA on pixel-noised inputs, mc of
    other curves), one phase-diagram panel per setting after the reference panel (the paper's setting),
    each row on one shared colour range; the panel title gives the setting and its Spearman correlation
    with the reference diagram over the cells."""
    from scipy.stats import spearmanr

    figures = [f for f in ABLATION_ROWS if f in set(table["figure"])]
    ncols = 1 + max(table[table["figure"] == f]["setting"].nunique() for f in figures)
    fig, axes = plt.subplots(len(figures), ncols, figsize=(3.3 * ncols, 2.9 * len(figures) + 0.6),
                             layout="constrained", squeeze=False)
    for row_axes, name in zip(axes, figures):
        metric, label = ABLATION_ROWS[name]
        part = table[table["figure"] == name]
        reference = part.drop_duplicates("cell").assign(**{metric: lambda p: p["reference"]})
        panels = [("reference", reference)] + [
            (setting, group.assign(**{metric: group["value"]})) for setting, group in part.groupby("setting", sort=False)]
        values = np.concatenate([p[metric].to_numpy(dtype=float) for _, p in panels])
        finite = values[np.isfinite(values)]
        if metric == "mc":
            bound = float(np.clip(np.abs(finite).max() if len(finite) else 1.0, *MC_LIMITS))
            vlim = (-bound, bound)
        else:
            vlim = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
        for k, (ax, (setting, cells)) in enumerate(zip(row_axes, panels)):
            mesh = _draw_panel(ax, cells, metric, load_axis, temperature_axis, vlim=vlim, colorbar=False)
            merged = cells.merge(reference[["cell", "reference"]], on="cell", suffixes=("", "_ref"))
            rho = spearmanr(merged[metric], merged["reference_ref"] if "reference_ref" in merged
                            else merged["reference"], nan_policy="omit").statistic if k else 1.0
            ax.set_title(f"{label}:\nreference" if k == 0 else f"{setting}\n(rho {rho:.2f})", fontsize=9)
            if k:
                ax.set_ylabel("")
        _ablation_colorbar(fig, mesh, row_axes, len(panels), METRICS[metric]["label"])
    fig.suptitle(title or "Metric ablations (rho: Spearman correlation with the reference diagram)")
    return fig


# --------------------------------------------------------------------------------------------------
# machine translation (App. D.4)

TRANSLATION_METRICS = ("test_accuracy", "test_bleu", "train_loss", "hessian_top", "hessian_trace", "mc_loss", "cka",
                       "l2")


def translation_diagram(cells: pd.DataFrame, load_axis: str = "width", temperature_axis: str = "batch_size",
                        title: str = "") -> plt.Figure:
    """Fig. 18 analogue: the phase-diagram panels of the Transformer cells -- test token accuracy (teacher
    forced, with the phase labels), test BLEU of greedy translations, training loss, Hessian, mc on the
    training loss (the paper's choice for MT), CKA and L2."""
    fig = phase_diagram(cells, load_axis, temperature_axis, TRANSLATION_METRICS,
                        title or "Machine translation (Fig. 18): Transformer embedding dimension x "
                        f"{AXIS_LABELS.get(temperature_axis, temperature_axis).lower()}, means over replicas")
    titles = {"Test accuracy (%)": "Test token accuracy (%, teacher forced)", "Training loss": "Training loss (per token)"}
    for ax in fig.axes:
        if ax.get_xlabel() == AXIS_LABELS["width"]:
            ax.set_xlabel("Embedding dimension")
        ax.set_title(titles.get(ax.get_title(), ax.get_title()), fontsize=10)
    return fig


def schedules_figure(tables: dict[str, pd.DataFrame], load_axis: str = "width",
                     temperature_axis: str = "batch_size", title: str = "") -> plt.Figure:
    """Fig. 19 analogue: test BLEU with one column per learning-rate schedule (constant, inverse square
    root) and two rows, the final models (first row) and optimal early stopping (second row: the best
    test BLEU during training), on one colour range; each panel titled with its mean over the cells."""
    names = list(tables)
    values = np.concatenate([t[c].to_numpy(dtype=float) for t in tables.values() for c in ("final_bleu", "best_bleu")])
    finite = values[np.isfinite(values)]
    vlim = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    fig, axes = plt.subplots(2, len(names), figsize=(3.9 * len(names), 6.6), layout="constrained", squeeze=False)
    rows = (("final_bleu", "end of training"), ("best_bleu", "optimal early stopping"))
    for i, (metric, when) in enumerate(rows):
        for j, name in enumerate(names):
            ax = axes[i, j]
            cells = tables[name]
            mesh = _draw_panel(ax, cells, metric, load_axis, temperature_axis, vlim=vlim, colorbar=False)
            ax.set_title(f"{name.replace('_', ' ')} lr, {when}\n(mean {np.nanmean(cells[metric]):.1f})", fontsize=9)
            if ax.get_xlabel() == AXIS_LABELS["width"]:
                ax.set_xlabel("Embedding dimension")
    fig.colorbar(mesh, ax=list(axes.ravel()), label="test BLEU (greedy decoding)", pad=0.01)
    fig.suptitle(title or "Machine translation (Fig. 19): learning-rate schedule and early stopping")
    return fig
