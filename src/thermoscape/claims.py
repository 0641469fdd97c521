"""The claims table: each claim of a paper, measured, with a verdict by a stated criterion.

Jules et al. claims (a)-(e) of Sec. III B (brief section 5) are evaluated per analysis slice, because the
statistics drift over long runs (brief section 7): a claim may hold in early slices and fail in late
ones, and the table shows that instead of picking a window. Verdicts are ``holds``, ``fails`` or
``undetermined`` (not enough data, with the reason in ``detail``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy import stats as sps

from thermoscape import stats

HOLDS, FAILS, NA = "holds", "fails", "undetermined"  # not "n/a": CSV readers take that for a missing value
COLUMNS = ["study", "claim", "slice", "quantity", "value", "uncertainty", "n", "paper", "criterion", "verdict",
           "detail", "fit_range", "regime"]


CriteriaT = TypeVar("CriteriaT")


def criteria_from(cls: type[CriteriaT], overrides: Mapping[str, Any] | CriteriaT | None, key: str) -> CriteriaT:
    """A study's ``Criteria`` dataclass ``cls`` with its defaults overridden by the config mapping at ``key``
    (lists become tuples); unknown keys raise, naming ``key``."""
    if isinstance(overrides, cls):
        return overrides
    overrides = dict(overrides or {})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"{key}: unknown keys {unknown}; valid: {sorted(known)}")
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in overrides.items()})


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


def row(claim: str, quantity: str, paper: str, criterion: str, value: float = np.nan, uncertainty: float = np.nan,
        n: int = 0, passed: bool | None = None, detail: str = "", slice_name: str = "all",
        study: str = "jules", fit_range: str = "", outside_regime: str = "") -> dict[str, Any]:
    """One claim row; ``passed=None`` gives the verdict ``undetermined``. ``slice_name`` is the part of
    the data the claim is checked on (an analysis slice, an experiment). ``fit_range`` states the range a
    fitted law was fitted over; ``outside_regime`` names why the data are not in the paper's regime, which
    makes the verdict ``undetermined`` whatever ``passed`` says (the value is still shown)."""
    if outside_regime:
        passed = None
        detail = f"outside the regime: {outside_regime}" + (f"; {detail}" if detail else "")
    verdict = NA if passed is None else (HOLDS if passed else FAILS)
    return {"study": study, "claim": claim, "slice": slice_name, "quantity": quantity, "value": value,
            "uncertainty": uncertainty, "n": n, "paper": paper, "criterion": criterion, "verdict": verdict,
            "detail": detail, "fit_range": fit_range, "regime": outside_regime}


def _slope_row(claim, quantity, paper, table, column, expected, tol, slice_name) -> dict[str, Any]:
    criterion = f"|log-log slope - ({expected:g})| <= {tol:g}"
    use = table[np.isfinite(table[column]) & (table[column] > 0)]
    if use["temperature"].nunique() < 2:
        return row(claim, quantity, paper, criterion, n=len(use), detail="fewer than 2 temperatures",
                   slice_name=slice_name)
    _, slope, error = stats.fit_power_law(use["temperature"], use[column])
    return row(claim, quantity, paper, criterion, slope, error, len(use), abs(slope - expected) <= tol,
               f"T in [{use['temperature'].min():.2g}, {use['temperature'].max():.2g}]", slice_name)


def fluctuation_claims(
    summary: pd.DataFrame, criteria: Criteria, n_classes: int, n_params: int, n_samples: int
) -> list[dict[str, Any]]:
    """Claims (a), (b) and the tau_1/2 part of (c) from the replica-averaged slice statistics, per slice.

    Only equilibrated temperatures (S3 rule) enter unless ``criteria.equilibrated_only`` is false.
    """
    rows = []
    for slice_name, table in summary.groupby("slice", sort=False):
        table = table[table["mu_mean"].notna()]
        if criteria.equilibrated_only:
            table = table[table["equilibrated"]]
        table = table.rename(columns=lambda c: c.removesuffix("_mean"))
        tol, rtol = criteria.slope_tolerance, criteria.ratio_tolerance
        rows.append(_slope_row("a", "slope of log mu_L vs log T", "mu_L linear in T", table, "mu", 1.0, tol,
                               slice_name))
        rows.append(_slope_row("a", "slope of log sigma_L vs log T", "sigma_L linear in T", table, "sigma", 1.0,
                               tol, slice_name))
        rows.append(_heat_capacity_row(table, rtol, slice_name))
        rows += _gamma_rows(table, criteria, n_classes, min(n_params, n_samples), slice_name)
        tau = _slope_row("c", "slope of log tau_1/2 vs log T", "tau_1/2 ~ 1/T (L^2 = T tau_1/2 constant)",
                         table, "tau_half", -1.0, tol, slice_name)
        if len(table):
            tau["detail"] += f"; L^2 = T tau_1/2, median {np.nanmedian(table['temperature'] * table['tau_half']):.3g}"
        rows.append(tau)
    return rows


def _heat_capacity_row(table: pd.DataFrame, rtol: float, slice_name: str) -> dict[str, Any]:
    paper, criterion = "sigma_L = sqrt(C_h) T with mu_L = C_h T", f"|median sigma / (sqrt(C_h) T) - 1| <= {rtol:g}"
    use = table[(table["mu"] > 0) & (table["sigma"] > 0)]
    if use.empty:
        return row("a", "sigma_L / (sqrt(C_h) T)", paper, criterion, detail="no temperature", slice_name=slice_name)
    c_h = stats.fit_proportional(use["temperature"], use["mu"])
    ratio = use["sigma"] / (np.sqrt(c_h) * use["temperature"])
    median = float(np.median(ratio))
    return row("a", "sigma_L / (sqrt(C_h) T)", paper, criterion, median, float(ratio.std(ddof=0)), len(use),
               abs(median - 1) <= rtol, f"C_h = {c_h:.3g}", slice_name)


def _median_row(quantity, paper, criterion, values: pd.Series, passed, slice_name: str) -> dict[str, Any]:
    """A claim on the values over temperatures: their median and spread, ``passed(values)`` the verdict."""
    if values.empty:
        return row("b", quantity, paper, criterion, detail="no temperature", slice_name=slice_name)
    return row("b", quantity, paper, criterion, float(values.median()), float(values.std(ddof=0)), len(values),
               bool(passed(values)), f"range [{values.min():.3g}, {values.max():.3g}]", slice_name)


def _gamma_rows(table, criteria: Criteria, n_classes: int, n_max: int, slice_name: str) -> list[dict[str, Any]]:
    tol = criteria.ratio_tolerance
    rows = [
        _median_row("beta T", "beta T ~ 1 over the whole T range and both eta", f"median |beta T - 1| <= {tol:g}",
                    table["beta_T"].dropna(), lambda v: np.median(np.abs(v - 1)) <= tol, slice_name),
        _median_row("N_c = 2 alpha", "N_c = 2 alpha small: 20-60, far below N and D, far above C",
                    f"every N_c in ({n_classes}, {n_max}) = (C, min(N, D))", table["n_c"].dropna(),
                    lambda v: ((v > n_classes) & (v < n_max)).all(), slice_name),
    ]
    use = table[table["n_c"].notna()]
    if use["temperature"].nunique() >= 2:
        _, slope, error = stats.fit_power_law(use["temperature"], use["n_c"])
        rows.append(row("b", "slope of log N_c vs log T", "N_c weakly decreasing with T",
                        "-0.5 <= slope <= 2 standard errors", slope, error, len(use),
                        -0.5 <= slope <= 2 * error, "", slice_name))
    else:
        rows.append(row("b", "slope of log N_c vs log T", "N_c weakly decreasing with T",
                        "-0.5 <= slope <= 2 standard errors", n=len(use), detail="fewer than 2 temperatures",
                        slice_name=slice_name))
    use = table[table["phi"].notna() & table["alpha"].notna()]
    criterion = f"Spearman(phi, alpha) >= {criteria.spearman_min:g} over T"
    if len(use) < 3:
        rows.append(row("b", "Spearman(phi, alpha)", "phi ~ alpha (Fig. 2a)", criterion, n=len(use),
                        detail="fewer than 3 temperatures", slice_name=slice_name))
    else:
        rho = float(sps.spearmanr(use["phi"], use["alpha"]).statistic)
        rows.append(row("b", "Spearman(phi, alpha)", "phi ~ alpha (Fig. 2a)", criterion, rho, np.nan, len(use),
                        rho >= criteria.spearman_min,
                        f"median phi / alpha = {np.median(use['phi'] / use['alpha']):.2f}", slice_name))
    return rows


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
    return row("c", "median KS distance, lambda / T", paper, criterion, scaled, np.nan, n, scaled < raw,
               f"in lambda: {raw:.3f}")


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
        rows.append(row("c", quantity, paper, criterion, ratio, np.nan, len(free),
                        ratio > factor if above else ratio < factor, f"L = {length:.3g}, L_0 = {base:.3g}"))
    return rows


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
    ratio = init["sigma_mean"] / init["sigma_eq_s2"]
    median = float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else np.nan
    return [
        row("e", "exponent a of mu_L = A T^a", "not linear in T from initialisation (paper: a = 0.22)",
            f"|a - 1| > {criteria.slope_tolerance:g}", exponent, error, len(init),
            abs(exponent - 1) > criteria.slope_tolerance, f"A = {init['A'].iloc[0]:.3g}", slice_name),
        row("e", "sigma_L / sqrt(a A T^(a+1))", "yet the equilibrium relation Eq. S2 holds",
            f"|median ratio - 1| <= {criteria.ratio_tolerance:g}", median, np.nan, len(init),
            None if not np.isfinite(median) else abs(median - 1) <= criteria.ratio_tolerance, "", slice_name),
    ]


def claims_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)
