"""Fort & Ganguli ("Emergent properties of the local geometry of neural loss landscapes") Figs. 1, 3-8 and
the real-network checks of the four properties (brief X1-X4).

Inputs are the tables of the ``fort`` rules (columns as written by scripts/fort/*.py); nothing measured is
recomputed here except means, spreads and correlations over seeds / draws and the entropy of the simplex
points drawn in Fig. 3b. Real-network tables are concatenations over runs and carry the run metadata columns
(run, dataset, arch, activation, preprocess, seed). Every figure function returns a
:class:`matplotlib.figure.Figure`; a required table that is empty or lacks a column raises a
:class:`ValueError` that names it.

Conventions: logits, probabilities, cosines, weights and Hessian eigenvalues are dimensionless (the random
model has no physical units); training time is in epochs; accuracies are in percent. The Hessian of the
random model is the G-term of Eq. 10 (eigenvalue_eq16 / cosine_eq16: Eq. 16, no cross terms); the
gradient is Eq. 8 with the corrected sign p - y, so the sign of a cosine is arbitrary (eigenvectors have
no sign) and only cos^2 (gradient power) is meaningful.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator

from thermoscape.plotting import plain_log_ticks, require_columns, spearman

LEGEND = {"fontsize": 7, "framealpha": 0.85}
Q_STYLE = {  # Fig. 1 caption: green q^SLSC, red q^SL, blue q^DL
    "q_slsc": ("tab:green", "$q^{SLSC}$ (same logit, same class, Eq. 11)"),
    "q_sl": ("tab:red", "$q^{SL}$ (same logit, Eq. 12)"),
    "q_dl": ("tab:blue", "$q^{DL}$ (different logits, Eq. 13)"),
}
STAGE_ORDER = ("init", "early", "middle", "late")
CONFIG_KEYS = ("dataset", "arch", "activation", "preprocess", "classes")
PAPER_POWER_TOP10 = 0.71  # Fig. 6 caption: 71% of the gradient power in the top 10 of D = 1000
SQRT3_2 = math.sqrt(3) / 2
ENTROPY_COLORS = ("0.15", "tab:green", "tab:brown", "tab:cyan")  # not blue or red: Fig. 3b colours sigma_z


# --------------------------------------------------------------------------------------------------
# helpers


def _log_axes(ax: plt.Axes, axis: str = "both") -> None:
    """Log scale on ``axis`` (x, y or both) with decade labels only; an axis showing fewer than two powers
    of ten (call after plotting) gets labels at 1, 2 and 5 times the powers of ten."""
    for name in ("x", "y") if axis == "both" else (axis,):
        getattr(ax, f"set_{name}scale")("log")
        plain_log_ticks(ax, name)
        low, high = getattr(ax, f"get_{name}lim")()
        if low > 0 and math.floor(np.log10(high)) - math.ceil(np.log10(low)) < 1:
            scale = getattr(ax, f"{name}axis")
            scale.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            scale.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))


def _epoch_axis(ax: plt.Axes, epochs) -> str:
    """Symmetric-log x (linear below 1 epoch, so that the initialisation shows) when the epochs span more
    than 20; returns the x label."""
    epochs = np.asarray(epochs, dtype=float)
    if epochs.size and np.nanmax(epochs) > 20:
        ax.set_xscale("symlog", linthresh=1.0, linscale=0.5)
        ax.set_xlim(left=0)
        return "training time (epochs; symmetric-log axis, linear below 1)"
    return "training time (epochs)"


def _run_colors(runs) -> dict[str, tuple]:
    runs = sorted({str(r) for r in runs})
    cmap = plt.get_cmap("tab10")
    return {r: cmap(k % 10) for k, r in enumerate(runs)}


def _runs(table: pd.DataFrame) -> list[str]:
    return sorted(table["run"].astype(str).unique()) if "run" in table else ["run"]


def _of_run(table: pd.DataFrame, run: str) -> pd.DataFrame:
    return table[table["run"].astype(str) == run] if "run" in table else table


def _spread(table: pd.DataFrame, x: str, y: str) -> pd.DataFrame:
    """Mean, min and max of ``y`` at each ``x`` (over seeds / draws), sorted by x."""
    return (table.groupby(x)[y].agg(["mean", "min", "max", "count"]).reset_index().sort_values(x))


def _exponent_colors(exponents, default: float | None) -> dict[float, tuple]:
    exponents = sorted(exponents)
    cmap = plt.get_cmap("viridis")
    colors = {a: cmap(0.85 * k / max(1, len(exponents) - 1)) for k, a in enumerate(exponents)}
    for a in exponents:
        if default is not None and np.isclose(a, default):
            colors[a] = (0.85, 0.1, 0.1, 1.0)
    return colors


def _is_default(a: float, default: float | None) -> bool:
    return default is not None and bool(np.isclose(a, default))


def _stage_key(stage: str) -> int:
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)


def simplex_coordinates(p1, p2, p3) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian coordinates of points (p1, p2, p3) of the 2-simplex (normalised to sum 1) in the
    equilateral triangle with corners p1 = 1 at (0, 0), p2 = 1 at (1, 0) and p3 = 1 at (1/2, sqrt(3)/2)."""
    p = np.stack([np.asarray(v, dtype=float) for v in (p1, p2, p3)])
    p = p / p.sum(axis=0)
    return p[1] + 0.5 * p[2], SQRT3_2 * p[2]


def draw_simplex(ax: plt.Axes, labels: Sequence[str] = ("$p_1$ = 1", "$p_2$ = 1", "$p_3$ = 1")) -> None:
    """The triangle of :func:`simplex_coordinates` with its corner labels, faint lines at p_k = 1/2, the
    centre (uniform p) and axis labels saying what the corners are; no ticks."""
    corners = np.array([[0, 0], [1, 0], [0.5, SQRT3_2], [0, 0]])
    ax.plot(corners[:, 0], corners[:, 1], "-", color="k", lw=1, zorder=1)
    for k in range(3):  # p_k = 1/2: the segment joining the midpoints of the two edges at corner k
        a, b = corners[k], corners[(k + 1) % 3]
        c = corners[(k + 2) % 3]
        mid = np.array([(a + b) / 2, (a + c) / 2])
        ax.plot(mid[:, 0], mid[:, 1], "-", color="0.85", lw=0.6, zorder=0)
    ax.plot([0.5], [SQRT3_2 / 3], "+", color="0.3", ms=8, zorder=3)
    offsets = ((-0.03, -0.05, "left"), (1.03, -0.05, "right"), (0.5, SQRT3_2 + 0.03, "center"))
    for (x, y, ha), label in zip(offsets, labels, strict=True):
        ax.text(x, y, label, ha=ha, va="bottom" if ha == "center" else "top", fontsize=8)
    ax.set(xlim=(-0.08, 1.08), ylim=(-0.1, SQRT3_2 + 0.1), xticks=[], yticks=[], aspect="equal",
           xlabel="simplex position (corner k: $p_k$ = 1; +: uniform)",
           ylabel="softmax output ($p_1$, $p_2$, $p_3$)")
    for side in ax.spines.values():
        side.set_visible(False)


def _entropy_bits(p: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of the rows of ``p`` (0 log 0 = 0)."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(p), 0.0)
    return terms.sum(axis=1)


# --------------------------------------------------------------------------------------------------
# Fig. 1


def _config_label(key: str, value) -> str:
    """A configuration value as shown under Fig. 1's bars (a class subset as "classes 0,1,2", all classes
    left out)."""
    if key == "classes":
        return "" if str(value) == "all" else f"classes {value}"
    return str(value)


def figure1(clustering: pd.DataFrame, q_sl_theory: float | None = None) -> plt.Figure:
    """Fort & Ganguli Fig. 1 (E4): grouped bars of q^SLSC (green), q^SL (red) and q^DL (blue) per
    configuration (dataset, arch, activation, preprocess, class subset) and training stage, means over seeds with
    min-max whiskers when there are several. ``q_sl_theory``: the random model's SNR/(SNR + 1), drawn as a
    horizontal reference line.

    ``clustering``: the per-run clustering tables concatenated (stage, q_slsc, q_sl, q_dl and the run
    metadata columns).
    """
    clustering = require_columns(clustering, ("stage", *Q_STYLE), "clustering")
    keys = [k for k in CONFIG_KEYS if k in clustering]
    table = clustering.assign(stage=clustering["stage"].astype(str))
    groups = table.groupby([*keys, "stage"], sort=False)
    stats = groups[list(Q_STYLE)].agg(["mean", "min", "max"])
    counts = groups.size()
    order = sorted(stats.index, key=lambda k: (tuple(str(v) for v in (k[:-1] if keys else ())),
                                               _stage_key(k[-1] if keys else k)))
    n = len(order)
    fig, ax = plt.subplots(figsize=(max(8.0, 0.62 * n + 2.5), 5.2))
    x = np.arange(n)
    width = 0.27
    for j, (q, (color, label)) in enumerate(Q_STYLE.items()):
        mean = np.array([stats.loc[k, (q, "mean")] for k in order], dtype=float)
        low = np.array([stats.loc[k, (q, "min")] for k in order], dtype=float)
        high = np.array([stats.loc[k, (q, "max")] for k in order], dtype=float)
        several = np.array([counts.loc[k] > 1 for k in order])
        ax.bar(x + (j - 1) * width, mean, width, color=color, label=label, edgecolor="k", lw=0.4)
        if several.any():
            err = np.where(several, [mean - low, high - mean], 0.0)
            ax.errorbar(x[several] + (j - 1) * width, mean[several], yerr=err[:, several], fmt="none",
                        ecolor="k", elinewidth=0.8, capsize=2)
    if q_sl_theory is not None and np.isfinite(q_sl_theory):
        ax.axhline(q_sl_theory, color="tab:red", ls="--", lw=1,
                   label=f"random model $q^{{SL}}$ = SNR/(SNR+1) = {q_sl_theory:.3f} (paper 0.67)")
    ax.axhline(0, color="k", lw=0.6)
    configs = [tuple(_config_label(key, v) for key, v in zip(keys, k[:-1], strict=True) if _config_label(key, v))
               if keys else () for k in order]
    ax.set_xticks(x, [str(k[-1] if keys else k) for k in order], fontsize=7)
    start = 0
    for i in range(1, n + 1):  # one label per configuration, centred under its stages, dotted separators
        if i < n and configs[i] == configs[start]:
            continue
        if i < n:
            ax.axvline(i - 0.5, color="0.6", lw=0.8, ls=":")
        parts = configs[start]
        text = "\n".join(", ".join(parts[j:j + 2]) for j in range(0, len(parts), 2))
        ax.annotate(text, xy=((start + i - 1) / 2, 0), xycoords=("data", "axes fraction"), xytext=(0, -16),
                    textcoords="offset points", ha="center", va="top", fontsize=7.5)
        start = i
    ax.set_xlim(-0.6, n - 0.4)
    seeds = int(counts.max())
    what = f"means over up to {seeds} seeds, whiskers min-max" if seeds > 1 else "one seed per bar"
    ax.set(ylabel="mean cosine similarity of logit gradients (dimensionless)",
           xlabel="\n\ntraining stage; below: configuration (" + ", ".join(keys) + ")",
           title=f"Fig. 1: logit-gradient clustering, {n} (configuration, stage) cells ({what})")
    ax.legend(loc="upper right", **LEGEND)
    top = np.nanmax([stats[(q, "max")].max() for q in Q_STYLE] + [q_sl_theory or 0.0])
    bottom = np.nanmin([stats[(q, "min")].min() for q in Q_STYLE] + [0.0])
    ax.set_ylim(min(-0.05, bottom - 0.05), max(1.0, top) * 1.25)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Fig. 3


def _stage_panels(table: pd.DataFrame) -> list[tuple[str, float, pd.DataFrame]]:
    """(stage, epoch, rows) per recorded epoch of one run, in epoch order."""
    panels = []
    for epoch, rows in table.groupby("epoch", sort=True):
        panels.append((str(rows["stage"].iloc[0]), float(epoch), rows))
    return panels


def figure3(
    simplex_training: pd.DataFrame | None,
    simplex_model: pd.DataFrame,
    entropy: pd.DataFrame,
    run: str | None = None,
) -> plt.Figure:
    """Fort & Ganguli Fig. 3: (a) softmax outputs (p1, p2, p3) of a 3-class network in the probability
    simplex, one ternary panel per recorded stage (early, middle, late), coloured by the true label; (b) the
    random model's p for several sigma_z (blue to red) and the mean entropy (bits) vs sigma_z per number of
    classes C, with log2 C marked.

    ``simplex_training``: the run's simplex table (epoch, stage, example, label, p1, p2, p3) or None / empty
    (panel (a) left out); with several runs, ``run`` (default the first) is drawn. ``simplex_model``:
    sigma_z, example, p1, p2, p3; ``entropy``: n_classes, sigma_z, entropy_bits, entropy_sd.
    """
    simplex_model = require_columns(simplex_model, ("sigma_z", "p1", "p2", "p3"), "simplex")
    entropy = require_columns(entropy, ("n_classes", "sigma_z", "entropy_bits"), "entropy")
    panels: list[tuple[str, float, pd.DataFrame]] = []
    run_name = ""
    if simplex_training is not None and len(simplex_training):
        training = require_columns(simplex_training, ("epoch", "stage", "label", "p1", "p2", "p3"),
                            "simplex_training")
        runs = _runs(training)
        run_name = run if run is not None else runs[0]
        training = _of_run(training, run_name) if "run" in training else training
        if training.empty:
            raise ValueError(f"simplex_training has no rows of run {run_name!r}")
        panels = _stage_panels(training)

    n_top = len(panels)
    columns = math.lcm(max(n_top, 1), 2)
    fig = plt.figure(figsize=(max(2, n_top) * 4.3, 9.0 if n_top else 4.6))
    grid = fig.add_gridspec(2 if n_top else 1, columns)
    row = 0
    if n_top:
        span = columns // n_top
        labels = sorted(pd.concat([rows["label"] for _, _, rows in panels]).unique())
        colors = {lab: f"C{k}" for k, lab in enumerate(labels)}
        for k, (stage, epoch, rows) in enumerate(panels):
            ax = fig.add_subplot(grid[0, k * span:(k + 1) * span])
            draw_simplex(ax)
            for lab in labels:
                these = rows[rows["label"] == lab]
                x, y = simplex_coordinates(these["p1"], these["p2"], these["p3"])
                ax.scatter(x, y, s=5, color=colors[lab], alpha=0.5, lw=0, label=f"label {lab}", zorder=2)
            p = rows[["p1", "p2", "p3"]].to_numpy(dtype=float)
            ax.set_title(f"(a) {run_name}, {stage} (epoch {epoch:g}), {len(rows)} examples:\n"
                         f"mean S = {_entropy_bits(p).mean():.2f} bits, "
                         f"mean max p = {p.max(axis=1).mean():.2f}",
                         fontsize=9)
            ax.legend(loc="upper left", markerscale=2.5, **LEGEND)
        row = 1

    # (b) random model: simplex points by sigma_z, blue to red
    half = columns // 2
    ax_s = fig.add_subplot(grid[row, :half])
    ax_e = fig.add_subplot(grid[row, half:])
    draw_simplex(ax_s)
    sigmas = sorted(simplex_model["sigma_z"].unique())
    cmap = LinearSegmentedColormap.from_list("blue_red", ["#1f3fbf", "#8a3fb0", "#d62020"])
    sigma_colors = {s: cmap(k / max(1, len(sigmas) - 1)) for k, s in enumerate(sigmas)}
    measured = []
    for s in sigmas:
        rows = simplex_model[simplex_model["sigma_z"] == s]
        x, y = simplex_coordinates(rows["p1"], rows["p2"], rows["p3"])
        ax_s.scatter(x, y, s=4, color=sigma_colors[s], alpha=0.55, lw=0, label=f"$\\sigma_z$ = {s:g}",
                     zorder=2)
        measured.append(_entropy_bits(rows[["p1", "p2", "p3"]].to_numpy(dtype=float)).mean())
    ax_s.set_title(f"(b) random model, C = 3: p for {len(sigmas)} logit scales $\\sigma_z$ (blue → red)",
                   fontsize=9)
    ax_s.legend(loc="upper left", markerscale=2.5, **LEGEND)

    classes = sorted(entropy["n_classes"].unique())
    for k, c in enumerate(classes):
        rows = entropy[entropy["n_classes"] == c].sort_values("sigma_z")
        color = ENTROPY_COLORS[k % len(ENTROPY_COLORS)]
        ax_e.plot(rows["sigma_z"], rows["entropy_bits"], "-", color=color, lw=1.6,
                  label=f"C = {c}: mean entropy over examples")
        if "entropy_sd" in rows:
            ax_e.fill_between(rows["sigma_z"], rows["entropy_bits"] - rows["entropy_sd"],
                              rows["entropy_bits"] + rows["entropy_sd"], color=color, alpha=0.15, lw=0)
        ax_e.axhline(math.log2(c), color=color, ls="--", lw=0.9,
                     label=f"$\\log_2 C$ = {math.log2(c):.3f} bits")
    ax_e.scatter(sigmas, measured, c=[sigma_colors[s] for s in sigmas], s=40, edgecolor="k", zorder=3,
                 label="mean entropy of the simplex points at left")
    ax_e.set(xlabel=r"logit standard deviation $\sigma_z$ (dimensionless)",
             ylabel="entropy S of p (bits)", ylim=(-0.1, 1.55 * math.log2(max(classes))),  # legend room
             title="(b) freezing of probabilities: entropy vs $\\sigma_z$ (bands: ± sd over examples)")
    ax_e.title.set_fontsize(9)
    _log_axes(ax_e, "x")
    ax_e.legend(loc="upper right", **LEGEND)
    fig.suptitle("Fig. 3: motion of the softmax probabilities in the simplex"
                 + (" (a) during training and" if n_top else "")
                 + " (b) with the logit scale of the random model",
                 fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Fig. 4


def figure4(histories: pd.DataFrame, radius: pd.DataFrame) -> plt.Figure:
    """Fort & Ganguli Fig. 4 (E6), one line per run: logit variance (TL), mean logit-gradient length (TR)
    and weight norm (BL) vs training time; logit variance vs weight radius at random init (BR, log-log; the
    open circle is the unscaled init, scale 1).

    ``histories``: the runs' history tables concatenated (run, epoch, logit_variance, gradient_length,
    weight_norm); ``radius``: the runs' radius tables (run, scale, radius, logit_variance).
    """
    histories = require_columns(histories, ("epoch", "logit_variance", "gradient_length", "weight_norm"), "history")
    radius = require_columns(radius, ("radius", "logit_variance"), "radius")
    runs = sorted(set(_runs(histories)) | set(_runs(radius)))
    colors = _run_colors(runs)
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    ax_tl, ax_tr, ax_bl, ax_br = axes.ravel()
    gradient = r"mean logit-gradient length $\|\partial z_k/\partial W\|$" + "\n(dimensionless)"
    panels = ((ax_tl, "logit_variance", "logit variance across classes,\nmean over examples (dimensionless)",
               "(TL) logit variance grows with training"),
              (ax_tr, "gradient_length", gradient, "(TR) logit-gradient length grows with training"),
              (ax_bl, "weight_norm", r"weight norm $\|W\|_2$ (dimensionless)", "(BL) weight norm grows"))
    for ax, column, ylabel, title in panels:
        for run in runs:
            rows = _of_run(histories, run).sort_values("epoch")
            if rows.empty:
                continue
            ax.plot(rows["epoch"], rows[column], "-", color=colors[run], lw=1.4, label=run)
        values = histories[column].to_numpy(dtype=float)
        values = values[np.isfinite(values) & (values > 0)]
        if values.size and values.max() / values.min() > 30:
            _log_axes(ax, "y")
        ax.set(xlabel="training time (epochs)", ylabel=ylabel, title=title)
        ax.legend(**LEGEND)

    for run in runs:
        rows = _of_run(radius, run).sort_values("radius")
        if rows.empty:
            continue
        ax_br.plot(rows["radius"], rows["logit_variance"], "-o", color=colors[run], ms=3, lw=1.4, label=run)
        if "scale" in rows:
            init = rows[np.isclose(rows["scale"], 1.0)]
            ax_br.plot(init["radius"], init["logit_variance"], "o", ms=9, mfc="none", mec=colors[run])
    ax_br.plot([], [], "o", ms=8, mfc="none", mec="k", label="standard init (scale 1)")
    _log_axes(ax_br)
    ax_br.set(xlabel=r"weight radius $\|s\,W_0\|_2$ at random init (dimensionless)",
              ylabel="logit variance across classes,\nmean over examples (dimensionless)",
              title="(BR) logit variance grows with the init radius (no training)")
    ax_br.legend(**LEGEND)
    fig.suptitle("Fig. 4: logit statistics over training time and init radius", fontsize=11)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Figs. 5 and 6 (random model, E1)


def _first_seed(spectrum: pd.DataFrame, summary: pd.DataFrame, seed: int | None) -> tuple[int, pd.DataFrame,
                                                                                          pd.Series]:
    seeds = sorted(spectrum["seed"].unique())
    chosen = seeds[0] if seed is None else seed
    rows = spectrum[spectrum["seed"] == chosen].sort_values("rank")
    if rows.empty:
        raise ValueError(f"spectrum has no rows of seed {chosen}")
    row = summary[summary["seed"] == chosen]
    if row.empty:
        raise ValueError(f"summary has no row of seed {chosen}")
    return int(chosen), rows, row.iloc[0]


def figure5(spectrum: pd.DataFrame, summary: pd.DataFrame, seed: int | None = None,
            max_rank: int = 30) -> plt.Figure:
    """Fort & Ganguli Fig. 5 (E1): (A) histogram of the eigenvalues of H (Eq. 10) of one seed (default the
    first) with log counts, the measured outliers in red and the bulk edge dashed; (B)
    rank-ordered eigenvalues (ranks <= ``max_rank``, log y) of every seed, that seed's Eq. 16 eigenvalues
    open, the rank C - 1 marked. The outlier count and gap ratio are the summary's (brief 6.6).

    ``spectrum``: seed, rank, eigenvalue, eigenvalue_eq16 (per seed); ``summary``: seed, n_classes,
    n_outliers, gap_ratio, bulk_edge (one row per seed).
    """
    spectrum = require_columns(spectrum, ("seed", "rank", "eigenvalue"), "spectrum")
    summary = require_columns(summary, ("seed", "n_classes", "n_outliers", "gap_ratio"), "summary")
    chosen, rows, info = _first_seed(spectrum, summary, seed)
    c = int(info["n_classes"])
    n_out = int(info["n_outliers"])
    eig = rows["eigenvalue"].to_numpy(dtype=float)
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12.5, 4.9))

    bins = np.linspace(min(0.0, eig.min()), eig.max() * 1.001, 81)
    ax_a.hist(eig[n_out:], bins, color="tab:blue", label=f"bulk: {len(eig) - n_out} eigenvalues")
    ax_a.hist(eig[:n_out], bins, color="tab:red", label=f"{n_out} outliers (largest gap, brief §6.6)")
    if "bulk_edge" in info and np.isfinite(info["bulk_edge"]):
        ax_a.axvline(info["bulk_edge"], color="0.3", ls="--", lw=1,
                     label=f"bulk edge (95th percentile of |λ| without the top 2C) = {info['bulk_edge']:.2g}")
    ax_a.set_yscale("log")
    ax_a.set_ylim(bottom=0.7, top=len(eig) * 3)
    verdict = "= C − 1" if n_out == c - 1 else ("= C" if n_out == c else f"(C = {c})")
    ax_a.set(xlabel="eigenvalue λ of H (Eq. 10; dimensionless)", ylabel="number of eigenvalues (log scale)",
             title=f"(A) Hessian spectrum, seed {chosen}, D = {len(eig)}: bulk + {n_out} outliers {verdict}")
    ax_a.ticklabel_format(axis="x", style="sci", scilimits=(-2, 3))
    ax_a.legend(loc="upper right", **LEGEND)

    seeds = sorted(spectrum["seed"].unique())
    for s in seeds:
        these = spectrum[(spectrum["seed"] == s) & (spectrum["rank"] <= max_rank)].sort_values("rank")
        if s != chosen:
            ax_b.plot(these["rank"], these["eigenvalue"].where(these["eigenvalue"] > 0), "-", color="0.7",
                      lw=0.8, label="other seeds" if s == next(t for t in seeds if t != chosen) else None)
    top = rows[rows["rank"] <= max_rank]
    ax_b.plot(top["rank"], top["eigenvalue"].where(top["eigenvalue"] > 0), "o-", color="tab:blue", ms=4,
              lw=1, label=f"seed {chosen}, Eq. 10")
    if "eigenvalue_eq16" in top:
        ax_b.plot(top["rank"], top["eigenvalue_eq16"].where(top["eigenvalue_eq16"] > 0), "s", ms=6,
                  mfc="none", color="tab:orange", label=f"seed {chosen}, Eq. 16 (no cross terms)")
    ax_b.axvline(c - 0.5, color="tab:red", ls="--", lw=1, label=f"rank C − 1 = {c - 1} | C = {c}")
    counts = summary["n_outliers"].astype(int)
    gap = summary["gap_ratio"].to_numpy(dtype=float)
    _log_axes(ax_b, "y")
    ax_b.set(xlabel="eigenvalue rank i (descending)", ylabel=r"eigenvalue $\lambda_i$ (dimensionless)",
             xlim=(0, max_rank + 1),
             title=f"(B) top {max_rank} eigenvalues: n_out = C − 1 in {int((counts == c - 1).sum())} of "
                   f"{len(summary)} seeds;\nlargest gap ratio $\\lambda_{{n}}/\\lambda_{{n+1}}$: median "
                   f"{np.nanmedian(gap):.3g} (range {np.nanmin(gap):.3g}-{np.nanmax(gap):.3g})")
    ax_b.legend(loc="upper right", **LEGEND)
    fig.suptitle("Fig. 5: random-model Hessian (N, C, D as configured); outliers: C − 1, because every "
                 "$P^\\mu$ annihilates the all-ones vector", fontsize=10)
    fig.tight_layout()
    return fig


def figure6(spectrum: pd.DataFrame, summary: pd.DataFrame, seed: int | None = None) -> plt.Figure:
    """Fort & Ganguli Fig. 6 (E1): (A) signed cos(g, v_i) vs eigenvector rank i (blue dots) for one seed
    (default the median seed: power_top_c closest to the median over seeds), the band +-1/sqrt(D) of a
    random direction shaded; (B) gradient power in the top k
    eigenvectors, the cumulative sum of cos^2, vs k for every seed, with the median over seeds of the
    summary's power_top_c against the paper's 71% in the top 10.

    ``spectrum``: seed, rank, cosine (per seed); ``summary``: seed, n_classes, power_top_c.
    """
    spectrum = require_columns(spectrum, ("seed", "rank", "cosine"), "spectrum")
    summary = require_columns(summary, ("seed", "n_classes", "power_top_c"), "summary")
    if seed is None:  # the typical seed: power_top_c closest to the median over seeds
        distance = (summary["power_top_c"] - summary["power_top_c"].median()).abs()
        seed = int(summary.loc[distance.sort_values(kind="stable").index[0], "seed"])
    chosen, rows, info = _first_seed(spectrum, summary, seed)
    c = int(info["n_classes"])
    dim = len(rows)
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12.5, 4.9))

    ax_a.axhspan(-1 / math.sqrt(dim), 1 / math.sqrt(dim), color="0.88", lw=0,
                 label=r"$\pm 1/\sqrt{D}$ (a random direction)")
    ax_a.plot(rows["rank"], rows["cosine"], "o", color="tab:blue", ms=3, label="cos∠(g, $v_i$), Eq. 10 H")
    ax_a.axvline(c + 0.5, color="tab:red", ls="--", lw=1, label=f"rank C = {c}")
    limit = min(1.0, 1.25 * float(np.nanmax(np.abs(rows["cosine"]))))
    ax_a.axhline(0, color="k", lw=0.5)
    _log_axes(ax_a, "x")
    ax_a.set(xlabel="Hessian eigenvector rank i (descending eigenvalue)",
             ylabel=r"cos∠(g, $v_i$) (signed, dimensionless)", ylim=(-limit, limit),
             title=f"(A) gradient-eigenvector overlaps, seed {chosen} (median seed):\n"
                   f"gradient power in the top C = {c}: {info['power_top_c']:.2f}")
    ax_a.legend(loc="upper right", **LEGEND)

    seeds = sorted(spectrum["seed"].unique())
    for s in seeds:
        these = spectrum[spectrum["seed"] == s].sort_values("rank")
        power = np.cumsum(these["cosine"].to_numpy(dtype=float) ** 2)
        if s == chosen:
            ax_b.plot(these["rank"], power, "-", color="tab:blue", lw=2, label=f"seed {chosen}", zorder=3)
        else:
            ax_b.plot(these["rank"], power, "-", color="0.65", lw=0.8,
                      label="other seeds" if s == next(t for t in seeds if t != chosen) else None)
    median = float(np.nanmedian(summary["power_top_c"]))
    ax_b.plot([c], [median], "D", color="tab:red", ms=7, zorder=4,
              label=f"median over {len(summary)} seeds at k = C: {median:.2f}")
    ax_b.plot([10], [PAPER_POWER_TOP10], "*", color="k", ms=12, zorder=4,
              label=f"paper: {PAPER_POWER_TOP10:.2f} in the top 10 (D = 1000)")
    for k, style in ((c - 1, ":"), (c, "--"), (2 * c, "-.")):
        ax_b.axvline(k, color="0.4", ls=style, lw=0.8)
    ax_b.text(c, 0.02, f" C−1, C, 2C = {c - 1}, {c}, {2 * c}", fontsize=7, color="0.3")
    _log_axes(ax_b, "x")
    ax_b.set(xlabel="number of top eigenvectors k", ylabel=r"gradient power $\sum_{i \leq k} \cos^2$ "
             "(fraction of $\\|g\\|^2$)", ylim=(0, 1.02),
             title="(B) gradient power in the top k eigenvectors:\n"
                   f"median at k = C is {median:.2f} (paper 0.71)")
    ax_b.legend(loc="upper left", **LEGEND)
    fig.suptitle("Fig. 6: gradient confinement to the top Hessian eigenvectors (random model)", fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Figs. 7 and 8 (random model sweep, E2)


def _peak_text(x: np.ndarray, y: np.ndarray) -> str:
    k = int(np.nanargmax(y))
    if 0 < k < len(y) - 1:
        return f"peak at $\\sigma_z$ = {x[k]:.2g}, end/peak = {y[-1] / y[k]:.2f}"
    return "monotone ↓" if k == 0 else "monotone ↑"


def figure7(sweep: pd.DataFrame, default_exponent: float | None = 0.25) -> plt.Figure:
    """Fort & Ganguli Fig. 7 (E2): (A) lambda_max of H vs sigma_z (log-log), one line per schedule
    exponent a (sigma_c proportional to sigma_z^a, sigma_c/sigma_E fixed), the mean over seeds with a min-max
    band and the default a highlighted; (B) lambda_max / sigma_c^2, which removes the growth of the mean
    logit gradients and leaves the shrinkage of P_kl by freezing (Sec. 4 (3)).

    ``sweep``: exponent, seed, sigma_z, sigma_c, lambda_max (concatenated over exponents and seeds).
    """
    sweep = require_columns(sweep, ("exponent", "seed", "sigma_z", "sigma_c", "lambda_max"), "sweep")
    exponents = sorted(sweep["exponent"].unique())
    colors = _exponent_colors(exponents, default_exponent)
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12.5, 4.9))
    table = sweep.assign(normalised=sweep["lambda_max"] / sweep["sigma_c"] ** 2)
    for a in exponents:
        rows = table[np.isclose(table["exponent"], a)]
        default = _is_default(a, default_exponent)
        for ax, column in ((ax_a, "lambda_max"), (ax_b, "normalised")):
            stats = _spread(rows, "sigma_z", column)
            x, y = stats["sigma_z"].to_numpy(dtype=float), stats["mean"].to_numpy(dtype=float)
            label = f"a = {a:g}" + (" (default)" if default else "")
            if ax is ax_a:
                label += f": {_peak_text(x, y)}"
            # (B) collapses: the default thick underneath, the others thin on top so that all show
            on_top = default if ax is ax_a else not default
            ax.plot(x, y, "-o", ms=4 if default else 2.5, color=colors[a], lw=3.0 if default else 1.2,
                    zorder=3 if on_top else 2, label=label)
            ax.fill_between(x, stats["min"], stats["max"], color=colors[a], alpha=0.15, lw=0)
            if ax is ax_a and 0 < np.nanargmax(y) < len(y) - 1:
                k = int(np.nanargmax(y))
                ax.plot(x[k], y[k], "*", color=colors[a], ms=12, mec="k", zorder=4)
    n_seeds = sweep["seed"].nunique()
    _log_axes(ax_a)
    _log_axes(ax_b)
    ax_a.set(xlabel=r"logit standard deviation $\sigma_z$ (dimensionless; ∝ training time)",
             ylabel=r"top Hessian eigenvalue $\lambda_{max}$ (dimensionless)",
             title=r"(A) $\lambda_{max}$ with $\sigma_c \propto \sigma_z^a$, $\sigma_c/\sigma_E$ fixed"
                   f" (mean of {n_seeds} seeds, band min-max)")
    ax_b.set(xlabel=r"logit standard deviation $\sigma_z$ (dimensionless)",
             ylabel=r"$\lambda_{max} / \sigma_c^2$ (dimensionless)",
             title=r"(B) $\lambda_{max}/\sigma_c^2$: freezing shrinks $P_{kl}$ (curves collapse)")
    ax_a.legend(loc="lower right", **LEGEND)
    ax_b.legend(loc="lower left", **LEGEND)
    fig.suptitle("Fig. 7: non-monotone top Hessian eigenvalue in the random model (star: interior peak)",
                 fontsize=10)
    fig.tight_layout()
    return fig


def _drop_text(x: np.ndarray, y: np.ndarray, start: float = 1.0) -> str:
    """Relative change of y from the grid point nearest ``start`` to the last point."""
    k = int(np.argmin(np.abs(np.log(x) - np.log(start))))
    if k >= len(y) - 1 or not np.isfinite(y[k]) or y[k] == 0:
        return ""
    return f"; {x[k]:.2g} → {x[-1]:.3g}: {100 * (y[-1] / y[k] - 1):+.0f}%"


def figure8(sweep: pd.DataFrame, projection_dim: int = 10, default_exponent: float | None = 0.25,
            dim: int | None = None) -> plt.Figure:
    """Fort & Ganguli Fig. 8 (E2): (A) Tr(H)/||H||_F of the full D x D Hessian vs sigma_z (log x) per
    exponent a (it does not depend on a: the curves coincide), with sqrt(D) marked when ``dim`` is given;
    (B) the same statistic of the d-dimensional projection A^T H A (d = ``projection_dim``, mean over random
    projections per point), mean over seeds with a min-max band, with the bound sqrt(d).

    ``sweep``: exponent, seed, sigma_z, curvature_ratio, projected_ratio.
    """
    sweep = require_columns(sweep, ("exponent", "seed", "sigma_z", "curvature_ratio", "projected_ratio"), "sweep")
    exponents = sorted(sweep["exponent"].unique())
    colors = _exponent_colors(exponents, default_exponent)
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12.5, 4.9))
    shown = default_exponent if any(_is_default(a, default_exponent) for a in exponents) else exponents[0]
    drops = {}
    for a in exponents:
        rows = sweep[np.isclose(sweep["exponent"], a)]
        default = _is_default(a, default_exponent)
        for ax, column in ((ax_a, "curvature_ratio"), (ax_b, "projected_ratio")):
            stats = _spread(rows, "sigma_z", column)
            x, y = stats["sigma_z"].to_numpy(dtype=float), stats["mean"].to_numpy(dtype=float)
            if np.isclose(a, shown):
                drops[column] = _drop_text(x, y)
            # the statistic does not depend on a (H scales as sigma_c^2): the default thick underneath, the
            # others thin on top, so that the collapse shows
            ax.plot(x, y, "-o", ms=4 if default else 2.5, color=colors[a], lw=3.0 if default else 1.0,
                    zorder=2 if default else 3, label=f"a = {a:g}" + (" (default)" if default else ""))
            ax.fill_between(x, stats["min"], stats["max"], color=colors[a], alpha=0.12, lw=0)
    if dim is not None:  # drawn only when it does not squash the curves
        bound = math.sqrt(dim)
        shown_bound = bound <= 2 * float(np.nanmax(sweep["curvature_ratio"]))
        ax_a.plot([], [], "--" if shown_bound else " ", color="k", lw=0.9,
                  label=f"bound $\\sqrt{{D}}$ = {bound:.3g}" + ("" if shown_bound else " (off scale)"))
        if shown_bound:
            ax_a.axhline(bound, color="k", ls="--", lw=0.9)
    ax_b.axhline(math.sqrt(projection_dim), color="k", ls="--", lw=0.9,
                 label=f"bound $\\sqrt{{d}}$ = {math.sqrt(projection_dim):.3g}")
    for ax in (ax_a, ax_b):
        ax.axhline(0, color="0.5", lw=0.5)
        _log_axes(ax, "x")
        ax.legend(loc="lower left", **LEGEND)
    n_seeds = sweep["seed"].nunique()
    ax_a.set(xlabel=r"logit standard deviation $\sigma_z$ (dimensionless; ∝ weight scale)",
             ylabel=r"Tr(H) / $\|H\|_F$ (dimensionless)",
             title=f"(A) full Hessian (independent of a){drops.get('curvature_ratio', '')}")
    ax_b.set(xlabel=r"logit standard deviation $\sigma_z$ (dimensionless)",
             ylabel=r"Tr($H_d$) / $\|H_d\|_F$, $H_d = A^T H A$ (dimensionless)",
             title=f"(B) random d = {projection_dim} projection{drops.get('projected_ratio', '')}")
    ax_a.set_ylim(bottom=0)
    low, high = ax_b.get_ylim()
    ax_b.set_ylim(bottom=min(0.0, low), top=max(high, 1.1 * math.sqrt(projection_dim)))
    fig.suptitle(f"Fig. 8: curvature statistic Tr(H)/‖H‖ in the random model (mean of {n_seeds} seeds, band "
                 f"min-max; changes quoted for a = {shown:g})", fontsize=10)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# the four properties in real networks (brief X1-X3)


def _signed_log_axis(ax: plt.Axes, values) -> str:
    """Log y when every finite value is positive, else symmetric-log y, linear within 1e-3 of the largest
    magnitude; returns the scale's name for the axis label."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    if v.size and (v > 0).all():
        _log_axes(ax, "y")
        return "log axis"
    magnitude = float(np.abs(v).max()) if v.size and np.abs(v).max() > 0 else 1.0
    ax.set_yscale("symlog", linthresh=1e-3 * magnitude)
    ax.axhline(0, color="0.5", lw=0.5)
    return f"symmetric-log axis, linear within ±{1e-3 * magnitude:.1g}"


def figure_properties(hessian: pd.DataFrame, summary: pd.DataFrame, history: pd.DataFrame,
                      run: str | None = None) -> plt.Figure:
    """The four properties in real networks (brief X1-X3): (A) the top-R eigenvalues of H (solid), of the
    G-term (dashed) and of the H-term (dotted) at each checkpoint of one run (``run``, default the first;
    symmetric-log y); (B) gradient power in the top C - 1 / C / 2C eigenvectors of H vs epoch; (C)
    lambda_max vs epoch from the history (lines) and at the checkpoints (markers: H filled, G-term open);
    (D) the number of outliers of H (filled) and of the G-term (open) vs epoch with C - 1 and C marked.
    (B)-(D) draw every run of ``hessian`` / ``summary``, one colour per run (``history`` may hold more runs:
    only those are drawn).

    ``hessian``: run, epoch, rank, eigenvalue, g_eigenvalue, h_eigenvalue; ``summary`` (hessian_summary):
    run, epoch, n_classes, n_outliers, g_n_outliers, power_top_c_minus_1, power_top_c, power_top_2c,
    lambda_max, g_lambda_max; ``history``: run, epoch, lambda_max.
    """
    hessian = require_columns(hessian, ("epoch", "rank", "eigenvalue", "g_eigenvalue", "h_eigenvalue"), "hessian")
    summary = require_columns(summary, ("epoch", "n_classes", "n_outliers", "g_n_outliers", "power_top_c_minus_1",
                                 "power_top_c", "power_top_2c", "lambda_max"), "hessian_summary")
    history = require_columns(history, ("epoch", "lambda_max"), "history")
    runs = sorted(set(_runs(hessian)) | set(_runs(summary)))
    if "run" in history and history["run"].astype(str).isin(runs).any():  # the Hessian runs only
        history = history[history["run"].astype(str).isin(runs)]
    colors = _run_colors(runs)
    shown = run if run is not None else _runs(hessian)[0]
    fig, axes = plt.subplots(2, 2, figsize=(12.5, 9.5))
    ax_a, ax_b, ax_c, ax_d = axes.ravel()
    all_epochs = pd.concat([summary["epoch"], history["epoch"]])

    # (A) spectra of one run
    spectra = _of_run(hessian, shown)
    if spectra.empty:
        raise ValueError(f"hessian has no rows of run {shown!r}")
    epochs = sorted(spectra["epoch"].unique())
    cmap = plt.get_cmap("viridis")
    epoch_colors = {e: cmap(0.9 * k / max(1, len(epochs) - 1)) for k, e in enumerate(epochs)}
    for e in epochs:
        rows = spectra[spectra["epoch"] == e].sort_values("rank")
        stage = f" ({rows['stage'].iloc[0]})" if "stage" in rows and rows["stage"].iloc[0] else ""
        ax_a.plot(rows["rank"], rows["eigenvalue"], "-o", ms=2.5, lw=1.3, color=epoch_colors[e],
                  label=f"epoch {e:g}{stage}")
        ax_a.plot(rows["rank"], rows["g_eigenvalue"], "--", lw=1.0, color=epoch_colors[e])
        ax_a.plot(rows["rank"], rows["h_eigenvalue"], ":", lw=1.0, color=epoch_colors[e])
    for style, name in (("-", "H (full Hessian)"), ("--", "G-term (Eq. 9, PSD)"), (":", "H-term (H − G)")):
        ax_a.plot([], [], style, color="k", lw=1, label=name)
    c = int(summary["n_classes"].iloc[0])
    ax_a.axvline(c - 0.5, color="tab:red", ls="--", lw=0.8, label=f"rank C − 1 = {c - 1} | C")
    scale = _signed_log_axis(ax_a, spectra[["eigenvalue", "g_eigenvalue", "h_eigenvalue"]].to_numpy())
    ax_a.set(xlabel="eigenvalue rank i (descending)", ylabel=f"eigenvalue (dimensionless; {scale})",
             title=f"(A) top eigenvalues of H, G and the H-term: {shown}")
    ax_a.legend(loc="upper right", ncol=2, **LEGEND)

    # (B)-(D) every run
    for name in runs:
        rows = _of_run(summary, name).sort_values("epoch")
        color = colors[name]
        if len(rows):
            for column, style in (("power_top_c_minus_1", ":"), ("power_top_c", "-"), ("power_top_2c", "--")):
                ax_b.plot(rows["epoch"], rows[column], style, marker="o", ms=3, color=color, lw=1.3)
            ax_c.plot(rows["epoch"], rows["lambda_max"], "o", color=color, ms=6, zorder=3)
            if "g_lambda_max" in rows:
                ax_c.plot(rows["epoch"], rows["g_lambda_max"], "s", color=color, ms=7, mfc="none", zorder=3)
            ax_d.plot(rows["epoch"], rows["n_outliers"], "-o", color=color, ms=5, lw=1.3)
            ax_d.plot(rows["epoch"], rows["g_n_outliers"], "--s", color=color, ms=7, mfc="none", lw=1.0)
        trace = _of_run(history, name).sort_values("epoch")
        if len(trace):
            ax_c.plot(trace["epoch"], trace["lambda_max"], "-", color=color, lw=1.3)
            k = int(np.nanargmax(trace["lambda_max"].to_numpy(dtype=float)))
            if 0 < k < len(trace) - 1:
                ax_c.plot(trace["epoch"].iloc[k], trace["lambda_max"].iloc[k], "*", color=color, ms=12,
                          mec="k", zorder=4)
    run_handles = [Line2D([], [], color=colors[r], lw=2, label=r) for r in runs]

    xlabel = _epoch_axis(ax_b, all_epochs)
    keys = [Line2D([], [], color="k", ls=s, lw=1, label=lab) for s, lab in
            ((":", "top C − 1"), ("-", "top C"), ("--", "top 2C"))]
    ax_b.legend(handles=run_handles + keys, loc="lower right", **LEGEND)
    ax_b.set(xlabel=xlabel, ylabel="fraction of $\\|g\\|^2$ in the top-k eigenvectors of H (dimensionless)",
             ylim=(0, 1.02), title="(B) gradient confinement to the top Hessian subspace")

    _epoch_axis(ax_c, all_epochs)
    values = pd.concat([history["lambda_max"], summary["lambda_max"]]).to_numpy(dtype=float)
    if (values[np.isfinite(values)] > 0).all():
        _log_axes(ax_c, "y")
    keys = [Line2D([], [], color="k", lw=1, label="history (power iteration)"),
            Line2D([], [], color="k", marker="o", ls="none", label="checkpoint, H"),
            Line2D([], [], color="k", marker="s", mfc="none", ls="none", label="checkpoint, G-term"),
            Line2D([], [], color="k", marker="*", ms=10, ls="none", label="interior peak")]
    ax_c.legend(handles=run_handles + keys, **LEGEND)
    ax_c.set(xlabel=xlabel, ylabel=r"top Hessian eigenvalue $\lambda_{max}$ (dimensionless)",
             title=r"(C) $\lambda_{max}$ over training: grows, peaks, declines?")

    _epoch_axis(ax_d, all_epochs)
    keys = [Line2D([], [], color="k", marker="o", lw=1, label="H"),
            Line2D([], [], color="k", marker="s", mfc="none", ls="--", lw=1, label="G-term")]
    for value, style, name in ((c - 1, ":", f"C − 1 = {c - 1}"), (c, "-.", f"C = {c}")):
        keys.append(ax_d.axhline(value, color="0.4", ls=style, lw=0.9, label=name))
    ax_d.legend(handles=run_handles + keys, **LEGEND)
    ax_d.set(xlabel=xlabel, ylabel="number of outliers (largest gap ratio, brief §6.6)",
             title="(D) number of Hessian outliers over training")
    most = pd.concat([summary["n_outliers"], summary["g_n_outliers"]]).max()
    ax_d.set_ylim(bottom=0, top=max(c, most) + 1.5)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Goldilocks zone and hyperplane training (brief X4)


def figure_goldilocks(radius: pd.DataFrame, hyperplane: pd.DataFrame, projection_dim: int | None = None,
                      n_classes: int | None = None) -> plt.Figure:
    """The Goldilocks zone (brief X4, [17]): (A) Tr(H)/||H||_F of the full H (solid), of its random
    d-dim projections (dashed, band +-sd over projections) and of the G-term alone (dotted) vs the init
    radius (log x), one colour per run, the unscaled init (scale 1) dotted; (B) final train accuracy of
    training only theta in W = W0 + M theta vs radius, one line per hyperplane dimension d (mean over draws,
    band min-max); (C) Tr(H_d)/||H_d||_F at theta = 0 on the same hyperplane vs the final accuracy, one
    point per draw, with the Spearman correlation per d.

    ``radius``: run, scale, radius, curvature_ratio, projected_ratio (projected_ratio_sd,
    g_curvature_ratio optional); ``hyperplane``: run, scale, radius, dim, draw, accuracy, projected_ratio.
    ``projection_dim`` marks sqrt(d) in (A); ``n_classes`` marks chance in (B).
    """
    radius = require_columns(radius, ("radius", "curvature_ratio", "projected_ratio"), "radius")
    hyperplane = require_columns(hyperplane, ("radius", "dim", "accuracy", "projected_ratio"), "hyperplane")
    runs = sorted(set(_runs(radius)) | set(_runs(hyperplane)))
    colors = _run_colors(runs)
    fig, (ax_a, ax_b, ax_c) = plt.subplots(1, 3, figsize=(17, 5.6))

    for name in runs:
        rows = _of_run(radius, name).sort_values("radius")
        if rows.empty:
            continue
        color = colors[name]
        ax_a.plot(rows["radius"], rows["curvature_ratio"], "-o", ms=3, color=color, lw=1.5)
        ax_a.plot(rows["radius"], rows["projected_ratio"], "--", color=color, lw=1.2)
        if "projected_ratio_sd" in rows:
            ax_a.fill_between(rows["radius"], rows["projected_ratio"] - rows["projected_ratio_sd"],
                              rows["projected_ratio"] + rows["projected_ratio_sd"], color=color, alpha=0.12,
                              lw=0)
        if "g_curvature_ratio" in rows:
            ax_a.plot(rows["radius"], rows["g_curvature_ratio"], ":", color=color, lw=1.4)
        if "scale" in rows:
            for r in rows.loc[np.isclose(rows["scale"], 1.0), "radius"]:
                ax_a.axvline(r, color=color, ls=":", lw=0.7)
    if projection_dim is not None:
        ax_a.axhline(math.sqrt(projection_dim), color="0.3", ls="-.", lw=0.8,
                     label=f"bound $\\sqrt{{d}}$ = {math.sqrt(projection_dim):.3g}")
    ax_a.axhline(0, color="0.5", lw=0.5)
    handles = [Line2D([], [], color=colors[r], lw=2, label=r) for r in runs]
    handles += [Line2D([], [], color="k", ls=s, lw=1, label=lab) for s, lab in
                (("-", "full H"), ("--", "random d-dim projection (± sd)"), (":", "G-term only"))]
    handles += ax_a.get_legend_handles_labels()[0]
    ax_a.legend(handles=handles, **LEGEND)
    _log_axes(ax_a, "x")
    ax_a.set(xlabel=r"init radius $\|s\,W_0\|_2$ (dimensionless; vertical dotted: s = 1)",
             ylabel=r"Tr(H) / $\|H\|_F$ (dimensionless)",
             title="(A) curvature statistic vs init radius\n(Goldilocks: large Tr(H)/‖H‖)")

    dims = sorted(hyperplane["dim"].unique())
    cmap = plt.get_cmap("plasma")
    dim_colors = {d: cmap(0.85 * k / max(1, len(dims) - 1)) for k, d in enumerate(dims)}
    styles = ("-", "--", "-.", ":")
    hyper_runs = _runs(hyperplane)
    for j, name in enumerate(hyper_runs):
        rows = _of_run(hyperplane, name)
        for d in dims:
            these = rows[rows["dim"] == d]
            if these.empty:
                continue
            stats = _spread(these, "radius", "accuracy")
            label = f"d = {d}" + (f", {name}" if len(hyper_runs) > 1 else "")
            ax_b.plot(stats["radius"], stats["mean"], styles[j % len(styles)], marker="o", ms=3,
                      color=dim_colors[d], lw=1.4, label=label)
            ax_b.fill_between(stats["radius"], stats["min"], stats["max"], color=dim_colors[d], alpha=0.12,
                              lw=0)
    if n_classes:
        ax_b.axhline(100 / n_classes, color="0.4", ls=":", lw=0.9,
                     label=f"chance (100/C = {100 / n_classes:.0f}%)")
    _log_axes(ax_b, "x")
    draws = hyperplane.groupby(["radius", "dim"]).size().max()
    ax_b.set(xlabel=r"init radius $\|s\,W_0\|_2$ of the hyperplane anchor (dimensionless)",
             ylabel="final train accuracy (%)", ylim=(0, 102),
             title=f"(B) training in random d-dim hyperplanes\n(mean of ≤ {draws} draws, band min-max)")
    ax_b.legend(**LEGEND)

    for d in dims:
        these = hyperplane[hyperplane["dim"] == d]
        ok = np.isfinite(these["projected_ratio"]) & np.isfinite(these["accuracy"])
        rho = spearman(these["projected_ratio"], these["accuracy"])
        ax_c.scatter(these["projected_ratio"], these["accuracy"], s=16, color=dim_colors[d], alpha=0.8,
                     label=f"d = {d}: Spearman ρ = {rho:+.2f} (n = {int(ok.sum())})")
    ax_c.set(xlabel=r"Tr($H_d$) / $\|H_d\|_F$ at θ = 0 on the hyperplane (dimensionless)",
             ylabel="final train accuracy (%)", ylim=(0, 102),
             title="(C) curvature at the anchor vs success\n(one point per draw and radius)")
    ax_c.legend(loc="upper left", **LEGEND)
    fig.suptitle("Goldilocks zone and random-hyperplane training (brief X4; not in Fort & Ganguli)",
                 fontsize=10)
    fig.tight_layout()
    return fig
