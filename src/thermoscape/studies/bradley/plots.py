"""Bradley, Gomez-Uribe & Vuyyuru ("Shift-Curvature, SGD, and Generalization") Figs. 1, 2 (3), 4, 5, 6 and the
Euler-Maruyama check of the steady state (Eq. 5).

Inputs are the aggregated tables of the ``bradley`` rules (results/bradley/tables/*.parquet; columns as in the
workflow's table spec); nothing measured is recomputed here except means and spreads over seeds, the zoom of
the synthetic objectives, the reflected points of Fig. 1 (differences of tabulated losses) and Spearman
rank correlations shown as trend summaries. Every figure function returns a
:class:`matplotlib.figure.Figure`; a required table that is empty or lacks a column raises a
:class:`ValueError` that names it.

Conventions: network losses are the mean cross-entropy in nats (without the L2 term), accuracies in percent,
the distance ``r`` along the line and the shift ``|s|`` in parameter-space units (Euclidean norm of the
flattened parameters), the 1-D curvatures in nats per squared parameter unit; the temperature ``T = lr/B`` is
dimensionless. The synthetic losses of Figs. 4 and 6 (``U = -sum_i w_i N(theta; m_i, s_i^2) + c theta^2``) and
their parameter ``theta`` have no units.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator

from thermoscape.plotting import plain_log_ticks, require_columns, spearman, temperature_colors, thin

LEGEND = {"fontsize": 7, "framealpha": 0.85}
TRAIN_COLOR, TEST_COLOR = "tab:blue", "tab:orange"
LOW_T_COLOR, HIGH_T_COLOR = "tab:blue", "tab:red"  # Fig. 1: blue low temperature, red high temperature
FLOOR = 1e-4  # Euler-Maruyama figure: densities below this fraction of the peak are off scale
SHORT_DECADES = 1.5  # log axes spanning fewer decades get 1-2-5 labels
T_LABEL = "SGD temperature T = lr/B (dimensionless)"
R_LABEL = "r: distance from θ_tr along s/|s| (parameter-space units)"
LOSS_LABEL = "cross-entropy (nats)"
SYNTH_LOSS = "synthetic loss (dimensionless)"
THETA_LABEL = "θ (parameter-space units)"

LANDSCAPE_COLUMNS = ("case", "theta", "u_train", "u_test")
STEADY_COLUMNS = ("case", "T", "theta", "rho")
BASIN_COLUMNS = ("case", "T", "basin", "location", "probability", "laplace")
EXPECTATION_COLUMNS = ("case", "T", "expected_train", "expected_test", "expected_test_eq8")
CHECK_COLUMNS = ("case", "T", "eta", "steps", "particles", "ks_statistic", "ks_pvalue")
HISTOGRAM_COLUMNS = ("case", "T", "theta", "simulated", "theory")
LINE_COLUMNS = ("T", "seed", "r", "train_loss", "test_loss", "train_accuracy", "test_accuracy")
FIGURE1_SUMMARY = ("T", "seed", "shift_norm", "train_minimum_loss", "test_minimum_loss", "c_train", "c_test")
FIGURE2_COLUMNS = ("T", "seed", "test_at_train", "prediction", "prediction_half", "train_minimum_loss",
                   "test_minimum_loss", "shift_curvature", "shift_norm", "c_train", "c_test", "hvp_test",
                   "finite")
SWEEP_COLUMNS = ("seed", "batch", "T", "final_train", "final_test", "finite")
SHUFFLE_COLUMNS = ("shuffle", "final_train", "final_test")
SAMPLE_COLUMNS = ("sample_size", "seed", "final_train", "final_test")

CASE_TITLES = {  # brief 2, captions of Figs. 4 and 6
    "fig4_left": "Fig. 4 left: minimum at −1 deeper, at +1 wider",
    "fig4_right": "Fig. 4 right: minimum at +1 deeper and wider",
    "fig6_left": "Fig. 6 left: one basin",
    "fig6_right": "Fig. 6 right: 0 deepest and narrowest, +1 widest",
}
CASE_EXPECTED = {  # brief 5, synthetic
    "fig4_left": "paper: E[U_test] has an interior minimum, E[U_train] rises",
    "fig4_right": "paper: E[U_train] and E[U_test] both rise",
    "fig6_left": "paper: E[U_train] and E[U_test] both rise",
    "fig6_right": "paper: E[U_test] falls, E[U_train] rises",
}


# --------------------------------------------------------------------------------------------------
# helpers


def _log_axis(ax: plt.Axes, axis: str = "x") -> None:
    """Log scale on ``axis`` (x or y) with decade labels only; an axis spanning fewer than SHORT_DECADES
    decades (call after plotting) gets labels at 1, 2 and 5 times the powers of ten."""
    getattr(ax, f"set_{axis}scale")("log")
    plain_log_ticks(ax, axis)
    low, high = getattr(ax, f"get_{axis}lim")()
    if low > 0 and np.log10(high / low) < SHORT_DECADES:
        scale = getattr(ax, f"{axis}axis")
        scale.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        scale.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))


def _rows(table: pd.DataFrame, column: str, value, name: str) -> pd.DataFrame:
    """The rows of ``table`` with ``column == value`` (floats: np.isclose), else a ValueError."""
    if pd.api.types.is_float_dtype(table[column]):
        rows = table[np.isclose(table[column].to_numpy(dtype=float), float(value), rtol=1e-9, atol=0.0)]
    else:
        rows = table[table[column].astype(str) == str(value)] if isinstance(value, str) else table[
            table[column] == value]
    if len(rows) == 0:
        raise ValueError(f"table {name!r} has no rows with {column} = {value!r}")
    return rows


def _mean_std(table: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Mean, standard deviation (ddof 1; 0 for a single value) and count of the finite ``y`` at each ``x``."""
    finite = table[np.isfinite(table[y].to_numpy(dtype=float))]
    stats = finite.groupby(x)[y].agg(["mean", "std", "count"]).reset_index().sort_values(x)
    stats["std"] = stats["std"].fillna(0.0)
    return stats


def _errorbar(ax: plt.Axes, stats: pd.DataFrame, x: str, label: str, **style):
    """Mean with a +- std band over seeds; returns the line handle."""
    (line,) = ax.plot(stats[x], stats["mean"], label=label, **style)
    ax.fill_between(stats[x], stats["mean"] - stats["std"], stats["mean"] + stats["std"], color=line.get_color(),
                    alpha=0.12, lw=0)
    return line


def _finite_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rows with ``finite`` True (all rows when there is no such column) and the number left out."""
    if "finite" not in table:
        return table, 0
    keep = table["finite"].fillna(False).astype(bool).to_numpy()
    return table[keep], int((~keep).sum())


def _not_run(ax: plt.Axes, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, fontsize=10, color="0.35")
    ax.set(xticks=[], yticks=[])


def zoom_range(theta, u, tail: float = 0.05, tolerance: float = 1e-3) -> tuple[float, float]:
    """The theta range where ``u`` differs from its confining quadratic ``a + c theta^2``, fitted by least
    squares on the outer ``tail`` fraction of the grid at each end: the span of the points whose residual
    exceeds ``tolerance`` times its largest magnitude, padded by 8% (the full grid when nothing stands out)."""
    theta, u = np.asarray(theta, dtype=float), np.asarray(u, dtype=float)
    order = np.argsort(theta)
    theta, u = theta[order], u[order]
    full = (float(theta[0]), float(theta[-1]))
    k = max(3, int(tail * theta.size))
    if theta.size < 4 * k:
        return full
    outer = np.r_[np.arange(k), np.arange(theta.size - k, theta.size)]
    design = np.stack([np.ones(2 * k), theta[outer] ** 2], axis=1)
    (a, c), *_ = np.linalg.lstsq(design, u[outer], rcond=None)
    residual = np.abs(u - (a + c * theta**2))
    if not np.isfinite(residual).all() or residual.max() <= 0:
        return full
    big = theta[residual > tolerance * residual.max()]
    pad = 0.08 * (big.max() - big.min()) if big.size > 1 else 0.0
    if pad == 0.0:
        return full
    return max(full[0], float(big.min() - pad)), min(full[1], float(big.max() + pad))


# --------------------------------------------------------------------------------------------------
# Figs. 4 and 6: synthetic basins (E1)


def _figure_name(cases: Sequence[str]) -> str:
    numbers = sorted({c.split("_")[0] for c in cases})
    if len(numbers) == 1 and numbers[0].startswith("fig"):
        return f"Fig. {numbers[0][3:]}"
    return "Figs. 4/6 layout"


def _panel_objective(ax: plt.Axes, land: pd.DataFrame, basin_rows: pd.DataFrame, xlim) -> None:
    inside = land[(land["theta"] >= xlim[0]) & (land["theta"] <= xlim[1])]
    ax.plot(inside["theta"], inside["u_train"], color=TRAIN_COLOR, lw=1.5, label="$U^{tr}(θ)$")
    ax.plot(inside["theta"], inside["u_test"], color=TEST_COLOR, lw=1.2, ls="--", label="$U^{test}(θ) = U^{tr}(θ + s)$")
    for k, location in enumerate(_basin_locations(basin_rows).values()):
        ax.axvline(location, color="0.6", lw=0.6, ls=":", label="basin minima of $U^{tr}$" if k == 0 else None)
    ax.set(xlim=xlim, xlabel=THETA_LABEL, ylabel=f"U(θ), {SYNTH_LOSS}")
    ax.legend(loc="best", **LEGEND)


def _basin_locations(basin_rows: pd.DataFrame) -> dict[int, float]:
    return {int(b): float(rows["location"].median()) for b, rows in basin_rows.groupby("basin")}


def _panel_steady(ax: plt.Axes, steady: pd.DataFrame, xlim) -> None:
    colors = temperature_colors(steady["T"].unique())
    top = 0.0
    for T, rows in sorted(steady.groupby("T"), key=lambda item: item[0]):
        rows = rows.sort_values("theta")
        rows = thin(rows[(rows["theta"] >= xlim[0]) & (rows["theta"] <= xlim[1])], 3000)
        rho = rows["rho"].to_numpy(dtype=float)
        ax.plot(rows["theta"], np.where(rho > 0, rho, np.nan), color=colors[T], lw=1.3, label=f"T = {T:.3g}")
        top = max(top, float(np.nanmax(rho)) if rho.size else 0.0)
    ax.set_yscale("log")
    if top > 0:
        ax.set_ylim(top * 1e-6, top * 3)
    ax.set(xlim=xlim, xlabel=THETA_LABEL, ylabel=r"$\rho_T(\theta) \propto \exp(-2U^{tr}/T)$ (density, 1/θ unit)")
    ax.legend(loc="lower center", ncols=min(3, max(1, len(colors))), **LEGEND)


def _panel_probability(ax: plt.Axes, basin_rows: pd.DataFrame) -> None:
    cmap = plt.get_cmap("tab10")
    locations = _basin_locations(basin_rows)
    for k, (basin, rows) in enumerate(sorted(basin_rows.groupby("basin"), key=lambda item: item[0])):
        rows = rows.sort_values("T")
        color = cmap(k % 10)
        ax.plot(rows["T"], rows["probability"], color=color, lw=1.6,
                label=f"basin at θ ≈ {locations[int(basin)]:+.2f}: exact integral")
        ax.plot(rows["T"], rows["laplace"], color=color, lw=1.0, ls="--", marker="o", ms=3,
                markevery=max(1, len(rows) // 12), label="  Laplace, Eq. 6")
    ax.set(ylim=(-0.03, 1.03), xlabel="temperature T (dimensionless)", ylabel="probability of basin (dimensionless)")
    _log_axis(ax, "x")
    ax.legend(loc="best", **LEGEND)


def _panel_expectations(ax: plt.Axes, expect: pd.DataFrame) -> None:
    expect = expect.sort_values("T")
    T = expect["T"].to_numpy(dtype=float)
    train, test = expect["expected_train"].to_numpy(dtype=float), expect["expected_test"].to_numpy(dtype=float)
    eq8 = expect["expected_test_eq8"].to_numpy(dtype=float)
    ax.plot(T, train, color=TRAIN_COLOR, lw=1.6, label="$E_ρ[U^{tr}]$ (exact integral)")
    ax.plot(T, test, color=TEST_COLOR, lw=1.6, label="$E_ρ[U^{test}]$ (exact integral)")
    exact = np.r_[train, test]
    exact = exact[np.isfinite(exact)]
    low, high = (float(exact.min()), float(exact.max())) if exact.size else (0.0, 1.0)
    pad = 0.12 * (high - low) if high > low else 0.1 * max(abs(high), 1e-12)
    ylim = (low - pad, high + pad)
    clipped = bool(np.any((eq8 < ylim[0]) | (eq8 > ylim[1])))
    ax.plot(T, eq8, color=TEST_COLOR, lw=0.8, ls="--",
            label="Eq. 8 (quadratic)" + ("; partly off scale" if clipped else ""))
    if np.isfinite(test).any():
        best = int(np.nanargmin(test))
        edge = " (grid edge)" if best in (0, T.size - 1) else ""
        ax.axvline(T[best], color="0.3", lw=0.8, ls=":")
        ax.plot([T[best]], [test[best]], marker="*", ms=11, color=TEST_COLOR, mec="k", ls="none",
                label=f"min $E[U^{{test}}]$ at T = {T[best]:.3g}{edge}")
    ax.set(ylim=ylim, xlabel="temperature T (dimensionless)", ylabel=f"expected loss, {SYNTH_LOSS}")
    _log_axis(ax, "x")
    ax.legend(loc="best", **LEGEND)


def figure_basins(landscape: pd.DataFrame, steady_state: pd.DataFrame, basins: pd.DataFrame,
                  expectations: pd.DataFrame, cases: Sequence[str]) -> plt.Figure:
    """Bradley Fig. 4 (cases fig4_left, fig4_right) or Fig. 6 (fig6_left, fig6_right), E1: one column per
    case; rows: the objective ``U^tr``, ``U^test`` against theta (zoomed to where U differs from its
    confining quadratic, :func:`zoom_range`), the steady state ``rho_T`` at the plot temperatures (log y), the
    probability of each basin against T (solid: exact integral between the maxima, dashed: Laplace Eq. 6)
    and ``E[U^tr]``, ``E[U^test]`` against T with Eq. 8 (thin dashed) and the minimum of ``E[U^test]`` (star).

    The four tables are the per-case tables concatenated with a ``case`` column.
    """
    landscape = require_columns(landscape, LANDSCAPE_COLUMNS, "landscape")
    steady_state = require_columns(steady_state, STEADY_COLUMNS, "steady_state")
    basins = require_columns(basins, BASIN_COLUMNS, "basins")
    expectations = require_columns(expectations, EXPECTATION_COLUMNS, "expectations")
    cases = list(cases)
    if not cases:
        raise ValueError("figure_basins needs at least one case")
    fig, axes = plt.subplots(4, len(cases), figsize=(5.6 * len(cases), 15.0), squeeze=False)
    for j, case in enumerate(cases):
        land = _rows(landscape, "case", case, "landscape").sort_values("theta")
        steady = _rows(steady_state, "case", case, "steady_state")
        basin_rows = _rows(basins, "case", case, "basins")
        expect = _rows(expectations, "case", case, "expectations")
        xlim = zoom_range(land["theta"], land["u_train"])
        theta = land["theta"].to_numpy(dtype=float)
        shift = float(theta[np.argmin(land["u_train"].to_numpy())] - theta[np.argmin(land["u_test"].to_numpy())])
        n_basins = basin_rows["basin"].nunique()
        head = CASE_TITLES.get(case, case)
        _panel_objective(axes[0, j], land, basin_rows, xlim)
        axes[0, j].set_title(f"{head}\n({case}; {n_basins} basin{'s' * (n_basins != 1)}, shift s ≈ {shift:.3g})"
                             "\nobjective", fontsize=9)
        _panel_steady(axes[1, j], steady, xlim)
        axes[1, j].set_title("steady-state distribution (Eq. 5, D = const.)", fontsize=9)
        _panel_probability(axes[2, j], basin_rows)
        axes[2, j].set_title("probability of each basin", fontsize=9)
        _panel_expectations(axes[3, j], expect)
        axes[3, j].set_title(f"train vs. test loss\n{CASE_EXPECTED.get(case, '')}".rstrip(), fontsize=9)
    fig.suptitle(f"Bradley et al. {_figure_name(cases)}: synthetic 1-D basins, "
                 "$U^{tr} = -\\sum_i w_i N(θ; m_i, σ_i^2) + cθ^2$, $U^{test}(θ) = U^{tr}(θ + s)$", fontsize=11)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Euler-Maruyama check of Eq. 5


def figure_langevin(check: pd.DataFrame, histogram: pd.DataFrame) -> plt.Figure:
    """Euler-Maruyama simulation of Eq. 11 against the steady state Eq. 5 (brief 3.1, optional check; the
    basis of Figs. 4 and 6): one panel per (case, T) with the simulated histogram (bars) and the theory
    density (line); the Kolmogorov-Smirnov statistic and p-value from ``check`` in the title."""
    check = require_columns(check, CHECK_COLUMNS, "langevin_check")
    histogram = require_columns(histogram, HISTOGRAM_COLUMNS, "langevin_histogram")
    keys = sorted({(str(c), float(T)) for c, T in zip(histogram["case"], histogram["T"], strict=True)})
    ncols = min(3, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.2 * ncols, 4.2 * nrows), squeeze=False)
    for ax in axes.flat[len(keys):]:
        ax.remove()
    for ax, (case, T) in zip(axes.flat, keys, strict=False):
        rows = _rows(_rows(histogram, "case", case, "langevin_histogram"), "T", T, "langevin_histogram")
        rows = rows.sort_values("theta")
        theta = rows["theta"].to_numpy(dtype=float)
        width = float(np.median(np.diff(theta))) if theta.size > 1 else 1.0
        stats = check[(check["case"].astype(str) == case) & np.isclose(check["T"].to_numpy(dtype=float), T)]
        if len(stats):
            row = stats.iloc[0]
            sim_label = (f"simulated: {int(row['particles'])} chains × {int(row['steps'])} steps, "
                         f"η = {row['eta']:.3g}")
            ks = f"KS D = {row['ks_statistic']:.3g}, p = {row['ks_pvalue']:.3g}"
        else:
            sim_label, ks = "simulated", "KS not recorded"
        ax.bar(theta, rows["simulated"], width=width, color="0.7", edgecolor="0.55", lw=0.3, label=sim_label)
        ax.plot(theta, rows["theory"], color="tab:red", lw=1.4, label="theory ρ ∝ exp(−2v/T) (Eq. 5)")
        density = rows[["simulated", "theory"]].to_numpy(dtype=float)
        top = float(np.nanmax(density)) if np.isfinite(density).any() else 0.0
        if top > 0:
            keep = np.nanmax(density, axis=1) > FLOOR * top
            ax.set_xlim(theta[keep].min() - width, theta[keep].max() + width)
            ax.set_yscale("log")
            ax.set_ylim(FLOOR * top / 3, top * 3)
        ax.set(xlabel=THETA_LABEL, ylabel="density (1/θ unit; log scale)")
        ax.set_title(f"{case}, T = {T:.3g}\n{ks}", fontsize=9)
        ax.legend(loc="upper left", **LEGEND)
    fig.suptitle("Euler-Maruyama check of the steady state Eq. 5 (brief 3.1; underlies Bradley et al. Figs. 4 "
                 "and 6)", fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Fig. 1: the line between the train and test minima (E2)


def figure1(lines: pd.DataFrame, summary: pd.DataFrame, seed: int) -> plt.Figure:
    """Bradley Fig. 1 (E2): along ``Theta(r) = theta_tr + r s/|s|`` for the lowest (blue) and highest (red)
    temperature of ``seed``: train (solid) and test (dashed) accuracy (left) and loss (middle) against r,
    with markers at r = 0 (theta_tr) and r = |s| (theta_test); right, for the lowest T: the losses reflected
    about their minima (test: x = |s| - r, r in [0, |s|]; train: x = -r, r <= 0; both mirrored to -x) with
    the fits ``c x^2 / 2`` of the summary.

    ``lines``: the E2 line tables concatenated; ``summary``: the E2 summaries (one row per (T, seed)).
    """
    lines = require_columns(lines, LINE_COLUMNS, "lines")
    summary = require_columns(summary, FIGURE1_SUMMARY, "shift_curvature")
    lines = _rows(lines, "seed", int(seed), "lines")
    summary, _ = _finite_rows(_rows(summary, "seed", int(seed), "shift_curvature"))
    temperatures = sorted(set(lines["T"].astype(float)) & set(summary["T"].astype(float)))
    if not temperatures:
        raise ValueError(f"no temperature of seed {seed} has both a line and a finite summary")
    chosen = [temperatures[0]] if len(temperatures) == 1 else [temperatures[0], temperatures[-1]]
    colors = {chosen[0]: LOW_T_COLOR, chosen[-1]: HIGH_T_COLOR} if len(chosen) > 1 else {chosen[0]: LOW_T_COLOR}
    fig, (ax_acc, ax_loss, ax_fit) = plt.subplots(1, 3, figsize=(17.0, 6.2))
    below = {"loc": "upper center", "bbox_to_anchor": (0.5, -0.14), "ncols": 2, **LEGEND}
    for T in chosen:
        line = _rows(lines, "T", T, "lines").sort_values("r")
        row = _rows(summary, "T", T, "shift_curvature").iloc[0]
        color, tag = colors[T], ("low" if T == chosen[0] else "high")
        for ax, kind in ((ax_acc, "accuracy"), (ax_loss, "loss")):
            ax.plot(line["r"], line[f"train_{kind}"], color=color, lw=1.5, label=f"train, T = {T:.3g} ({tag})")
            ax.plot(line["r"], line[f"test_{kind}"], color=color, lw=1.5, ls="--", label=f"test, T = {T:.3g}")
            ax.axvline(row["shift_norm"], color=color, lw=0.8, ls="-.",
                       label=f"r = |s| = {row['shift_norm']:.3g} (θ_test)" if kind == "loss" else None)
    for ax in (ax_acc, ax_loss):
        ax.axvline(0.0, color="0.3", lw=0.8, ls=":", label="r = 0 (θ_tr)" if ax is ax_loss else None)
    ax_acc.set(xlabel=R_LABEL, ylabel="accuracy (%)")
    ax_acc.set_title("accuracy along the line\n(dash-dot: r = |s|, θ_test; dotted: r = 0, θ_tr)", fontsize=10)
    ax_loss.set(xlabel=R_LABEL, ylabel=LOSS_LABEL)
    ax_loss.set_title("loss along the line\n(paper: low T more curved, worse test loss at r = 0)", fontsize=10)
    ax_acc.legend(**below)
    ax_loss.legend(**below)

    T = chosen[0]
    line = _rows(lines, "T", T, "lines").sort_values("r")
    row = _rows(summary, "T", T, "shift_curvature").iloc[0]
    r, norm = line["r"].to_numpy(dtype=float), float(row["shift_norm"])
    side = (r >= 0) & (r <= norm * (1 + 1e-9))
    x_test = norm - r[side]
    y_test = line["test_loss"].to_numpy(dtype=float)[side] - float(row["test_minimum_loss"])
    side = r <= 0
    x_train = -r[side]
    y_train = line["train_loss"].to_numpy(dtype=float)[side] - float(row["train_minimum_loss"])
    color = colors[T]
    ax_fit.plot(np.r_[x_train, -x_train], np.r_[y_train, y_train], "o", color=color, ms=4, ls="none",
                label="train: x = −r, r ≤ 0 (and −x)")
    ax_fit.plot(np.r_[x_test, -x_test], np.r_[y_test, y_test], "s", mfc="none", mec=color, ms=5, ls="none",
                label="test: x = |s| − r, 0 ≤ r ≤ |s| (and −x)")
    reach = max(float(np.max(np.abs(x_train), initial=0.0)), float(np.max(np.abs(x_test), initial=0.0)), 1e-12)
    grid = np.linspace(-reach, reach, 201)
    ax_fit.plot(grid, 0.5 * row["c_train"] * grid**2, color="k", lw=1.2,
                label=f"fit ½ c x², c_train = {row['c_train']:.3g}")
    ax_fit.plot(grid, 0.5 * row["c_test"] * grid**2, color="k", lw=1.2, ls="--",
                label=f"fit ½ c x², c_test = {row['c_test']:.3g}")
    ax_fit.set(xlabel="x: distance from the respective minimum along the line (parameter-space units)",
               ylabel=f"U(Θ) − U at its minimum, {LOSS_LABEL}")
    ax_fit.set_title(f"losses reflected about their minima and fits ½ c x², T = {T:.3g} (lowest)", fontsize=10)
    ax_fit.legend(**below)
    fig.suptitle(f"Bradley et al. Fig. 1: train and test along the line Θ(r) = θ_tr + r s/|s| between the minima "
                 f"(seed {seed}; blue: lowest T, red: highest T; solid: train, dashed: test)", fontsize=11)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Fig. 2 (Fig. 3 layout): shift-curvature quantities against T (E2)


def _trend(table: pd.DataFrame, column: str) -> str:
    stats = _mean_std(table, "T", column)
    rho = spearman(stats["T"], stats["mean"])
    return f"Spearman ρ(T) = {rho:+.2f}" if np.isfinite(rho) else "Spearman ρ(T): n/a"


def figure2(summary: pd.DataFrame) -> plt.Figure:
    """Bradley Fig. 2 (and Fig. 3, same layout; E2): against the SGD temperature (log x), mean +- std over
    seeds. Top left: measured ``U^test(theta_tr)`` and the Taylor prediction ``U_k^test + c_test |s|^2 / 2``
    (full-range fit and the fit restricted to x <= |s|/2); bottom left: ``U_k^tr`` and ``U_k^test``; top
    right: the shift-curvature ``c_test |s|^2`` (left axis) and ``|s|`` (right axis); bottom right:
    ``c_train``, ``c_test`` and ``u^T H^test u`` at theta_test (dotted cross-check). Rows with ``finite``
    False are left out and counted in the title."""
    summary = require_columns(summary, FIGURE2_COLUMNS, "shift_curvature")
    table, dropped = _finite_rows(summary)
    n_seeds = table["seed"].nunique()
    fig, axes = plt.subplots(2, 2, figsize=(13.0, 9.5))
    (ax_pred, ax_shift), (ax_min, ax_curv) = axes
    if len(table) == 0:
        for ax in axes.flat:
            _not_run(ax, "no finite (T, seed) runs")
            ax.set(xlabel=T_LABEL, ylabel=LOSS_LABEL, title="no data")
    else:
        _errorbar(ax_pred, _mean_std(table, "T", "test_at_train"), "T", "measured $U^{test}(θ_{tr})$", color="k",
                  marker="o", ms=4, lw=1.6)
        _errorbar(ax_pred, _mean_std(table, "T", "prediction"), "T", "prediction $U^{test}_k + ½ c_{test}|s|^2$",
                  color="tab:green", marker="s", ms=4, ls="--")
        _errorbar(ax_pred, _mean_std(table, "T", "prediction_half"), "T",
                  "prediction, restricted fit (x ≤ |s|/2)", color="tab:purple", marker="^", ms=4, ls=":")
        minimum = _mean_std(table, "T", "test_minimum_loss")
        ax_pred.plot(minimum["T"], minimum["mean"], color="0.55", lw=0.9, ls="-.",
                     label="$U^{test}_k$ alone (no shift-curvature term)")
        ax_pred.set_ylabel(f"test loss, {LOSS_LABEL}")
        ax_pred.set_title("test loss at the train minimum vs. Eq. 3 (paper: falls with T, prediction ≈ "
                          f"measured)\nmeasured: {_trend(table, 'test_at_train')}", fontsize=10)

        _errorbar(ax_min, _mean_std(table, "T", "train_minimum_loss"), "T", "$U^{tr}_k$ (train minimum)",
                  color=TRAIN_COLOR, marker="o", ms=4)
        _errorbar(ax_min, _mean_std(table, "T", "test_minimum_loss"), "T", "$U^{test}_k$ (test minimum)",
                  color=TEST_COLOR, marker="s", ms=4, ls="--")
        ax_min.set_ylabel(f"loss at the minimum, {LOSS_LABEL}")
        ax_min.set_title("loss at the local minima (paper: both rise with T)\n"
                         f"train {_trend(table, 'train_minimum_loss')}, test {_trend(table, 'test_minimum_loss')}",
                         fontsize=10)

        left = _errorbar(ax_shift, _mean_std(table, "T", "shift_curvature"), "T",
                         "shift-curvature $s^T C^{test} s = c_{test}|s|^2$ (left axis)", color="tab:red",
                         marker="o", ms=4)
        twin = ax_shift.twinx()
        right = _errorbar(twin, _mean_std(table, "T", "shift_norm"), "T", "shift |s| (right axis)",
                          color="tab:gray", marker="D", ms=4, ls="--")
        twin.set_ylabel("shift |s| (parameter-space units)", color="tab:gray")
        twin.tick_params(axis="y", colors="tab:gray")
        ax_shift.set_ylabel(f"shift-curvature, {LOSS_LABEL}", color="tab:red")
        ax_shift.tick_params(axis="y", colors="tab:red")
        ax_shift.set_title("shift-curvature (paper: falls with T) and shift magnitude\n"
                           f"s C s {_trend(table, 'shift_curvature')}, |s| {_trend(table, 'shift_norm')}",
                           fontsize=10)
        ax_shift.legend(handles=[left, right], loc="best", **LEGEND)

        _errorbar(ax_curv, _mean_std(table, "T", "c_train"), "T", "$c_{train}$ (reflected fit)", color=TRAIN_COLOR,
                  marker="o", ms=4)
        _errorbar(ax_curv, _mean_std(table, "T", "c_test"), "T", "$c_{test}$ (reflected fit)", color=TEST_COLOR,
                  marker="s", ms=4, ls="--")
        _errorbar(ax_curv, _mean_std(table, "T", "hvp_test"), "T", "$u^T H^{test} u$ at $θ_{test}$ (HVP check)",
                  color=TEST_COLOR, lw=1.0, ls=":", marker=".", ms=4)
        values = table[["c_train", "c_test", "hvp_test"]].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size and values.min() > 0 and values.max() / values.min() > 20:
            _log_axis(ax_curv, "y")
        ax_curv.set_ylabel("curvature along s/|s| (nats per parameter unit²)")
        ax_curv.set_title("1-D curvatures (paper: both fall with T)\n"
                          f"c_train {_trend(table, 'c_train')}, c_test {_trend(table, 'c_test')}", fontsize=10)
        for ax in (ax_pred, ax_min, ax_curv):
            ax.legend(loc="best", **LEGEND)
        for ax in axes.flat:
            ax.set_xlabel(T_LABEL)
            _log_axis(ax, "x")
    left_out = f"; {dropped} of {len(summary)} (T, seed) runs non-finite, left out" if dropped else ""
    fig.suptitle(f"Bradley et al. Fig. 2 (layout of Figs. 2-3): shift-curvature against SGD temperature, "
                 f"mean ± std over {n_seeds} seed{'s' * (n_seeds != 1)}{left_out}", fontsize=11)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Fig. 5: temperature sweep, shuffled splits and sample size (E3, E4)


def _positive(values) -> bool:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return bool(values.size) and bool((values > 0).all())


def figure5(sweep: pd.DataFrame, shuffle: pd.DataFrame | None, sample_size: pd.DataFrame | None) -> plt.Figure:
    """Bradley Fig. 5 (E3, E4). Left two panels: final train and final test loss against T (log x), one
    colour per batch size, mean +- std over seeds (the curves should collapse onto T). Right: the shuffle
    experiment (final losses per reshuffled split, their means as horizontal lines) and the sample-size
    experiment (final losses against the subsample size, mean +- std over seeds). An empty ``shuffle`` or
    ``sample_size`` table (none configured) gives a "not run" panel; rows with ``finite`` False are left
    out and counted in the titles."""
    sweep = require_columns(sweep, SWEEP_COLUMNS, "sweep")
    table, dropped = _finite_rows(sweep)
    fig, axes = plt.subplots(1, 4, figsize=(20.0, 5.2))
    ax_train, ax_test, ax_shuffle, ax_size = axes
    batches = sorted(int(b) for b in table["batch"].unique())
    colors = {b: plt.get_cmap("tab10")(k % 10) for k, b in enumerate(batches)}  # categorical: no pale end
    for ax, column, what in ((ax_train, "final_train", "train"), (ax_test, "final_test", "test")):
        for b in batches:
            _errorbar(ax, _mean_std(table[table["batch"] == b], "T", column), "T", f"B = {b}", color=colors[b],
                      marker="o", ms=4)
        ax.set(xlabel=T_LABEL, ylabel=f"final {what} loss, {LOSS_LABEL}")
        _log_axis(ax, "x")
        if what == "train" and _positive(table[column]):
            _log_axis(ax, "y")
        ax.legend(title="batch size", title_fontsize=7, loc="best", **LEGEND)
    left_out = f" ({dropped} non-finite runs left out)" if dropped else ""
    ax_train.set_title(f"final train loss (paper: near 0 except small B at small lr){left_out}", fontsize=9)
    ax_test.set_title("final test loss (paper: falls with T, curves collapse across B)\n"
                      f"{_trend(table, 'final_test')} over the mean of all B", fontsize=9)

    ax_shuffle.set(xlabel="reshuffled train/test split (index)", ylabel=f"final loss, {LOSS_LABEL}")
    if shuffle is None or len(shuffle) == 0:
        _not_run(ax_shuffle, "not run\n(0 shuffles configured)")
        ax_shuffle.set_title("shuffling experiment", fontsize=9)
    else:
        shuffle = require_columns(shuffle, SHUFFLE_COLUMNS, "shuffle")
        rows, dropped = _finite_rows(shuffle)
        rows = rows.sort_values("shuffle")
        for column, color, marker, what in (("final_train", TRAIN_COLOR, "o", "train"),
                                            ("final_test", TEST_COLOR, "s", "test")):
            values = rows[column].to_numpy(dtype=float)
            ax_shuffle.plot(rows["shuffle"], values, marker=marker, color=color, ls="none", ms=5,
                            label=f"{what}, per split")
            ax_shuffle.axhline(np.nanmean(values), color=color, lw=1.0, ls="--",
                               label=f"{what} mean {np.nanmean(values):.3g} ± {np.nanstd(values):.2g} (sd)")
        if _positive(rows[["final_train", "final_test"]].to_numpy()):
            _log_axis(ax_shuffle, "y")
        ax_shuffle.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax_shuffle.legend(loc="best", **LEGEND)
        left_out = f", {dropped} non-finite left out" if dropped else ""
        ax_shuffle.set_title(f"shuffling experiment ({len(rows)} splits{left_out})\n"
                             "paper: little impact on the final losses", fontsize=9)

    ax_size.set(xlabel="sample size (train + test examples)", ylabel=f"final loss, {LOSS_LABEL}")
    if sample_size is None or len(sample_size) == 0:
        _not_run(ax_size, "not run\n(no sample sizes configured)")
        ax_size.set_title("sample-size experiment", fontsize=9)
    else:
        sample_size = require_columns(sample_size, SAMPLE_COLUMNS, "sample_size")
        rows, dropped = _finite_rows(sample_size)
        _errorbar(ax_size, _mean_std(rows, "sample_size", "final_train"), "sample_size", "train", color=TRAIN_COLOR,
                  marker="o", ms=4)
        _errorbar(ax_size, _mean_std(rows, "sample_size", "final_test"), "sample_size", "test", color=TEST_COLOR,
                  marker="s", ms=4, ls="--")
        if _positive(rows[["final_train", "final_test"]].to_numpy()):
            _log_axis(ax_size, "y")
        ax_size.legend(loc="best", **LEGEND)
        left_out = f", {dropped} non-finite left out" if dropped else ""
        ax_size.set_title(f"sample-size experiment (mean ± std over {rows['seed'].nunique()} seeds{left_out})\n"
                          "paper: test loss rises as the sample shrinks, train stays small", fontsize=9)
    n_seeds = table["seed"].nunique()
    fig.suptitle(f"Bradley et al. Fig. 5: final losses after constant-T SGD (left: mean ± std over {n_seeds} "
                 "seeds per batch size) and the train/test shift experiments (right)", fontsize=11)
    fig.tight_layout()
    return fig


__all__ = ["figure1", "figure2", "figure5", "figure_basins", "figure_langevin", "zoom_range"]
