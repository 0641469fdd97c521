"""Jules et al.'s claims (a)-(e) of Sec. III B (brief section 5) and the checks of Figs. 3, S1, S2, measured.

The fluctuation claims are evaluated per analysis slice, because the statistics drift over long runs (brief
section 7): a claim may hold in early slices and fail in late ones, and the table shows that instead of
picking a window.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from thermoscape import claims
from thermoscape.claims import claims_table, standard_error  # noqa: F401  (claims_table: as in the other studies)
from thermoscape.measure import stats

row = functools.partial(claims.row, study="jules")


@dataclass(frozen=True)
class Criteria:
    """Tolerances of the verdicts (config ``jules.claims``)."""

    slope_tolerance: float = 0.2
    ratio_tolerance: float = 0.2
    spearman_min: float = 0.8
    hessian_top: int = 50
    flat_factor: float = 2.0
    rise_factor: float = 100.0
    equilibrated_only: bool = True


def _slope_row(claim, quantity, paper, table, column, expected, tol, slice_name) -> dict[str, Any]:
    """Log-log slope of ``column`` against T (Eqs. 3-4: mu_L, sigma_L ~ T, tau_1/2 ~ 1/T) with its error
    (:func:`_slope_error`)."""
    criterion = f"|log-log slope - ({expected:g})| <= {tol:g}"
    use = table[np.isfinite(table[column]) & (table[column] > 0)]
    if use["temperature"].nunique() < 2:
        return row(claim, quantity, paper, criterion, n=len(use), detail="fewer than 2 temperatures",
                   slice_name=slice_name)
    _, slope, residual_error = stats.fit_power_law(use["temperature"], use[column])
    error, source = _slope_error(use, column, residual_error)
    return row(claim, quantity, paper, criterion, slope, error, len(use), abs(slope - expected) <= tol,
               f"T in [{use['temperature'].min():.2g}, {use['temperature'].max():.2g}]; {source}", slice_name,
               fit_range=temperature_range(use))


def temperature_range(use: pd.DataFrame) -> str:
    """The temperatures a law over T was fitted over, e.g. ``T 2e-06-0.0001 (6 temperatures, 11 points)``."""
    temperatures = use["temperature"]
    return (f"T {temperatures.min():.2g}-{temperatures.max():.2g} ({temperatures.nunique()} temperatures, "
            f"{len(use)} points)")


def _slope_error(use: pd.DataFrame, column: str, residual_error: float) -> tuple[float, str]:
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
    summary: pd.DataFrame, criteria: Criteria, n_classes: int, n_params: int, n_samples: int, seed: int = 0
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
            _slope_row("a", "slope of log mu_L vs log T", "mu_L linear in T", table, "mu", 1.0, tol, slice_name),
            _slope_row("a", "slope of log sigma_L vs log T", "sigma_L linear in T", table, "sigma", 1.0, tol,
                       slice_name),
            _heat_capacity_row(table, rtol, slice_name, rng),
            *_gamma_rows(table, criteria, n_classes, min(n_params, n_samples), slice_name, rng),
        ]
        tau = _slope_row("c", "slope of log tau_1/2 vs log T", "tau_1/2 ~ 1/T (L^2 = T tau_1/2 constant)",
                         table, "tau_half", -1.0, tol, slice_name)
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


def _heat_capacity_row(table: pd.DataFrame, rtol: float, slice_name: str, rng: np.random.Generator) -> dict[str, Any]:
    """Claim (a), Eqs. 3 and S1 in equilibrium: ``sigma_L = sqrt(C_h) T`` with ``C_h`` from ``mu_L = C_h T``;
    the median ratio over points, its uncertainty propagated from the errors of mu_L and sigma_L."""
    paper, criterion = "sigma_L = sqrt(C_h) T with mu_L = C_h T", f"|median sigma / (sqrt(C_h) T) - 1| <= {rtol:g}"
    use = table[(table["mu"] > 0) & (table["sigma"] > 0)]
    if use.empty:
        return row("a", "sigma_L / (sqrt(C_h) T)", paper, criterion, detail="no temperature", slice_name=slice_name)
    temperature = use["temperature"].to_numpy(dtype=float)

    def median_ratio(mu: np.ndarray, sigma: np.ndarray) -> float:
        return float(np.median(sigma / (np.sqrt(stats.fit_proportional(temperature, mu)) * temperature)))

    mu, sigma = use["mu"].to_numpy(dtype=float), use["sigma"].to_numpy(dtype=float)
    median = median_ratio(mu, sigma)
    uncertainty = stats.propagate_relative_errors(median_ratio, [mu, sigma], [_errors(use, "mu"), _errors(use, "sigma")],
                                                  rng)
    detail = "; ".join(filter(None, (f"C_h = {stats.fit_proportional(temperature, mu):.3g}",
                                     _uncertainty_note(uncertainty))))
    return row("a", "sigma_L / (sqrt(C_h) T)", paper, criterion, median, uncertainty, len(use),
               abs(median - 1) <= rtol, detail, slice_name)


def _median_row(quantity, paper, criterion, values: pd.Series, errors: np.ndarray, passed, slice_name: str,
                rng: np.random.Generator, note: str = "") -> dict[str, Any]:
    """A claim on the values over (T, eta) points: their median with its Monte Carlo uncertainty from the
    points' errors (never the spread over T, which is 0 for one point), ``passed(values)`` the verdict."""
    if values.empty:
        return row("b", quantity, paper, criterion, detail="no temperature", slice_name=slice_name)
    points = values.to_numpy(dtype=float)
    uncertainty = stats.propagate_relative_errors(np.median, [points], [errors], rng)
    detail = "; ".join(filter(None, (f"range [{points.min():.3g}, {points.max():.3g}]", note,
                                     _uncertainty_note(uncertainty))))
    return row("b", quantity, paper, criterion, float(np.median(points)), uncertainty, len(points),
               bool(passed(points)), detail, slice_name)


def _gamma_rows(table, criteria: Criteria, n_classes: int, n_max: int, slice_name: str,
                rng: np.random.Generator) -> list[dict[str, Any]]:
    """Claim (b), Eq. 2 and Eq. 8: beta T ~ 1, N_c = 2 alpha small and weakly decreasing, phi ~ alpha."""
    tol = criteria.ratio_tolerance
    beta_t = table[table["beta_T"].notna()]
    within = int((np.abs(beta_t["beta_T"] - 1) <= tol).sum())
    n_c = table[table["n_c"].notna()]
    rows = [
        # the value shown is the statistic judged: the median of beta T over the points
        _median_row("beta T", "beta T ~ 1 over the whole T range and both eta", f"|median beta T - 1| <= {tol:g}",
                    beta_t["beta_T"], _errors(beta_t, "beta_T"), lambda v: abs(np.median(v) - 1) <= tol,
                    slice_name, rng, f"{within} of {len(beta_t)} points within {tol:g} of 1"),
        _median_row("N_c = 2 alpha", "N_c = 2 alpha small: 20-60, far below N and D, far above C",
                    f"every N_c in ({n_classes}, {n_max}) = (C, min(N, D))", n_c["n_c"], _errors(n_c, "n_c"),
                    lambda v: ((v > n_classes) & (v < n_max)).all(), slice_name, rng),
        _n_c_slope_row(n_c, slice_name),
        _sparsity_row(table, criteria.spearman_min, slice_name, rng),
    ]
    return rows


def _n_c_slope_row(use: pd.DataFrame, slice_name: str) -> dict[str, Any]:
    paper, criterion = "N_c weakly decreasing with T", "-0.5 <= slope <= 2 standard errors"
    if use["temperature"].nunique() < 2:
        return row("b", "slope of log N_c vs log T", paper, criterion, n=len(use), detail="fewer than 2 temperatures",
                   slice_name=slice_name)
    _, slope, residual_error = stats.fit_power_law(use["temperature"], use["n_c"])
    error, source = _slope_error(use, "n_c", residual_error)
    passed = -0.5 <= slope <= 2 * error if np.isfinite(error) else None
    return row("b", "slope of log N_c vs log T", paper, criterion, slope, error, len(use), passed, source, slice_name,
               fit_range=temperature_range(use))


def _sparsity_row(table: pd.DataFrame, spearman_min: float, slice_name: str, rng: np.random.Generator) -> dict:
    """Eq. 8 against Eq. 2: the rank correlation of phi and alpha over T, its uncertainty propagated."""
    use = table[table["phi"].notna() & table["alpha"].notna()]
    criterion = f"Spearman(phi, alpha) >= {spearman_min:g} over T"
    if len(use) < 3:
        return row("b", "Spearman(phi, alpha)", "phi ~ alpha (Fig. 2a)", criterion, n=len(use),
                   detail="fewer than 3 temperatures", slice_name=slice_name)
    phi, alpha = use["phi"].to_numpy(dtype=float), use["alpha"].to_numpy(dtype=float)

    def spearman(phi: np.ndarray, alpha: np.ndarray) -> float:
        return float(sps.spearmanr(phi, alpha).statistic)

    rho = spearman(phi, alpha)
    uncertainty = stats.propagate_relative_errors(spearman, [phi, alpha], [_errors(use, "phi"), _errors(use, "alpha")],
                                                  rng)
    detail = "; ".join(filter(None, (f"median phi / alpha = {np.median(phi / alpha):.2f}",
                                     _uncertainty_note(uncertainty))))
    return row("b", "Spearman(phi, alpha)", "phi ~ alpha (Fig. 2a)", criterion, rho, uncertainty, len(use),
               rho >= spearman_min, detail, slice_name)


def hessian_collapse(hessian: pd.DataFrame, top: int) -> tuple[float, float, int]:
    """Median over pairs of temperatures of the two-sample KS distance between the ``top`` largest
    eigenvalues of every point, in ``lambda`` and in ``lambda / T`` (Fig. 3a). Returns
    ``(distance_raw, distance_scaled, n_temperatures)``."""
    samples = {
        T: group.groupby(["replica", "t"])["eigenvalue"].apply(lambda e: np.sort(e.to_numpy())[-top:]).explode()
        .to_numpy(dtype=float)
        for T, group in hessian.groupby("temperature")
    }
    pairs = list(itertools.combinations(sorted(samples), 2))
    if not pairs:
        return np.nan, np.nan, len(samples)
    raw = [sps.ks_2samp(samples[a], samples[b]).statistic for a, b in pairs]
    scaled = [sps.ks_2samp(samples[a] / a, samples[b] / b).statistic for a, b in pairs]
    return float(np.median(raw)), float(np.median(scaled)), len(samples)


def hessian_claim(hessian: pd.DataFrame, criteria: Criteria) -> dict[str, Any]:
    raw, scaled, n = hessian_collapse(hessian, criteria.hessian_top)
    paper, criterion = "Hessian eigenvalues ~ T: CDFs collapse versus lambda / T", \
        f"KS distance of the top {criteria.hessian_top} eigenvalues smaller in lambda / T than in lambda"
    if n < 2:
        return row("c", "median KS distance, lambda / T", paper, criterion, n=n, detail="fewer than 2 temperatures")
    per_replica = [hessian_collapse(part, criteria.hessian_top)[1] for _, part in hessian.groupby("replica")]
    error = standard_error(per_replica)
    spread = (f"; uncertainty: spread over the {np.isfinite(per_replica).sum()} replicas sampled at 2 or more T"
              if np.isfinite(error) else "; no uncertainty: fewer than 2 replicas sampled at 2 or more T")
    return row("c", "median KS distance, lambda / T", paper, criterion, scaled, error, n, scaled < raw,
               f"in lambda: {raw:.3f}" + spread)




def curvature_scaling_claim(hessian: pd.DataFrame, criteria: Criteria) -> dict[str, Any]:
    """The premise of the eta T = const policy (beyond the paper): the largest Hessian eigenvalue at the
    sampled points scales as T, so eta = c / T keeps eta lambda_max, which sets the discretisation error,
    constant. Log-log slope of every point's lambda_max against T within 1 +/- the slope tolerance."""
    top = hessian.groupby(["temperature", "replica", "t"])["eigenvalue"].max().rename("lambda_max").reset_index()
    return _slope_row("eta T", "slope of log lambda_max vs log T",
                      "beyond the paper: lambda_max ~ T, so eta = c / T keeps eta lambda_max constant",
                      top, "lambda_max", 1.0, criteria.slope_tolerance, "all")


def free_diffusion_claims(free: pd.DataFrame, length: float, n_params: int, criteria: Criteria) -> list[dict]:
    """Claim (c), Fig. 3b: under free diffusion the loss stays flat up to distance L and rises by
    orders of magnitude beyond (evaluated at 10 sqrt(N) L, brief section 7), relative to the minimum."""
    curve = free.groupby("t")[["distance", "loss"]].median().sort_values("distance")
    base = float(free["minimum_loss"].median())
    rows = []
    for quantity, distance, paper, factor, above in (
        ("loss(L) / L_0", length, "free diffusion leaves the loss flat below L", criteria.flat_factor, False),
        ("loss(10 sqrt(N) L) / L_0", 10 * np.sqrt(n_params) * length,
         "free diffusion raises the loss by orders of magnitude beyond L", criteria.rise_factor, True),
    ):
        criterion = f"ratio {'>' if above else '<'} {factor:g}"
        if not np.isfinite(distance) or not curve["distance"].min() <= distance <= curve["distance"].max():
            rows.append(row("c", quantity, paper, criterion, detail=f"distance {distance:.3g} outside the walks"))
            continue
        loss = float(np.exp(np.interp(np.log(distance), np.log(curve["distance"]), np.log(curve["loss"]))))
        ratio = loss / base
        log_error = standard_error([_log_ratio_at(walk, distance) for _, walk in free.groupby(["replica", "walk"])])
        rows.append(row("c", quantity, paper, criterion, ratio, ratio * log_error, len(free),
                        ratio > factor if above else ratio < factor,
                        f"L = {length:.3g}, L_0 = {base:.3g}; uncertainty: spread of the walks' log ratios"))
    return rows


def _log_ratio_at(walk: pd.DataFrame, distance: float) -> float:
    """log(loss / minimum loss) of one free-diffusion walk at ``distance`` (NaN outside the walk)."""
    walk = walk.sort_values("distance")
    if not walk["distance"].min() <= distance <= walk["distance"].max():
        return np.nan
    log_loss = np.interp(np.log(distance), np.log(walk["distance"]), np.log(walk["loss"]))
    return float(log_loss - np.log(walk["minimum_loss"].iloc[0]))


def time_step_claims(check: pd.DataFrame) -> list[dict[str, Any]]:
    """Claim (d), mu_L independent of eta (fixed time steps), and the validation of the eta T = const
    policy (beyond the paper) against fixed eta for mu, alpha and tau_1/2, per slice.

    Judged on the comparisons ``compare_time_steps`` could make on equilibrated pairs (S3): holds when none
    of them differs significantly. The value is the relative difference of the best-sampled comparison
    (most pairs), the uncertainty the half width of its 95 % interval; the detail adds the largest
    difference among the others and counts the comparisons that could not be judged.
    """
    rows = []
    criterion = "no equilibrated comparison differs (paired t-test on log ratios, p >= 0.0027, or |rel| <= 0.1)"
    if check.empty:
        check = pd.DataFrame(columns=["time_step", "time_step_ref", "quantity", "slice", "judged"])
    policy = check["time_step"].str.startswith("eta T") | check["time_step_ref"].str.startswith("eta T")
    groups = [("d", "mu", "mu_L independent of eta at given T", check[~policy & (check["quantity"] == "mu")])]
    groups += [("eta T", q, f"{q} with eta = c / T equals fixed eta (beyond the paper)",
                check[policy & (check["quantity"] == q)]) for q in ("mu", "alpha", "tau_half")]
    for claim, quantity, paper, part in groups:
        label = f"{quantity}: relative difference, best-sampled comparison"
        if part.empty:
            rows.append(row(claim, label, paper, criterion,
                            detail="no temperature run with both time steps on a common window"))
        for slice_name, group in part.groupby("slice", sort=False):
            judged, unjudged = group[group["judged"].astype(bool)], group[~group["judged"].astype(bool)]
            skipped = f"; {len(unjudged)} comparison(s) without 2 equilibrated pairs not judged" if len(unjudged) else ""
            if judged.empty:
                rows.append(row(claim, label, paper, criterion, n=0, slice_name=slice_name,
                                detail="no comparison with 2 equilibrated pairs" + skipped))
                continue
            size = judged["rel_diff"].abs()
            best = judged.assign(size=size).sort_values(["n_pairs", "size"], ascending=False).iloc[0]
            largest = judged.loc[size.idxmax()]
            rows.append(row(claim, label, paper, criterion, float(best["rel_diff"]),
                            float((best["rel_high"] - best["rel_low"]) / 2), len(judged), bool(judged["agree"].all()),
                            f"{_comparison(best)}; largest |difference| of the {len(judged)} judged: "
                            f"{_comparison(largest)}" + skipped, slice_name))
    return rows


def _comparison(check_row: pd.Series) -> str:
    return (f"T = {check_row['temperature']:.2g}, {check_row['time_step']} vs {check_row['time_step_ref']}: "
            f"{check_row['rel_diff']:+.1%} [{check_row['rel_low']:+.1%}, {check_row['rel_high']:+.1%}], "
            f"p = {check_row['p']:.2g}, {int(check_row['n_pairs'])} pairs")


def init_claims(init: pd.DataFrame, criteria: Criteria) -> list[dict[str, Any]]:
    """Claim (e), Fig. S1: from initialisation mu_L = A T^a with a far from 1, yet Eq. S2 holds."""
    slice_name = f"t{init['t_start'].iloc[0]:g}-{init['t_end'].iloc[0]:g}"
    exponent, error = float(init["a"].iloc[0]), float(init["a_error"].iloc[0])
    # a fit through 2 temperatures has no residuals: its standard error of 0 is no uncertainty
    exponent_note = "" if error > 0 else "; no uncertainty: the fit has no residuals (2 temperatures)"
    error = error if error > 0 else np.nan
    ratio = init["sigma_mean"] / init["sigma_eq_s2"]
    median = float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else np.nan
    # the asymptotic standard error of a median, sqrt(pi / 2) times that of the mean
    median_error = np.sqrt(np.pi / 2) * standard_error(ratio)
    return [
        row("e", "exponent a of mu_L = A T^a", "not linear in T from initialisation (paper: a = 0.22)",
            f"|a - 1| > {criteria.slope_tolerance:g}", exponent, error, len(init),
            abs(exponent - 1) > criteria.slope_tolerance, f"A = {init['A'].iloc[0]:.3g}{exponent_note}", slice_name),
        row("e", "sigma_L / sqrt(a A T^(a+1))", "yet the equilibrium relation Eq. S2 holds",
            f"|median ratio - 1| <= {criteria.ratio_tolerance:g}", median, median_error, len(init),
            None if not np.isfinite(median) else abs(median - 1) <= criteria.ratio_tolerance,
            "uncertainty: spread over temperatures", slice_name),
    ]
