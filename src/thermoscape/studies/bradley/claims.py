"""Bradley et al.'s claims, measured: one row each (``claims.row``), checked against the brief's tolerances
(brief Sec. 5). The functions take the workflow's aggregated tables (``results/bradley/tables/*.parquet``,
never files); ``None`` or an empty table leaves out the claims made on it.

Choices (config ``bradley.claims``, see :class:`Criteria`):

* Trends against T (Figs. 2, 5) are Spearman correlations of the seed means with the temperature; the brief's
  tolerance is |rho| >= 0.7 with the paper's sign.
* Synthetic trends (Figs. 4, 6) are Spearman correlations of the exact E[U] with T over the grid, at least
  ``basin_spearman_min``: the weak c theta^2 bowl puts mass far out at the largest T (brief 3.1), where e.g.
  Fig. 6 right's E[U_test] turns up by 1 % after falling by a factor 5.
* The Taylor prediction (Eq. 3 with theta_hat = theta_tr) is checked per (T, seed) point, with the fit over
  the whole side (the paper's, partly true by construction, brief 3.2 C.7) and the restricted fit.
* The collapse of Fig. 5: at every T the spread of the seed-mean test loss over batch sizes, relative to its
  mean, is below ``collapse_tolerance``.
* Every trend and fit states the range it was judged over (``fit_range``: the T grid, the reflected fit's
  x range). Regime checks the paper states (else ``undetermined`` with the reason): the reflected fits of
  App. F are quadratics about local minima, so every point's fitted curvatures must be positive; the Fig. 5
  experiments start from a converged stage 1 (App. G.1: mean final train loss 0.005), so the stage-1 (or
  resampled run's) final train loss must be at most ``stage1_train_loss_max``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from thermoscape.claims import claims_table, criteria_from, row

STUDY = "bradley"
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Criteria:
    """Tolerances of the verdicts (config ``bradley.claims``; brief Sec. 5). Defaults:

    ``basin_spearman_min`` 0.9: |Spearman(T, E[U])| of a synthetic trend, with the caption's sign.
    ``laplace_tolerance`` 1e-2: max |exact - Laplace (Eq. 6)| basin probability, at T <= ``laplace_max_T``.
    ``laplace_max_T`` 1e-2: the Laplace check's largest temperature (the wide basins leave the Laplace regime
      above it).
    ``ks_pvalue_min`` 0.01: Euler-Maruyama histogram against the steady state (Eq. 5).
    ``spearman_min`` 0.7: |Spearman| of a trend against T, with the paper's sign.
    ``taylor_tolerance`` 0.2: |prediction - measured| / measured per (T, seed).
    ``taylor_fraction`` 0.8: fraction of the points within it.
    ``collapse_tolerance`` 0.1: (max - min) / mean of the test loss over batch sizes at equal T.
    ``shuffle_cv_max`` 0.1: std / mean of the test loss over reshuffled splits.
    ``stage1_train_loss_max`` 0.01: the regime of Fig. 5: the final train loss of stage 1 (and of each
      reshuffled or subsampled run, the same procedure) at most this, the upper end of brief Sec. 5's band
      [0.0025, 0.01] around the paper's 0.005 ("until the training converged", App. G.1).
    """

    basin_spearman_min: float = 0.9
    laplace_tolerance: float = 1e-2
    laplace_max_T: float = 1e-2
    ks_pvalue_min: float = 0.01
    spearman_min: float = 0.7
    taylor_tolerance: float = 0.2
    taylor_fraction: float = 0.8
    collapse_tolerance: float = 0.1
    shuffle_cv_max: float = 0.1
    stage1_train_loss_max: float = 0.01

    @classmethod
    def from_config(cls, overrides: Mapping[str, Any] | None) -> Criteria:
        return criteria_from(cls, overrides, "bradley.claims")


def _row(claim: str, quantity: str, paper: str, criterion: str, slice_name: str, **values) -> dict[str, Any]:
    return row(claim, quantity, paper, criterion, slice_name=slice_name, study=STUDY, **values)


def _empty(table: pd.DataFrame | None) -> bool:
    return table is None or table.empty


def _t_range(temperatures: pd.Series | np.ndarray, name: str = "T") -> str:
    """The grid a trend was judged over, e.g. ``T in [0.0004, 0.0064] (5 points)``."""
    values = np.asarray(temperatures, dtype=float)
    return f"{name} in [{values.min():g}, {values.max():g}] ({values.size} points)" if values.size else ""


# --- synthetic basins (Figs. 4, 6) ----------------------------------------------------------------------------

# case -> (train direction, test direction): +1 increases with T, -1 decreases, 0 interior minimum (brief Sec. 5)
CASE_TRENDS = {"fig4_left": (1, 0), "fig4_right": (1, 1), "fig6_left": (1, 1), "fig6_right": (1, -1)}
_DIRECTION = {1: "increases", -1: "decreases", 0: "has an interior minimum"}


def _trend_row(case: str, column: str, direction: int, table: pd.DataFrame, criteria: Criteria) -> dict[str, Any]:
    values = table[column].to_numpy()
    claim = f"E[{'U_train' if column == 'expected_train' else 'U_test'}] {_DIRECTION[direction]} with T"
    if direction == 0:
        best = int(np.argmin(values))
        interior = 0 < best < len(values) - 1
        return _row(claim, "optimal T", "interior, finite optimal T (Sec. 3.1)", "argmin strictly inside the T grid",
                    case, value=float(table["T"].iloc[best]), n=len(values), passed=interior,
                    fit_range=_t_range(table["T"]))
    rho = float(sps.spearmanr(table["T"], values).statistic)
    return _row(claim, "Spearman(T, E[U])", "captions of Figs. 4, 6",
                f"Spearman {'>=' if direction > 0 else '<='} {direction * criteria.basin_spearman_min:g}", case,
                value=rho, n=len(values), passed=bool(direction * rho >= criteria.basin_spearman_min),
                fit_range=_t_range(table["T"]))


def basin_claims(basins: pd.DataFrame | None, expectations: pd.DataFrame | None, criteria: Criteria) -> Rows:
    """Figs. 4 and 6: the trends of E[U_train], E[U_test] with T per case, the mass at the widest minimum of
    Fig. 6 right, and the Laplace weights (Eq. 6) against the exact basin integrals."""
    rows: Rows = []
    if not _empty(expectations):
        for case, table in expectations.groupby("case", sort=False):
            table = table.sort_values("T")
            for column, direction in zip(("expected_train", "expected_test"), CASE_TRENDS.get(case, ()),
                                         strict=False):
                rows.append(_trend_row(case, column, direction, table, criteria))
    if _empty(basins):
        return rows
    for case, table in basins.groupby("case", sort=False):
        cold = table[table["T"] <= criteria.laplace_max_T]
        if not cold.empty:
            gap = float((cold["probability"] - cold["laplace"]).abs().max())
            rows.append(_row("Laplace weights (Eq. 6) match the basin integrals", "max |exact - Laplace|",
                             "about 1e-3 (brief 3.1)", f"<= {criteria.laplace_tolerance:g} for T <= "
                             f"{criteria.laplace_max_T:g}", case, value=gap, n=len(cold),
                             passed=gap <= criteria.laplace_tolerance,
                             fit_range=_t_range(cold["T"].unique())))
        if case == "fig6_right":
            hot = table[table["T"] == table["T"].max()]
            widest = hot.loc[hot["location"].idxmax()]
            rows.append(_row("most mass ends at the widest minimum (+1)", "P(basin at +1) at the largest T",
                             "most mass at +1 (Fig. 6 right)", "the largest basin probability", case,
                             value=float(widest["probability"]), n=len(hot),
                             passed=bool(widest["probability"] == hot["probability"].max())))
    return rows


def langevin_claims(check: pd.DataFrame | None, criteria: Criteria) -> Rows:
    """Eq. 5 with a non-constant D: Euler-Maruyama of Eq. 11 against the steady state, a KS test per T."""
    if _empty(check):
        return []
    return [_row("Euler-Maruyama samples follow rho ~ exp(-2 v / T) (Eq. 5)", "KS p-value",
                 "steady state of Eq. 11", f"p >= {criteria.ks_pvalue_min:g}", f"{r.case} T={r.T:g}",
                 value=float(r.ks_pvalue), uncertainty=float(r.ks_statistic), n=int(r.particles),
                 passed=bool(r.ks_pvalue >= criteria.ks_pvalue_min),
                 detail=f"KS statistic {r.ks_statistic:.4f} (in the uncertainty column)")
            for r in check.itertuples()]


# --- shift-curvature (Figs. 1-3) -----------------------------------------------------------------------------

# column -> (claim, expected sign of the trend with T; 0: reported, no verdict)
SHIFT_TRENDS = {
    "test_at_train": ("test loss at the train minimum decreases with T", -1),
    "train_minimum_loss": ("U_k^train increases with T", 1),
    "test_minimum_loss": ("U_k^test increases with T", 1),
    "shift_curvature": ("shift-curvature s C_test s decreases with T", -1),
    "c_train": ("train curvature decreases with T", -1),
    "c_test": ("test curvature decreases with T", -1),
    "shift_norm": ("|s| against T (VGG16: increases, ResNet: decreases)", 0),
}


def _spearman_row(means: pd.DataFrame, column: str, claim: str, sign: int, criteria: Criteria,
                  slice_name: str, outside_regime: str = "", fit: str = "") -> dict[str, Any]:
    """A trend of the seed means against T (``means`` has a ``T`` column); ``fit``: the fit a fitted
    quantity comes from, added to the fit range."""
    finite = means[np.isfinite(means[column])]
    criterion = "reported" if sign == 0 else f"Spearman {'<=' if sign < 0 else '>='} {sign * criteria.spearman_min:g}"
    fit_range = "; ".join(part for part in (_t_range(finite["T"]), fit) if part)
    if len(finite) < 3:
        return _row(claim, "Spearman(T, seed mean)", "Figs. 2, 3", criterion, slice_name, n=len(finite),
                    detail="fewer than 3 temperatures", fit_range=fit_range)
    rho = float(sps.spearmanr(finite["T"], finite[column]).statistic)
    return _row(claim, "Spearman(T, seed mean)", "Figs. 2, 3", criterion, slice_name, value=rho, n=len(finite),
                passed=None if sign == 0 else bool(sign * rho >= criteria.spearman_min), fit_range=fit_range,
                outside_regime=outside_regime)


# trend columns that come from the reflected fits (App. F)
FITTED = ("c_train", "c_test", "shift_curvature")


def _not_minima(finite: pd.DataFrame) -> str:
    """App. F's regime: the losses are reflected "about their respective local minima" and fitted with
    ``c x^2 / 2``; a non-positive fitted curvature means a stage-B end point is not a minimum along the line.
    The reason naming the points, or ""."""
    columns = [c for c in ("c_train", "c_test", "c_train_half", "c_test_half") if c in finite]
    bad = finite[(finite[columns] <= 0).any(axis=1)]
    if bad.empty:
        return ""
    points = ", ".join(f"T = {t:g} seed {int(seed)}"
                       for t, seed in bad[["T", "seed"]].head(5).itertuples(index=False))
    return (f"{len(bad)} of {len(finite)} (T, seed) points with a non-positive reflected curvature ({points}"
            f"{', ...' if len(bad) > 5 else ''}): not a local minimum along the line (App. F)")


def shift_claims(summary: pd.DataFrame | None, criteria: Criteria, restricted_range: float = 0.5) -> Rows:
    """Figs. 2, 3: trends of the minima, shift and curvatures with T, the Taylor prediction of Eq. 3 (both
    fit ranges: the whole side, ``x <= |s|``, and ``x <= restricted_range |s|``) and the ordering
    1/2 s C s > U_k^test. The rows built on the reflected fits are judged only where every point is at a
    local minimum along the line (:func:`_not_minima`)."""
    if _empty(summary):
        return []
    finite = summary[summary["finite"].astype(bool)]
    means = finite.groupby("T", as_index=False).mean(numeric_only=True)
    regime, whole = _not_minima(finite), "reflected fits over x in [0, |s|] (App. F)"
    rows = [_spearman_row(means, column, claim, sign, criteria, "shift-curvature",
                          regime if column in FITTED else "", whole if column in FITTED else "")
            for column, (claim, sign) in SHIFT_TRENDS.items()]
    points = f"{len(finite)} (T, seed) points, {_t_range(finite['T'].unique())}"
    for column, fit, span in (("prediction", "whole side", "x in [0, |s|]"),
                              ("prediction_half", "restricted range", f"x in [0, {restricted_range:g} |s|]")):
        error = (finite[column] - finite["test_at_train"]).abs() / finite["test_at_train"]
        share = float((error <= criteria.taylor_tolerance).mean()) if len(error) else np.nan
        rows.append(_row(f"Taylor prediction (Eq. 3) matches U_test(theta_tr), fit on the {fit}",
                         f"fraction within {criteria.taylor_tolerance:.0%}", "supported (Fig. 2 top left)",
                         f">= {criteria.taylor_fraction:g}", "shift-curvature", value=share,
                         uncertainty=float(error.median()) if len(error) else np.nan, n=len(error),
                         passed=bool(share >= criteria.taylor_fraction) if len(error) else None,
                         detail="median relative error in the uncertainty column",
                         fit_range=f"test fit over {span}; {points}", outside_regime=regime))
    larger = (finite["shift_curvature"] / 2 > finite["test_minimum_loss"]).mean() if len(finite) else np.nan
    rows.append(_row("1/2 s C s contributes more than U_k^test", "fraction of points", "Fig. 2 top right",
                     "> 0.5", "shift-curvature", value=float(larger), n=len(finite),
                     passed=bool(larger > 0.5) if len(finite) else None,
                     fit_range=f"test fit over x in [0, |s|]; {points}", outside_regime=regime))
    return rows


# --- temperature sweep and shift experiments (Fig. 5) ------------------------------------------------------


def _unconverged(final_train: pd.Series, runs: str, criteria: Criteria) -> str:
    """Fig. 5's regime: its runs start from, or are, a stage 1 trained "until the training converged" (App.
    G.1: mean final train loss 0.005). The reason, or ""."""
    worst = float(final_train.max())
    if not worst > criteria.stage1_train_loss_max:
        return ""
    return (f"{runs} final train loss up to {worst:.3g} > {criteria.stage1_train_loss_max:g}, not the "
            "converged stage 1 of Fig. 5 (paper: 0.005, App. G.1)")


def sweep_claims(sweep: pd.DataFrame | None, shuffle: pd.DataFrame | None, sample_size: pd.DataFrame | None,
                 criteria: Criteria, stage1: pd.DataFrame | None = None) -> Rows:
    """Fig. 5: the test loss falls with T for every batch size and collapses across batch sizes at equal T;
    reshuffled splits change little; smaller samples give higher test losses. ``stage1``: the stage-1
    runs' ``final_train`` (per seed); the sweep rows are judged only from a converged stage 1, the shuffle
    and sample-size rows only on converged runs (:func:`_unconverged`)."""
    rows: Rows = []
    if not _empty(sweep):
        start = "" if _empty(stage1) else _unconverged(stage1["final_train"], "stage-1", criteria)
        finite = sweep[sweep["finite"].astype(bool)]
        means = finite.groupby(["batch", "T"], as_index=False)["final_test"].mean()
        for batch, table in means.groupby("batch"):
            rows.append(_spearman_row(table, "final_test", "test loss decreases with T", -1, criteria,
                                      f"B={batch}", start))
        by_t = means.groupby("T")["final_test"]
        spread = ((by_t.max() - by_t.min()) / by_t.mean()).max()
        batches = ", ".join(str(b) for b in sorted(means["batch"].unique()))
        rows.append(_row("test loss collapses across batch sizes at equal T = lr/B", "max over T of (max - min) / mean",
                         "curves overlap (Fig. 5 left)", f"<= {criteria.collapse_tolerance:g}", "sweep",
                         value=float(spread), n=len(means), passed=bool(spread <= criteria.collapse_tolerance),
                         fit_range=f"{_t_range(means['T'].unique())}; B in {{{batches}}}",
                         outside_regime=start))
    if not _empty(shuffle):
        cv = float(shuffle["final_test"].std() / shuffle["final_test"].mean())
        rows.append(_row("reshuffling train/test has little impact", "std / mean of the test loss",
                         "little impact (Fig. 5 right)", f"<= {criteria.shuffle_cv_max:g}", "shuffle", value=cv,
                         n=len(shuffle), passed=bool(cv <= criteria.shuffle_cv_max),
                         fit_range=f"{len(shuffle)} reshuffled splits",
                         outside_regime=_unconverged(shuffle["final_train"], "reshuffled runs'", criteria)))
    if not _empty(sample_size):
        means = sample_size.groupby("sample_size", as_index=False)["final_test"].mean().rename(
            columns={"sample_size": "T"})  # the same Spearman check, against sample size
        regime = _unconverged(sample_size["final_train"], "subsampled runs'", criteria)
        rows.append(_spearman_row(means, "final_test", "smaller samples give higher test loss", -1, criteria,
                                  "sample size", regime)
                    | {"quantity": "Spearman(sample size, seed mean)",
                       "fit_range": _t_range(means["T"], "sample size")})
    return rows


def bradley_claims(basins=None, expectations=None, langevin_check=None, shift_curvature=None, sweep=None,
                   shuffle=None, sample_size=None, criteria: Mapping[str, Any] | None = None, stage1=None,
                   restricted_range: float = 0.5) -> pd.DataFrame:
    """The Bradley et al. claims table (``claims.COLUMNS``) from the aggregated tables; ``stage1``: the Fig. 5
    stage-1 runs' final losses (``seed``, ``final_train``); ``restricted_range``: the restricted reflected
    fit's range as a fraction of ``|s|`` (config ``bradley.shift_curvature.fit.restricted_range``)."""
    chosen = Criteria.from_config(criteria)
    rows = (basin_claims(basins, expectations, chosen) + langevin_claims(langevin_check, chosen)
            + shift_claims(shift_curvature, chosen, restricted_range)
            + sweep_claims(sweep, shuffle, sample_size, chosen, stage1))
    return claims_table(rows)
