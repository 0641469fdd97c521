"""The fluctuation analysis of the primary study on the user's chains, one row per temperature.

The same functions as the Jules study (``measure.fluctuations``): per chain and analysis slice the mean and
standard deviation of the loss (Eq. 3), the maximum-likelihood gamma fit (Eq. 2; ``N_c = 2 alpha``,
``beta T``), ``tau_1/2`` (Eq. 4), phi (Eq. 8), block-bootstrap errors, the S3 equilibration flag and the
drift flag (``run_statistics``); over the chains of a temperature, their statistics judged chain by chain
(``aggregate_runs``, ``per_run``). Added per temperature: the heat capacity ``C_h = mu_L / T`` (Eq. 3 in
equilibrium, ``mu_L = C_h T``), the equilibrium check ``sigma_L / sqrt(mu_L T)`` (= ``sigma / (sqrt(C_h) T)``,
Eq. S1) and the characteristic length ``L = sqrt(T tau_1/2)`` (Sec. III B); over temperatures
(``DataFrame.attrs``), ``C_h`` fitted through the origin (``measure.stats.fit_proportional``) and the median
``L^2`` (``correlation_length_squared``).

Uncertainties (``*_error``) are standard errors over the chains used (or one chain's own bootstrap error),
never a bare 0. All chains of a temperature start from the same minimum, so they measure the noise's
scatter, not the scatter between minima that Jules et al.'s replicas include.

Baseline: the statistics are those of ``L - L_b``. ``zero`` (Jules et al.: a cross-entropy minimum's loss
is ~0 up to numerical noise) analyses ``L`` itself; ``minimum`` analyses the excess over the refined
minimum's loss ``L_0`` (the quadratic expansion of Sec. I, where ``L - L_0 ~ Gamma(N_c / 2, 1 / T)``), the
default for ``mse`` whose minimum rarely has zero loss. With ``minimum``, phi (the participation of the
per-sample losses, Eq. 8, meaningful only for losses that vanish at the minimum) is not reported. A chain
with a non-positive ``L - L_b`` after the burn-in (it found points below the reference: the minimum was not
one) cannot be gamma-fitted: it is left out and counted in ``n_below_minimum``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from thermoscape.core.grids import ALL, analysis_slices
from thermoscape.measure import stats
from thermoscape.measure.fluctuations import Bootstrap, aggregate_runs, correlation_length_squared, run_statistics
from thermoscape.nets.module_landscape import ModelInputError

BASELINES = ("zero", "minimum")
QUANTITIES = ("n_c", "alpha", "beta_T", "tau_half", "mu", "sigma", "phi")

_log = logging.getLogger(__name__)


def default_baseline(loss: str) -> str:
    """``zero`` for cross-entropy (Jules et al.), ``minimum`` for mse."""
    return "zero" if loss == "cross_entropy" else "minimum"


@dataclass(frozen=True)
class Analysis:
    """Analysis window and rules (the primary study's ``jules.analysis`` and ``claims.min_equilibrated_runs``).

    ``slice_length``: the slices for the drift flag (``None``: a quarter of the post-burn-in window); the
    table reports the slice ``all`` (``[burn_in, duration)``). A temperature is ``equilibrated`` when at least
    ``min_equilibrated_runs`` chains pass S3 (``equilibration_factor x tau_1/2`` within the window).
    """

    burn_in: float = 100.0
    slice_length: float | None = None
    equilibration_factor: float = 100.0
    drift_sigma: float = 3.0
    min_equilibrated_runs: int = 2
    exclude_drifting_runs: bool = False
    baseline: str | None = None
    bootstrap: Bootstrap = field(default_factory=Bootstrap)

    def __post_init__(self) -> None:
        if isinstance(self.bootstrap, Mapping):  # e.g. {"resamples": 100} from a config
            object.__setattr__(self, "bootstrap", Bootstrap(**self.bootstrap))
        if self.baseline is not None and self.baseline not in BASELINES:
            raise ModelInputError("baseline", f"must be one of {', '.join(BASELINES)}, got {self.baseline!r}")
        if not self.burn_in >= 0:
            raise ModelInputError("burn_in", f"must be non-negative, got {self.burn_in}")

    def slices(self, duration: float) -> list[tuple[str, float, float]]:
        if duration <= self.burn_in:
            raise ModelInputError("burn_in", f"{self.burn_in} leaves nothing of a run of duration {duration}")
        length = self.slice_length or (duration - self.burn_in) / 4
        return analysis_slices(self.burn_in, duration, length)


def chain_statistics(records: dict[str, pd.DataFrame], analysis: Analysis, loss: str, loss_minimum: float,
                     seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-chain, per-slice statistics of one temperature's records (``sampling.sample_temperature``) and
    their ``chi_L`` curves: ``measure.fluctuations.run_statistics`` on ``L - L_b``. The table gains
    ``below_minimum`` (see the module docstring) and ``loss_minimum``, ``baseline``."""
    status, trajectory = records["status"], records["trajectory"]
    baseline = analysis.baseline or default_baseline(loss)
    offset = loss_minimum if baseline == "minimum" else 0.0
    trajectory = trajectory.assign(loss=trajectory["loss"] - offset)
    samples = records["samples"] if baseline == "zero" else records["samples"].iloc[0:0]
    slices = analysis.slices(float(status["duration"].max()))
    kept = trajectory[trajectory["t"] >= analysis.burn_in]
    low = kept.loc[kept["loss"] <= 0, "chain"].unique()
    below = status["chain"].isin(low) & ~status["diverged"].astype(bool)
    if below.any():
        _log.warning("T = %g: %d chains reach L - L_b <= 0 after the burn-in (baseline %s): left out",
                     float(status["temperature"].iloc[0]), int(below.sum()), baseline)
    runs, curves = run_statistics(status.assign(diverged=status["diverged"].astype(bool) | below), trajectory,
                                  samples, slices, analysis.equilibration_factor, analysis.drift_sigma,
                                  analysis.bootstrap, seed)
    below_replicas = set(status.loc[below, "replica"])
    runs = runs.assign(below_minimum=runs["replica"].isin(below_replicas), loss_minimum=loss_minimum,
                       baseline=baseline)
    return runs, curves


def summarise(runs: pd.DataFrame, analysis: Analysis) -> pd.DataFrame:
    """Statistics over the chains per (T, slice): ``aggregate_runs`` (the primary study's
    ``tables/fluctuations.parquet`` columns), chains below the minimum left out and counted."""
    below = runs["below_minimum"].astype(bool)
    keys = ["temperature", "eta", "time_step", "slice", "t_start", "t_end"]
    summary = aggregate_runs(runs[~below], "per_run", analysis.min_equilibrated_runs, analysis.exclude_drifting_runs)
    # a temperature whose every chain is left out keeps its rows, empty but for the counts
    summary = runs[keys].drop_duplicates().merge(summary, on=keys, how="left") if len(summary) else runs[keys].drop_duplicates()
    counts = runs[below].groupby(["temperature", "slice"]).size().rename("n_below_minimum").reset_index()
    summary = summary.merge(counts, on=["temperature", "slice"], how="left")
    for name in ("n_below_minimum", "n_runs", "n_used", "n_equilibrated", "n_drifting", "n_diverged"):
        summary[name] = summary[name].fillna(0).astype(int) if name in summary else 0
    for name in ("equilibrated", "drifting"):
        summary[name] = summary[name].astype("boolean").fillna(False).astype(bool) if name in summary else False
    first = runs.groupby("temperature")[["loss_minimum", "baseline"]].first().reset_index()
    return summary.merge(first, on="temperature", how="left")


def temperature_table(summary: pd.DataFrame, slice_name: str = ALL) -> pd.DataFrame:
    """One row per temperature of slice ``slice_name``: the measured quantities with their errors (see the
    module docstring); the fitted ``C_h`` and the median ``L^2`` over temperatures in ``attrs``."""
    rows = summary[summary["slice"] == slice_name].sort_values("temperature").reset_index(drop=True)
    table = pd.DataFrame({"temperature": rows["temperature"], "eta": rows["eta"]})
    for name in QUANTITIES:
        table[name] = rows.get(f"{name}_mean", np.nan)
        table[f"{name}_error"] = rows.get(f"{name}_error", np.nan)
    temperature = table["temperature"]
    table["c_h"] = table["mu"] / temperature
    table["c_h_error"] = table["mu_error"] / temperature
    with np.errstate(invalid="ignore"):
        table["sigma_ratio"] = table["sigma"] / np.sqrt(table["mu"] * temperature)
        table["length"] = np.sqrt(temperature * table["tau_half"])
    table["length_error"] = 0.5 * table["length"] * table["tau_half_error"] / table["tau_half"]
    for name in ("equilibrated", "drifting", "n_runs", "n_used", "n_equilibrated", "n_drifting", "n_diverged",
                 "n_below_minimum", "rhat", "ess_bulk", "loss_minimum", "baseline", "t_start", "t_end"):
        table[name] = rows[name] if name in rows else np.nan
    table = table.rename(columns={"n_runs": "n_chains"})
    table.attrs.update(_fits(rows))
    return table


def _fits(rows: pd.DataFrame) -> dict[str, float]:
    """``C_h`` through the origin and the median ``L^2 = T tau_1/2`` over the equilibrated temperatures (all
    temperatures if none is); ``nan`` without a usable point."""
    use = rows[rows["equilibrated"].astype(bool)] if rows["equilibrated"].astype(bool).any() else rows
    positive = use[(use["mu_mean"] > 0) & np.isfinite(use["mu_mean"])] if "mu_mean" in use else use.iloc[0:0]
    c_h = stats.fit_proportional(positive["temperature"], positive["mu_mean"]) if len(positive) else np.nan
    has_tau = "tau_half_mean" in rows and rows["tau_half_mean"].notna().any()
    length_squared = correlation_length_squared(rows) if has_tau else np.nan
    return {"c_h_fit": c_h, "length_squared": length_squared,
            "fit_temperatures": int(len(positive)), "fit_equilibrated_only": bool(rows["equilibrated"].astype(bool).any())}
