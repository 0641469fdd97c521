"""The one claims framework: each claim of a paper, measured, with a verdict by a stated criterion.

Every study declares its claims in its own package (``studies/<study>/claims.py``) as rows of one schema
(:data:`COLUMNS`, built by :func:`row`), with tolerances in a frozen dataclass filled from the study's config
section by :func:`criteria_from`. Verdicts are ``holds``, ``fails`` or ``undetermined`` (not enough data or
outside the paper's regime, with the reason in ``detail``). :func:`pool_draws` pools a study's tables over
data draws; :mod:`thermoscape.claims.scoreboard` renders every study's rows as one page.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy import stats as sps


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


def row(claim: str, quantity: str, paper: str, criterion: str, value: float = np.nan, uncertainty: float = np.nan,
        n: int = 0, passed: bool | None = None, detail: str = "", slice_name: str = "all",
        study: str = "", fit_range: str = "", outside_regime: str = "") -> dict[str, Any]:
    """One claim row; ``passed=None`` gives the verdict ``undetermined``. ``slice_name`` is the part of
    the data the claim is checked on (an analysis slice, an experiment). ``fit_range`` states the range a
    fitted law was fitted over; ``outside_regime`` names why the data are not in the paper's regime, which
    makes the verdict ``undetermined`` whatever ``passed`` says (the value is still shown). ``study`` names the
    study (each study's claims module binds it)."""
    if not study:
        raise ValueError("a claim row needs its study")
    if outside_regime:
        passed = None
        detail = f"outside the regime: {outside_regime}" + (f"; {detail}" if detail else "")
    verdict = NA if passed is None else (HOLDS if passed else FAILS)
    return {"study": study, "claim": claim, "slice": slice_name, "quantity": quantity, "value": value,
            "uncertainty": uncertainty, "n": n, "paper": paper, "criterion": criterion, "verdict": verdict,
            "detail": detail, "fit_range": fit_range, "regime": outside_regime}


def standard_error(values) -> float:
    """Standard error of the mean of independent estimates (replicas, walks); NaN below 2 of them."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(sps.sem(values)) if len(values) > 1 else np.nan


def claims_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS)


POOL_KEYS = ["study", "claim", "slice", "quantity"]


def pool_draws(tables: Mapping[int, pd.DataFrame], level: float = 0.95) -> pd.DataFrame:
    """A claims table judged on several data draws (seed -> table, the first being the main run), pooled
    per claim row: the verdict counts, the majority verdict ("holds in k of n draws"; without a majority
    ``undetermined``), the mean of the draws' values with its ``level`` t interval over the draws, each
    draw's verdict (``verdict_<seed>``) and whether it agrees with the first draw's (``agreement``: the
    fraction of the other draws that agree). The ``headline`` column of the first draw is kept."""
    seeds = list(tables)
    first = tables[seeds[0]]
    keep = [c for c in [*POOL_KEYS, "paper", "criterion", "headline"] if c in first]
    pooled = first[keep].copy()
    for seed in seeds:
        part = tables[seed][[*POOL_KEYS, "verdict", "value"]]
        part = part.rename(columns={"verdict": f"verdict_{seed}", "value": f"value_{seed}"})
        pooled = pooled.merge(part, on=POOL_KEYS, how="left")
    verdicts = pooled[[f"verdict_{s}" for s in seeds]].fillna(NA)
    values = pooled[[f"value_{s}" for s in seeds]].to_numpy(dtype=float)
    counts = {v: (verdicts == v).sum(axis=1) for v in (HOLDS, FAILS, NA)}
    n = len(seeds)
    majority = np.select([counts[HOLDS] * 2 > n, counts[FAILS] * 2 > n], [HOLDS, FAILS], NA)
    mean, low, high = zip(*(_mean_interval(row[np.isfinite(row)], level) for row in values))
    others = verdicts.iloc[:, 1:]
    agreement = others.eq(verdicts.iloc[:, 0], axis=0).mean(axis=1) if n > 1 else pd.Series(np.nan, pooled.index)
    detail = [f"holds in {h} of {n} draws, fails in {f}, undetermined in {u}"
              for h, f, u in zip(counts[HOLDS], counts[FAILS], counts[NA])]
    return pooled.assign(n_draws=n, holds=counts[HOLDS], fails=counts[FAILS], undetermined=counts[NA],
                         value=mean, low=low, high=high, verdict=majority, detail=detail,
                         agreement=agreement.to_numpy())


def _mean_interval(values: np.ndarray, level: float) -> tuple[float, float, float]:
    """Mean and two-sided Student-t interval over draws; NaN bounds with fewer than 2 values."""
    if len(values) == 0:
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    if len(values) < 2:
        return mean, np.nan, np.nan
    half = float(sps.t.ppf(0.5 + level / 2, len(values) - 1) * standard_error(values))
    return mean, mean - half, mean + half
