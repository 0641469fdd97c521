"""Jules et al. figures (Figs. 1-3, S1, S2) from the workflow's tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats as sps

from thermoscape.plots import plain_log_ticks, temperature_colors, thin
from thermoscape.stats import fit_proportional

ETA_MARKERS = {0: ("o", "s"), 1: ("^", "D"), 2: ("v", "p")}


def fit_heat_capacity(summary: pd.DataFrame) -> float:
    """``C_h`` of ``mu_L = C_h T`` (Fig. 1c) over equilibrated, non-diverged points of every eta."""
    use = summary[summary["equilibrated"] & summary["mu_mean"].notna()]
    if use.empty:
        use = summary[summary["mu_mean"].notna()]
    return fit_proportional(use["temperature"].to_numpy(), use["mu_mean"].to_numpy())


def figure1(
    summary: pd.DataFrame,
    runs: pd.DataFrame,
    adam_curve: pd.DataFrame,
    trajectories: dict[float, pd.DataFrame],
    eta: float,
    slice_name: str,
    replica: int,
) -> plt.Figure:
    """Jules et al. Fig. 1: (a) loss versus time, Adam then Langevin; (b) steady-state histograms of
    L/T with Gamma MLE overlays; (c) mu_L and sigma_L versus T with mu = C_h T and sigma = sqrt(C_h) T;
    (d) alpha and beta T versus T (mean and std over replicas)."""
    summary = summary[summary["slice"] == slice_name]
    runs = runs[runs["slice"] == slice_name]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    ax_a, ax_b, ax_c, ax_d = axes.ravel()
    colors = temperature_colors(trajectories)

    # (a) Adam (black) on a time axis ending at 0, then Langevin at each T
    adam_t = (adam_curve["step"] - adam_curve["step"].max()) * eta
    ax_a.plot(adam_t, adam_curve["loss"], color="black", lw=1, label="Adam")
    for T, traj in sorted(trajectories.items()):
        run = thin(traj[traj["chain"] == replica])
        ax_a.plot(run["t"], run["loss"], color=colors[T], lw=0.6, label=f"T = {T:.1e}")
    ax_a.set(yscale="log", xlabel="time t = step x eta (Adam: steps x eta, ending at 0)", ylabel="loss L",
             title=f"(a) Adam, then Langevin (eta = {eta:g}, replica {replica})")
    ax_a.axvline(0, color="grey", lw=0.5, ls=":")
    ax_a.legend(fontsize=7, ncol=2)

    # (b) histograms of L / T with the Gamma MLE (alpha, beta T) overlaid; inset log-linear
    inset = ax_b.inset_axes([0.55, 0.45, 0.42, 0.5])
    for T, traj in sorted(trajectories.items()):
        row = runs[(runs["temperature"] == T) & (runs["eta"] == eta) & (runs["replica"] == replica)]
        if row.empty or not np.isfinite(row["alpha"].iloc[0]):
            continue
        start, end = row["t_start"].iloc[0], row["t_end"].iloc[0]
        run = traj[(traj["chain"] == replica) & (traj["t"] >= start) & (traj["t"] < end)]
        scaled = run["loss"].to_numpy() / T
        grid = np.linspace(0, np.quantile(scaled, 0.999), 200)
        pdf = sps.gamma.pdf(grid, row["alpha"].iloc[0], scale=1 / row["beta_T"].iloc[0])
        for ax in (ax_b, inset):
            ax.hist(scaled, bins=60, density=True, color=colors[T], alpha=0.45, label=f"T = {T:.1e}")
            ax.plot(grid, pdf, "k--", lw=0.8)
    ax_b.set(xlabel="L / T", ylabel="probability density", title=f"(b) steady state ({slice_name}); dashed: Gamma MLE")
    inset.set_yscale("log")
    top = max((line.get_ydata().max() for line in inset.get_lines()), default=1.0)
    inset.set_ylim(top * 1e-4, top * 3)
    inset.tick_params(labelsize=6)
    ax_b.legend(fontsize=7, loc="upper left")

    # (c) mu and sigma versus T, both eta; mu = C_h T (solid) and sigma = sqrt(C_h) T (dashed)
    c_h = fit_heat_capacity(summary)
    for index, (time_step, group) in enumerate(summary.groupby("time_step", sort=False)):
        m_mu, m_sigma = ETA_MARKERS[index % len(ETA_MARKERS)]
        flagged = ~group["equilibrated"]
        color = f"C{index}"
        for column, marker, name in (("mu", m_mu, "mu_L"), ("sigma", m_sigma, "sigma_L")):
            ax_c.errorbar(group["temperature"], group[f"{column}_mean"], yerr=group[f"{column}_std"],
                          fmt=marker, color=color, mfc="none" if column == "sigma" else color, ms=5,
                          label=f"{name}, {time_step}")
            ax_c.plot(group["temperature"][flagged], group[f"{column}_mean"][flagged], "x", color="red", ms=8)
    grid_t = np.geomspace(summary["temperature"].min(), summary["temperature"].max(), 50)
    ax_c.plot(grid_t, c_h * grid_t, "k-", lw=1, label=f"mu = C_h T, C_h = {c_h:.1f}")
    ax_c.plot(grid_t, np.sqrt(c_h) * grid_t, "k--", lw=1, label="sigma = sqrt(C_h) T")
    ax_c.plot([], [], "x", color="red", label="not equilibrated (S3)")
    ax_c.set(xscale="log", yscale="log", xlabel="temperature T", ylabel="loss mean / std",
             title="(c) moments of the loss")
    ax_c.legend(fontsize=7)
    plain_log_ticks(ax_c)

    # (d) alpha and beta T versus T
    ax_d2 = ax_d.twinx()
    for index, (time_step, group) in enumerate(summary.groupby("time_step", sort=False)):
        m_alpha, m_beta = ETA_MARKERS[index % len(ETA_MARKERS)]
        ax_d.errorbar(group["temperature"], group["alpha_mean"], yerr=group["alpha_std"], fmt=m_alpha,
                      color="tab:blue", ms=5, label=f"alpha, {time_step}")
        ax_d2.errorbar(group["temperature"], group["beta_T_mean"], yerr=group["beta_T_std"], fmt=m_beta,
                       color="tab:orange", mfc="none", ms=5, label=f"beta T, {time_step}")
    ax_d2.axhline(1, color="tab:orange", lw=0.8, ls=":")
    ax_d.set(xscale="log", xlabel="temperature T", ylabel="alpha = N_c / 2", title="(d) Gamma parameters")
    ax_d.set_ylim(bottom=0)
    plain_log_ticks(ax_d)
    ax_d2.set_ylabel("beta T")
    ax_d2.set_ylim(0, 2)
    handles = ax_d.get_legend_handles_labels()
    handles2 = ax_d2.get_legend_handles_labels()
    ax_d.legend(handles[0] + handles2[0], handles[1] + handles2[1], fontsize=7, loc="best")
    fig.tight_layout()
    return fig
