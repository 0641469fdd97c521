"""Feng & Tu ("Self-tuned annealing in deep learning", arXiv) Figs. 1-5, S1, S2, S3B-D and control C1.

Inputs are the tables of the ``fengtu`` rules (one DataFrame per run / layer, see the brief, section 4);
nothing measured is recomputed here except the fits drawn on the panels (power-law slopes with
:func:`thermoscape.measure.stats.fit_power_law`, gamma with :func:`thermoscape.measure.pca.spectrum_exponent`, psi with
:func:`thermoscape.measure.stats.variance_flatness_exponent`) and the PCA of the isotropic random walk of control
C2 (Fig. 1). Every figure function returns a :class:`matplotlib.figure.Figure`; a required table that is
empty or lacks a column raises a :class:`ValueError` that names it.

Conventions: weights and PCA coordinates are dimensionless, time is in epochs, losses are the cross-entropy
on the training set, test errors are in percent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import Normalize
from matplotlib.ticker import FuncFormatter, LogLocator
from scipy import stats as sps

from thermoscape.plotting import plain_log_ticks, require_columns, temperature_colors
from thermoscape.measure.stats import fit_power_law, variance_flatness_exponent
from thermoscape.measure.pca import (
    cumulative_variance,
    n_fraction,
    principal_components,
    random_walk,
    spectrum_exponent,
)

LDC_STYLE = {"color": "tab:blue", "marker": "o"}  # Fig. 4E-F: LDC blue circles, EWC red squares
EWC_STYLE = {"color": "tab:red", "marker": "s"}
FIT_STYLE = {"color": "red", "ls": ":", "lw": 1.3}  # the Eq. 7 quadratic fits and xi_i (the paper's red dots)
LEGEND = {"fontsize": 7, "framealpha": 0.85}
RANDOM_WALK_SEED = 0
SHORT_DECADES = 1.5  # log axes spanning fewer decades get 1-2-3-5 labels


# --------------------------------------------------------------------------------------------------
# helpers


def _rank_colors(ranks: Sequence[int]) -> dict[int, tuple]:
    """A viridis colour per rank (dark = small i), without the pale yellow end."""
    cmap = plt.get_cmap("viridis")
    ranks = sorted(ranks)
    return {r: cmap(0.85 * k / max(1, len(ranks) - 1)) for k, r in enumerate(ranks)}


def _fit_line(ax: plt.Axes, x, y, **style) -> tuple[float, float, int]:
    """Power-law fit ``y = A x^a`` (:func:`fit_power_law`) over the finite positive pairs, drawn over their
    x range with ``style``; returns ``(a, stderr, n)`` (NaN slope with fewer than 3 points)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if keep.sum() < 3 or np.unique(x[keep]).size < 2:
        return float("nan"), float("nan"), int(keep.sum())
    amplitude, slope, stderr = fit_power_law(x[keep], y[keep])
    grid = np.geomspace(x[keep].min(), x[keep].max(), 50)
    ax.plot(grid, amplitude * grid**slope, **style)
    return slope, stderr, int(keep.sum())


def _signed(value: float, error: float) -> str:
    return f"{value:+.2f} ± {error:.2f}"


def _log_axes(ax: plt.Axes, axis: str = "both") -> None:
    """Log scale on ``axis`` (x, y or both) with decade labels only; an axis spanning less than
    SHORT_DECADES decades (call after plotting) gets labels at 1, 2, 3 and 5 times the powers of ten."""
    for name in ("x", "y") if axis == "both" else (axis,):
        getattr(ax, f"set_{name}scale")("log")
        plain_log_ticks(ax, name)
        low, high = getattr(ax, f"get_{name}lim")()
        if low > 0 and np.log10(high / low) < SHORT_DECADES:
            scale = getattr(ax, f"{name}axis")
            scale.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 3.0, 5.0)))
            scale.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))


def _positive(values) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    return v[np.isfinite(v) & (v > 0)]


def _variance_flatness_panel(
    ax: plt.Axes,
    tables: Sequence[pd.DataFrame],
    labels: Sequence[str],
    rank_range: tuple[int, int],
    min_rank: int = 2,
    colors: Sequence | None = None,
    markers: Sequence[str] | None = None,
    show_psi: bool = True,
) -> list[dict]:
    """sigma_i^2 against F_i (log-log), one series per table, with the fit of Eq. 8 (dashed) over
    ``max(min_rank, low) <= i <= high``; points outside the range are open. Returns one dict per series
    (label, psi, stderr, spearman, n); a series with fewer than 3 usable points is drawn without a fit."""
    if len(tables) != len(labels):
        raise ValueError(f"{len(tables)} flatness tables but {len(labels)} labels")
    low, high = max(min_rank, rank_range[0]), rank_range[1]
    results = []
    for k, (table, label) in enumerate(zip(tables, labels, strict=True)):
        table = require_columns(table, ("rank", "variance", "width"), f"flatness ({label})")
        color = colors[k] if colors is not None else f"C{k}"
        marker = markers[k] if markers is not None else "o"
        used = table[(table["rank"] >= low) & (table["rank"] <= high)]
        other = table[~table.index.isin(used.index) & (table["rank"] >= min_rank)]
        ax.plot(other["width"], other["variance"], marker, color=color, mfc="none", ms=4, alpha=0.6,
                ls="none")
        try:
            variances, widths = (used[c].to_numpy(dtype=float, copy=True) for c in ("variance", "width"))
            psi, stderr, rho, n = variance_flatness_exponent(variances, widths)
        except ValueError:
            psi = stderr = rho = float("nan")
            n = 0
        if show_psi:
            text = f"{label}: ψ = {psi:.2f} ± {stderr:.2f}, ρ = {rho:.2f} (n = {n})"
        else:
            text = f"{label}: slope {_signed(-psi, stderr)}, ρ = {rho:+.2f} (n = {n})"
        ax.plot(used["width"], used["variance"], marker, color=color, ms=4, ls="none", label=text)
        if n >= 3:
            _fit_line(ax, used["width"], used["variance"], color=color, ls="--", lw=1)
        results.append({"label": label, "psi": psi, "stderr": stderr, "spearman": rho, "n": n})
    _log_axes(ax)
    ax.set(xlabel="flatness $F_i$ (width where $L_i = e L_0$)", ylabel=r"variance $\sigma_i^2$")
    return results


# --------------------------------------------------------------------------------------------------
# Fig. 1


def figure1(
    pca: pd.DataFrame,
    components: Mapping[str, np.ndarray],
    gamma_range: tuple[int, int] = (20, 200),
    window_epochs: float | None = None,
    walk_seed: int = RANDOM_WALK_SEED,
) -> plt.Figure:
    """Feng & Tu Fig. 1 (E1, W2): (A) sigma_i^2 vs rank i with the power law i^-gamma fitted over
    ``low < i < high`` and, as control C2, an isotropic random walk of the same number of steps and
    dimension, scaled to the same total variance; (B) C(n) (Fig. 1B, modes 2..n) with n_90; (C) theta_2 vs
    theta_1 and (D) theta_50 vs theta_49, coloured by time in the window.

    ``pca``: rank, variance, cumulative; ``components``: pca.pt (``theta`` ``(n_snap, r)``, ``mean``
    ``(n,)``); ``window_epochs``: the window's length, to colour by epochs (else by iteration).
    """
    pca = require_columns(pca, ("rank", "variance", "cumulative"), "pca").sort_values("rank")
    theta = np.asarray(components["theta"], dtype=float)
    if theta.ndim != 2 or theta.shape[1] < 50:
        raise ValueError(f"components['theta'] must be (n_snap, >= 50) for Fig. 1D, got {theta.shape}")
    n_snap, n_weights = theta.shape[0], int(np.asarray(components["mean"]).shape[0])
    rank, variance = pca["rank"].to_numpy(), pca["variance"].to_numpy(dtype=float)
    low, high = gamma_range

    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    ax_a, ax_b, ax_c, ax_d = axes.ravel()

    # (A) spectrum, fit, random walk
    gamma, gamma_err = spectrum_exponent(variance, low, high)
    keep = (rank > low) & (rank < high)
    ax_a.plot(rank, variance, "o", color="tab:blue", ms=2.5, label=f"SGD (E1, W2): {len(rank)} modes")
    amplitude, slope, _ = fit_power_law(rank[keep], variance[keep])
    grid = np.geomspace(low, high, 40)
    ax_a.plot(grid, amplitude * grid**slope, "k--", lw=1.3,
              label=f"fit {low} < i < {high}: γ = {gamma:.2f} ± {gamma_err:.2f}")
    walk = principal_components(random_walk(n_snap, n_weights, walk_seed), n_components=1).variances
    walk = walk * variance.sum() / walk.sum()
    walk_gamma, walk_err = spectrum_exponent(walk, low, high)
    ax_a.plot(np.arange(1, walk.size + 1), walk, "-", color="0.55", lw=1.2,
              label=f"random walk (C2), same steps and N, same total: γ = {walk_gamma:.2f} ± {walk_err:.2f}")
    ax_a.axvspan(low, high, color="0.9", zorder=0)
    ratio = variance[0] / variance[1]
    ax_a.set(xlabel="rank i", ylabel=r"variance $\sigma_i^2$",
             title=f"(A) PCA spectrum; σ₁²/σ₂² = {ratio:.3g} (random walk {walk[0] / walk[1]:.3g})")
    _log_axes(ax_a)
    ax_a.legend(loc="lower left", **LEGEND)

    # (B) C(n), modes 2..n
    use = pca[pca["rank"] >= 2]
    n90 = n_fraction(variance, 0.9)
    walk_n, walk_c = cumulative_variance(walk)
    ax_b.plot(use["rank"], use["cumulative"], "-", color="tab:blue", lw=1.5, label="SGD (E1, W2)")
    ax_b.plot(walk_n, walk_c, "-", color="0.55", lw=1.2,
              label=f"random walk (C2): $n_{{90}}$ = {n_fraction(walk, 0.9)}")
    ax_b.axhline(0.9, color="k", lw=0.7, ls=":")
    ax_b.axvline(n90, color="tab:red", lw=1, ls="--", label=f"$n_{{90}}$ = {n90} (paper: 35 of N = 2500)")
    ax_b.set(xscale="log", xlabel="number of modes n", ylabel="C(n), cumulative variance of modes 2..n",
             ylim=(0, 1.03), title=f"(B) low dimensionality (N = {n_weights} weights)")
    plain_log_ticks(ax_b)
    ax_b.legend(loc="upper left", **LEGEND)

    # (C), (D) trajectories coloured by time
    time = np.arange(n_snap, dtype=float)
    time_label = "iteration in the window"
    if window_epochs is not None:
        time = time * window_epochs / n_snap
        time_label = "time in the window (epochs)"
    norm = Normalize(time.min(), time.max())
    for ax, (i, j), title in ((ax_c, (1, 2), "(C) drift along θ₁, diffusion along θ₂"),
                              (ax_d, (49, 50), "(D) diffusion in (θ₄₉, θ₅₀)")):
        ax.plot(theta[:, i - 1], theta[:, j - 1], "-", color="0.8", lw=0.4, zorder=1)
        points = ax.scatter(theta[:, i - 1], theta[:, j - 1], c=time, cmap="viridis", norm=norm, s=4,
                            zorder=2)
        ax.set(xlabel=f"$\\theta_{{{i}}}$", ylabel=f"$\\theta_{{{j}}}$", title=title)
        ax.ticklabel_format(style="sci", scilimits=(-2, 3))
        fig.colorbar(points, ax=ax, label=time_label)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Fig. 2


def figure2(
    profiles: pd.DataFrame,
    flatness: Sequence[pd.DataFrame],
    labels: Sequence[str],
    ranks: Sequence[int] = (10, 20, 50, 100),
    psi_range: tuple[int, int] = (2, 500),
) -> plt.Figure:
    """Feng & Tu Fig. 2: (A) L_i(dtheta) (Eq. 6) for ``ranks``; (B) ln L_i with the quadratic fit of Eq. 7
    (red dotted; fitted on |dtheta| <= F_i/2, from the flatness table) and F_i as the width at ln L_0 + 1;
    (C) F_i vs i (E1) with F_i^fit = 2/sqrt(c2); (D) sigma_i^2 vs F_i per run (Eq. 8) with psi and Spearman.

    ``profiles``: E1 W2 profiles (rank, offset, loss); ``flatness``: one table per run, E1 first.
    """
    profiles = require_columns(profiles, ("rank", "offset", "loss"), "profiles")
    if not flatness:
        raise ValueError("figure2 needs at least one flatness table (E1 first)")
    e1 = require_columns(flatness[0], ("rank", "variance", "width", "d_plus", "d_minus", "loss0", "c0", "c1", "c2",
                                "width_fit"), "flatness (E1)").sort_values("rank")
    shown = [r for r in ranks if r in set(profiles["rank"]) and r in set(e1["rank"])]
    if not shown:
        raise ValueError(f"none of the ranks {list(ranks)} has both a profile and a flatness row")
    colors = _rank_colors(shown)
    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    ax_a, ax_b, ax_c, ax_d = axes.ravel()

    loss0 = float(e1["loss0"].iloc[0])
    log_range = [np.inf, -np.inf]
    for r in shown:
        curve = profiles[profiles["rank"] == r].sort_values("offset")
        row = e1[e1["rank"] == r].iloc[0]
        ax_a.plot(curve["offset"], curve["loss"], "-", color=colors[r], lw=1.5, label=f"i = {r}")
        ax_b.plot(curve["offset"], np.log(curve["loss"]), "-", color=colors[r], lw=1.5,
                  label=f"i = {r}: $F_i$ = {row['width']:.3g}, $R^2$ = {row['r2']:.4f}" if "r2" in row
                  else f"i = {r}: $F_i$ = {row['width']:.3g}")
        log_loss = np.log(curve["loss"].to_numpy(dtype=float))
        log_range = [min(log_range[0], log_loss.min()), max(log_range[1], log_loss.max())]
        x = np.linspace(curve["offset"].min(), curve["offset"].max(), 200)
        ax_b.plot(x, row["c0"] + row["c1"] * x + row["c2"] * x**2, **FIT_STYLE)
    ax_b.plot([], [], **FIT_STYLE, label="Eq. 7 fit on |δθ| ≤ $F_i$/2")
    ax_a.axhline(loss0, color="0.5", lw=0.7, ls=":")
    ax_a.set(xlabel=r"displacement $\delta\theta$ along $p_i$", ylabel="$L_i$ (cross-entropy)",
             title="(A) loss profiles along PCA directions (E1, W2)")
    ax_a.legend(**LEGEND)

    # F_i illustrated on the first shown rank: the width at ln L_0 + 1
    level = np.log(loss0) + 1
    first = e1[e1["rank"] == shown[0]].iloc[0]
    ax_b.axhline(np.log(loss0), color="0.5", lw=0.7, ls=":")
    ax_b.axhline(level, color="0.3", lw=0.7, ls="--")
    ax_b.annotate("", xy=(float(first["d_plus"]), level), xytext=(-float(first["d_minus"]), level),
                  arrowprops={"arrowstyle": "<->", "color": colors[shown[0]], "lw": 1.5})
    ax_b.text(0, level + 0.08, f"$F_{{{shown[0]}}}$", color=colors[shown[0]], ha="center", va="bottom")
    ax_b.text(ax_b.get_xlim()[1], level, r"ln $L_0$ + 1 ", ha="right", va="bottom", fontsize=7, color="0.3")
    pad = 0.05 * (log_range[1] - log_range[0])
    ax_b.set(xlabel=r"displacement $\delta\theta$ along $p_i$", ylabel=r"ln $L_i$",
             ylim=(log_range[0] - pad, log_range[1] + pad), title=r"(B) ln $L_i$, quadratic near 0 (Eq. 7)")
    ax_b.legend(loc="upper center", **LEGEND)

    # (C) F_i vs i, E1; the drift mode apart
    scan = e1[np.isfinite(e1["width"])]
    diffusive, drift = scan[scan["rank"] >= 2], scan[scan["rank"] == 1]
    rho_i = float(sps.spearmanr(diffusive["rank"], diffusive["width"]).statistic) if len(diffusive) > 2 \
        else float("nan")
    ax_c.plot(diffusive["rank"], diffusive["width"], "o", color="tab:blue", ms=4,
              label=f"$F_i$ (e $L_0$ crossings), i ≥ 2: Spearman ρ(i, F) = {rho_i:.2f}")
    if len(drift):
        ax_c.plot(drift["rank"], drift["width"], "s", color="tab:orange", ms=6, mfc="none",
                  label="$F_1$ (drift mode)")
    ax_c.plot(scan["rank"], scan["width_fit"], "x", color="tab:red", ms=4,
              label=r"$F_i^{fit} = 2/\sqrt{c_2}$")
    ax_c.set(xlabel="rank i", ylabel="flatness $F_i$",
             title=f"(C) flatness vs rank (E1, {len(scan)} directions)")
    _log_axes(ax_c)
    ax_c.legend(**LEGEND)

    # (D) sigma^2 vs F per run
    _variance_flatness_panel(ax_d, flatness, labels, psi_range)
    ax_d.set_title(f"(D) inverse variance-flatness relation, fit {max(2, psi_range[0])} ≤ i ≤ {psi_range[1]}")
    ax_d.legend(loc="lower left", **LEGEND)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Fig. 3


def figure3(minibatch: pd.DataFrame, profiles: pd.DataFrame, n_shown: int | None = None) -> plt.Figure:
    """Feng & Tu Fig. 3: (A) ln L_i (red) and minibatch ln L_i^mu (blue dashed) along one direction; (B)
    sigma~_i^2, M^(0)_ii and (M^(0)_ii)^2 sigma~_i^2 (Eqs. 10-12) vs F_i with fitted log-log slopes
    (paper: +2, -2, -2). ``n_shown`` limits the number of minibatch curves (all by default)."""
    minibatch = require_columns(minibatch, ("rank", "width", "M0", "sigma_tilde2", "M0_squared_sigma_tilde2"),
                         "minibatch")
    profiles = require_columns(profiles, ("rank", "kind", "batch", "offset", "log_loss"), "minibatch_profiles")
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12, 4.8))

    full = profiles[profiles["kind"] == "full"].sort_values("offset")
    batches = profiles[profiles["kind"] == "batch"]
    if full.empty:
        raise ValueError("minibatch_profiles has no 'full' profile")
    batch_ids = sorted(batches["batch"].unique())[:n_shown]
    for k, b in enumerate(batch_ids):
        curve = batches[batches["batch"] == b].sort_values("offset")
        ax_a.plot(curve["offset"], curve["log_loss"], "--", color="tab:blue", lw=0.9, alpha=0.8,
                  label=f"{len(batch_ids)} minibatches, ln $L_i^\\mu$" if k == 0 else None)
    ax_a.plot(full["offset"], full["log_loss"], "-", color="red", lw=2.2, label="full training set, ln $L_i$")
    rank = int(full["rank"].iloc[0])
    ax_a.set(xlabel=rf"displacement $\delta\theta$ along $p_{{{rank}}}$", ylabel="ln loss (cross-entropy)",
             title=f"(A) minibatch loss functions, i = {rank}")
    ax_a.legend(**LEGEND)

    series = (("sigma_tilde2", r"$\tilde\sigma_i^2$ (variance of minibatch minima)", "o", "tab:blue", "+2"),
              ("M0", r"$M^{(0)}_{ii}$ (mean minibatch curvature)", "s", "tab:green", "-2"),
              ("M0_squared_sigma_tilde2", r"$(M^{(0)}_{ii})^2\tilde\sigma_i^2$", "^", "tab:purple", "-2"))
    for column, label, marker, color, paper in series:
        slope, stderr, _ = _fit_line(ax_b, minibatch["width"], minibatch[column], color=color, ls="--", lw=1)
        ax_b.plot(minibatch["width"], minibatch[column], marker, color=color, ms=5, ls="none",
                  label=f"{label}: slope {_signed(slope, stderr)} (paper {paper})")
    discarded = ""
    if "discarded_fraction" in minibatch:
        discarded = f"; discarded fits (c₂ ≤ 0) ≤ {100 * minibatch['discarded_fraction'].max():.1f}%"
    ax_b.set(xlabel="flatness $F_i$", ylabel="MLF ensemble statistic",
             title=f"(B) {len(minibatch)} directions{discarded}")
    _log_axes(ax_b)
    ax_b.legend(loc="best", **LEGEND)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Fig. 4


def _seed_mean(table: pd.DataFrame, keys: Sequence[str], columns: Sequence[str]) -> pd.DataFrame:
    return table.groupby(list(keys), as_index=False)[list(columns)].mean()


def _pick_lambda(table: pd.DataFrame, lam: float, n_constrained: int) -> pd.DataFrame:
    """Rows of one LDC lambda, at ``n_constrained`` when that exists (else the smallest N_c available)."""
    rows = table[np.isclose(table["lam"], lam)]
    if rows.empty:
        return rows
    n = n_constrained if (rows["n_constrained"] == n_constrained).any() else rows["n_constrained"].min()
    return rows[rows["n_constrained"] == n]


def _errors_panel(ax: plt.Axes, curves: pd.DataFrame, before: float | None, title: str) -> None:
    if curves.empty:
        ax.text(0.5, 0.5, "no run", transform=ax.transAxes, ha="center", va="center")
    else:
        mean = _seed_mean(curves, ["epoch"], ["eps1", "eps2"])
        seeds = curves["seed"].nunique() if "seed" in curves else 1
        for k, color in ((1, "tab:blue"), (2, "tab:red")):
            ax.plot(mean["epoch"], 100 * mean[f"eps{k}"], "-", color=color, lw=1.5,
                    label=rf"$\epsilon_{k}$ (task {k})")
        title += f" ({seeds} seed{'s' if seeds > 1 else ''})" if seeds > 1 else ""
    if before is not None and np.isfinite(before):
        ax.axhline(100 * before, color="tab:blue", lw=0.8, ls=":", label=r"$\epsilon_1$ before task 2")
    ax.set(xlabel="task-2 training time (epochs)", ylabel="test error (%)", ylim=(-2, 102), title=title)
    ax.legend(**LEGEND)


def _displacement_panel(ax: plt.Axes, moved: pd.DataFrame, n_constrained: int, title: str, shade: bool,
                        no_threshold: int = 0) -> None:
    """q_i and xi_i vs i (log-log); a note counts q <= xi over i <= n_constrained (shaded if ``shade``)."""
    notes = []
    if moved.empty:
        ax.text(0.5, 0.5, "no run", transform=ax.transAxes, ha="center", va="center")
        ax.set(xscale="log", yscale="log")
    else:
        mean = _seed_mean(moved.replace([np.inf, -np.inf], np.nan), ["rank"], ["q", "xi"])
        ax.plot(mean["rank"], mean["q"], "o", color="k", ms=2, label=r"$q_i = |(w_2 - w_1) \cdot p_{1i}|$")
        ax.plot(mean["rank"], mean["xi"], **FIT_STYLE, label=r"$\xi_i = 0.008 F_{1i}$")
        if shade:
            ax.axvspan(mean["rank"].min(), n_constrained, color="tab:blue", alpha=0.08, lw=0,
                       label=f"constrained modes, i ≤ {n_constrained}")
        inside = mean[(mean["rank"] <= n_constrained) & mean["xi"].notna()]
        if len(inside):
            notes.append(f"q ≤ ξ for {int((inside['q'] <= inside['xi']).sum())} of the {len(inside)} ranks "
                         f"i ≤ {n_constrained} with a finite ξ")
        _log_axes(ax)
    if no_threshold:
        notes.append(f"{no_threshold} ranks with $F_{{1i}}$ = ∞ (no e $L_0$ crossing): no ξ")
    if notes:
        ax.text(0.02, 0.02, "\n".join(notes), transform=ax.transAxes, fontsize=7, color="0.2", va="bottom")
    ax.set(xlabel="task-1 PCA rank i", ylabel="displacement / threshold", title=title)
    ax.legend(loc="upper right", **LEGEND)


def _label_points(ax: plt.Axes, sweeps: Mapping[str, pd.DataFrame], min_distance: float = 0.05) -> None:
    """Label the points of the lambda sweeps (colour -> table of lam, eps1, eps2) with lambda, skipping a
    label closer than ``min_distance`` (fraction of the data range) to one already written."""
    if not sweeps:
        return
    points = pd.concat(sweeps.values())
    span = np.array([np.ptp(points["eps1"]) or 1.0, np.ptp(points["eps2"]) or 1.0])
    written: list[np.ndarray] = []
    for color, mean in sweeps.items():
        for _, row in mean.iterrows():
            here = np.array([row["eps1"], row["eps2"]]) / span
            if any(np.hypot(*(here - other)) < min_distance for other in written):
                continue
            written.append(here)
            ax.annotate(f"{row['lam']:g}", (100 * row["eps1"], 100 * row["eps2"]), fontsize=6, xytext=(3, 3),
                        textcoords="offset points", color=color)


def _sweep_label(rows: pd.DataFrame, name: str, column: str, fmt: str) -> str:
    values = rows[column].unique()
    return f"{name} ({column.replace('lam', 'λ').replace('n_constrained', 'N_c')} = {values[0]:{fmt}})" \
        if len(values) == 1 else name


def figure4(
    curves: pd.DataFrame,
    final: pd.DataFrame,
    displacements: pd.DataFrame,
    task1: pd.DataFrame | None = None,
    shown_lambda: float = 10.0,
    shown_constrained: int = 200,
) -> plt.Figure:
    """Feng & Tu Fig. 4 (E7, catastrophic forgetting): (A) eps_1, eps_2 vs task-2 time for LDC with
    lambda = 0; (B) q_i and xi_i = 0.008 F_1i (red dotted) for lambda = 0; (C), (D) the same for LDC with
    lambda = ``shown_lambda``, N_c = ``shown_constrained`` (Eq. 15); (E) saturated (eps_1, eps_2) of the
    lambda sweeps, LDC blue circles, EWC red squares; (F) eps_1 + eps_2 vs N_c. Means over seeds.

    Tables are the concatenations over methods and seeds; ``task1`` (rank, width) counts the task-1
    directions with no finite flatness, which have no threshold.
    """
    curves = require_columns(curves, ("epoch", "eps1", "eps2", "method", "lam", "n_constrained"), "curves")
    final = require_columns(final, ("method", "lam", "n_constrained", "eps1", "eps2", "lambda_sweep",
                             "constrained_sweep"), "final")
    displacements = require_columns(displacements, ("method", "lam", "n_constrained", "rank", "q", "xi"),
                             "displacements")
    no_threshold = 0
    if task1 is not None and len(task1) and "width" in task1:
        per_seed = task1.groupby("seed") if "seed" in task1 else [(None, task1)]
        no_threshold = max(int((~np.isfinite(t["width"].to_numpy(dtype=float))).sum()) for _, t in per_seed)
    before = float(final["eps1_before"].mean()) if "eps1_before" in final else None
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    (ax_a, ax_b, ax_e), (ax_c, ax_d, ax_f) = axes

    ldc_curves, ldc_moved = curves[curves["method"] == "ldc"], displacements[displacements["method"] == "ldc"]
    _errors_panel(ax_a, _pick_lambda(ldc_curves, 0.0, shown_constrained), before, "(A) no constraint, λ = 0")
    _displacement_panel(ax_b, _pick_lambda(ldc_moved, 0.0, shown_constrained), shown_constrained,
                        "(B) displacements, λ = 0", False, no_threshold)
    shown = f"λ = {shown_lambda:g}, $N_c$ = {shown_constrained}"
    _errors_panel(ax_c, _pick_lambda(ldc_curves, shown_lambda, shown_constrained), before,
                  f"(C) LDC, {shown}")
    _displacement_panel(ax_d, _pick_lambda(ldc_moved, shown_lambda, shown_constrained), shown_constrained,
                        f"(D) LDC, {shown}", True, no_threshold)

    finite = final[np.isfinite(final["eps1"]) & np.isfinite(final["eps2"])]
    n_bad = len(final) - len(finite)
    sweeps = {}
    for name, style in (("ldc", LDC_STYLE), ("ewc", EWC_STYLE)):
        rows = finite[(finite["method"] == name) & finite["lambda_sweep"].astype(bool)]
        if len(rows):
            mean = _seed_mean(rows, ["lam", "n_constrained"], ["eps1", "eps2"]).sort_values("lam")
            ax_e.plot(100 * mean["eps1"], 100 * mean["eps2"], ls="-", lw=0.7, ms=6, mfc="none", mew=1.5,
                      label=_sweep_label(mean, name.upper(), "n_constrained", "d") + ", λ sweep", **style)
            sweeps[style["color"]] = mean
    _label_points(ax_e, sweeps)
    if before is not None and np.isfinite(before):
        ax_e.axvline(100 * before, color="0.4", lw=0.8, ls=":", label=r"$\epsilon_1$ before task 2")
    ax_e.set(xlabel=r"saturated $\epsilon_1$ (task-1 test error, %)",
             ylabel=r"saturated $\epsilon_2$ (task-2 test error, %)",
             title="(E) trade-off as λ varies (labels: λ)"
             + (f"; {n_bad} diverged runs left out" if n_bad else ""))
    ax_e.legend(**LEGEND)

    for name, style in (("ldc", LDC_STYLE), ("ewc", EWC_STYLE)):
        rows = finite[(finite["method"] == name) & finite["constrained_sweep"].astype(bool)]
        if rows.empty:
            continue
        mean = _seed_mean(rows, ["n_constrained", "lam"], ["eps1", "eps2"]).sort_values("n_constrained")
        total = 100 * (mean["eps1"] + mean["eps2"])
        best = mean["n_constrained"].iloc[int(np.argmin(total.to_numpy()))]
        ax_f.plot(mean["n_constrained"], total, ls="-", lw=0.7, ms=6, mfc="none", mew=1.5,
                  label=f"{_sweep_label(mean, name.upper(), 'lam', 'g')}: minimum at $N_c$ = {best}", **style)
    ax_f.set(xscale="log", xlabel="number of constrained modes / weights $N_c$",
             ylabel=r"$\epsilon_1 + \epsilon_2$ (%)", title="(F) overall error vs number of constraints")
    ax_f.legend(**LEGEND)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Fig. 5


def _pearson_log(joined: pd.DataFrame) -> float:
    """Pearson correlation of ln T with ln L over the rows (NaN with fewer than 3)."""
    if len(joined) < 3:
        return float("nan")
    return float(sps.pearsonr(np.log(joined["loss"]), np.log(joined["temperature"])).statistic)


def figure5(
    temperature: pd.DataFrame,
    history: pd.DataFrame,
    transition: tuple[float, float] | None = None,
) -> plt.Figure:
    """Feng & Tu Fig. 5 (active temperature, Eq. 17): (A) T_i(dtheta) at the last epoch per rank; (B)
    T_i(0) vs i, inset T_i(0) vs F_i (i >= 2) with slope and Spearman; (C) T_10(dtheta) at several epochs;
    (D) T_10(0, t) and L(t) (red, right axis) vs epoch, inset log T vs log L with the Pearson correlation.

    ``temperature``: kind (profile | rank | time), epoch, rank, width, offset, temperature; ``history``:
    epoch, loss; ``transition``: an optional (start, end) epoch range shaded in (D) (fast -> exploration).
    """
    temperature = require_columns(temperature, ("kind", "epoch", "rank", "width", "offset", "temperature"),
                           "temperature")
    history = require_columns(history, ("epoch", "loss"), "history")
    fig, axes = plt.subplots(2, 2, figsize=(11, 9))
    ax_a, ax_b, ax_c, ax_d = axes.ravel()

    # (A) profiles at the end
    profile = temperature[temperature["kind"] == "profile"]
    if profile.empty:
        raise ValueError("temperature has no 'profile' rows (Fig. 5A)")
    last = profile["epoch"].max()
    profile = profile[profile["epoch"] == last]
    colors = _rank_colors(profile["rank"].unique())
    for r, curve in profile.groupby("rank"):
        curve = curve.sort_values("offset")
        ax_a.plot(curve["offset"], curve["temperature"], "-o", color=colors[r], ms=2.5, lw=1.2,
                  label=f"i = {r} ($F_i$ = {curve['width'].iloc[0]:.3g})")
    ax_a.set(xlabel=r"displacement $\delta\theta$ along $p_i$",
             ylabel=r"active temperature $T_i(\delta\theta)$",
             title=f"(A) temperature profiles at t = {last:g} epochs")
    _log_axes(ax_a, "y")
    ax_a.legend(**LEGEND)

    # (B) T_i(0) vs i, inset vs F_i
    by_rank = temperature[temperature["kind"] == "rank"].sort_values("rank")
    if by_rank.empty:
        raise ValueError("temperature has no 'rank' rows (Fig. 5B)")
    diffusive = by_rank[by_rank["rank"] >= 2]
    ax_b.plot(diffusive["rank"], diffusive["temperature"], "o", color="tab:blue", ms=4, label="i ≥ 2")
    drift = by_rank[by_rank["rank"] == 1]
    if len(drift):
        ax_b.plot(drift["rank"], drift["temperature"], "s", color="tab:orange", ms=6, mfc="none",
                  label="i = 1 (drift mode)")
    ax_b.set(xlabel="rank i", ylabel=r"$T_i(0)$",
             title=f"(B) minimum temperature per direction (t = {last:g})")
    _log_axes(ax_b)
    ax_b.legend(loc="lower left", **LEGEND)
    inset = ax_b.inset_axes([0.6, 0.58, 0.37, 0.37])
    inset.plot(diffusive["width"], diffusive["temperature"], "o", color="tab:blue", ms=2.5)
    slope, stderr, _ = _fit_line(inset, diffusive["width"], diffusive["temperature"], color="k", ls="--",
                                 lw=0.8)
    rho = float(sps.spearmanr(diffusive["width"], diffusive["temperature"]).statistic) if len(diffusive) > 2 \
        else float("nan")
    inset.set_title(f"slope {_signed(slope, stderr)}, ρ = {rho:.2f}", fontsize=7)
    _log_axes(inset)
    inset.set_xlabel("$F_i$", fontsize=7, labelpad=1)
    inset.set_ylabel("$T_i(0)$", fontsize=7, labelpad=1)
    inset.tick_params(labelsize=6)

    # (C) T_10(dtheta) at several epochs
    timed = temperature[temperature["kind"] == "time"]
    if timed.empty:
        raise ValueError("temperature has no 'time' rows (Figs. 5C-D)")
    time_rank = int(timed["rank"].iloc[0])
    epochs = sorted(timed["epoch"].unique())
    epoch_colors = temperature_colors(epochs)
    for epoch in epochs:
        curve = timed[timed["epoch"] == epoch].sort_values("offset")
        ax_c.plot(curve["offset"], curve["temperature"], "-", color=epoch_colors[epoch], lw=1.2,
                  label=f"t = {epoch:g}")
    ax_c.set(xlabel=rf"displacement $\delta\theta$ along $p_{{{time_rank}}}$",
             ylabel=rf"$T_{{{time_rank}}}(\delta\theta, t)$",
             title="(C) temperature profiles over time (epochs)")
    _log_axes(ax_c, "y")
    ax_c.legend(ncol=2, loc="lower right", **LEGEND | {"fontsize": 6})

    # (D) T(0, t) and L(t)
    at_zero = timed[np.isclose(timed["offset"], 0.0)].groupby("epoch", as_index=False)["temperature"].mean()
    ax_d.plot(at_zero["epoch"], at_zero["temperature"], "o-", color="tab:blue", ms=4, lw=1.2,
              label=rf"$T_{{{time_rank}}}(0, t)$")
    ax_l = ax_d.twinx()
    ax_l.plot(history["epoch"], history["loss"], "-", color="red", lw=1.3, label="L(t)")
    if transition is not None:
        ax_d.axvspan(*transition, color="0.85", zorder=0, label="fast → exploration")
    for ax in (ax_d, ax_l):
        ax.set_xscale("symlog", linthresh=1.0)
        ax.set_yscale("log")
    ax_d.set(xlabel="time t (epochs; linear below 1)", ylabel=rf"$T_{{{time_rank}}}(0, t)$",
             title="(D) temperature and loss along the trajectory")
    ax_l.set_ylabel("training loss L (cross-entropy)", color="red")
    ax_l.tick_params(axis="y", colors="red")
    handles = [h for ax in (ax_d, ax_l) for h in ax.get_legend_handles_labels()[0]]
    ax_d.legend(handles, [h.get_label() for h in handles], loc="upper right", **LEGEND)
    joined = at_zero.merge(history[["epoch", "loss"]], on="epoch")
    joined = joined[(joined["temperature"] > 0) & (joined["loss"] > 0)]
    inset = ax_d.inset_axes([0.34, 0.1, 0.3, 0.3])
    trained = joined["epoch"] > 0
    inset.plot(joined.loc[trained, "loss"], joined.loc[trained, "temperature"], "o", color="tab:purple", ms=3)
    inset.plot(joined.loc[~trained, "loss"], joined.loc[~trained, "temperature"], "o", color="tab:purple",
               ms=4, mfc="none")
    inset.set_title(f"r(ln T, ln L) = {_pearson_log(joined):.2f}; t > 0: {_pearson_log(joined[trained]):.2f}",
                    fontsize=7)
    _log_axes(inset)
    inset.set_xlabel("L", fontsize=7, labelpad=0)
    inset.set_ylabel("T", fontsize=7, labelpad=0)
    inset.tick_params(labelsize=6, pad=1)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------------------------
# Figs. S1-S3 and the control


def figure_s1(
    panels: Mapping[str, Mapping[str, pd.DataFrame]],
    transitions: Mapping[str, tuple[float, float]] | None = None,
) -> plt.Figure:
    """Feng & Tu Fig. S1: training loss vs epoch (log y), one panel per architecture (``panels``: title ->
    {label -> history}; e.g. "MLP-4 on MNIST", "LeNet on MNIST"), one line per (alpha, B); an optional
    ``transitions`` (title -> (start, end) epochs) is shaded. A panel with no run says so."""
    if not panels:
        raise ValueError("figure_s1 needs at least one panel")
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.6), squeeze=False)
    for k, (ax, (title, runs)) in enumerate(zip(axes[0], panels.items(), strict=True)):
        for index, (label, history) in enumerate(runs.items()):
            history = require_columns(history, ("epoch", "loss"), f"history ({label})")
            finite = history[np.isfinite(history["loss"]) & (history["loss"] > 0)]
            ax.plot(finite["epoch"], finite["loss"], "-", color=f"C{index}", lw=1.3, label=label)
            if "diverged" in history and history["diverged"].any():
                ax.plot(finite["epoch"].iloc[-1:], finite["loss"].iloc[-1:], "x", color=f"C{index}", ms=8)
        if transitions and title in transitions:
            ax.axvspan(*transitions[title], color="0.88", zorder=0, label="fast → exploration")
        ax.set(xlabel="time (epochs)", ylabel="training loss (cross-entropy)",
               title=f"({'AB'[k % 2]}) {title}")
        if runs:
            _log_axes(ax, "y")
            ax.legend(**LEGEND)
        else:
            ax.text(0.5, 0.5, "no run", transform=ax.transAxes, ha="center", va="center")
            ax.set(xticks=[], yticks=[])
    fig.tight_layout()
    return fig


def figure_s2(
    margins: pd.DataFrame,
    profiles: pd.DataFrame,
    flatness: pd.DataFrame,
    ranks: Sequence[int] = (1, 2, 10, 50, 100),
) -> plt.Figure:
    """Feng & Tu Fig. S2 (the drift mode): (A) the margin Delta Y_k vs theta_1 (SM Eq. S3) relative to its
    value at 0 (in the legend with beta_k), one series per digit (mean over its samples); (B) ln L_i vs
    dtheta / F_i for ``ranks``, with the dimensionless slope at 0, c1 F_i, of the Eq. 7 fit (only i = 1
    should be far from 0) and the tangent ln L_0 + c1 dtheta of i = 1 (dashed)."""
    margins = require_columns(margins, ("digit", "offset", "margin"), "margins")
    profiles = require_columns(profiles, ("rank", "offset", "loss"), "profiles")
    flatness = require_columns(flatness, ("rank", "width", "c0", "c1", "loss0"), "flatness")
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12, 4.8))
    digit_colors = plt.get_cmap("tab10")
    markers = "os^vD<>ph*"
    for d, curve in margins.groupby("digit"):
        curve = curve.sort_values("offset")
        at_zero = float(curve["margin"].iloc[int(np.argmin(np.abs(curve["offset"].to_numpy())))])
        beta = f", β = {curve['digit_beta'].iloc[0]:.2f}" if "digit_beta" in curve else ""
        ax_a.plot(curve["offset"], curve["margin"] - at_zero, "-", marker=markers[int(d) % 10], ms=3, lw=0.8,
                  color=digit_colors(int(d) % 10), label=f"digit {d}: ΔY(0) = {at_zero:.3g}{beta}")
    ax_a.axhline(0, color="0.6", lw=0.6, ls=":")
    ax_a.set(xlabel=r"displacement $\theta_1$ along $p_1$",
             ylabel=r"margin change $\Delta Y(\theta_1) - \Delta Y(0)$ (logits)",
             title="(A) margins along the drift mode (mean per digit)")
    ax_a.legend(ncol=2, loc="upper left", **LEGEND | {"fontsize": 6})

    shown = [r for r in ranks if r in set(profiles["rank"]) and r in set(flatness["rank"])]
    if not shown:
        raise ValueError(f"none of the ranks {list(ranks)} has both a profile and a flatness row")
    colors = {r: ("tab:red" if r == 1 else c) for r, c in _rank_colors(shown).items()}
    loss0 = float(flatness["loss0"].iloc[0])
    for r in shown:
        row = flatness[flatness["rank"] == r].iloc[0]
        width = float(row["width"])
        curve = profiles[profiles["rank"] == r].sort_values("offset")
        ax_b.plot(curve["offset"] / width, np.log(curve["loss"]), "-", color=colors[r],
                  lw=2 if r == 1 else 1.2,
                  label=f"i = {r}: $F_i$ = {width:.3g}, $c_1 F_i$ = {row['c1'] * width:+.2f}")
        if r == 1:
            x = np.linspace(-0.5, 0.5, 50)
            ax_b.plot(x, np.log(loss0) + row["c1"] * width * x, "--", color="tab:red", lw=0.9,
                      label=r"tangent of $\theta_1$ at 0, ln $L_0$ + $c_1 \delta\theta$")
    ax_b.axvline(0, color="0.6", lw=0.6, ls=":")
    ax_b.set(xlabel=r"$\delta\theta_i / F_i$", ylabel=r"ln $L_i$ (cross-entropy)",
             title=r"(B) only ln $L_1$ has a slope at 0")
    ax_b.legend(loc="upper center", **LEGEND)
    fig.tight_layout()
    return fig


# LeNet-CIFAR (Methods; brief 2.1) for the schematic of Fig. S3C: (text, weights or None, analysed)
LENET_CIFAR_LAYERS = (
    ("input 3×32×32", None, False),
    ("conv1 3×5×5×6 + ReLU", 450, True),
    ("2×2 max pool → 6×14×14", None, False),
    ("conv2 6×5×5×16 + ReLU", 2400, True),
    ("2×2 max pool → 16×5×5", None, False),
    ("FC 400×120 + ReLU", 48000, False),
    ("FC 120×84 + ReLU", 10080, False),
    ("FC 84×10 → softmax", 840, False),
)


def _lenet_schematic(ax: plt.Axes) -> None:
    """Fig. S3C: LeNet-CIFAR as a column of boxes, top to bottom; the analysed convolutions highlighted."""
    n = len(LENET_CIFAR_LAYERS)
    ax.set(xlim=(0, 1), ylim=(-0.5, n - 0.5), xticks=[], yticks=[])
    for side in ax.spines.values():
        side.set_visible(False)
    for k, (text, weights, analysed) in enumerate(LENET_CIFAR_LAYERS):
        y = n - 1 - k
        label = text if weights is None else f"{text}\n{weights:,} weights"
        box = {"boxstyle": "round,pad=0.3", "fc": "#fde0c5" if analysed else "0.93",
               "ec": "tab:orange" if analysed else "0.5", "lw": 1.4 if analysed else 0.8}
        ax.text(0.5, y, label, ha="center", va="center", fontsize=7.5, bbox=box,
                weight="bold" if analysed else "normal")
        if k < n - 1:
            ax.annotate("", xy=(0.5, y - 0.62), xytext=(0.5, y - 0.38),
                        arrowprops={"arrowstyle": "-|>", "color": "0.4", "lw": 0.8})
    ax.set_title("(S3C) LeNet on CIFAR-10\nSGD + momentum; orange: analysed", fontsize=9)


def figure_s3(flatness: Sequence[pd.DataFrame], labels: Sequence[str],
              psi_range: tuple[int, int] = (2, 500), conv: Sequence[pd.DataFrame] | None = None,
              conv_labels: Sequence[str] | None = None) -> plt.Figure:
    """Feng & Tu Fig. S3: (B) sigma_i^2 vs F_i (Eq. 8) for each (run, layer) of MLP-4 with psi and Spearman;
    with LeNet-CIFAR tables (``conv``, ``conv_labels``: conv1 and conv2 of each run) also (C) the network's
    schematic and (D) the same plot for its convolution layers."""
    if not flatness:
        raise ValueError("figure_s3 needs at least one flatness table")
    markers = ["o", "s", "^", "v", "D", "<", ">", "p"]
    if not conv:
        fig, ax = plt.subplots(figsize=(7, 5.5))
    else:
        conv_labels = list(conv_labels) if conv_labels is not None else [f"conv {k}" for k in range(len(conv))]
        fig, (ax, ax_c, ax_d) = plt.subplots(1, 3, figsize=(17, 5.5), gridspec_kw={"width_ratios": [7, 3, 7]})
    _variance_flatness_panel(ax, flatness, labels, psi_range,
                             markers=[markers[k % len(markers)] for k in range(len(flatness))])
    low = max(2, psi_range[0])
    ax.set_title(f"(S3B) MLP-4 on MNIST, variance-flatness per layer, fit {low} ≤ i ≤ {psi_range[1]}")
    ax.legend(loc="lower left", **LEGEND)
    if conv:
        _lenet_schematic(ax_c)
        _variance_flatness_panel(ax_d, conv, conv_labels, psi_range,
                                 markers=[markers[k % len(markers)] for k in range(len(conv))])
        ax_d.set_title(f"(S3D) LeNet on CIFAR-10, conv layers, fit {low} ≤ i ≤ {psi_range[1]}")
        ax_d.legend(loc="lower left", **LEGEND)
    fig.tight_layout()
    return fig


def control_figure(
    flatness: Sequence[pd.DataFrame],
    pca: Sequence[pd.DataFrame],
    labels: Sequence[str],
    rank_range: tuple[int, int] = (2, 500),
    temperature: float | None = None,
) -> plt.Figure:
    """Control C1 of the brief (beyond the paper): (A) sigma_i^2 vs F_i for SGD and Langevin dynamics at
    constant temperature, with the fitted log-log slopes (SGD negative, Eq. 8; Langevin positive, Eq. 16)
    and, given ``temperature``, the equilibrium prediction sigma^2 = T F^2 / (8 L_0) (dotted); (B) their PCA
    spectra. Tables in the order of ``labels`` (SGD first)."""
    if not (len(flatness) == len(pca) == len(labels)) or not labels:
        raise ValueError(f"control_figure needs as many flatness ({len(flatness)}), pca ({len(pca)}) tables "
                         f"as labels ({len(labels)}), at least one")
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12, 4.8))
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    _variance_flatness_panel(ax_a, flatness, labels, rank_range, colors=colors, markers=["o", "s", "^", "v"],
                             show_psi=False)
    if temperature is not None and len(flatness) > 1:
        langevin = require_columns(flatness[-1], ("rank", "width", "loss0"), f"flatness ({labels[-1]})")
        widths = _positive(langevin.loc[langevin["rank"] >= 2, "width"])
        grid = np.geomspace(widths.min(), widths.max(), 40)
        prediction = temperature * grid**2 / (8 * float(langevin["loss0"].iloc[0]))
        ax_a.plot(grid, prediction, ":", color="k", lw=1.2,
                  label=f"Eq. 16: σ² = T F²/(8 $L_0$), T = {temperature:.2g}")
    ax_a.set_title(f"(A) variance vs flatness, fit {max(2, rank_range[0])} ≤ i ≤ {rank_range[1]}")
    ax_a.legend(loc="lower right", **LEGEND)

    for k, (table, label) in enumerate(zip(pca, labels, strict=True)):
        table = require_columns(table, ("rank", "variance"), f"pca ({label})")
        ax_b.plot(table["rank"], table["variance"], "-", color=colors[k % len(colors)], lw=1.3, label=label)
    ax_b.set(xlabel="rank i", ylabel=r"variance $\sigma_i^2$", title="(B) PCA spectra of the W2 windows")
    _log_axes(ax_b)
    ax_b.legend(**LEGEND)
    fig.tight_layout()
    return fig


FIGURES = {"fig1": figure1, "fig2": figure2, "fig3": figure3, "fig4": figure4, "fig5": figure5,
           "figS1": figure_s1, "figS2": figure_s2, "figS3": figure_s3, "control": control_figure}
