"""Jules et al. Fig. 4 (Sec. IV, S5): the exponential-wall toy model, from the toy-model tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import LogLocator

from thermoscape.plotting import temperature_colors

QUANTITY_STYLE = {  # column prefix -> (label of the scaled quantity, colour, line width)
    "mu": (r"$\mu / T$", "C0", 3.5),  # wide: <l''> = a^2 mu for the exponential loss, drawn on top
    "sigma": (r"$\sigma / T$", "C1", 1.6),
    "curvature": (r"$\langle \ell'' \rangle / (a^2 T)$", "C2", 1.2),
}
FLOOR = 1e-16  # relative deviations below double precision are drawn at this level


def _curve(density: pd.DataFrame, name: str, T: float | None = None) -> pd.DataFrame:
    rows = density[density["curve"] == name]
    if T is not None:
        rows = rows[np.isclose(rows["temperature"], T, rtol=1e-12)]
    return rows.sort_values("theta")


def _regime_span(ax: plt.Axes, table: pd.DataFrame) -> None:
    """Shade the temperatures that satisfy the stated regime of Eq. 11 (column in_regime)."""
    inside = table.loc[table["in_regime"], "temperature"]
    if len(inside):
        ax.axvspan(inside.min() / 1.5, inside.max() * 1.5, color="0.92", zorder=0, lw=0)


def _panel_loss(ax: plt.Axes, density: pd.DataFrame, model: dict, colors: dict) -> None:
    loss = _curve(density, "loss")
    ax.plot(loss["theta"], loss["value"], color="C0", lw=2, label=r"$\ell_{1D} = \log(1 + e^{a\theta + b})$ (Eq. 10)")
    exp_loss = _curve(density, "loss_exponential")
    ax.plot(exp_loss["theta"], exp_loss["value"], color="C3", ls="--", lw=1.2,
            label=r"$B e^{a\theta}$ (Eq. S16)")
    quad = _curve(density, "loss_quadratic")
    if len(quad):
        T_q = quad["temperature"].iloc[0]
        ax.plot(quad["theta"], quad["value"], color="black", ls=":", lw=1.2,
                label=rf"quadratic expansion $\ell_Q$ at $T = {T_q:g}$")
    for _, row in _curve(density, "mean_loss").iterrows():
        ax.plot(row["theta"], row["value"], "o", ms=6, mec="black", mew=0.6,
                color=colors.get(row["temperature"], "white"))
    ax.plot([], [], "o", color="white", mec="black", mew=0.6, label=r"$\theta_0$: $\ell(\theta_0) = \mu(T)$")
    lo, hi = loss["theta"].min(), loss["theta"].max()
    ax.axvspan(lo, -model["theta_star"], color="0.85", lw=0)
    ax.text(-model["theta_star"], 0.5, r" wall $-\theta_*$", rotation=90, va="center", ha="right",
            transform=ax.get_xaxis_transform(), fontsize=8)
    floor = loss["value"].min()
    ax.set(yscale="log", xlim=(lo, hi), ylim=(floor / 3, max(10.0, loss["value"].max()) * 3),
           xlabel=r"$\theta$", ylabel=r"loss $\ell(\theta)$",
           title=rf"(a) toy loss: $a = {model['a']:g}$, $B = {model['B']:g}$, $\theta_* = {model['theta_star']:g}$")
    ax.legend(fontsize=7.5, loc="upper left")


def _panel_density(ax: plt.Axes, density: pd.DataFrame, table: pd.DataFrame, model: dict, colors: dict) -> None:
    ks = dict(zip(table["temperature"], table["ks_pvalue"]))
    for T, color in colors.items():
        p = _curve(density, "boltzmann", T)
        ax.plot(p["theta"], p["value"], color=color, lw=2, label=rf"$p(\theta) \propto e^{{-\ell/T}}$, $T = {T:g}$")
        hist = _curve(density, "langevin", T)
        if len(hist):
            edges = np.append(hist["theta"] - hist["bin_width"] / 2, hist["theta"].iloc[-1] + hist["bin_width"].iloc[-1] / 2)
            match = [p_value for t, p_value in ks.items() if np.isclose(t, T, rtol=1e-12)]
            note = f" (KS p = {match[0]:.2g})" if match else ""
            ax.stairs(hist["value"], edges, color=color, lw=0.9, alpha=0.9, ls="-", baseline=None,
                      label=f"Langevin histogram{note}")
    quad = _curve(density, "quadratic")
    if len(quad):
        T_q = quad["temperature"].iloc[0]
        ax.plot(quad["theta"], quad["value"], color="black", ls="--", lw=1.3,
                label=rf"Gaussian $p_Q$ (quadratic $\ell$ at $T = {T_q:g}$)")
    ax.axvline(-model["theta_star"], color="0.4", lw=0.8)
    top = max(_curve(density, "boltzmann")["value"].max(), quad["value"].max() if len(quad) else 0.0)
    lo, hi = density["theta"].min(), density["theta"].max()
    ax.set(xlim=(lo, hi), ylim=(0, top * 1.9), xlabel=r"$\theta$", ylabel=r"probability density $p(\theta)$",
           title=r"(b) $p(\theta)$, 1-D Langevin (Eq. 7) and the quadratic approximation $p_Q$")
    ax.legend(fontsize=7.5, loc="upper left", ncol=2)


def _panel_moments(ax: plt.Axes, table: pd.DataFrame, model: dict) -> None:
    T = table["temperature"].to_numpy()
    scale = {"mu": T, "sigma": T, "curvature": model["a"] ** 2 * T}
    _regime_span(ax, table)
    for q, (label, color, width) in QUANTITY_STYLE.items():
        s = scale[q]
        ax.plot(T, table[f"{q}_closed"] / s, color=color, lw=width)
        ax.plot(T, table[f"{q}_asymptotic"] / s, color=color, ls="--", lw=1.2)
        ax.plot(T, table[f"{q}_quad_softplus"] / s, "o", mfc="none", mec=color, ms=7)
        ax.plot(T, table[f"{q}_quad_exponential"] / s, "+", color=color, ms=7)
        ax.errorbar(T, table[f"{q}_langevin"] / s, yerr=2 * table[f"{q}_langevin_se"] / s, fmt="s", ms=3.5,
                    color=color, elinewidth=0.8, capsize=0)
    ax.set(xscale="log", yscale="log", xlabel="temperature T", ylabel="moment / T",
           title=r"(c) $\mu$, $\sigma$ and mean curvature versus $T$")
    quantity = [Line2D([], [], color=c, lw=3, label=lab) for lab, c, _ in QUANTITY_STYLE.values()]
    method = [
        Line2D([], [], color="k", lw=1.6, label="closed form (Eq. S18)"),
        Line2D([], [], color="k", ls="--", lw=1.2, label="Eq. 11 (asymptotic)"),
        Line2D([], [], color="k", marker="o", mfc="none", ls="none", label="quadrature, softplus"),
        Line2D([], [], color="k", marker="+", ls="none", label="quadrature, exponential"),
        Line2D([], [], color="k", marker="s", ms=3.5, ls="none",
               label=f"Langevin ({table['langevin_loss'].iloc[0]}, 2 s.e.)"),
        Patch(color="0.92", label="stated regime of Eq. 11"),
    ]
    ax.add_artist(ax.legend(handles=quantity, fontsize=7, loc="lower left"))
    ax.legend(handles=method, fontsize=7, loc="upper right")


def _panel_entropy(ax: plt.Axes, table: pd.DataFrame) -> None:
    T = table["temperature"].to_numpy()
    _regime_span(ax, table)
    ax.plot(T, table["entropy_closed"], color="C4", lw=1.6, label="closed form (Eq. S18)")
    ax.plot(T, table["entropy_asymptotic"], color="C4", ls="--", lw=1.2, label="Eq. S23")
    ax.plot(T, table["entropy_s24"], color="0.3", ls=":", lw=1.2, label="Eq. S24")
    ax.plot(T, table["entropy_quad_softplus"], "o", mfc="none", mec="C4", ms=7, label="quadrature, softplus")
    ax.plot(T, table["entropy_quad_exponential"], "+", color="C4", ms=7, label="quadrature, exponential")
    ax.set(xscale="log", xlabel="temperature T", ylabel=r"entropy $S = \partial (T \log Z) / \partial T$",
           title="(d) entropy")
    ax.legend(fontsize=7, loc="lower right")


def _panel_deviations(ax: plt.Axes, table: pd.DataFrame) -> None:
    T = table["temperature"].to_numpy()
    _regime_span(ax, table)
    series = [
        ("dev_asymptotic_softplus", "C3", "o", "Eq. 11 vs quadrature (softplus)"),
        ("dev_asymptotic_closed", "C1", "^", "Eq. 11 vs closed form"),
        ("dev_langevin", "C2", "s", "Langevin vs quadrature (same loss)"),
        ("dev_closed_quadrature", "C7", "D", "closed form vs quadrature (exp.)"),
    ]
    for column, color, marker, label in series:
        ax.plot(T, np.clip(table[column], FLOOR, None), marker=marker, color=color, ms=4, lw=1, label=label)
    reference = "quad_" + table["langevin_loss"].iloc[0]
    ax.plot(T, 2 * table["mu_langevin_se"] / table[f"mu_{reference}"], color="C2", ls=":", lw=1,
            label=r"Langevin $2\,$s.e. of $\mu$")
    ax.plot(T, table["wall_parameter"], color="k", ls="--", lw=0.8, label=r"$c = B e^{-a\theta_*} / T$")
    ax.plot(T, T, color="k", ls="-.", lw=0.8, label=r"$T$")
    ax.set(xscale="log", yscale="log", ylim=(FLOOR / 100, 10), xlabel="temperature T",
           ylabel=r"largest relative deviation ($\mu, \sigma, \langle \ell'' \rangle$)",
           title="(e) agreement (grey band: stated regime)")
    ax.legend(fontsize=6.5, loc="lower left", bbox_to_anchor=(0.0, 0.2))


def figure4(table: pd.DataFrame, density: pd.DataFrame, model: dict) -> plt.Figure:
    """Jules et al. Fig. 4 and its checks: (a) ``l_1D`` (Eq. 10), its exponential form and the quadratic
    expansion, on a log axis; (b) ``p(theta) ~ e^(-l/T)`` for the figure's temperatures with 1-D
    Langevin histograms and the Gaussian ``p_Q``; (c) mu, sigma and <l''> over T (closed form,
    Eq. 11, quadrature, Langevin); (d) the entropy (Eq. S18, S23, S24, quadrature); (e) relative
    deviations between the methods with the expected orders ``c`` and ``T``."""
    table = table.sort_values("temperature")
    fig = plt.figure(figsize=(15, 9.5))  # fixed spacing: constrained layout triples the drawing time
    grid = fig.add_gridspec(2, 6, left=0.05, right=0.99, bottom=0.06, top=0.96, wspace=1.1, hspace=0.25)
    ax_a, ax_b = fig.add_subplot(grid[0, :3]), fig.add_subplot(grid[0, 3:])
    ax_c, ax_d, ax_e = (fig.add_subplot(grid[1, 2 * i : 2 * i + 2]) for i in range(3))
    colors = {T: tuple(0.85 * np.asarray(c[:3]))  # viridis darkened: its yellow end is faint on white
              for T, c in temperature_colors(_curve(density, "boltzmann")["temperature"].unique()).items()}
    _panel_loss(ax_a, density, model, colors)
    _panel_density(ax_b, density, table, model, colors)
    _panel_moments(ax_c, table, model)
    _panel_entropy(ax_d, table)
    _panel_deviations(ax_e, table)
    for ax in (ax_c, ax_d, ax_e):
        ax.xaxis.set_major_locator(LogLocator(numticks=6))  # every second decade over a wide T range
    return fig
