"""Fort & Ganguli's claims, measured: one row each (``claims.row``), checked against the brief's acceptance
tolerances (brief sections 5 and 8).

The random model (Figs. 3b, 5-8) is checked on its summary, sweep and entropy tables; the real networks
(Figs. 1, 4 and the four properties the paper cites, brief X1-X4) on the per-run tables.

Tables. Every function takes the measurement tables of the workflow as arguments (it never reads files):
either one ``pandas`` frame (the per-file tables concatenated) or a sequence of frames, concatenated here
(a frame of a real network without a ``run`` column is then named ``table {i}``). ``None`` or an empty
table leaves out the claims made on it; a table too short for a claim gives an ``undetermined`` row.
Column names are those the workflow writes (``random_model/summary_s*``, ``random_model/sweep_s*``,
``freezing/entropy``, ``runs/*/clustering``, ``runs/*/history``, ``runs/*/hessian_summary``,
``goldilocks/radius_*``, ``goldilocks/hyperplane_*``).

Choices (documented, config ``fort.claims``, see :class:`Criteria`):

* Outliers: the paper's Fig. 5 says "bulk + C - 1 outliers", the abstract "C". The random model is checked
  against C - 1 (it cannot give C, brief 5.1); a real network passes with C - 1 or C and the row says which.
* Fig. 7: the schedules ``sigma_c ~ sigma_z^a`` listed as non-monotone (``nonmonotone_exponents``) must give
  an interior maximum. The others are checked against the shapes the brief found (5.2, beyond the paper):
  constant ``sigma_c`` (a = 0) non-increasing, an exponent above every listed one non-decreasing; an
  exponent between listed ones gets an informational row (verdict ``undetermined``, the shape in
  ``detail``).
* Real-network clustering and the four properties are checked on runs whose activation is in
  ``checked_activations`` (default ReLU: brief 5.3 found tanh with z-scored inputs unclustered, with no
  outlier gap); the other runs get informational rows with the measured values.
* Fig. 4 growth and the Goldilocks checks apply to every run.
* Every row judged over a range (of sigma_z, epochs or init scales) states it in ``fit_range``. Regime
  checks where the paper states one: Fig. 7's peak needs a sweep past the brief's peak window on both sides
  (the paper sweeps 1e-3 to 1e2), Fig. 8's drop a sweep to ``curvature_end_sigma_z``; outside, the row is
  ``undetermined`` with the reason (``claims.row``'s ``outside_regime``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from thermoscape.claims import claims_table, criteria_from, row

STUDY = "fort"
Rows = list[dict[str, Any]]
Tables = pd.DataFrame | Sequence[pd.DataFrame] | None


@dataclass(frozen=True)
class Criteria:
    """Tolerances of the verdicts (config ``fort.claims``; brief 5.1, 5.2, 5.3 and 8). Defaults:

    Random model (summary tables, per seed):
      ``q_sl_tolerance`` 0.01: ``|mean q_SL - SNR/(SNR+1)|`` over seeds.
      ``q_dl_max`` 0.01: ``max |q_DL|`` over seeds.
      ``gap_ratio_min`` 3.0: smallest gap ratio ``lambda_i / lambda_(i+1)`` at the outlier edge.
      ``power_range`` (0.55, 0.80): median over seeds of the gradient power in the top C eigenvectors.
      ``eq16_outlier_rel_diff_max`` 0.05: Eq. 16 vs Eq. 10 on the top C - 1 eigenvalues (max over seeds).
      ``eq16_power_diff_max`` 0.02: ``|power Eq. 16 - power Eq. 10|`` in the top C (max over seeds).
    Random-model sweep (mean over seeds per ``sigma_z``):
      ``peak_sigma_z_range`` (0.3, 10.0): where the interior maximum of ``lambda_max`` must lie.
      ``peak_final_fraction_max`` 0.6: ``lambda_max`` at the largest ``sigma_z`` below this fraction of the max.
      ``monotone_tolerance`` 0.05: a "monotone" curve may step against its direction by this fraction
        (of the previous value; of ``log2 C`` for the entropy).
      ``curvature_reference_sigma_z`` 1.0: Tr/||H||_F non-increasing from the grid point nearest this.
      ``curvature_drop_min`` 0.25: its relative drop from there to the largest ``sigma_z``.
      ``curvature_end_sigma_z`` 100.0: the regime of that drop: the sweep reaches this ``sigma_z`` (the
        paper's sweep ends at 1e2, Sec. 4; brief 5.2 sets the 25 % drop "from sigma_z = 1 to sigma_z = 100"),
        else the rows are ``undetermined``.
      ``entropy_hot_tolerance`` 0.05: ``|S / log2 C - 1|`` at the smallest ``sigma_z``.
      ``entropy_frozen_fraction`` 0.1: ``S / log2 C`` at the largest ``sigma_z`` at most this.
    Real networks:
      ``checked_activations`` ("relu",): runs whose clustering and Hessian properties get verdicts.
      ``q_sl_real_preprocess`` "unit": the preprocessing of the runs compared with the paper's q_SL = 0.67.
      ``q_sl_real_min`` 0.5: their q_SL at every stage at least this (loose: "0.67 or above", brief 5.3).
      ``growth_ratio_min`` 1.0: Fig. 4 quantities, end / start above this in every run.
      ``real_power_end_min`` 0.5: gradient power in the top C at the end of training ("primarily", [12]).
      ``lambda_max_decline`` 0.0: ``lambda_max(end) < (1 - decline) * max`` over training.
      ``g_term_rel_diff_max`` 0.2: ``|lambda_max - lambda_max(G-term)| / lambda_max`` at the end.
      ``goldilocks_reference_scale`` 1.0: the init scale the large-radius curvature ratio is compared with.
      ``goldilocks_spearman_min`` 0.0: Spearman(hyperplane accuracy, projected ratio) over radii above this.
    """

    q_sl_tolerance: float = 0.01
    q_dl_max: float = 0.01
    gap_ratio_min: float = 3.0
    power_range: tuple[float, float] = (0.55, 0.80)
    eq16_outlier_rel_diff_max: float = 0.05
    eq16_power_diff_max: float = 0.02
    peak_sigma_z_range: tuple[float, float] = (0.3, 10.0)
    peak_final_fraction_max: float = 0.6
    monotone_tolerance: float = 0.05
    curvature_reference_sigma_z: float = 1.0
    curvature_drop_min: float = 0.25
    curvature_end_sigma_z: float = 100.0
    entropy_hot_tolerance: float = 0.05
    entropy_frozen_fraction: float = 0.1
    checked_activations: tuple[str, ...] = ("relu",)
    q_sl_real_preprocess: str = "unit"
    q_sl_real_min: float = 0.5
    growth_ratio_min: float = 1.0
    real_power_end_min: float = 0.5
    lambda_max_decline: float = 0.0
    g_term_rel_diff_max: float = 0.2
    goldilocks_reference_scale: float = 1.0
    goldilocks_spearman_min: float = 0.0

    @classmethod
    def from_dict(cls, criteria: Mapping[str, Any] | Criteria | None) -> Criteria:
        """The defaults overridden by ``criteria`` (a config dict; lists become tuples). Unknown keys raise."""
        return criteria_from(cls, criteria, "fort.claims")


def _row(*args, **kwargs) -> dict[str, Any]:
    return row(*args, study=STUDY, **kwargs)


def _frame(tables: Tables, runs: bool = False) -> pd.DataFrame:
    """One frame from a frame, a sequence of frames or ``None``; ``runs``: name frames without ``run``."""
    if tables is None:
        return pd.DataFrame()
    if isinstance(tables, pd.DataFrame):
        frames = [tables]
    else:
        frames = list(tables)
    if runs:
        frames = [f if "run" in f.columns or f.empty else f.assign(run=f"table {i}") for i, f in enumerate(frames)]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _n_classes(table: pd.DataFrame, n_classes: int | None) -> pd.Series:
    """The ``n_classes`` column, or ``n_classes`` where the table has none."""
    if "n_classes" in table.columns:
        return table["n_classes"].astype(int)
    if n_classes is None:
        raise ValueError("a table without an n_classes column needs the n_classes argument")
    return pd.Series(n_classes, index=table.index, dtype=int)


def _in(value: float, bounds: tuple[float, float]) -> bool:
    return bool(bounds[0] <= value <= bounds[1])


def _worst_step(values: np.ndarray, direction: int, scale: np.ndarray | float) -> float:
    """Smallest ``direction * step / scale`` along a curve (``direction`` +1: rising, -1: falling); a
    curve monotone in ``direction`` within tolerance ``tol`` has it ``>= -tol``."""
    if len(values) < 2:
        return np.nan
    return float(np.min(direction * np.diff(values) / np.maximum(np.abs(scale), 1e-300)))


def _nearest(values: Iterable[float], target: float) -> float:
    """The value nearest ``target`` in log distance (positive values)."""
    values = np.asarray(list(values), dtype=float)
    return float(values[np.argmin(np.abs(np.log(values) - np.log(target)))])


def _sigma_range(sigma: np.ndarray | pd.Series) -> str:
    """The ``sigma_z`` a curve was judged over, e.g. ``sigma_z in [0.001, 100] (21 points)``."""
    sigma = np.asarray(sigma, dtype=float)
    return f"sigma_z in [{sigma.min():.3g}, {sigma.max():.3g}] ({sigma.size} points)" if sigma.size else ""


def _epoch_range(epochs: np.ndarray | pd.Series) -> str:
    epochs = np.asarray(epochs, dtype=float)
    return f"epochs {epochs.min():g}-{epochs.max():g} ({epochs.size} points)" if epochs.size else ""


def _scale_range(scales: np.ndarray | pd.Series | pd.Index) -> str:
    """The init scales (radius / default radius) a Goldilocks statistic was judged over."""
    scales = np.asarray(scales, dtype=float)
    return f"init scales {scales.min():g}-{scales.max():g} ({scales.size} radii)"


def _checked(activation: str, criteria: Criteria) -> bool:
    return str(activation).lower() in {a.lower() for a in criteria.checked_activations}


def _informational(activation: str) -> str:
    return f"; informational: activation {activation} not in checked_activations"


# ---------------------------------------------------------------------------------------------- random model
def random_model_claims(summary: Tables, criteria: Criteria, n_classes: int | None = None) -> Rows:
    """Sec. 4, Figs. 5, 6 on the per-seed summaries: q_SL = SNR/(SNR+1), q_DL ~ 0, C - 1 outliers, gradient
    power in the top C, Eq. 16 vs Eq. 10."""
    summary = _frame(summary)
    if summary.empty:
        return []
    n, name = len(summary), "random model"
    q_sl, theory = summary["q_sl"], float(summary["q_sl_theory"].mean())
    rows = [_row("logit gradients cluster (Sec. 4, Eq. 12)", "q_SL, mean over seeds", "0.67 = SNR/(SNR+1)",
                 f"|mean q_SL - SNR/(SNR+1)| <= {criteria.q_sl_tolerance:g}", float(q_sl.mean()),
                 float(q_sl.std(ddof=0)), n, abs(q_sl.mean() - theory) <= criteria.q_sl_tolerance,
                 f"SNR/(SNR+1) = {theory:.4f}; q_SLSC mean {summary['q_slsc'].mean():.4f}", name)]
    q_dl = float(summary["q_dl"].abs().max())
    rows.append(_row("different logits orthogonal (Sec. 4, Eq. 13)", "max |q_DL| over seeds", "~0",
                     f"max |q_DL| < {criteria.q_dl_max:g}", q_dl, n=n, passed=q_dl < criteria.q_dl_max,
                     detail=f"mean q_DL {summary['q_dl'].mean():.2e}", slice_name=name))
    classes = _n_classes(summary, n_classes)
    counts = summary["n_outliers"].astype(int)
    gap = float(summary["gap_ratio"].min())
    rows.append(_row("bulk + C - 1 outliers (Fig. 5)", "n_outliers, median over seeds",
                     "C - 1 (Fig. 5; the abstract says C)",
                     f"n_outliers = C - 1 in every seed and gap ratio >= {criteria.gap_ratio_min:g}",
                     float(counts.median()), n=n,
                     passed=bool((counts == classes - 1).all()) and gap >= criteria.gap_ratio_min,
                     detail=f"C = {', '.join(map(str, sorted(classes.unique())))}; n_outliers per seed "
                            f"{sorted(counts.tolist())}; smallest gap ratio {gap:.3g}; seeds with C outliers "
                            f"{int((counts == classes).sum())}", slice_name=name))
    power = summary["power_top_c"]
    rows.append(_row("gradient confined to the top C eigenvectors (Fig. 6)", "gradient power in top C, median",
                     "0.71 (top 10 of D = 1000)",
                     f"median in [{criteria.power_range[0]:g}, {criteria.power_range[1]:g}]", float(power.median()),
                     float(power.std(ddof=0)), n, _in(float(power.median()), criteria.power_range),
                     f"per-seed range [{power.min():.2f}, {power.max():.2f}]; median top C - 1 "
                     f"{summary['power_top_c_minus_1'].median():.3f}, top 2C {summary['power_top_2c'].median():.3f}",
                     name))
    rel = float(summary["top_outlier_eq16_rel_diff"].max())
    rows.append(_row("Eq. 16 approximates Eq. 10 (Sec. 3.2)", "max relative difference, top C - 1 eigenvalues",
                     "rank-C term + noise term, cross terms dropped",
                     f"max over seeds <= {criteria.eq16_outlier_rel_diff_max:g}", rel, n=n,
                     passed=rel <= criteria.eq16_outlier_rel_diff_max, slice_name=name))
    diff = float((summary["power_top_c_eq16"] - summary["power_top_c"]).abs().max())
    rows.append(_row("Eq. 16 approximates Eq. 10 (Sec. 3.2)", "max |power in top C, Eq. 16 - Eq. 10|",
                     "rank-C term + noise term, cross terms dropped",
                     f"max over seeds <= {criteria.eq16_power_diff_max:g}", diff, n=n,
                     passed=diff <= criteria.eq16_power_diff_max, slice_name=name))
    return rows


def _peak_row(curve: pd.DataFrame, exponent: float, n_seeds: int, criteria: Criteria) -> dict[str, Any]:
    low, high = criteria.peak_sigma_z_range
    criterion = (f"interior maximum at sigma_z in [{low:g}, {high:g}] and lambda_max(largest sigma_z) < "
                 f"{criteria.peak_final_fraction_max:g} max")
    args = ("top eigenvalue grows, peaks and declines (Fig. 7)", "sigma_z at the maximum of lambda_max",
            "grows, peaks, declines (sigma_c growing slowly)", criterion)
    name = f"a = {exponent:g}"
    if len(curve) < 3:
        return _row(*args, n=n_seeds, detail="fewer than 3 sigma_z", slice_name=name)
    lam, sigma = curve["lambda_max"].to_numpy(), curve["sigma_z"].to_numpy()
    i = int(np.argmax(lam))
    fraction = float(lam[-1] / lam[i])
    passed = 0 < i < len(lam) - 1 and _in(sigma[i], criteria.peak_sigma_z_range) and \
        fraction < criteria.peak_final_fraction_max
    return _row(*args, float(sigma[i]), n=n_seeds, passed=passed,
                detail=f"lambda_max(sigma_z = {sigma[-1]:g}) / max = {fraction:.3f}; mean over {n_seeds} seeds",
                slice_name=name, fit_range=_sigma_range(sigma), outside_regime=_peak_outside(sigma, criteria))


def _peak_outside(sigma: np.ndarray, criteria: Criteria) -> str:
    """Fig. 7's regime: the paper sweeps sigma_z from 1e-3 to 1e2 (Sec. 4) and brief 5.2 puts the maximum in
    ``peak_sigma_z_range``; a sweep that does not extend past that window on both sides cannot show "grows,
    peaks, declines". The reason, or ""."""
    low, high = criteria.peak_sigma_z_range
    if sigma.min() < low and sigma.max() > high:
        return ""
    return (f"the sweep (sigma_z in [{sigma.min():.3g}, {sigma.max():.3g}]) does not extend past the peak "
            f"window [{low:g}, {high:g}] on both sides (paper: 1e-3 to 1e2)")


def _shape(lam: np.ndarray, tol: float) -> str:
    if _worst_step(lam, -1, lam[:-1]) >= -tol:
        return "non-increasing"
    if _worst_step(lam, 1, lam[:-1]) >= -tol:
        return "non-decreasing"
    return f"neither: maximum at point {int(np.argmax(lam)) + 1} of {len(lam)}"


def _monotone_row(curve: pd.DataFrame, exponent: float, n_seeds: int, largest: float,
                  criteria: Criteria) -> dict[str, Any]:
    """Fig. 7 schedule sensitivity (brief 5.2): constant sigma_c falls, fast-growing sigma_c rises."""
    tol, name = criteria.monotone_tolerance, f"a = {exponent:g}"
    if np.isclose(exponent, 0.0):
        direction, paper = -1, "constant sigma_c: lambda_max falls (brief 5.2)"
    elif exponent > largest:
        direction, paper = 1, f"sigma_c ~ sigma_z^a, a > {largest:g}: lambda_max rises (brief 5.2)"
    else:
        direction, paper = 0, "between the non-monotone schedules (not checked)"
    criterion = {-1: "non-increasing", 1: "non-decreasing", 0: "informational"}[direction]
    if direction:
        criterion += f" (steps against it <= {tol:g} relative) with a net change in that direction"
    args = ("Fig. 7 depends on the sigma_c schedule (beyond the paper)", "lambda_max(largest) / lambda_max(smallest)",
            paper, criterion)
    if len(curve) < 2:
        return _row(*args, n=n_seeds, detail="fewer than 2 sigma_z", slice_name=name)
    lam = curve["lambda_max"].to_numpy()
    ratio = float(lam[-1] / lam[0])
    passed = None if not direction else bool(
        _worst_step(lam, direction, lam[:-1]) >= -tol and direction * (lam[-1] - lam[0]) > 0)
    return _row(*args, ratio, n=n_seeds, passed=passed, detail=f"shape: {_shape(lam, tol)}; mean over "
                f"{n_seeds} seeds", slice_name=name, fit_range=_sigma_range(curve["sigma_z"]))


def _curvature_row(means: pd.DataFrame, column: str, criteria: Criteria, projected: bool) -> dict[str, Any]:
    reference = _nearest(means["sigma_z"], criteria.curvature_reference_sigma_z)
    part = means[means["sigma_z"] >= reference]
    tol = criteria.monotone_tolerance
    if projected:
        args = ("curvature ratio falls on a random d-dim hyperplane (Sec. 4, data not shown)",
                "relative drop of Tr(H_d)/||H_d||_F", "falls, by less than the full ratio",
                f"ratio(largest sigma_z) < ratio(sigma_z = {reference:g})")
    else:
        args = ("curvature ratio falls as probabilities freeze (Fig. 8)", "relative drop of Tr(H)/||H||_F",
                "large at small sigma_z, small at large sigma_z",
                (f"non-increasing for sigma_z >= {reference:g} (steps up <= {tol:g} relative) and drop >= "
                 f"{criteria.curvature_drop_min:g}"))
    if len(part) < 2:
        return _row(*args, n=len(part), detail=f"fewer than 2 sigma_z >= {reference:g}", slice_name="random model")
    ratio = part[column].to_numpy()
    drop = float(1 - ratio[-1] / ratio[0])
    worst = _worst_step(ratio, -1, ratio[:-1])
    passed = drop > 0 if projected else worst >= -tol and drop >= criteria.curvature_drop_min
    largest = float(part["sigma_z"].iloc[-1])
    short = "" if largest >= criteria.curvature_end_sigma_z * (1 - 1e-9) else (
        f"the sweep ends at sigma_z = {largest:.3g} < {criteria.curvature_end_sigma_z:g}, before the frozen "
        "regime the drop is judged at (paper: sweep to 1e2; brief 5.2)")
    return _row(*args, drop, n=len(part), passed=bool(passed),
                detail=f"{ratio[0]:.3g} at sigma_z = {reference:g} -> {ratio[-1]:.3g} at "
                       f"{largest:g}; largest step up {max(0.0, -worst):.3f} relative; mean over "
                       "seeds and schedules", slice_name="random model",
                fit_range=_sigma_range(part["sigma_z"]), outside_regime=short)


def sweep_claims(sweep: Tables, nonmonotone_exponents: Sequence[float], criteria: Criteria) -> Rows:
    """Figs. 7, 8 on the sigma_z sweep (mean over seeds at each ``(exponent, sigma_z)``): ``lambda_max``
    grows, peaks and declines for the non-monotone schedules (the others: see the module docstring);
    Tr/||H||_F non-increasing from sigma_z ~ 1 and dropping by ``curvature_drop_min``, and the d-dim
    projected ratio falling (pooled over schedules: the ratio does not depend on the sigma_c scale)."""
    sweep = _frame(sweep)
    if sweep.empty:
        return []
    listed = np.asarray(list(nonmonotone_exponents), dtype=float)
    largest = float(listed.max()) if listed.size else 0.0
    rows = []
    for exponent, part in sweep.groupby("exponent"):
        curve = part.groupby("sigma_z", as_index=False)["lambda_max"].mean().sort_values("sigma_z")
        n_seeds = int(part["seed"].nunique())
        if np.isclose(listed, exponent).any():
            rows.append(_peak_row(curve, float(exponent), n_seeds, criteria))
        else:
            rows.append(_monotone_row(curve, float(exponent), n_seeds, largest, criteria))
    means = sweep.groupby("sigma_z", as_index=False)[["curvature_ratio", "projected_ratio"]].mean()
    means = means.sort_values("sigma_z")
    rows.append(_curvature_row(means, "curvature_ratio", criteria, projected=False))
    rows.append(_curvature_row(means, "projected_ratio", criteria, projected=True))
    return rows


def entropy_claims(entropy: Tables, criteria: Criteria) -> Rows:
    """Sec. 3.3, Fig. 3b, per C: S ~ log2 C at the smallest sigma_z, non-increasing in sigma_z and ~0 at
    the largest (freezing)."""
    entropy = _frame(entropy)
    rows = []
    for classes, part in (entropy.groupby("n_classes") if not entropy.empty else []):
        part = part.sort_values("sigma_z")
        s, log_c, name = part["entropy_bits"].to_numpy(), np.log2(int(classes)), f"C = {int(classes)}"
        hot = float(s[0] / log_c)
        rows.append(_row("high temperature: uniform probabilities (Sec. 3.3, Fig. 3b)",
                         "S(smallest sigma_z) / log2 C", "S ~ log2 C at small sigma_z",
                         f"|ratio - 1| <= {criteria.entropy_hot_tolerance:g}", hot, n=len(part),
                         passed=abs(hot - 1) <= criteria.entropy_hot_tolerance,
                         detail=f"sigma_z = {part['sigma_z'].iloc[0]:g}, S = {s[0]:.3f} bits",
                         slice_name=name, fit_range=f"sigma_z = {part['sigma_z'].iloc[0]:.3g}"))
        cold = float(s[-1] / log_c)
        worst = _worst_step(s, -1, log_c)
        passed = len(s) >= 2 and worst >= -criteria.monotone_tolerance and cold <= criteria.entropy_frozen_fraction
        rows.append(_row("probabilities freeze as sigma_z grows (Sec. 3.3, Fig. 3b)", "S(largest sigma_z) / log2 C",
                         "S decreasing to 0", f"S non-increasing in sigma_z (steps up <= "
                         f"{criteria.monotone_tolerance:g} log2 C) and ratio <= {criteria.entropy_frozen_fraction:g}",
                         cold, n=len(part), passed=bool(passed),
                         detail=f"sigma_z = {part['sigma_z'].iloc[-1]:g}, S = {s[-1]:.3f} bits",
                         slice_name=name, fit_range=_sigma_range(part["sigma_z"])))
    return rows


# ---------------------------------------------------------------------------------------------- real networks
def clustering_claims(clustering: Tables, criteria: Criteria) -> Rows:
    """Fig. 1, per run: q_SLSC > q_SL > |q_DL| at every stage; q_SL of the checked runs with preprocessing
    ``q_sl_real_preprocess`` against the paper's 0.67."""
    clustering = _frame(clustering, runs=True)
    rows = []
    for run, part in (clustering.groupby("run", sort=False) if not clustering.empty else []):
        part = part.sort_values("epoch")
        activation = str(part["activation"].iloc[0]) if "activation" in part else "unknown"
        checked = _checked(activation, criteria)
        ordered = (part["q_slsc"] > part["q_sl"]) & (part["q_sl"] > part["q_dl"].abs())
        stages = "; ".join(f"{s} (epoch {e:g}): {a:.3f} > {b:.3f} > |{c:.3f}|" for s, e, a, b, c in
                           part[["stage", "epoch", "q_slsc", "q_sl", "q_dl"]].itertuples(index=False))
        rows.append(_row("logit gradients cluster by logit (Fig. 1)", "min over stages of q_SL - |q_DL|",
                         "q_SLSC > q_SL >> |q_DL| ~ 0", "q_SLSC > q_SL > |q_DL| at every stage",
                         float((part["q_sl"] - part["q_dl"].abs()).min()), n=len(part),
                         passed=bool(ordered.all()) if checked else None,
                         detail=stages + ("" if checked else _informational(activation)), slice_name=run))
        preprocess = str(part["preprocess"].iloc[0]) if "preprocess" in part else "unknown"
        if checked and preprocess == criteria.q_sl_real_preprocess:
            q_sl = float(part["q_sl"].min())
            rows.append(_row("q_SL ~ 0.67 in real networks (Sec. 4, Fig. 1)", "min over stages of q_SL", "0.67",
                             f"q_SL >= {criteria.q_sl_real_min:g} at every stage (loose, brief 5.3)", q_sl,
                             n=len(part), passed=q_sl >= criteria.q_sl_real_min,
                             detail=f"mean over stages {part['q_sl'].mean():.3f}", slice_name=run))
    return rows


GROWTH = (("logit_variance", "logit variance", "TL"), ("gradient_length", "logit gradient length", "TR"),
          ("weight_norm", "weight norm", "BL"))


def growth_claims(history: Tables, criteria: Criteria) -> Rows:
    """Fig. 4 TL/TR/BL, pooled over runs: logit variance, logit-gradient length and weight norm larger at
    the end of training than at initialisation (an early dip allowed)."""
    history = _frame(history, runs=True)
    if history.empty:
        return []
    rows = []
    for column, label, panel in GROWTH:
        ratios, dips, spans = {}, [], set()
        for run, part in history.groupby("run", sort=False):
            part = part.sort_values("epoch").dropna(subset=[column])
            values = part[column].to_numpy()
            if len(values) < 2:
                continue
            ratios[run] = float(values[-1] / values[0]) if values[0] else np.inf
            spans.add(f"{part['epoch'].iloc[0]:g}-{part['epoch'].iloc[-1]:g}")
            if values.min() < values[0]:
                dips.append(run)
        args = (f"{label} grows with training (Fig. 4 {panel})", f"min over runs of {column}(end) / {column}(init)",
                "grows with training time",
                f"end / init > {criteria.growth_ratio_min:g} in every run (an early dip allowed)")
        if not ratios:
            rows.append(_row(*args, detail="no run with 2 recorded epochs", slice_name="all runs"))
            continue
        detail = "; ".join(f"{r}: {v:.3g}" for r, v in ratios.items())
        if dips:
            detail += f"; dips below init in {', '.join(map(str, dips))}"
        worst = min(ratios.values())
        rows.append(_row(*args, worst, n=len(ratios), passed=worst > criteria.growth_ratio_min, detail=detail,
                         slice_name="all runs", fit_range=f"epochs {', '.join(sorted(spans))} per run"))
    return rows


def _lambda_row(curve: pd.DataFrame, run: str, checked: bool, activation: str, criteria: Criteria):
    decline = criteria.lambda_max_decline
    args = ("top Hessian eigenvalue grows, peaks and declines (property 3, [13])", "lambda_max(end) / max",
            "grows, peaks, declines during training",
            f"maximum after init and before the end, end / max < {1 - decline:g}")
    curve = curve.dropna(subset=["lambda_max"]).sort_values("epoch")
    if len(curve) < 3:
        return _row(*args, n=len(curve), detail="fewer than 3 epochs with lambda_max", slice_name=run)
    lam, epoch = curve["lambda_max"].to_numpy(), curve["epoch"].to_numpy()
    i = int(np.argmax(lam))
    fraction = float(lam[-1] / lam[i])
    passed = 0 < i < len(lam) - 1 and fraction < 1 - decline
    return _row(*args, fraction, n=len(curve), passed=passed if checked else None,
                detail=f"init {lam[0]:.3g}, max {lam[i]:.3g} at epoch {epoch[i]:g}, end {lam[-1]:.3g} at epoch "
                       f"{epoch[-1]:g}" + ("" if checked else _informational(activation)), slice_name=run,
                fit_range=_epoch_range(epoch))


def hessian_claims(hessian_summary: Tables, history: Tables, criteria: Criteria,
                   n_classes: int | None = None) -> Rows:
    """The four properties measured on real networks (brief X1-X3), per run: C - 1 or C outliers at the end
    of training; gradient power in the top C rising to ``real_power_end_min``; ``lambda_max`` over training
    (``history``, else the Hessian checkpoints) growing, peaking and declining; the G-term's top eigenvalue
    close to the full Hessian's at the end."""
    summary = _frame(hessian_summary, runs=True)
    history = _frame(history, runs=True)
    rows = []
    for run, part in (summary.groupby("run", sort=False) if not summary.empty else []):
        part = part.sort_values("epoch")
        activation = str(part["activation"].iloc[0]) if "activation" in part else "unknown"
        checked, note = _checked(activation, criteria), ("" if _checked(activation, criteria)
                                                         else _informational(activation))
        init, end = part.iloc[0], part.iloc[-1]
        classes = int(_n_classes(part, n_classes).iloc[-1])
        count = int(end["n_outliers"])
        which = {classes - 1: "C - 1", classes: "C"}.get(count, "neither C - 1 nor C")
        rows.append(_row("bulk + C outliers (property 1, [7-11])", "n_outliers at the end of training",
                         "C (abstract); C - 1 (Fig. 5)", "n_outliers in {C - 1, C} at the end", count, n=len(part),
                         passed=count in (classes - 1, classes) if checked else None,
                         detail=f"C = {classes}: {which}; gap ratio {end['gap_ratio']:.3g}; G-term "
                                f"{end['g_n_outliers']:g}; at init {init['n_outliers']:g}" + note,
                         slice_name=run))
        power, power0 = float(end["power_top_c"]), float(init["power_top_c"])
        rows.append(_row("gradient in the top-C Hessian subspace (property 2, [12])",
                         "gradient power in top C at the end", "primarily in the top C",
                         f"rises from init and >= {criteria.real_power_end_min:g} at the end", power, n=len(part),
                         passed=power > power0 and power >= criteria.real_power_end_min if checked else None,
                         detail=f"init {power0:.3f} (epoch {init['epoch']:g}), end epoch {end['epoch']:g}" + note,
                         slice_name=run))
        curve = part[["epoch", "lambda_max"]]
        if not history.empty and "lambda_max" in history and (history["run"] == run).any():
            curve = history.loc[history["run"] == run, ["epoch", "lambda_max"]]
        rows.append(_lambda_row(curve, run, checked, activation, criteria))
        rel = float(abs(end["lambda_max"] - end["g_lambda_max"]) / end["lambda_max"])
        rows.append(_row("weak logit curvature: the G-term dominates (Sec. 3.1, Eq. 9)",
                         "|lambda_max - lambda_max(G)| / lambda_max at the end", "outliers from the G-term",
                         f"< {criteria.g_term_rel_diff_max:g}", rel, n=1,
                         passed=rel < criteria.g_term_rel_diff_max if checked else None,
                         detail=f"H-term eigenvalues in [{end['h_min']:.3g}, {end['h_max']:.3g}]; lambda_max "
                                f"{end['lambda_max']:.3g}" + note, slice_name=run))
    return rows


def goldilocks_claims(radius: Tables, hyperplane: Tables, criteria: Criteria) -> Rows:
    """Property 4 (Fig. 8 in real networks, [17]): per run, Tr(H)/||H||_F, and that of the G-term alone (what
    the paper's model describes), lower at the largest init radius than at scale ``goldilocks_reference_scale``; per run and hyperplane dimension, hyperplane training
    accuracy (mean over draws) rank-correlated positively with the projected ratio at the anchor over radii."""
    radius, hyperplane = _frame(radius, runs=True), _frame(hyperplane, runs=True)
    rows = []
    statistics = (("curvature_ratio", "curvature ratio falls at large init radius (property 4, Fig. 8, [17])",
                   "Tr(H)/||H||_F at the largest radius"),
                  ("g_curvature_ratio", "G-term curvature ratio falls at large init radius (Sec. 4 (4), Fig. 8)",
                   "Tr(G)/||G||_F at the largest radius"))
    for run, part in (radius.groupby("run", sort=False) if not radius.empty else []):
        part = part.sort_values("radius")
        reference = _nearest(part["scale"], criteria.goldilocks_reference_scale)
        for column, claim, quantity in statistics:
            if column not in part:
                continue
            args = (claim, quantity, "falls beyond the Goldilocks zone", f"below its value at scale {reference:g}")
            if len(part) < 2 or reference == part["scale"].iloc[-1]:
                rows.append(_row(*args, n=len(part), detail="no scale beyond the reference", slice_name=run))
                continue
            at_ref = part.loc[part["scale"] == reference, column].mean()
            large = float(part[column].iloc[-1])
            rows.append(_row(*args, large, n=len(part), passed=large < at_ref,
                             detail=f"{at_ref:.3g} at scale {reference:g} -> {large:.3g} at scale "
                                    f"{part['scale'].iloc[-1]:g} (radius {part['radius'].iloc[-1]:.3g}); max "
                                    f"{part[column].max():.3g} at scale "
                                    f"{part.loc[part[column].idxmax(), 'scale']:g}", slice_name=run,
                             fit_range=_scale_range(part["scale"])))
    groups = hyperplane.groupby(["run", "dim"], sort=False) if not hyperplane.empty else []
    for (run, dim), part in groups:
        means = part.groupby("scale")[["accuracy", "projected_ratio"]].mean()
        args = ("Goldilocks zone: hyperplane training works where curvature is positive (property 4, [16, 17])",
                "Spearman(accuracy, Tr(H_d)/||H_d||_F) over radii", "success correlates with Tr(H)/||H||",
                f"Spearman > {criteria.goldilocks_spearman_min:g}")
        name = f"{run}, d = {int(dim)}"
        if len(means) < 3:
            rows.append(_row(*args, n=len(means), detail="fewer than 3 radii", slice_name=name))
            continue
        detail = f"accuracy {means['accuracy'].min():.1f}-{means['accuracy'].max():.1f}%"
        if (means.nunique() < 2).any():
            rows.append(_row(*args, n=len(means), detail=detail + "; constant over radii", slice_name=name))
            continue
        rho = float(sps.spearmanr(means["accuracy"], means["projected_ratio"]).statistic)
        rows.append(_row(*args, rho, n=len(means), passed=rho > criteria.goldilocks_spearman_min,
                         detail=f"{detail}; {part['draw'].nunique()} draws per radius", slice_name=name,
                         fit_range=_scale_range(means.index)))
    return rows


def fort_claims(summary: Tables = None, sweep: Tables = None, entropy: Tables = None, clustering: Tables = None,
                history: Tables = None, hessian_summary: Tables = None, radius: Tables = None,
                hyperplane: Tables = None, *, n_classes: int | None = None,
                nonmonotone_exponents: Sequence[float] = (0.1, 0.25),
                criteria: Mapping[str, Any] | Criteria | None = None) -> pd.DataFrame:
    """The claims table of Fort & Ganguli (``claims.COLUMNS``, study ``fort``) from the measurement tables
    (see the module docstring for their form). ``criteria``: overrides of the :class:`Criteria` defaults
    (config ``fort.claims``); ``n_classes`` is used only for tables without an ``n_classes`` column;
    ``nonmonotone_exponents``: the sigma_c schedules whose lambda_max(sigma_z) must peak (Fig. 7)."""
    criteria = Criteria.from_dict(criteria)
    rows = random_model_claims(summary, criteria, n_classes)
    rows += sweep_claims(sweep, nonmonotone_exponents, criteria)
    rows += entropy_claims(entropy, criteria)
    rows += clustering_claims(clustering, criteria)
    rows += growth_claims(history, criteria)
    rows += hessian_claims(hessian_summary, history, criteria, n_classes)
    rows += goldilocks_claims(radius, hyperplane, criteria)
    return claims_table(rows)
