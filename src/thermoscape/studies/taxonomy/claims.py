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
from thermoscape.studies.taxonomy.experiment import PhaseRules


@dataclass(frozen=True)
class Criteria:
    """Claim criteria (config ``taxonomy.claims``)."""

    top_cka_fraction: float = 0.25  # the best cell's CKA lies in this top fraction of the grid
    low_trace_fraction: float = 0.3  # and its Hessian trace in this bottom fraction
    loss_drop: float = 10.0  # training-loss ratio across the sharp -> flat boundary
    dip: float = 1.0  # double descent: test-accuracy dip (pp) below both neighbours in width


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
