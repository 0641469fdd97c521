"""Jules et al.'s fluctuation claims (a), (b) and the tau_1/2 part of (c), Sec. III B (brief section 5), judged
on any table of fluctuation statistics over temperature.

The input is a summary with the columns of ``measure.fluctuations.aggregate_runs`` (``temperature``, ``slice``,
``mu_mean``, ``sigma_mean``, ``beta_T_mean``, ``n_c_mean``, ``alpha_mean``, ``phi_mean``, ``tau_half_mean``,
their ``*_error``, ``equilibrated``, ``n_used``): the primary study's ``tables/fluctuations.parquet`` and the
chart's ``chart/tables/fluctuations.parquet`` alike. The Jules study (``studies/jules/claims.py``) and the
chart study (``studies/chart/claims.py``) both judge their tables here; each names its ``study``.

The claims are evaluated per analysis slice, because the statistics drift over long runs (brief section 7):
a claim may hold in early slices and fail in late ones, and the table shows that instead of picking a window.
Numpy, pandas and scipy only (no torch): a claims job stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from thermoscape import claims
from thermoscape.measure import stats


@dataclass(frozen=True)
class FluctuationCriteria:
    """Tolerances of the fluctuation verdicts (config ``chart.claims``; the Jules study's ``Criteria``, config
    ``jules.claims``, extends them)."""

    slope_tolerance: float = 0.2
    ratio_tolerance: float = 0.2
    spearman_min: float = 0.8
    equilibrated_only: bool = True


def _row(study: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    return claims.row(*args, study=study, **kwargs)


def slope_row(claim, quantity, paper, table, column, expected, tol, slice_name, study: str) -> dict[str, Any]:
    """Log-log slope of ``column`` against T (Eqs. 3-4: mu_L, sigma_L ~ T, tau_1/2 ~ 1/T) with its error
    (:func:`_slope_error`)."""
    criterion = f"|log-log slope - ({expected:g})| <= {tol:g}"
    use = table[np.isfinite(table[column]) & (table[column] > 0)]
    if use["temperature"].nunique() < 2:
        return _row(study, claim, quantity, paper, criterion, n=len(use), detail="fewer than 2 temperatures",
                   slice_name=slice_name)
    _, slope, residual_error = stats.fit_power_law(use["temperature"], use[column])
    error, source = slope_error(use, column, residual_error)
    return _row(study, claim, quantity, paper, criterion, slope, error, len(use), abs(slope - expected) <= tol,
               f"T in [{use['temperature'].min():.2g}, {use['temperature'].max():.2g}]; {source}", slice_name,
               fit_range=temperature_range(use))


def temperature_range(use: pd.DataFrame) -> str:
    """The temperatures a law over T was fitted over, e.g. ``T 2e-06-0.0001 (6 temperatures, 11 points)``."""
    temperatures = use["temperature"]
    return (f"T {temperatures.min():.2g}-{temperatures.max():.2g} ({temperatures.nunique()} temperatures, "
            f"{len(use)} points)")


def slope_error(use: pd.DataFrame, column: str, residual_error: float) -> tuple[float, str]:
    """The larger of the fit's residual standard error and the error propagated from the points' own errors
    (``<column>_error``: replica spread or bootstrap). Two points leave no residual, so only the propagated
    error exists there; with neither, ``nan`` and the reason."""
    residual = residual_error if len(use) > 2 else np.nan
    propagated = (stats.power_law_slope_error(use["temperature"], use[column], use[f"{column}_error"])
                  if f"{column}_error" in use else np.nan)
    if np.isnan(residual) and np.isnan(propagated):
        return np.nan, "no uncertainty: 2 points and no per-point errors"
    source = "residuals" if np.isnan(propagated) or residual >= propagated else "per-point errors"
    return float(np.nanmax([residual, propagated])), f"uncertainty from the {source}"


def fluctuation_claims(
    summary: pd.DataFrame, criteria: FluctuationCriteria, n_classes: int, n_params: int, n_samples: int,
    seed: int = 0, study: str = "jules",
) -> list[dict[str, Any]]:
    """Claims (a), (b) and the tau_1/2 part of (c) from the replica-averaged slice statistics, per slice.

    Only equilibrated (T, eta) points (S3, judged per run by ``aggregate_runs``) enter unless
    ``criteria.equilibrated_only`` is false; every row's detail says how many points and runs it rests on.
    Medians and ranks get Monte Carlo uncertainties from the points' errors (``seed``).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for slice_name, table in summary.groupby("slice", sort=False):
        table = table[table["mu_mean"].notna()]
        n_points = len(table)
        if criteria.equilibrated_only:
            table = table[table["equilibrated"].astype(bool)]
        table = table.rename(columns=lambda c: c.removesuffix("_mean"))
        tol, rtol = criteria.slope_tolerance, criteria.ratio_tolerance
        slice_rows = [
            slope_row("a", "slope of log mu_L vs log T", "mu_L linear in T", table, "mu", 1.0, tol, slice_name,
                       study),
            slope_row("a", "slope of log sigma_L vs log T", "sigma_L linear in T", table, "sigma", 1.0, tol,
                       slice_name, study),
            _heat_capacity_row(table, rtol, slice_name, rng, study),
            *_gamma_rows(table, criteria, n_classes, min(n_params, n_samples), slice_name, rng, study),
        ]
        tau = slope_row("c", "slope of log tau_1/2 vs log T", "tau_1/2 ~ 1/T (L^2 = T tau_1/2 constant)",
                         table, "tau_half", -1.0, tol, slice_name, study)
        if len(table):
            tau["detail"] += f"; L^2 = T tau_1/2, median {np.nanmedian(table['temperature'] * table['tau_half']):.3g}"
        slice_rows.append(tau)
        used = _points_used(table, n_points, criteria.equilibrated_only)
        rows += [r | {"detail": "; ".join(filter(None, (r["detail"], used)))} for r in slice_rows]
    return rows


def _points_used(table: pd.DataFrame, n_points: int, equilibrated_only: bool) -> str:
    """How many (T, eta) points, temperatures and runs the slice's claims rest on."""
    runs = f", {int(table['n_used'].sum())} runs" if "n_used" in table else ""
    kept = f" of {n_points} (T, eta) points equilibrated" if equilibrated_only else " (T, eta) points"
    return f"{len(table)}{kept}: {table['temperature'].nunique()} temperatures{runs}"


def _errors(table: pd.DataFrame, column: str) -> np.ndarray:
    """Per-point errors of ``column`` (replica spread or bootstrap), ``nan`` where the table has none."""
    return table[f"{column}_error"].to_numpy(dtype=float) if f"{column}_error" in table else np.full(len(table), np.nan)


def _uncertainty_note(uncertainty: float) -> str:
    return "" if np.isfinite(uncertainty) else "no uncertainty: a point without a replica or bootstrap error"


def _heat_capacity_row(table: pd.DataFrame, rtol: float, slice_name: str, rng: np.random.Generator,
                       study: str) -> dict[str, Any]:
    """Claim (a), Eqs. 3 and S1 in equilibrium: ``sigma_L = sqrt(C_h) T`` with ``C_h`` from ``mu_L = C_h T``;
    the median ratio over points, its uncertainty propagated from the errors of mu_L and sigma_L."""
    paper, criterion = "sigma_L = sqrt(C_h) T with mu_L = C_h T", f"|median sigma / (sqrt(C_h) T) - 1| <= {rtol:g}"
    use = table[(table["mu"] > 0) & (table["sigma"] > 0)]
    if use.empty:
        return _row(study, "a", "sigma_L / (sqrt(C_h) T)", paper, criterion, detail="no temperature", slice_name=slice_name)
    temperature = use["temperature"].to_numpy(dtype=float)

    def median_ratio(mu: np.ndarray, sigma: np.ndarray) -> float:
        return float(np.median(sigma / (np.sqrt(stats.fit_proportional(temperature, mu)) * temperature)))

    mu, sigma = use["mu"].to_numpy(dtype=float), use["sigma"].to_numpy(dtype=float)
    median = median_ratio(mu, sigma)
    uncertainty = stats.propagate_relative_errors(median_ratio, [mu, sigma], [_errors(use, "mu"), _errors(use, "sigma")],
                                                  rng)
    detail = "; ".join(filter(None, (f"C_h = {stats.fit_proportional(temperature, mu):.3g}",
                                     _uncertainty_note(uncertainty))))
    return _row(study, "a", "sigma_L / (sqrt(C_h) T)", paper, criterion, median, uncertainty, len(use),
               abs(median - 1) <= rtol, detail, slice_name)


def _median_row(quantity, paper, criterion, values: pd.Series, errors: np.ndarray, passed, slice_name: str,
                rng: np.random.Generator, study: str, note: str = "") -> dict[str, Any]:
    """A claim on the values over (T, eta) points: their median with its Monte Carlo uncertainty from the
    points' errors (never the spread over T, which is 0 for one point), ``passed(values)`` the verdict."""
    if values.empty:
        return _row(study, "b", quantity, paper, criterion, detail="no temperature", slice_name=slice_name)
    points = values.to_numpy(dtype=float)
    uncertainty = stats.propagate_relative_errors(np.median, [points], [errors], rng)
    detail = "; ".join(filter(None, (f"range [{points.min():.3g}, {points.max():.3g}]", note,
                                     _uncertainty_note(uncertainty))))
    return _row(study, "b", quantity, paper, criterion, float(np.median(points)), uncertainty, len(points),
               bool(passed(points)), detail, slice_name)


def _gamma_rows(table, criteria: FluctuationCriteria, n_classes: int, n_max: int, slice_name: str,
                rng: np.random.Generator, study: str) -> list[dict[str, Any]]:
    """Claim (b), Eq. 2 and Eq. 8: beta T ~ 1, N_c = 2 alpha small and weakly decreasing, phi ~ alpha."""
    tol = criteria.ratio_tolerance
    beta_t = table[table["beta_T"].notna()]
    within = int((np.abs(beta_t["beta_T"] - 1) <= tol).sum())
    n_c = table[table["n_c"].notna()]
    rows = [
        # the value shown is the statistic judged: the median of beta T over the points
        _median_row("beta T", "beta T ~ 1 over the whole T range and both eta", f"|median beta T - 1| <= {tol:g}",
                    beta_t["beta_T"], _errors(beta_t, "beta_T"), lambda v: abs(np.median(v) - 1) <= tol,
                    slice_name, rng, study, f"{within} of {len(beta_t)} points within {tol:g} of 1"),
        _median_row("N_c = 2 alpha", "N_c = 2 alpha small: 20-60, far below N and D, far above C",
                    f"every N_c in ({n_classes}, {n_max}) = (C, min(N, D))", n_c["n_c"], _errors(n_c, "n_c"),
                    lambda v: ((v > n_classes) & (v < n_max)).all(), slice_name, rng, study),
        _n_c_slope_row(n_c, slice_name, study),
        _sparsity_row(table, criteria.spearman_min, slice_name, rng, study),
    ]
    return rows


def _n_c_slope_row(use: pd.DataFrame, slice_name: str, study: str) -> dict[str, Any]:
    paper, criterion = "N_c weakly decreasing with T", "-0.5 <= slope <= 2 standard errors"
    if use["temperature"].nunique() < 2:
        return _row(study, "b", "slope of log N_c vs log T", paper, criterion, n=len(use), detail="fewer than 2 temperatures",
                   slice_name=slice_name)
    _, slope, residual_error = stats.fit_power_law(use["temperature"], use["n_c"])
    error, source = slope_error(use, "n_c", residual_error)
    passed = -0.5 <= slope <= 2 * error if np.isfinite(error) else None
    return _row(study, "b", "slope of log N_c vs log T", paper, criterion, slope, error, len(use), passed, source, slice_name,
               fit_range=temperature_range(use))


def _sparsity_row(table: pd.DataFrame, spearman_min: float, slice_name: str, rng: np.random.Generator,
                  study: str) -> dict:
    """Eq. 8 against Eq. 2: the rank correlation of phi and alpha over T, its uncertainty propagated."""
    use = table[table["phi"].notna() & table["alpha"].notna()]
    criterion = f"Spearman(phi, alpha) >= {spearman_min:g} over T"
    if len(use) < 3:
        return _row(study, "b", "Spearman(phi, alpha)", "phi ~ alpha (Fig. 2a)", criterion, n=len(use),
                   detail="fewer than 3 temperatures", slice_name=slice_name)
    phi, alpha = use["phi"].to_numpy(dtype=float), use["alpha"].to_numpy(dtype=float)

    def spearman(phi: np.ndarray, alpha: np.ndarray) -> float:
        return float(sps.spearmanr(phi, alpha).statistic)

    rho = spearman(phi, alpha)
    uncertainty = stats.propagate_relative_errors(spearman, [phi, alpha], [_errors(use, "phi"), _errors(use, "alpha")],
                                                  rng)
    detail = "; ".join(filter(None, (f"median phi / alpha = {np.median(phi / alpha):.2f}",
                                     _uncertainty_note(uncertainty))))
    return _row(study, "b", "Spearman(phi, alpha)", "phi ~ alpha (Fig. 2a)", criterion, rho, uncertainty, len(use),
               rho >= spearman_min, detail, slice_name)
