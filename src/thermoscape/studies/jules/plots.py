"""Jules et al. figures (Figs. 1-3, S1, S2) from the workflow's tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats as sps

from thermoscape.measure.fluctuations import correlation_length_squared
from thermoscape.plotting import plain_log_ticks, temperature_colors, thin
from thermoscape.measure.stats import fit_proportional

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


def figure2(summary: pd.DataFrame, autocorrelation: pd.DataFrame, eta: float, slice_name: str) -> plt.Figure:
    """Jules et al. Fig. 2: (a) sparsity phi (Eq. 8) with alpha in grey; (b) tau_1/2 versus T, mean and
    min-max over replicas, with L^2 / T; (c) chi_L (Eq. 4) versus lag; (d) versus 2 T lag (collapse)."""
    summary = summary[summary["slice"] == slice_name]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8.5))
    ax_a, ax_b, ax_c, ax_d = axes.ravel()
    for index, (time_step, group) in enumerate(summary.groupby("time_step", sort=False)):
        marker = ETA_MARKERS[index % len(ETA_MARKERS)][0]
        ax_a.errorbar(group["temperature"], group["phi_mean"], yerr=group["phi_std"], fmt=marker, color=f"C{index}",
                      ms=5, label=f"phi, {time_step}")
        ax_a.plot(group["temperature"], group["alpha_mean"], marker, color="grey", mfc="none", ms=7,
                  label=f"alpha, {time_step}")
        ax_b.plot(group["temperature"], group["tau_half_mean"], marker + "-", color=f"C{index}", ms=5,
                  label=f"tau_1/2, {time_step}")
        ax_b.fill_between(group["temperature"], group["tau_half_min"], group["tau_half_max"], color=f"C{index}",
                          alpha=0.2)
    ax_a.set(xscale="log", xlabel="temperature T", ylabel="phi (Eq. 8) / alpha", title="(a) sparsity and alpha")
    ax_a.set_ylim(bottom=0)
    ax_a.legend(fontsize=7)
    length_sq = correlation_length_squared(summary)
    grid_t = np.geomspace(summary["temperature"].min(), summary["temperature"].max(), 50)
    ax_b.plot(grid_t, length_sq / grid_t, "k--", lw=1, label=f"L^2 / T, L^2 = T tau_1/2 = {length_sq:.2e}")
    ax_b.set(xscale="log", yscale="log", xlabel="temperature T", ylabel="tau_1/2 (time units)",
             title="(b) correlation half-time (shading: min-max over replicas)")
    ax_b.legend(fontsize=7)
    for ax in (ax_a, ax_b):
        plain_log_ticks(ax)

    curves = autocorrelation[(autocorrelation["slice"] == slice_name) & np.isclose(autocorrelation["eta"], eta)]
    mean_curves = curves.groupby(["temperature", "lag"], as_index=False)["chi"].mean()
    colors = temperature_colors(mean_curves["temperature"].unique())
    for T, curve in mean_curves.groupby("temperature"):
        ax_c.plot(curve["lag"], curve["chi"], color=colors[T], lw=1.2, label=f"T = {T:.1e}")
        ax_d.plot(2 * T * curve["lag"], curve["chi"], color=colors[T], lw=1.2, label=f"T = {T:.1e}")
    for ax in (ax_c, ax_d):
        ax.axhline(0.5, color="grey", lw=0.6, ls=":")
        ax.set(xscale="log", ylabel="chi_L (Eq. 4)", ylim=(-0.2, 1.05))
        ax.legend(fontsize=7)
    ax_c.set(xlabel="lag Delta t (time units)", title=f"(c) loss autocorrelation (eta = {eta:g}, mean over replicas)")
    ax_d.set(xlabel="2 T Delta t", title="(d) collapse versus 2 T Delta t")
    fig.tight_layout()
    return fig


def figure3(
    hessian: pd.DataFrame,
    free: pd.DataFrame,
    trajectories: dict[float, pd.DataFrame],
    summary: pd.DataFrame,
    n_params: int,
) -> plt.Figure:
    """Jules et al. Fig. 3: (a) CDF of the positive Hessian eigenvalues at steady-state points per T,
    inset versus lambda / T; (b) loss versus distance from the minimum during Langevin runs (colours)
    and free diffusion (black), with L = sqrt(T tau_1/2) and sqrt(N) L."""
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12, 4.8))
    colors = temperature_colors(hessian["temperature"].unique())
    inset = ax_a.inset_axes([0.08, 0.5, 0.38, 0.4])
    for T, group in hessian.groupby("temperature"):
        eigenvalues = np.sort(group["eigenvalue"].to_numpy())
        # below the largest |negative| eigenvalue, positive ones are indistinguishable from the noise floor
        floor = max(-eigenvalues.min(), 0.0)
        positive = eigenvalues[eigenvalues > floor]
        cdf = 1 - np.arange(len(positive), 0, -1) / len(eigenvalues)
        n_points = group.groupby(["replica", "t"]).ngroups
        ax_a.plot(positive, cdf, color=colors[T], lw=1.2, label=f"T = {T:.1e} ({n_points} points)")
        inset.plot(positive / T, cdf, color=colors[T], lw=1)
    ax_a.set(xscale="log", xlabel="Hessian eigenvalue lambda (above the largest |negative| one)",
             ylabel="CDF (fraction of all N eigenvalues)",
             title="(a) Hessian spectra at steady-state points")
    inset.set(xscale="log", xlabel="lambda / T")
    inset.xaxis.label.set_size(7)
    inset.tick_params(labelsize=6)
    ax_a.legend(fontsize=7, loc="lower right")

    lcolors = temperature_colors(trajectories)
    for T, traj in sorted(trajectories.items()):
        run = thin(traj, 4000)
        ax_b.plot(run["distance"], run["loss"], ".", color=lcolors[T], ms=1.5, alpha=0.5)
        ax_b.plot([], [], "o", color=lcolors[T], ms=4, label=f"Langevin, T = {T:.1e}")
    curve = free.groupby("t", as_index=False)[["distance", "loss"]].median()
    ax_b.plot(free["distance"], free["loss"], ".", color="black", ms=2, alpha=0.3)
    ax_b.plot(curve["distance"], curve["loss"], "k-", lw=1.5, label="free diffusion (median)")
    length = np.sqrt(correlation_length_squared(summary))
    ax_b.axvline(length, color="k", ls="--", lw=1, label=f"L = sqrt(T tau_1/2) = {length:.2g}")
    ax_b.axvline(np.sqrt(n_params) * length, color="k", ls=":", lw=1, label=f"sqrt(N) L, N = {n_params}")
    ax_b.set(xscale="log", yscale="log", xlabel="distance |theta_t - theta_0|", ylabel="loss L",
             title="(b) loss versus distance from the minimum")
    ax_b.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    return fig


def figure_s1(trajectory: pd.DataFrame, statistics: pd.DataFrame, shown_temperature: float, eta: float) -> plt.Figure:
    """Jules et al. Fig. S1: Langevin right after initialisation. (a) loss versus time at one T, every
    replica; (b) mu_L and sigma_L in a late slice versus T with mu = A T^a and Eq. S2."""
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12, 4.6))
    for replica, run in trajectory.groupby("replica"):
        run = thin(run, 4000)
        ax_a.plot(run["t"], run["loss"], lw=0.7, label=f"replica {replica}")
    start, end = statistics["t_start"].iloc[0], statistics["t_end"].iloc[0]
    ax_a.axvspan(start, end, color="grey", alpha=0.2, label="slice of panel b")
    ax_a.set(yscale="log", xlabel="time t = step x eta", ylabel="loss L",
             title=f"(a) from initialisation, eta = {eta:g}, T = {shown_temperature:.2g}")
    plain_log_ticks(ax_a, "y")
    ax_a.legend(fontsize=7)
    T = statistics["temperature"]
    ax_b.errorbar(T, statistics["mu_mean"], yerr=statistics["mu_std"], fmt="o", color="C0", label="mu_L")
    ax_b.errorbar(T, statistics["sigma_mean"], yerr=statistics["sigma_std"], fmt="s", mfc="none", color="C1",
                  label="sigma_L")
    grid_t = np.geomspace(T.min(), T.max(), 50)
    A, a = statistics["A"].iloc[0], statistics["a"].iloc[0]
    ax_b.plot(grid_t, A * grid_t**a, "C0-", lw=1, label=f"mu = A T^a, A = {A:.2g}, a = {a:.2f}")
    ax_b.plot(grid_t, np.sqrt(a * A * grid_t ** (a + 1)), "C1--", lw=1, label="sigma = sqrt(a A T^(a+1)) (Eq. S2)")
    ax_b.plot(grid_t, A * grid_t.max() ** a * grid_t / grid_t.max(), color="grey", ls=":", lw=1,
              label="slope 1 (minimum regime), for reference")
    ax_b.set(xscale="log", yscale="log", xlabel="temperature T", ylabel="loss mean / std",
             title=f"(b) moments in t in [{start:g}, {end:g}]")
    ax_b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def figure_s2(catapult: pd.DataFrame, drift: pd.DataFrame, labels: tuple[str, str], window: float,
              replica: int) -> plt.Figure:
    """Jules et al. Fig. S2: (left) catapults at high T and large eta, inset around the largest spike;
    (right) slow drift of the running mean and std of the loss at a smaller eta."""
    fig, (ax_l, ax_r) = plt.subplots(1, 2, figsize=(12, 4.6))
    run = catapult[catapult["chain"] == replica].sort_values("t")
    ax_l.plot(run["t"], run["loss"], lw=0.5, color="C0")  # not thinned: that would drop the spikes
    peak = run["t"].iloc[int(np.argmax(run["loss"].to_numpy()))]
    span = max(20 * (run["t"].iloc[1] - run["t"].iloc[0]), 0.005 * (run["t"].iloc[-1] - run["t"].iloc[0]))
    zoom = run[(run["t"] > peak - span) & (run["t"] < peak + span)]
    low, high = zoom["loss"].min(), zoom["loss"].max()
    ax_l.add_patch(plt.Rectangle((peak - span, low), 2 * span, high - low, fill=False, color="black", lw=1))
    inset = ax_l.inset_axes([0.4, 0.06, 0.57, 0.3])  # below the steady-state band, clear of the rectangle
    inset.plot(zoom["t"], zoom["loss"], lw=0.8, color="C0")
    inset.set_yscale("log")
    inset.tick_params(labelsize=6)
    plain_log_ticks(inset, "y")
    ax_l.set(yscale="log", xlabel="time t = step x eta", ylabel="loss L", title=f"(left) {labels[0]}")

    run = drift[drift["chain"] == replica].sort_values("t")
    dt = run["t"].iloc[1] - run["t"].iloc[0]
    rolling = run["loss"].rolling(max(2, round(window / dt)))
    shown = thin(run.assign(mean=rolling.mean(), std=rolling.std()), 20000)
    ax_r.plot(shown["t"], shown["loss"], lw=0.4, color="C0", alpha=0.6, label="loss")
    ax_r.plot(shown["t"], shown["mean"], color="black", lw=1.2, label=f"running mean ({window:g} time units)")
    ax_r.plot(shown["t"], shown["std"], color="C3", lw=1.2, label="running std")
    ax_r.set(yscale="log", xlabel="time t = step x eta", ylabel="loss L", title=f"(right) {labels[1]}")
    ax_r.legend(fontsize=7)
    for ax in (ax_l, ax_r):
        plain_log_ticks(ax, "y")
    fig.tight_layout()
    return fig
