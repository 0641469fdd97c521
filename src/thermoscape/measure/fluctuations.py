"""Loss-fluctuation statistics of Langevin runs in fixed continuous-time slices (Jules et al., Sec. III).

Per run and slice: mean and standard deviation of the loss (Eq. 3), the maximum-likelihood Gamma fit
(Eq. 2; ``N_c = 2 alpha``), the autocorrelation half-time ``tau_1/2`` (Eq. 4), the sparsity ``phi``
(Eq. 8), the equilibration flag of S3 (``tau_1/2`` at least ``factor`` times shorter than the slice),
block-bootstrap errors of the loss statistics and, across the slices of a run, a drift flag (brief section
7: the statistics drift over long runs). Across the replicas of a (T, eta): rank-normalised split R-hat
and bulk ESS of the loss. Over replicas: statistics of the runs that pass S3 (:func:`aggregate_runs`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from thermoscape.measure import stats
from thermoscape.core.grids import ALL, analysis_slices


@dataclass(frozen=True)
class Bootstrap:
    """Block bootstrap of a slice's loss series (config ``jules.analysis.bootstrap``).

    Blocks are ``block_factor`` integrated autocorrelation times long (correlations shorter than a block
    survive the resampling), but at most a tenth of the slice, so that a resample draws at least 10
    blocks; a slice that short against ``tau_int`` fails S3 anyway. ``resamples = 0`` switches it off.
    """

    resamples: int = 200
    block_factor: float = 10.0
    overlapping: bool = True
    min_blocks: int = 10

    def block_length(self, n_points: int, tau_int_steps: float) -> int:
        wanted = int(np.ceil(self.block_factor * tau_int_steps)) if np.isfinite(tau_int_steps) else n_points
        return int(np.clip(wanted, 1, max(1, n_points // self.min_blocks)))


def slice_statistics(
    t: np.ndarray,
    loss: np.ndarray,
    snapshot_t: np.ndarray,
    snapshot_phi: np.ndarray,
    temperature: float,
    slices: list[tuple[str, float, float]],
    equilibration_factor: float = 100.0,
    drift_sigma: float = 3.0,
    bootstrap: Bootstrap = Bootstrap(),
    rng: np.random.Generator | None = None,
) -> pd.DataFrame:
    """One row of statistics per slice for one run (loss sampled at times ``t`` with a fixed step).

    ``sigma``, ``alpha``, ``beta_T`` and ``n_c`` get block-bootstrap standard errors (``*_error``;
    ``rng`` defaults to a fixed seed); ``mu_error`` is the error of a correlated mean (``tau_int``).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    dt = float(t[1] - t[0]) if len(t) > 1 else float("nan")
    rows = []
    for name, start, end in slices:
        window = _window(t, loss, start, end)
        row = {"slice": name, "t_start": start, "t_end": end, "n_points": len(window)}
        if not _analysable(window):
            rows.append(row)
            continue
        alpha, beta = stats.gamma_mle(window)
        chi = stats.autocorrelation(window)
        tau_half = stats.half_time(chi, dt)
        phi = snapshot_phi[(snapshot_t >= start) & (snapshot_t < end)]
        row |= {
            "mu": float(window.mean()),
            "sigma": float(window.std(ddof=1)),
            "mu_error": stats.mean_error(window, dt),
            "alpha": alpha,
            "beta": beta,
            "beta_T": beta * temperature,
            "n_c": 2 * alpha,
            "tau_half": tau_half,
            "phi": float(phi.mean()) if len(phi) else float("nan"),
            "equilibrated": bool(np.isfinite(tau_half) and equilibration_factor * tau_half <= end - start),
        }
        row |= bootstrap_errors(window, temperature, stats.integrated_time(chi, 1.0), bootstrap, rng, dt)
        rows.append(row)
    table = pd.DataFrame(rows)
    return with_drift(table, drift_sigma)


@dataclass(frozen=True)
class StopRule:
    """When an adaptive Langevin run may stop: every live chain's analysis window ``[burn_in, t)`` passes
    S3 (``equilibration_factor * tau_1/2`` at most the window, Eq. 4) and, with ``require_no_drift``, its
    mean loss does not drift across the window's slices of ``slice_length`` (``drift_sigma``). The same
    :func:`slice_statistics` judges the finished run, so a run stopped by the rule passes the analysis'
    S3 in its slice ``all``.
    """

    burn_in: float
    slice_length: float
    equilibration_factor: float = 100.0
    drift_sigma: float = 3.0
    require_no_drift: bool = True

    def run_passes(self, t: np.ndarray, loss: np.ndarray, end: float) -> bool:
        """Whether one run, recorded at times ``t`` up to ``end``, passes."""
        slices = analysis_slices(self.burn_in, end, self.slice_length)
        table = slice_statistics(t, loss, np.empty(0), np.empty(0), 1.0, slices, self.equilibration_factor,
                                 self.drift_sigma, Bootstrap(resamples=0))
        whole = table[table["slice"] == ALL].iloc[0]
        equilibrated = whole.get("equilibrated") in (True, 1)  # NaN: the window is too short to analyse
        return equilibrated and not (self.require_no_drift and bool(whole["drifting"]))

    def passing(self, trajectory: pd.DataFrame, end: float) -> pd.Series:
        """``run_passes`` of every chain in a trajectory table (columns ``chain, t, loss``), by chain."""
        return trajectory.sort_values(["chain", "t"]).groupby("chain").apply(
            lambda run: self.run_passes(run["t"].to_numpy(), run["loss"].to_numpy(), end), include_groups=False
        )


def bootstrap_errors(
    window: np.ndarray, temperature: float, tau_int_steps: float, bootstrap: Bootstrap, rng: np.random.Generator,
    dt: float = 1.0,
) -> dict[str, float]:
    """Block-bootstrap standard errors of ``sigma_L`` (Eq. 3) and of the gamma fit (Eq. 2: ``alpha``,
    ``beta T``, ``N_c``) of one slice; ``bootstrap_block`` is the block length in time units.

    The fit needs only the means of ``L`` and ``ln L``, so each replicate is a handful of block sums
    (:func:`thermoscape.measure.stats.block_bootstrap_means`), not a refit of a resampled series.
    """
    names = ("sigma_error", "alpha_error", "beta_T_error", "n_c_error")
    if bootstrap.resamples < 2:
        return dict.fromkeys(names + ("bootstrap_block",), np.nan)
    block = bootstrap.block_length(len(window), tau_int_steps)
    centred = window - window.mean()  # the variance as a difference of means without cancellation
    columns = np.column_stack([centred, centred**2, np.log(window)])
    means = stats.block_bootstrap_means(columns, block, bootstrap.resamples, rng, bootstrap.overlapping)
    n = len(window)
    sigma = np.sqrt(np.clip(means[:, 1] - means[:, 0] ** 2, 0, None) * n / (n - 1))
    alpha, beta = stats.gamma_mle_from_means(window.mean() + means[:, 0], means[:, 2])
    errors = (np.std(q, ddof=1) for q in (sigma, alpha, beta * temperature, 2 * alpha))
    return dict(zip(names, map(float, errors))) | {"bootstrap_block": block * dt}


def _window(t: np.ndarray, loss: np.ndarray, start: float, end: float) -> np.ndarray:
    return loss[(t >= start) & (t < end)]


def _analysable(window: np.ndarray) -> bool:
    return len(window) >= 10 and np.ptp(window) > 0


def slice_autocorrelations(
    t: np.ndarray, loss: np.ndarray, slices: list[tuple[str, float, float]], n_lags: int = 150
) -> pd.DataFrame:
    """``chi_L`` (Eq. 4) of each slice at about ``n_lags`` log-spaced lags up to half the slice
    (Figs. 2c-d); columns ``slice, lag, chi`` with ``lag`` in time units."""
    dt = float(t[1] - t[0]) if len(t) > 1 else float("nan")
    tables = []
    for name, start, end in slices:
        window = _window(t, loss, start, end)
        if not _analysable(window):
            continue
        lags = np.unique(np.geomspace(1, len(window) // 2, n_lags).astype(int))
        chi = stats.autocorrelation(window, int(lags[-1]))
        tables.append(pd.DataFrame({"slice": name, "lag": lags * dt, "chi": chi[lags]}))
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=["slice", "lag", "chi"])


def with_drift(table: pd.DataFrame, n_sigma: float = 3.0) -> pd.DataFrame:
    """Add the run's drift of ``mu`` across its slices (weighted linear trend) to every row."""
    parts = table[(table["slice"] != ALL) & table.get("mu", pd.Series(dtype=float)).notna()]
    if "mu" in parts and len(parts) >= 2:
        mid = 0.5 * (parts["t_start"] + parts["t_end"])
        slope, slope_error, flagged = stats.drift_flag(
            mid.to_numpy(), parts["mu"].to_numpy(), parts["mu_error"].to_numpy(), n_sigma
        )
    else:
        slope, slope_error, flagged = float("nan"), float("nan"), False
    return table.assign(drift_slope=slope, drift_slope_error=slope_error, drifting=flagged)


def replica_diagnostics(
    runs: list[tuple[np.ndarray, np.ndarray]], slices: list[tuple[str, float, float]]
) -> pd.DataFrame:
    """Rank-normalised split R-hat and bulk ESS of the loss across the replicas of one (T, eta), per slice
    (:func:`thermoscape.measure.stats.split_rhat`, :func:`thermoscape.measure.stats.bulk_ess`; ArviZ).

    ``runs`` holds one ``(t, loss)`` per non-diverged replica; each slice's windows are cut to the shortest
    one's length (ArviZ wants equal lengths). R-hat well above 1 says the replicas sample different
    distributions (minima of different depth) or trend. Columns ``slice, rhat, ess_bulk``; ``nan`` where
    a window has fewer than 4 points or is constant (and R-hat with a single replica).
    """
    rows = []
    for name, start, end in slices:
        windows = [_window(t, loss, start, end) for t, loss in runs]
        length = min((len(w) for w in windows), default=0)
        chains = np.stack([w[:length] for w in windows]) if windows else np.empty((0, 0))
        usable = length >= 4 and np.all(np.isfinite(chains)) and np.all(np.ptp(chains, axis=1) > 0)
        rows.append({"slice": name, "rhat": stats.split_rhat(chains) if usable and len(chains) > 1 else np.nan,
                     "ess_bulk": stats.bulk_ess(chains) if usable else np.nan})
    return pd.DataFrame(rows, columns=["slice", "rhat", "ess_bulk"])


def run_statistics(
    status: pd.DataFrame,
    trajectory: pd.DataFrame,
    samples: pd.DataFrame,
    slices: list[tuple[str, float, float]],
    equilibration_factor: float = 100.0,
    drift_sigma: float = 3.0,
    bootstrap: Bootstrap = Bootstrap(),
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fluctuation analysis of one Langevin job (Jules et al., Eqs. 2-4, 8): per run and slice
    :func:`slice_statistics` (phi from the per-sample snapshots, Eq. 8), ``chi_L`` curves
    (:func:`slice_autocorrelations`) and, across the runs of each time step, :func:`replica_diagnostics`.

    ``status`` has one row per run: ``chain`` (its rows in ``trajectory``: ``chain, step, t, loss``, and in
    ``samples``: ``chain, t, sample, loss``), ``temperature``, ``eta``, ``time_step``, ``replica``,
    ``diverged``. A diverged run keeps only its slice rows. Each run's bootstrap draws from
    ``default_rng([seed, chain])``. Returns the per-run table (the input of :func:`aggregate_runs`) and the
    autocorrelation curves (``slice, lag, chi, temperature, eta, replica``).
    """
    tables, curves, series = [], [], {}
    for run in status.itertuples():
        run_info = {"temperature": run.temperature, "eta": run.eta, "time_step": run.time_step,
                    "replica": run.replica, "diverged": run.diverged}
        if run.diverged:
            tables.append(pd.DataFrame([{"slice": name, "t_start": a, "t_end": b} for name, a, b in slices]))
        else:
            traj = trajectory[trajectory["chain"] == run.chain].sort_values("step")
            t, loss = traj["t"].to_numpy(), traj["loss"].to_numpy()
            series.setdefault(run.time_step, []).append((t, loss))
            snaps = samples[samples["chain"] == run.chain].pivot(index="t", columns="sample", values="loss")
            curves.append(slice_autocorrelations(t, loss, slices)
                          .assign(temperature=run.temperature, eta=run.eta, replica=run.replica))
            tables.append(
                slice_statistics(
                    t, loss, snaps.index.to_numpy(), stats.sparsity(snaps.to_numpy()), run.temperature, slices,
                    equilibration_factor, drift_sigma, bootstrap, np.random.default_rng([seed, run.chain]),
                )
            )
        tables[-1] = tables[-1].assign(**run_info)
    runs = pd.concat(tables, ignore_index=True)
    diagnostics = pd.concat([replica_diagnostics(chains, slices).assign(time_step=time_step)
                             for time_step, chains in series.items()]
                            or [pd.DataFrame(columns=["slice", "time_step"])])
    runs = runs.merge(diagnostics, on=["slice", "time_step"], how="left")
    return runs, pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()


SUMMARY_COLUMNS = ("mu", "sigma", "alpha", "beta_T", "n_c", "tau_half", "phi")
EQUILIBRATION_RULES = ("per_run", "all_runs")


def aggregate_runs(
    runs: pd.DataFrame, equilibration: str = "per_run", min_equilibrated_runs: int = 2,
    exclude_drifting: bool = False,
) -> pd.DataFrame:
    """Statistics over replicas per ``(T, eta, slice)``, judged for equilibration (S3) run by run.

    ``per_run``: a run is used when its own slice passes S3 (``tau_1/2`` at least ``factor`` times shorter
    than the slice) and, with ``exclude_drifting``, its mean does not drift across its slices; the row is
    ``equilibrated`` (it enters the claims and the fitted figures) when at least ``min_equilibrated_runs``
    runs are used, and its statistics are over those runs. Otherwise they are over all non-diverged runs,
    shown beside the flag. ``all_runs`` (the former rule): equilibrated only if every non-diverged run
    passes S3, statistics over all of them.

    Columns: ``n_runs`` (non-diverged; diverged runs only count in ``n_diverged``), ``n_equilibrated``
    (runs passing S3), ``n_drifting``, ``n_used`` (runs behind the statistics); per quantity ``_mean, _std,
    _min, _max`` and ``_error``, the standard error over the used runs, or with one run its within-run
    error (block bootstrap; ``tau_int`` for ``mu``); ``rhat`` and ``ess_bulk`` across all non-diverged
    replicas; ``equilibrated``; ``drifting`` when a used run drifts.
    """
    if equilibration not in EQUILIBRATION_RULES:
        raise ValueError(f"equilibration must be one of {EQUILIBRATION_RULES}, got {equilibration!r}")
    keys = ["temperature", "eta", "time_step", "slice", "t_start", "t_end"]
    rows = []
    for key, group in runs.groupby(keys, sort=True):
        ok = group[~group["diverged"].astype(bool)]
        passing = _flag(ok, "equilibrated")
        drifting = _flag(ok, "drifting")
        if equilibration == "all_runs":
            equilibrated, used = bool(len(ok) and passing.all()), ok
        else:
            candidates = ok[passing & ~drifting] if exclude_drifting else ok[passing]
            equilibrated = len(candidates) >= max(1, min_equilibrated_runs)
            used = candidates if equilibrated else ok
        row = dict(zip(keys, key)) | {
            "n_runs": len(ok), "n_diverged": int(group["diverged"].astype(bool).sum()),
            "n_equilibrated": int(passing.sum()), "n_drifting": int(drifting.sum()), "n_used": len(used),
        }
        for column in SUMMARY_COLUMNS:
            row |= _summary(used, column)
        row |= {name: _first_finite(ok, name) for name in ("rhat", "ess_bulk")}
        row |= {"equilibrated": equilibrated, "drifting": bool(_flag(used, "drifting").any())}
        rows.append(row)
    return pd.DataFrame(rows)


def _flag(table: pd.DataFrame, column: str) -> pd.Series:
    values = table[column] if column in table else pd.Series(False, index=table.index)
    return values.astype("boolean").fillna(False).astype(bool)


def _first_finite(table: pd.DataFrame, column: str) -> float:
    """A per-(T, eta) value repeated on every run's row (R-hat, ESS): the first finite one."""
    values = table[column].to_numpy(dtype=float) if column in table else np.array([])
    values = values[np.isfinite(values)]
    return float(values[0]) if len(values) else np.nan


def _summary(used: pd.DataFrame, column: str) -> dict[str, float]:
    values = used[column].to_numpy(dtype=float) if column in used else np.array([])
    finite = np.isfinite(values)
    values = values[finite]
    if len(values) > 1:
        error = float(scipy_stats.sem(values))
    else:  # one run: its own error from the series, where the fluctuation rule measured one
        own = used[f"{column}_error"].to_numpy(dtype=float)[finite] if f"{column}_error" in used else []
        error = float(own[0]) if len(own) else np.nan
    return {
        f"{column}_mean": values.mean() if len(values) else np.nan,
        f"{column}_std": values.std(ddof=1) if len(values) > 1 else np.nan,
        f"{column}_min": values.min() if len(values) else np.nan,
        f"{column}_max": values.max() if len(values) else np.nan,
        f"{column}_error": error,
    }


def correlation_length_squared(summary: pd.DataFrame) -> float:
    """``L^2 = T tau_1/2`` (Sec. III B), the median over the equilibrated temperatures (all if none)."""
    use = summary[summary["equilibrated"] & summary["tau_half_mean"].notna()]
    use = use if not use.empty else summary[summary["tau_half_mean"].notna()]
    return float(np.median(use["temperature"] * use["tau_half_mean"]))


def compare_time_steps(
    runs: pd.DataFrame,
    quantities: tuple[str, ...] = ("mu", "alpha", "tau_half"),
    n_sigma: float = 3.0,
    rel_tol: float = 0.1,
    level: float = 0.95,
) -> pd.DataFrame:
    """Validation of a time-step policy: the statistics of one temperature on one continuous-time
    window must not depend on eta (Jules et al., Sec. II: "results must not depend on eta").

    ``runs`` holds one row per (replica, T, eta, window) (the per-run table of ``aggregate_runs``). For every
    ``(T, window)`` measured with several time steps, each (positive) quantity is compared with its value at
    the smallest eta (the most accurate discretisation), *paired by replica*: both time steps start from the
    same replica minima, so the log ratios ``d_r = ln q(eta, r) - ln q(eta_ref, r)`` are free of the scatter
    between minima (which is multiplicative: minima differ in N_c and in their curvature scale), and a
    one-sample t-test of ``d_r`` (``scipy.stats.ttest_1samp``, n - 1 degrees of freedom) tests the time step
    alone. ``rel_diff = exp(mean d) - 1`` with its ``level`` confidence interval ``[rel_low, rel_high]``.

    Only pairs in which both runs are equilibrated (S3: ``tau_1/2`` short against the window) are
    *judged*: a drifting run's window statistics depend on the drift that run happened to take. With at
    least two such pairs the test uses them (``judged``); otherwise all pairs, for information only.
    ``agree`` when the difference is not significant at ``n_sigma`` (two-sided p of the normal's
    ``n_sigma``) or ``|rel_diff| <= rel_tol``; with fewer than two pairs only ``rel_diff`` decides.
    """
    usable = runs[~runs["diverged"].astype(bool)]
    p_min = 2 * scipy_stats.norm.sf(n_sigma)
    rows = []
    for (temperature, name, start, end), group in usable.groupby(["temperature", "slice", "t_start", "t_end"]):
        etas = sorted(group["eta"].unique())
        if len(etas) < 2:
            continue
        by_eta = {eta: part.set_index("replica") for eta, part in group.groupby("eta")}
        ref = by_eta[etas[0]]
        for eta in etas[1:]:
            other = by_eta[eta]
            equilibrated = ref["equilibrated"].astype(bool) & other["equilibrated"].astype(bool)
            for q in quantities:
                pairs = pd.concat([ref[q].rename("ref"), other[q].rename("value"), equilibrated.rename("eq")],
                                  axis=1, join="inner")
                pairs = pairs[(pairs["ref"] > 0) & (pairs["value"] > 0)]
                judged = int(pairs["eq"].sum()) >= 2
                used = pairs[pairs["eq"]] if judged else pairs
                rows.append({
                    "temperature": temperature, "slice": name, "t_start": start, "t_end": end, "quantity": q,
                    "eta_ref": etas[0], "time_step_ref": ref["time_step"].iloc[0], "eta": eta,
                    "time_step": other["time_step"].iloc[0], "n_pairs": len(used),
                    "n_equilibrated": int(pairs["eq"].sum()), "judged": judged,
                    "value_ref": used["ref"].mean(), "value": used["value"].mean(),
                } | _paired_log_ratio(np.log(used["value"] / used["ref"]).to_numpy(), level, p_min, rel_tol))
    return pd.DataFrame(rows)


def _paired_log_ratio(log_ratios: np.ndarray, level: float, p_min: float, rel_tol: float) -> dict:
    """Relative difference ``exp(mean) - 1`` of paired log ratios, its confidence interval, t and p."""
    if len(log_ratios) == 0:
        return {"rel_diff": np.nan, "rel_low": np.nan, "rel_high": np.nan, "t": np.nan, "p": np.nan, "agree": False}
    rel = float(np.expm1(log_ratios.mean()))
    if len(log_ratios) < 2 or np.ptp(log_ratios) == 0:
        return {"rel_diff": rel, "rel_low": np.nan, "rel_high": np.nan, "t": np.nan, "p": np.nan,
                "agree": bool(abs(rel) <= rel_tol)}
    test = scipy_stats.ttest_1samp(log_ratios, 0.0)
    low, high = np.expm1(test.confidence_interval(confidence_level=level))
    return {"rel_diff": rel, "rel_low": float(low), "rel_high": float(high), "t": float(test.statistic),
            "p": float(test.pvalue), "agree": bool(test.pvalue >= p_min or abs(rel) <= rel_tol)}


def init_langevin_statistics(trajectories: pd.DataFrame, t_start: float, t_end: float) -> pd.DataFrame:
    """Jules et al. Fig. S1b: loss moments of runs started at initialisation in ``[t_start, t_end)``.

    ``trajectories`` has columns ``temperature, replica, t, loss, diverged``. Per T: mean and std over
    (non-diverged) replicas of ``mu_L`` and ``sigma_L`` (Eq. 3); over T, the power law ``mu = A T^a``
    and the equilibrium prediction ``sigma = sqrt(a A T^(a+1))`` (Eq. S2, from Eq. S1).
    """
    inside = trajectories[(trajectories["t"] >= t_start) & (trajectories["t"] < t_end) & ~trajectories["diverged"]]
    per_run = inside.groupby(["temperature", "replica"])["loss"].agg(mu="mean", sigma="std").reset_index()
    table = per_run.groupby("temperature").agg(
        mu_mean=("mu", "mean"), mu_std=("mu", "std"), sigma_mean=("sigma", "mean"), sigma_std=("sigma", "std"),
        n_runs=("mu", "size"),
    ).reset_index()
    amplitude, exponent, exponent_error = stats.fit_power_law(table["temperature"], table["mu_mean"])
    return table.assign(
        t_start=t_start, t_end=t_end, A=amplitude, a=exponent, a_error=exponent_error,
        sigma_eq_s2=np.sqrt(exponent * amplitude * table["temperature"] ** (exponent + 1)),
    )
