"""Yang et al.'s claims (brief 4.1), judged on the aggregated cells of a phase diagram: the best cell's phase,
the connectivity at the hottest row and the narrowest width, the training-loss drop across the sharp/flat
boundary, the CKA ordering of the phases and double descent along width. Tolerances: :class:`Criteria`
(config ``taxonomy.claims``, filled by :func:`thermoscape.claims.criteria_from`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from thermoscape.claims import row
from thermoscape.studies.taxonomy.experiment import PhaseRules, connectivity_transition, decay_gain


@dataclass(frozen=True)
class Criteria:
    """Claim criteria (config ``taxonomy.claims``)."""

    top_cka_fraction: float = 0.25  # the best cell's CKA lies in this top fraction of the grid
    low_trace_fraction: float = 0.3  # and its Hessian trace in this bottom fraction
    loss_drop: float = 10.0  # training-loss ratio across the sharp -> flat boundary
    dip: float = 1.0  # double descent: test-accuracy dip (pp) below both neighbours in width
    decay_gain: float = 0.0  # lr decay raises the best test accuracy by more than this (pp; Fig. 3 vs Fig. 2)
    transition_steps: float = 0.5  # Fig. 13: the gain's peak lies within this many width steps of the
    #                                connectivity boundary (0.5: one of the two widths beside it, "almost exactly")
    small_train_loss: float = 0.1  # Fig. 8e: "when training loss is small": cells below this training loss
    noise_sigmas: float = 2.0  # Fig. 13: a gain peak counts only if it stands this many standard errors above
    #                            the median gain (else the gain curve is flat within its noise: undetermined)
    rank_agreement: float = 0.8  # Figs. 9-11: "insensitive"/"robust": Spearman with the reference diagram >= this
    large_batch_hessian: float = 2.0  # Fig. 22: "much larger": lambda_max at the largest batch over the phase grid's
    #                                   largest batch exceeds this factor (geometric mean over widths)
    flat_ratio: float = 0.5  # Fig. 23: "much more slowly" / "almost does not change" along batch size: the
    #                          spread with the linear scaling rule is below this fraction of the constant-lr one


def _rank_fraction(values: pd.Series, value: float) -> float:
    """Fraction of finite ``values`` strictly greater than ``value``."""
    finite = values[np.isfinite(values)]
    return float((finite > value).mean()) if len(finite) else np.nan


def _span(values: pd.Series) -> str:
    low, high = values.min(), values.max()
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def _cells_range(cells: pd.DataFrame, axis: str) -> str:
    """The cells a claim was computed over, e.g. ``9 cells: width 2-128, batch_size 8-256``."""
    if cells.empty:
        return "no cell"
    return f"{len(cells)} cells: width {_span(cells['width'])}, {axis} {_span(cells['temperature'])}"


def taxonomy_claims(cells: pd.DataFrame, rules: PhaseRules, criteria: Criteria,
                    temperature_axis: str = "batch_size", experiment: str = "phase") -> list[dict[str, Any]]:
    """The paper's claims checked on one width x temperature phase diagram (issue 6; brief 4.1). Every row
    states the cells it was computed over (``fit_range``); a claim about a phase or a transition the grid
    does not reach is ``undetermined`` (outside the regime), with the reason."""
    def claim(name, quantity, paper, criterion, value=np.nan, n=0, passed=None, detail="", **regime):
        return row(name, quantity, paper, criterion, value, np.nan, n, passed, detail, experiment,
                   study="taxonomy", **regime)

    cells = cells[np.isfinite(cells["test_accuracy"])]
    hottest = cells["temperature"].min() if temperature_axis == "batch_size" else cells["temperature"].max()
    tol = rules.connected_tolerance
    rows = [_best_accuracy_claim(cells, rules, criteria, temperature_axis, claim)]
    narrow = cells[cells["width"] == cells["width"].min()]
    rows.append(claim("mc small width", f"median mc at width {narrow['width'].min():g} (pp)",
                      "mc < 0 (poorly connected) at small width", f"median mc < -{tol:g}",
                      narrow["mc"].median(), len(narrow), bool(narrow["mc"].median() < -tol),
                      fit_range=_cells_range(narrow, temperature_axis)))
    hot = cells[(cells["temperature"] == hottest) & (cells["width"] >= cells["width"].median())]
    rows.append(claim("mc hot wide", f"median mc at {temperature_axis} {hottest:g}, width >= "
                      f"{cells['width'].median():g} (pp)",
                      "mc > 0 at the highest temperature for large widths",
                      f"median mc > {tol:g}", hot["mc"].median(), len(hot), bool(hot["mc"].median() > tol),
                      fit_range=_cells_range(hot, temperature_axis)))
    rows.append(_loss_drop_claim(cells, rules, criteria, claim, temperature_axis))
    rows.append(_cka_ordering_claim(cells, claim, temperature_axis))
    return rows


def _best_accuracy_claim(cells, rules, criteria, temperature_axis, claim) -> dict[str, Any]:
    """Brief 4.1 claim 2: the best cell is in Phase IV-B. Its regime: the grid reaches Phase IV (a
    well-connected cell that fits the training set); every diagram of the paper has one (claim 1)."""
    tol = rules.connected_tolerance
    best = cells.loc[cells["test_accuracy"].idxmax()]
    cka_rank, trace_rank = _rank_fraction(cells["cka"], best["cka"]), 1 - _rank_fraction(
        cells["hessian_trace"], best["hessian_trace"])
    passed = bool(abs(best["mc"]) <= tol and cka_rank < criteria.top_cka_fraction
                  and trace_rank <= criteria.low_trace_fraction)
    no_phase_iv = not cells["phase"].isin(["IV-A", "IV-B"]).any()
    return claim(
        "best accuracy", "test accuracy of the best cell (%)", "best test accuracy in Phase IV-B: well "
        "connected, locally flat, similar models",
        f"|mc| <= {tol:g}, CKA in the top {criteria.top_cka_fraction:.0%}, trace in the bottom "
        f"{criteria.low_trace_fraction:.0%}", best["test_accuracy"], len(cells), passed,
        f"width {best['width']:g}, {temperature_axis} {best['temperature']:g}: mc {best['mc']:.2f}, "
        f"CKA {best['cka']:.3f} (top {cka_rank:.0%}), trace {best['hessian_trace']:.3g} "
        f"(bottom {trace_rank:.0%}), phase {best['phase']}", fit_range=_cells_range(cells, temperature_axis),
        outside_regime=f"no Phase IV cell (|mc| <= {tol:g}, training accuracy >= "
                       f"{rules.interpolation_accuracy:g} %) in the grid" if no_phase_iv else "")


def _crossing_rows(cells: pd.DataFrame, threshold: float) -> dict[float, int]:
    """Per temperature row (cells sorted by width), the index of the last width below the training-accuracy
    ``threshold`` followed by one at or above it: the sharp -> flat (interpolation) boundary."""
    crossings = {}
    for temperature, line in cells.sort_values("width").groupby("temperature"):
        flat = (line["train_accuracy"] >= threshold).to_numpy()
        found = np.flatnonzero(~flat[:-1] & flat[1:])
        if len(found):
            crossings[temperature] = int(found[0])
    return crossings


def _loss_drop_claim(cells, rules, criteria, claim, temperature_axis="temperature") -> dict[str, Any]:
    """Training-loss ratio between horizontally adjacent cells across the sharp -> flat boundary: in each
    temperature row, the last width below ``interpolation_accuracy`` against the first at or above it.
    Its regime: some row crosses that boundary (brief 4.1 claim 3 is about the transition)."""
    crossings = _crossing_rows(cells, rules.interpolation_accuracy)
    ratios = []
    for temperature, k in crossings.items():
        line = cells[cells["temperature"] == temperature].sort_values("width")
        ratios.append(line["train_loss"].iloc[k] / line["train_loss"].iloc[k + 1])
    median = float(np.median(ratios)) if ratios else np.nan
    return claim("loss drop", "median training-loss ratio across the sharp/flat boundary",
                 "more than tenfold reduction of the training loss across the transition",
                 f"median ratio > {criteria.loss_drop:g}", median, len(ratios),
                 None if not ratios else bool(median > criteria.loss_drop),
                 f"ratios {np.round(ratios, 1).tolist()}" if ratios else "",
                 fit_range=f"{len(ratios)} of {cells['temperature'].nunique()} {temperature_axis} rows cross "
                           f"training accuracy {rules.interpolation_accuracy:g} % along width",
                 outside_regime="" if ratios else "no row crosses the sharp/flat boundary")


def _cka_ordering_claim(cells, claim, temperature_axis="temperature") -> dict[str, Any]:
    """Brief 4.1 claim 6 (Fig. 2): CKA(I, II) < CKA(III) < CKA(IV); its regime: all three groups present."""
    groups = {"I/II": cells["phase"].isin(["I", "II"]), "III": cells["phase"] == "III",
              "IV": cells["phase"].isin(["IV-A", "IV-B"])}
    medians = {name: float(cells.loc[mask, "cka"].median()) for name, mask in groups.items()}
    counts = {name: int(mask.sum()) for name, mask in groups.items()}
    detail = ", ".join(f"{name}: {medians[name]:.3f} ({counts[name]} cells)" for name in groups)
    determined = all(counts.values())
    return claim("cka ordering", "median CKA by phase", "CKA(I, II) < CKA(III) < CKA(IV)",
                 "medians strictly increasing", np.nan, sum(counts.values()),
                 bool(medians["I/II"] < medians["III"] < medians["IV"]) if determined else None,
                 detail, fit_range=_cells_range(cells[cells["phase"] != ""], temperature_axis),
                 outside_regime="" if determined else "a phase group is empty")




def double_descent_claim(cells: pd.DataFrame, criteria: Criteria, experiment: str = "noise",
                         rules: PhaseRules = PhaseRules()) -> dict[str, Any]:
    """Width-wise double descent with noisy labels (Fig. 4; brief 4.3 E3): in some row of fixed
    temperature, the test accuracy at a width lies more than ``criteria.dip`` below its two neighbours.
    Its regime: the dark band follows the I/II -> III/IV boundary (brief 4.1 claim 7), so some row must
    cross the interpolation threshold (training accuracy ``rules.interpolation_accuracy``) along width."""
    dips = []
    for temperature, line in cells.sort_values("width").groupby("temperature"):
        accuracy = line["test_accuracy"].to_numpy()
        depth = np.minimum(accuracy[:-2], accuracy[2:]) - accuracy[1:-1]
        if len(depth) and depth.max() > criteria.dip:
            k = int(depth.argmax())
            dips.append(f"{temperature:g}: width {line['width'].iloc[k + 1]:g} ({depth[k]:.1f} pp below, "
                        f"train acc {line['train_accuracy'].iloc[k + 1]:.1f} %)")
    crossing = _crossing_rows(cells, rules.interpolation_accuracy)
    regime = "" if crossing else (f"no row crosses the interpolation threshold (training accuracy "
                                  f"{rules.interpolation_accuracy:g} %) along width")
    return row("double descent", "rows with a test-accuracy dip along width", "test accuracy non-monotone in "
               "width at fixed temperature (a dark band at the interpolation threshold)",
               f"a dip > {criteria.dip:g} pp in at least one row", len(dips), np.nan,
               cells["temperature"].nunique(), bool(dips), "; ".join(dips), experiment, study="taxonomy",
               fit_range=_cells_range(cells, "temperature"), outside_regime=regime)


def lr_decay_claims(reference: pd.DataFrame, decayed: pd.DataFrame, criteria: Criteria,
                    rules: PhaseRules = PhaseRules(), experiment: str = "lr_decay") -> list[dict[str, Any]]:
    """Learning-rate decay (Figs. 3 and 13; brief 4.1 claim 8), on the cells both diagrams share:

    * the best test accuracy with decay exceeds the best without by more than ``criteria.decay_gain``;
    * the per-width gain (Fig. 13, right) peaks at the poorly -> well connected boundary of the decay
      diagram (``connectivity_transition``, median over the shared rows): within
      ``criteria.transition_steps`` width steps of it. Undetermined when the boundary lies outside the
      shared widths (the grid does not reach the transition)."""
    gain = decay_gain(reference, decayed)
    temperatures = sorted(set(reference["temperature"]) & set(decayed["temperature"]))
    shared = decayed[decayed["width"].isin(gain["width"]) & decayed["temperature"].isin(temperatures)]
    span = (f"{len(gain)} widths {_span(gain['width']) if len(gain) else '-'} x {len(temperatures)} rows "
            f"{', '.join(f'{t:g}' for t in temperatures)} (cells in both diagrams)")
    rows = []
    best = (float(gain["best_decay"].max() - gain["best_reference"].max()) if len(gain) else np.nan)
    rows.append(row("lr decay best accuracy", "best test accuracy with decay minus without (pp)",
                    "optimal test accuracy improves in the presence of learning rate decay",
                    f"difference > {criteria.decay_gain:g} pp", best, np.nan, len(shared),
                    None if not len(gain) else bool(best > criteria.decay_gain),
                    f"best {gain['best_decay'].max():.2f} % with decay, {gain['best_reference'].max():.2f} % "
                    f"without" if len(gain) else "", experiment, study="taxonomy", fit_range=span,
                    outside_regime="" if len(gain) else "the diagrams share no cell"))
    boundary = connectivity_transition(shared, rules.connected_tolerance) if len(shared) else np.nan
    inside = bool(np.isfinite(boundary) and 0 <= boundary <= len(gain) - 1)
    peak = int(np.nanargmax(gain["gain"].to_numpy())) if len(gain) and gain["gain"].notna().any() else None
    distance = abs(peak - boundary) if peak is not None and np.isfinite(boundary) else np.nan
    widths = gain["width"].to_numpy()

    def width_at(position: float) -> str:
        low, high = int(np.floor(position)), int(np.ceil(position))
        return f"{widths[low]:g}" if low == high else f"{widths[low]:g}/{widths[high]:g}"

    prominence = float(gain["gain"].iloc[peak] - gain["gain"].median()) if peak is not None else np.nan
    peak_se = float(gain["gain_se"].iloc[peak]) if peak is not None and "gain_se" in gain else np.nan
    flat = bool(np.isfinite(peak_se) and not prominence > criteria.noise_sigmas * peak_se)
    detail = ""
    if peak is not None:
        detail = (f"gain per width {dict(zip(widths.tolist(), gain['gain'].round(2).tolist()))}; peak at width "
                  f"{widths[peak]:g}; connectivity boundary (mc >= -{rules.connected_tolerance:g} from there on, "
                  f"median over rows) " + (f"between widths {width_at(boundary)}" if inside else
                                           f"outside the widths (index {boundary:g})")
                  + f"; peak {prominence:.2f} pp above the median gain, standard error {peak_se:.2f} pp")
    rows.append(row("lr decay gain peak", "width steps between the gain's peak and the connectivity boundary",
                    "the improvement from learning rate decay peaks almost exactly at the transition between "
                    "globally well-connected and poorly-connected phases (Fig. 13)",
                    f"distance <= {criteria.transition_steps:g} width steps, the peak > "
                    f"{criteria.noise_sigmas:g} standard errors above the median gain", distance, np.nan, len(shared),
                    bool(distance <= criteria.transition_steps) if inside and peak is not None else None,
                    detail, experiment, study="taxonomy", fit_range=span,
                    outside_regime="the connectivity boundary lies outside the shared widths" if not inside else
                    (f"no peak: the gain curve is flat within its noise (peak {prominence:.2f} pp above the median, "
                     f"<= {criteria.noise_sigmas:g} x {peak_se:.2f} pp)" if flat else "")))
    return rows


def label_noise_claims(cells: pd.DataFrame, criteria: Criteria, experiment: str = "label_noise",
                       temperature_axis: str = "batch_size") -> list[dict[str, Any]]:
    """Fig. 8 (load = fraction of randomized labels, temperature = batch size; brief 4.1 claims 4, 5):

    * more noisy labels make connectivity worse: the median over temperature rows of the Spearman
      correlation between the noise fraction and mc is negative;
    * "the Hessian trace changes slowly with the proportion of noisy labels when training loss is small":
      on the cells with training loss < ``criteria.small_train_loss``, the median spread of ln(trace)
      along the noise axis (per row) is smaller than its median spread along the batch-size axis (per
      noise level), i.e. the noise moves the trace less than the temperature does. Undetermined without
      two such cells in a row and in a column."""
    from scipy.stats import spearmanr

    cells = cells[np.isfinite(cells["test_accuracy"])]
    span = (f"{len(cells)} cells: label_noise {_span(cells['label_noise'])}, {temperature_axis} "
            f"{_span(cells['temperature'])}, width {_span(cells['width'])}") if len(cells) else "no cell"
    rhos = {}
    for temperature, line in cells.groupby("temperature"):
        if line["label_noise"].nunique() > 1 and line["mc"].nunique() > 1:
            rhos[temperature] = float(spearmanr(line["label_noise"], line["mc"]).statistic)
    median = float(np.median(list(rhos.values()))) if rhos else np.nan
    rows = [row("noise worsens connectivity", "median over rows of Spearman(noise fraction, mc)",
                "more noisy labels make mode connectivity worse (Fig. 8c)", "median correlation < 0",
                median, np.nan, len(cells), bool(median < 0) if rhos else None,
                "; ".join(f"{t:g}: {r:+.2f}" for t, r in rhos.items()) + "; mc by noise (median over rows) "
                + ", ".join(f"{n:g}: {m:.2f}" for n, m in cells.groupby("label_noise")["mc"].median().items()),
                experiment, study="taxonomy", fit_range=span,
                outside_regime="" if rhos else "no row with two noise levels")]
    small = cells[cells["train_loss"] < criteria.small_train_loss].assign(
        log_trace=lambda c: np.log(c["hessian_trace"]))

    def spreads(by: str) -> list[float]:
        return [float(g["log_trace"].max() - g["log_trace"].min()) for _, g in small.groupby(by) if len(g) > 1]

    along_noise, along_batch = spreads("temperature"), spreads("label_noise")
    determined = bool(along_noise and along_batch)
    noise_spread = float(np.median(along_noise)) if along_noise else np.nan
    batch_spread = float(np.median(along_batch)) if along_batch else np.nan
    rows.append(row("trace insensitive to noise", "median spread of ln(trace) along noise / along batch size",
                    "the Hessian trace changes slowly with the proportion of noisy labels when training loss "
                    "is small (Fig. 8e)", "ratio < 1", noise_spread / batch_spread if determined else np.nan,
                    np.nan, len(small), bool(noise_spread < batch_spread) if determined else None,
                    f"ln-trace spread along noise {noise_spread:.2f} ({len(along_noise)} rows), along "
                    f"{temperature_axis} {batch_spread:.2f} ({len(along_batch)} noise levels)",
                    experiment, study="taxonomy",
                    fit_range=(f"{len(small)} cells with training loss < {criteria.small_train_loss:g}: label_noise "
                               f"{_span(small['label_noise'])}, {temperature_axis} {_span(small['temperature'])}")
                    if len(small) else f"no cell with training loss < {criteria.small_train_loss:g}",
                    outside_regime="" if determined else
                    f"fewer than two cells with training loss < {criteria.small_train_loss:g} in any row and column"))
    return rows


def phase_iv_split_claims(cells: pd.DataFrame, rules: PhaseRules, temperature_axis: str = "batch_size",
                          experiment: str = "phase") -> list[dict[str, Any]]:
    """Phase IV's smooth crossover into IV-A (less similar models, large batch) and IV-B (brief 4.1 claim 1,
    Fig. 1; issue 26 item 6), judged two ways on the Phase IV cells (``|mc| <= tol``, flat):

    * absolute (the brief's operational rule, 3.6): some Phase IV cell has CKA < ``rules.similar_cka``;
    * relative (the brief's "top group of Phase IV"): CKA falls towards the cold side inside Phase IV, the
      Spearman correlation of CKA with batch size (inverse temperature) over the Phase IV cells < 0; for a
      temperature axis that rises with its value (lr, weight decay) the sign flips.

    Both are undetermined without Phase IV cells (resp. fewer than two temperature rows in Phase IV)."""
    from scipy.stats import spearmanr

    phase_iv = cells[cells["phase"].isin(["IV-A", "IV-B"]) & np.isfinite(cells["cka"])]
    span = _cells_range(phase_iv, temperature_axis)
    n_a = int((phase_iv["cka"] < rules.similar_cka).sum())
    by_row = phase_iv.groupby("temperature")["cka"].median()
    detail = (f"Phase IV CKA {phase_iv['cka'].min():.3f}-{phase_iv['cka'].max():.3f}; median per {temperature_axis} "
              + ", ".join(f"{t:g}: {c:.3f}" for t, c in by_row.items())) if len(phase_iv) else ""
    rows = [row("phase IV-A", f"Phase IV cells with CKA < {rules.similar_cka:g}",
                "Phase IV splits by a smooth crossover into IV-A (less similar models) and IV-B (similar models)",
                "at least one IV-A cell", n_a, np.nan, len(phase_iv), bool(n_a > 0) if len(phase_iv) else None,
                detail, experiment, study="taxonomy", fit_range=span,
                outside_regime="" if len(phase_iv) else "no Phase IV cell")]
    sign = 1.0 if temperature_axis == "batch_size" else -1.0  # colder = larger batch or smaller lr / wd
    determined = phase_iv["temperature"].nunique() > 1 and phase_iv["cka"].nunique() > 1
    rho = float(spearmanr(sign * phase_iv["temperature"], phase_iv["cka"]).statistic) if determined else np.nan
    rows.append(row("phase IV crossover", f"Spearman(coldness, CKA) over Phase IV (coldness: {temperature_axis}"
                    + (")" if sign > 0 else ", reversed)"),
                    "within Phase IV, models trained colder (larger batch) are less similar: IV-A lies at large "
                    "batch size below IV-B", "correlation < 0", rho, np.nan, len(phase_iv),
                    bool(rho < 0) if determined else None, detail, experiment, study="taxonomy", fit_range=span,
                    outside_regime="" if determined else "Phase IV spans fewer than two temperature rows"))
    return rows


def ablation_claims(table: pd.DataFrame, criteria: Criteria, experiment: str = "ablation") -> list[dict[str, Any]]:
    """The metric ablations (Figs. 9-11, App. A.4), each ablated diagram against the reference one by the
    Spearman correlation over the cells:

    * Fig. 9: CKA is "insensitive to the specific choice of alpha": every alpha's correlation >= 
      ``criteria.rank_agreement`` (the value: the smallest);
    * Fig. 10: "if the noise perturbation is too small, the CKA similarity becomes less informative": the
      correlation at the smallest magnitude is below the one at the largest;
    * Fig. 11: mode connectivity is "robust to the choice of specific configurations": every curve
      variant's correlation >= ``criteria.rank_agreement`` (the value: the smallest)."""
    from scipy.stats import spearmanr

    def correlations(name: str) -> dict[str, tuple[float, float]]:
        part = table[table["figure"] == name]
        return {setting: (float(g["parameter"].iloc[0]),
                          float(spearmanr(g["value"], g["reference"], nan_policy="omit").statistic))
                for setting, g in part.groupby("setting", sort=False)}

    cells = table.drop_duplicates("cell")
    span = (f"{len(cells)} cells: width {_span(cells['width'])}, batch_size {_span(cells['temperature'])}"
            if len(cells) else "no cell")
    rows = []
    for name, paper in (("cka_alpha", "CKA similarity is insensitive to the specific choice of alpha (Fig. 9)"),
                        ("curves", "mode connectivity is robust to the choice of specific configurations "
                                   "(curve learning rate, 4 bends; Fig. 11)")):
        rho = correlations(name)
        low = min((r for _, r in rho.values()), default=np.nan)
        rows.append(row(f"{name.replace('_', ' ')} ablation", "smallest Spearman correlation with the reference "
                        "diagram", paper, f"every correlation >= {criteria.rank_agreement:g}", low, np.nan, len(cells),
                        bool(low >= criteria.rank_agreement) if rho else None,
                        "; ".join(f"{s}: {r:.2f}" for s, (_, r) in rho.items()), experiment, study="taxonomy",
                        fit_range=span, outside_regime="" if rho else "no ablated diagram"))
    rho = correlations("cka_pixel_noise")
    ordered = sorted(rho.values())
    determined = len(ordered) > 1 and all(np.isfinite(r) for _, r in ordered)
    rows.append(row("cka pixel noise ablation", "Spearman with the reference at the largest minus at the smallest "
                    "noise magnitude", "if the noise perturbation is too small, the CKA similarity becomes less "
                    "informative (Fig. 10)", "difference > 0",
                    ordered[-1][1] - ordered[0][1] if determined else np.nan, np.nan, len(cells),
                    bool(ordered[-1][1] > ordered[0][1]) if determined else None,
                    "; ".join(f"{s}: {r:.2f}" for s, (_, r) in rho.items()), experiment, study="taxonomy",
                    fit_range=span, outside_regime="" if determined else "fewer than two finite noise magnitudes"))
    return rows


# --- App. D figures (issue 26): Figs. 14, 15, 17, 21, 22, 23 ----------------------------------------------


def zero_loss_claim(cells: pd.DataFrame, experiment: str = "noise_lr",
                    temperature_axis: str = "temperature") -> dict[str, Any]:
    """Figs. 4 and 17 (App. D.3; brief 4.3 E3): "the optimal test accuracy for a column slice on the left part
    could be achieved in Phase I instead of Phase III": in at least one width column through Phase III, the best
    test accuracy is in a Phase I/II cell. Its regime: some column holds both a Phase III and a Phase I/II cell.
    The detail gives each such column's margin (best I/II minus best III) with its replica standard error."""
    found, columns = [], []
    for width, column in cells[np.isfinite(cells["test_accuracy"])].groupby("width"):
        rough, flat = column[column["phase"].isin(["I", "II"])], column[column["phase"] == "III"]
        if rough.empty or flat.empty:
            continue
        best_rough, best_flat = (part.loc[part["test_accuracy"].idxmax()] for part in (rough, flat))
        margin = float(best_rough["test_accuracy"] - best_flat["test_accuracy"])
        se = float(np.hypot(*[b.get("test_accuracy_std", np.nan) / np.sqrt(b.get("n_replicas", np.nan))
                              for b in (best_rough, best_flat)]))
        columns.append(f"width {width:g}: {margin:+.2f} +- {se:.2f} pp (I/II at {best_rough['temperature']:g}, "
                       f"III at {best_flat['temperature']:g})")
        if margin > 0:
            found.append(width)
    return row("zero loss hurts", "width columns through Phase III whose best test accuracy is in Phase I/II",
               "the optimal test accuracy for a column slice could be achieved in Phase I instead of Phase III "
               "(App. D.3, Figs. 4, 17)", "at least one column", len(found), np.nan, len(columns),
               bool(found) if columns else None, "; ".join(columns), experiment, study="taxonomy",
               fit_range=_cells_range(cells, temperature_axis),
               outside_regime="" if columns else "no width column holds both a Phase III and a Phase I/II cell")


def pixel_noise_claims(cells: pd.DataFrame, rules: PhaseRules, experiment: str = "pixel_noise",
                       temperature_axis: str = "batch_size") -> list[dict[str, Any]]:
    """Fig. 21 (App. D.6; load = additive pixel noise u, temperature = batch size):

    * "mode connectivity remains close to zero even for a large amount of additive noise": over the rows
      (temperatures) that are well connected without noise (|mc| <= tol at the smallest u), the median |mc|
      at the largest u is <= tol (uncertainty: standard error over those rows);
    * "CKA still captures the degradation of data quality": at the bottom of the diagram (the colder half of
      the rows: batch size >= its median, or lr / wd <= theirs), CKA falls with u, median Spearman(u, CKA) < 0
      (no uncertainty: a rank correlation over a few rows, as for Fig. 8)."""
    from scipy.stats import spearmanr

    from thermoscape.claims import standard_error

    tol = rules.connected_tolerance
    cells = cells[np.isfinite(cells["test_accuracy"])]
    span = (f"{len(cells)} cells: pixel_noise {_span(cells['pixel_noise'])}, {temperature_axis} "
            f"{_span(cells['temperature'])}, width {_span(cells['width'])}") if len(cells) else "no cell"
    low, high = cells["pixel_noise"].min(), cells["pixel_noise"].max()
    rows_mc = {}
    for temperature, line in cells.groupby("temperature"):
        clean, noisy = line[line["pixel_noise"] == low]["mc"], line[line["pixel_noise"] == high]["mc"]
        if len(clean) and len(noisy) and abs(clean.iloc[0]) <= tol and high > low:
            rows_mc[temperature] = float(noisy.iloc[0])
    median = float(np.median(np.abs(list(rows_mc.values())))) if rows_mc else np.nan
    rows = [row("mc flat in pixel noise", f"median |mc| at u = {high:g} over the rows connected at u = {low:g} (pp)",
                "mode connectivity remains close to zero even for a large amount of additive noise (Fig. 21c)",
                f"median |mc| <= {tol:g}", median, standard_error(np.abs(list(rows_mc.values()))), len(rows_mc),
                bool(median <= tol) if rows_mc else None,
                "mc at the largest u per row: " + ", ".join(f"{t:g}: {m:+.2f}" for t, m in rows_mc.items()),
                experiment, study="taxonomy", fit_range=span,
                outside_regime="" if rows_mc else f"no row is well connected (|mc| <= {tol:g}) without noise")]
    temperatures = cells["temperature"]
    cold = cells[temperatures >= temperatures.median()] if temperature_axis == "batch_size" else \
        cells[temperatures <= temperatures.median()]
    rhos = {t: float(spearmanr(line["pixel_noise"], line["cka"]).statistic)
            for t, line in cold.groupby("temperature") if line["pixel_noise"].nunique() > 1 and line["cka"].nunique() > 1}
    median = float(np.median(list(rhos.values()))) if rhos else np.nan
    rows.append(row("cka falls with pixel noise", "median over the colder rows of Spearman(u, CKA)",
                    "CKA still captures the degradation of data quality: more noise, lower CKA at the bottom of the "
                    "diagram (Fig. 21d)", "median correlation < 0", median, np.nan,
                    len(cold), bool(median < 0) if rhos else None,
                    "; ".join(f"{t:g}: {r:+.2f}" for t, r in rhos.items()) + "; CKA by u (median over these rows) "
                    + ", ".join(f"{u:g}: {c:.3f}" for u, c in cold.groupby("pixel_noise")["cka"].median().items()),
                    experiment, study="taxonomy", fit_range=_cells_range(cold, temperature_axis),
                    outside_regime="" if rhos else "no cold row with two noise magnitudes"))
    return rows


def large_batch_claim(cells: pd.DataFrame, reference_batch: float, criteria: Criteria,
                      experiment: str = "large_batch") -> dict[str, Any]:
    """Fig. 22 (App. D.7.1): with the maximum batch size increased, "the Hessian becomes much larger than in
    Figure 2": per width, ln of the top eigenvalue at the largest batch size over the one at
    ``reference_batch``, the largest batch size of the constant-lr diagram (Fig. 2; its cells are in this
    grid too); the mean over widths (uncertainty: its standard error over widths) exceeds
    ln(``criteria.large_batch_hessian``). Undetermined when the grid has no row at ``reference_batch`` or none
    beyond it."""
    from thermoscape.claims import standard_error

    largest = cells["batch_size"].max()
    top = cells[cells["batch_size"] == largest].set_index("width")["hessian_top"]
    ref = cells[cells["batch_size"] == reference_batch].set_index("width")["hessian_top"]
    widths = sorted(set(top.index) & set(ref.index))
    ratios = np.log(top.reindex(widths).to_numpy() / ref.reindex(widths).to_numpy())
    keep = np.isfinite(ratios)
    widths, ratios = np.asarray(widths)[keep], ratios[keep]
    determined = largest > reference_batch and len(ratios) > 0
    mean = float(ratios.mean()) if len(ratios) else np.nan
    threshold = float(np.log(criteria.large_batch_hessian))
    regime = "" if determined else (f"no row beyond the phase grid's largest batch size {reference_batch:g}"
                                    if largest <= reference_batch else f"no row at batch size {reference_batch:g}")
    return row("hessian at large batch", f"mean over widths of ln(lambda_max at B {largest:g} / at B "
               f"{reference_batch:g})",
               "the Hessian becomes much larger than in Figure 2 when trained with a large batch size (Fig. 22)",
               f"mean > ln({criteria.large_batch_hessian:g}) = {threshold:.2f}", mean, standard_error(ratios),
               len(ratios), bool(mean > threshold) if determined else None,
               "ratio per width " + ", ".join(f"{w:g}: {r:.2f}" for w, r in zip(widths, np.exp(ratios))),
               experiment, study="taxonomy",
               fit_range=f"widths {', '.join(f'{w:g}' for w in widths)}; B {largest:g} against the phase grid's "
                         f"largest B {reference_batch:g}",
               outside_regime=regime)


def _spread_along_temperature(cells: pd.DataFrame, metric: str, widths, temperatures) -> np.ndarray:
    """Per width, max - min over the temperature rows of a metric (ln for the Hessian)."""
    part = cells[cells["width"].isin(widths) & cells["temperature"].isin(temperatures)]
    values = np.log(part[metric]) if metric.startswith("hessian") else part[metric]
    grouped = values.groupby(part["width"])
    return (grouped.max() - grouped.min()).reindex(widths).to_numpy(dtype=float)


def linear_scaling_claims(cells: pd.DataFrame, reference: pd.DataFrame, criteria: Criteria,
                          experiment: str = "linear_scaling", seed: int = 0) -> list[dict[str, Any]]:
    """Fig. 23 (App. D.7.2; lr = 0.05 k at batch size 128 k) against Fig. 2 (``reference``, constant lr), on the
    widths and batch sizes both share: "the test accuracy changes much more slowly with batch size" and "the
    mode connectivity and Hessian almost do not change at all along the Y-axis". Per metric, the mean over
    widths of its spread along batch size (max - min; ln of the top Hessian eigenvalue) with linear scaling
    over the same without; holds below ``criteria.flat_ratio``. Uncertainty: bootstrap over the widths (2000
    resamples, seeded)."""
    widths = sorted(set(cells["width"]) & set(reference["width"]))
    temperatures = sorted(set(cells["temperature"]) & set(reference["temperature"]))
    span = (f"{len(widths)} widths {', '.join(f'{w:g}' for w in widths)} x batch sizes "
            f"{', '.join(f'{t:g}' for t in temperatures)} (cells in both diagrams)")
    rows = []
    for metric, paper in (("test_accuracy", "with the linear scaling rule the test accuracy changes much more slowly "
                                            "with batch size (Fig. 23a vs Fig. 2a)"),
                          ("mc", "with the linear scaling rule mode connectivity almost does not change along the "
                                 "batch-size axis (Fig. 23)"),
                          ("hessian_top", "with the linear scaling rule the Hessian almost does not change along "
                                          "the batch-size axis (Fig. 23)")):
        scaled = _spread_along_temperature(cells, metric, widths, temperatures)
        constant = _spread_along_temperature(reference, metric, widths, temperatures)
        keep = np.isfinite(scaled) & np.isfinite(constant)
        scaled, constant = scaled[keep], constant[keep]
        determined = len(temperatures) > 1 and len(scaled) > 0 and constant.sum() > 0
        ratio = float(scaled.sum() / constant.sum()) if determined else np.nan
        uncertainty = np.nan
        if determined and len(scaled) > 1:
            draws = np.random.default_rng(seed).integers(0, len(scaled), size=(2000, len(scaled)))
            with np.errstate(divide="ignore", invalid="ignore"):
                boot = scaled[draws].sum(1) / constant[draws].sum(1)
            uncertainty = float(np.nanstd(boot[np.isfinite(boot)]))
        label = {"test_accuracy": "test accuracy (pp)", "mc": "mc (pp)", "hessian_top": "ln lambda_max"}[metric]
        rows.append(row(f"linear scaling flattens {metric.replace('_', ' ')}",
                        f"mean spread of {label} along batch size, linear scaling / constant lr", paper,
                        f"ratio < {criteria.flat_ratio:g}", ratio, uncertainty, int(keep.sum()),
                        bool(ratio < criteria.flat_ratio) if determined else None,
                        "spread per width (linear scaling / constant lr) " + ", ".join(
                            f"{w:g}: {s:.2f} / {c:.2f}" for w, s, c in zip(np.asarray(widths)[keep], scaled, constant)),
                        experiment, study="taxonomy", fit_range=span,
                        outside_regime="" if determined else "fewer than two shared batch sizes or no spread "
                                                             "without scaling"))
    return rows


def appendix_claims(experiment: str, cells: pd.DataFrame, rules: PhaseRules, criteria: Criteria,
                    temperature_axis: str = "batch_size", reference: pd.DataFrame | None = None,
                    reference_batch: float = np.nan) -> list[dict[str, Any]]:
    """The claims of one App. D experiment (issue 26), by the paper's statements about its figure:

    * ``fig14_data``, ``fig15_data`` (Figs. 14, 15, other data sets: "the same conclusion", "quite similar to
      Figure 2"), ``fig16_vgg`` (Fig. 16, VGG11: App. D "all experiments support our main conclusions") and
      ``large_batch`` (Fig. 22: "a similar trend to Figure 2"): the Fig. 2 claims of
      :func:`taxonomy_claims`; Fig. 22 also :func:`large_batch_claim` against ``reference_batch``, the largest
      batch size of the constant-lr diagram;
    * ``noise_lr`` (Fig. 17, "almost identical to Figure 4"): double descent and :func:`zero_loss_claim`;
    * ``pixel_noise`` (Fig. 21): :func:`pixel_noise_claims`;
    * ``linear_scaling`` (Fig. 23): :func:`linear_scaling_claims` against ``reference``."""
    if experiment in ("fig14_data", "fig15_data", "fig16_vgg", "large_batch"):
        rows = taxonomy_claims(cells, rules, criteria, temperature_axis, experiment)
        if experiment == "large_batch":
            rows.append(large_batch_claim(cells, reference_batch, criteria, experiment))
        return rows
    if experiment == "noise_lr":
        return [double_descent_claim(cells, criteria, experiment, rules),
                zero_loss_claim(cells, experiment, temperature_axis)]
    if experiment == "pixel_noise":
        return pixel_noise_claims(cells, rules, experiment, temperature_axis)
    if experiment == "linear_scaling":
        return linear_scaling_claims(cells, reference, criteria, experiment)
    raise ValueError(f"no App. D claims for experiment {experiment!r}")
