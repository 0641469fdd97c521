"""The one-page figure of a charted network: the analogues of Jules et al. Figs. 1-3 against temperature.

(a) ``N_c = 2 alpha`` (Fig. 1), (b) the heat capacity ``C_h = mu_L / T`` with the fitted constant (Fig. 2,
``mu_L = C_h T``), (c) ``beta T`` (Fig. 1; 1 in a quadratic basin in equilibrium), (d) ``tau_1/2`` with a
``1 / T`` guide through the median (Fig. 3), (e) the characteristic length ``L = sqrt(T tau_1/2)`` with its
median (Sec. III B: independent of T), (f) phi against alpha (Eq. 8, Fig. 1). Filled markers: equilibrated
temperatures (S3); open: not. Error bars: standard errors over the chains.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from thermoscape.plotting import plain_log_ticks, require_columns, save_figure

COLUMNS = ("temperature", "n_c", "n_c_error", "c_h", "c_h_error", "beta_T", "beta_T_error", "tau_half",
           "tau_half_error", "length", "length_error", "alpha", "phi", "phi_error", "equilibrated")


def _points(ax: plt.Axes, x: pd.Series, y: pd.Series, error: pd.Series, done: pd.Series, color: str,
            label: str | None = None) -> None:
    for mask, face, suffix in ((done, color, ""), (~done, "white", " (not equilibrated)")):
        if mask.any():
            ax.errorbar(x[mask], y[mask], yerr=error[mask], fmt="o", color=color, mfc=face, capsize=2,
                        label=None if label is None else label + suffix)


def chart_figure(table: pd.DataFrame, pdf: str | Path, png: str | Path, title: str = "") -> None:
    """Draw the six panels from the chart table (``tables/chart.parquet``) and save PDF + PNG."""
    table = require_columns(table, COLUMNS, "chart table").sort_values("temperature")
    T, done = table["temperature"], table["equilibrated"].astype(bool)
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    (a, b, c), (d, e, f) = axes
    _points(a, T, table["n_c"], table["n_c_error"], done, "C0", "$N_c = 2\\alpha$")
    a.set_ylabel("$N_c$ (stiff directions)")
    _points(b, T, table["c_h"], table["c_h_error"], done, "C1", "$C_h = \\mu_L / T$")
    if "c_h_fit" in table and np.isfinite(table["c_h_fit"].iloc[0]):
        b.axhline(table["c_h_fit"].iloc[0], color="k", ls="--", lw=1, label="fit $\\mu_L = C_h T$")
    b.set_ylabel("$C_h$ (dimensionless)")
    _points(c, T, table["beta_T"], table["beta_T_error"], done, "C2", "$\\beta T$")
    c.axhline(1.0, color="k", ls=":", lw=1, label="quadratic basin")
    c.set_ylabel("$\\beta T$ (dimensionless)")
    _points(d, T, table["tau_half"], table["tau_half_error"], done, "C3", "$\\tau_{1/2}$")
    if table["tau_half"].notna().any():
        level = np.nanmedian(T * table["tau_half"])
        d.plot(T, level / T, color="k", ls="--", lw=1, label="$\\propto 1/T$")
    d.set_yscale("log")
    plain_log_ticks(d, "y")
    d.set_ylabel("$\\tau_{1/2}$ (time units of Eq. 7)")
    _points(e, T, table["length"], table["length_error"], done, "C4", "$L = \\sqrt{T\\,\\tau_{1/2}}$")
    if table["length"].notna().any():
        e.axhline(np.nanmedian(table["length"]), color="k", ls="--", lw=1, label="median")
    e.set_ylabel("$L$ (parameter-space length)")
    for ax in (a, b, c, d, e):
        ax.set_xscale("log")
        ax.set_xlabel("temperature $T$ (loss units)")
    if table["phi"].notna().any():
        _points(f, table["alpha"], table["phi"], table["phi_error"], done, "C5", "$\\phi$")
    else:
        f.text(0.5, 0.5, "phi not reported\n(baseline: minimum)", ha="center", va="center", transform=f.transAxes)
    f.set_xlabel("$\\alpha = N_c / 2$")
    f.set_ylabel("$\\phi$ (participating samples)")
    for ax, letter in zip(axes.flat, "abcdef"):
        ax.set_title(f"({letter})", loc="left")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, pdf, png)
