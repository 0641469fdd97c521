"""Minimum finding and the fluctuation analysis on series whose answers are known."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import quadratic
from scipy.signal import lfilter

from thermoscape.studies.jules.claims import Criteria, fluctuation_claims
from thermoscape.measure.fluctuations import (
    Bootstrap,
    aggregate_runs,
    compare_time_steps,
    init_langevin_statistics,
    replica_diagnostics,
    slice_statistics,
)
from thermoscape.core.grids import ALL, analysis_slices
from thermoscape.dynamics.train import adam_descent


def test_adam_reaches_the_configured_depth_or_says_it_did_not():
    landscape = quadratic(6, [0.5, 1.0, 2.0])
    start = torch.ones(6, dtype=torch.float64)
    done = adam_descent(landscape, start, lr=1e-2, max_steps=20_000, target_loss=1e-8, grad_norm_tol=1e-4)
    assert done.converged
    assert done.curve["loss"].iloc[-1] <= 1e-8 and done.curve["grad_norm"].iloc[-1] <= 1e-4
    torch.testing.assert_close(done.theta[3:], start[3:])  # flat directions untouched
    short = adam_descent(landscape, start, lr=1e-2, max_steps=50, target_loss=1e-8)
    assert not short.converged and short.curve["step"].iloc[-1] == 50


def test_slices_cover_the_post_burn_in_window_in_continuous_time():
    slices = analysis_slices(100.0, 3000.0, 1000.0)
    assert slices == [("t100-1100", 100.0, 1100.0), ("t1100-2100", 1100.0, 2100.0), (ALL, 100.0, 3000.0)]
    with pytest.raises(ValueError, match="burn-in"):
        analysis_slices(100.0, 50.0, 10.0)


def ar1_gamma_like(n: int, rho: float, drift: float, rng: np.random.Generator) -> np.ndarray:
    """Positive, correlated series: the squared norm of 8 AR(1) modes (Gamma(4, .)), plus a trend."""
    x = np.zeros((n, 8))
    x[0] = rng.normal(size=8)  # start in the stationary state
    noise = rng.normal(size=(n, 8)) * np.sqrt(1 - rho**2)
    for i in range(1, n):
        x[i] = rho * x[i - 1] + noise[i]
    return 0.5 * (x**2).sum(axis=1) * (1 + drift * np.linspace(0, 1, n))


@pytest.mark.parametrize("drift, flagged", [(0.0, False), (0.5, True)])
def test_drift_flag_sees_a_trend_of_the_mean_across_slices(drift, flagged):
    rng = np.random.default_rng(3)
    dt, n = 0.1, 40_000
    t = np.arange(n) * dt
    loss = 1e-5 * ar1_gamma_like(n, 0.9, drift, rng)  # T = 1e-5: beta T = 1 for the stationary series
    table = slice_statistics(t, loss, np.array([]), np.array([]), 1e-5, analysis_slices(0.0, n * dt, 1000.0))
    assert table["drifting"].all() == flagged and table["drifting"].any() == flagged
    if not flagged:
        whole = table.set_index("slice").loc[ALL]
        assert abs(whole["alpha"] / 4 - 1) < 0.1 and abs(whole["beta_T"] - 1) < 0.1
        # AR(1) squared: chi_L(lag) = rho^(2 lag), so tau_1/2 = dt ln 2 / (2 ln(1/rho))
        assert abs(whole["tau_half"] / (dt * np.log(2) / (2 * np.log(1 / 0.9))) - 1) < 0.25


def test_aggregates_exclude_diverged_runs_and_count_them():
    base = {"temperature": 1e-5, "eta": 1e-2, "time_step": "eta = 0.01", "slice": ALL, "t_start": 0.0, "t_end": 10.0,
            "equilibrated": True, "drifting": False}
    runs = pd.DataFrame([
        base | {"replica": 0, "diverged": False, "mu": 1.0, "alpha": 10.0},
        base | {"replica": 1, "diverged": False, "mu": 3.0, "alpha": 20.0},
        base | {"replica": 2, "diverged": True, "mu": np.nan, "alpha": np.nan, "equilibrated": np.nan},
    ])
    row = aggregate_runs(runs).iloc[0]
    assert row["n_runs"] == 2 and row["n_diverged"] == 1
    assert row["mu_mean"] == 2.0 and row["alpha_max"] == 20.0
    assert row["equilibrated"]


def replica_rows(temperature: float, passing: list[bool], drifting=(), slice_name: str = ALL) -> list[dict]:
    """Four runs of one (T, eta) whose S3 flags are ``passing``: replica r has mu = r + 1 (and alpha = 10 r)."""
    return [{"temperature": temperature, "eta": 1e-2, "time_step": "eta = 0.01", "slice": slice_name, "t_start": 0.0,
             "t_end": 10.0, "replica": r, "diverged": False, "equilibrated": ok, "drifting": r in drifting,
             "mu": temperature * (r + 1), "mu_error": 0.1 * temperature, "alpha": 10.0 * r, "sigma": temperature,
             "beta_T": 1.0, "n_c": 20.0 * r, "tau_half": 0.01, "rhat": 1.3, "ess_bulk": 50.0}
            for r, ok in enumerate(passing)]


def test_equilibration_is_judged_per_run():
    """2 of 4 runs pass S3: the point is equilibrated, with statistics over those 2 only; the former rule
    (every run must pass) rejects it."""
    runs = pd.DataFrame(replica_rows(1e-5, [True, False, True, False]))
    row = aggregate_runs(runs).iloc[0]
    assert (row["n_runs"], row["n_equilibrated"], row["n_used"]) == (4, 2, 2) and row["equilibrated"]
    assert row["mu_mean"] == pytest.approx(2e-5)  # replicas 0 and 2: mu = 1e-5 and 3e-5
    assert row["mu_error"] == pytest.approx(np.std([1e-5, 3e-5], ddof=1) / np.sqrt(2))
    assert row["alpha_max"] == 20.0 and (row["rhat"], row["ess_bulk"]) == (1.3, 50.0)
    old_rule = aggregate_runs(runs, equilibration="all_runs").iloc[0]
    assert not old_rule["equilibrated"] and old_rule["n_used"] == 4 and old_rule["mu_mean"] == pytest.approx(2.5e-5)
    with pytest.raises(ValueError, match="equilibration"):
        aggregate_runs(runs, equilibration="some_runs")


def test_one_passing_run_is_not_enough_and_drifting_runs_can_be_left_out():
    runs = pd.DataFrame(replica_rows(1e-5, [True, False, False, False]))
    row = aggregate_runs(runs).iloc[0]
    assert not row["equilibrated"] and row["n_equilibrated"] == 1
    assert row["n_used"] == 4 and row["mu_mean"] == pytest.approx(2.5e-5)  # shown beside the flag
    alone = aggregate_runs(runs, min_equilibrated_runs=1).iloc[0]
    assert alone["equilibrated"] and alone["n_used"] == 1
    assert alone["mu_error"] == pytest.approx(1e-6)  # one run: its own error, not a spread of 0
    assert np.isnan(alone["tau_half_error"])  # no within-run error of tau_1/2: nan, never 0
    drifting = pd.DataFrame(replica_rows(1e-5, [True, True, True, False], drifting=(0,)))
    kept = aggregate_runs(drifting).iloc[0]
    assert kept["n_used"] == 3 and kept["drifting"] and kept["n_drifting"] == 1
    left_out = aggregate_runs(drifting, exclude_drifting=True).iloc[0]
    assert left_out["n_used"] == 2 and not left_out["drifting"] and left_out["mu_mean"] == pytest.approx(2.5e-5)


def test_claims_use_the_temperatures_with_enough_equilibrated_runs():
    """T = 3e-5 has one passing run: it is left out of the fits, and the rows say on what they rest."""
    temperatures = {1e-6: [True, True, False, True], 1e-5: [True, False, True, False], 3e-5: [False, True, False, False]}
    runs = pd.DataFrame([r for T, passing in temperatures.items() for r in replica_rows(T, passing)])
    summary = aggregate_runs(runs)
    assert list(summary["equilibrated"]) == [True, True, False]
    rows = {r["quantity"]: r for r in fluctuation_claims(summary, Criteria(), 3, 883, 300)}
    slope = rows["slope of log mu_L vs log T"]
    assert slope["n"] == 2 and slope["value"] == pytest.approx(np.log(2e-5 / 2.33333e-6) / np.log(10), rel=1e-4)
    assert "2 of 3 (T, eta) points equilibrated: 2 temperatures, 5 runs" in slope["detail"]
    assert slope["uncertainty"] > 0  # two points: from the replica errors, not the (zero) residuals


def test_replica_diagnostics_see_replicas_that_disagree():
    rng = np.random.default_rng(5)
    t = np.arange(4_000) * 0.1
    chains = [lfilter([1.0], [1.0, -0.9], rng.standard_normal(len(t))) for _ in range(4)]
    slices = analysis_slices(0.0, 400.0, 100.0)
    same = replica_diagnostics([(t, 10 + x) for x in chains], slices).set_index("slice")
    assert np.all(np.abs(same["rhat"] - 1) < 0.05) and same.loc[ALL, "ess_bulk"] > 100
    shifted = replica_diagnostics([(t, 10 + x + 5 * (i > 1)) for i, x in enumerate(chains)], slices)
    assert np.all(shifted["rhat"] > 1.1)
    uneven = replica_diagnostics([(t, 10 + chains[0]), (t[:3_000], 10 + chains[1][:3_000])], slices).set_index("slice")
    assert np.isnan(uneven.loc["t300-400", "rhat"]) and np.isfinite(uneven.loc[ALL, "rhat"])  # cut to equal length
    assert np.isnan(replica_diagnostics([(t, 10 + chains[0])], slices)["rhat"]).all()  # one replica: no R-hat


def test_bootstrap_errors_match_the_spread_of_independent_runs():
    """The block-bootstrap error of beta T and sigma of one run is the scatter of those statistics over
    independent runs of the same process (within 30 %)."""
    rng = np.random.default_rng(6)
    dt, n, temperature = 0.1, 10_000, 1e-5
    t = np.arange(n) * dt
    tables = [slice_statistics(t, temperature * ar1_gamma_like(n, 0.9, 0.0, rng), np.array([]), np.array([]),
                               temperature, [(ALL, 0.0, n * dt)], rng=rng) for _ in range(40)]
    runs = pd.concat(tables)
    for column in ("beta_T", "sigma", "n_c"):
        assert runs[f"{column}_error"].mean() == pytest.approx(runs[column].std(ddof=1), rel=0.3)
    off = slice_statistics(t, temperature * ar1_gamma_like(n, 0.9, 0.0, rng), np.array([]), np.array([]),
                           temperature, [(ALL, 0.0, n * dt)], bootstrap=Bootstrap(resamples=0))
    assert off[["sigma_error", "beta_T_error"]].isna().all(axis=None)


def test_time_step_comparison_is_paired_by_replica():
    """Replica minima differ a lot (mu 1, 2, 3, 4), the time step scales mu by a constant factor: pairing by
    replica sees the factor at once, an unpaired test would drown it in the scatter between minima."""
    def rows(temperature, eta, factor, replicas=range(4), diverged=(), drifting=()):
        return [{"temperature": temperature, "eta": eta, "time_step": f"eta = {eta:g}", "slice": "t0-10",
                 "t_start": 0.0, "t_end": 10.0, "replica": r, "diverged": r in diverged,
                 "equilibrated": r not in drifting,
                 "mu": (1.0 + r) * factor * (1 + (0.001 * (-1) ** r if eta == 1e-3 else 0.0))} for r in replicas]

    runs = pd.DataFrame(rows(1e-5, 1e-3, 1.0) + rows(1e-5, 1e-2, 1.002, diverged=(3,)) + rows(1e-5, 5e-2, 1.5)
                        + rows(1e-5, 0.1, 3.0, drifting=(1, 2, 3))  # one equilibrated pair: not judged
                        + rows(2e-5, 1e-2, 1.0))  # alone at its T: not compared
    table = compare_time_steps(runs, quantities=("mu",)).set_index("eta")
    assert list(table.index) == [1e-2, 5e-2, 0.1]
    assert table.loc[1e-2, "n_pairs"] == 3 and table.loc[5e-2, "n_pairs"] == 4  # the diverged run drops out
    assert table.loc[1e-2, "agree"] and not table.loc[5e-2, "agree"]
    assert table.loc[5e-2, "rel_diff"] == pytest.approx(0.5, rel=1e-5)
    assert table.loc[5e-2, "rel_low"] < 0.5 < table.loc[5e-2, "rel_high"] < 0.51
    assert abs(table.loc[5e-2, "t"]) > 100 and table.loc[5e-2, "p"] < 1e-6  # log ratios ln 1.5 +- 0.001
    assert table.loc[1e-2, "value"] == pytest.approx(2.004)  # replicas 0-2 only
    assert table.loc[5e-2, "judged"] and not table.loc[0.1, "judged"]
    assert table.loc[0.1, "n_equilibrated"] == 1 and table.loc[0.1, "n_pairs"] == 4  # all pairs, for information


def test_time_step_comparison_interval_covers_the_true_factor():
    """Noisy log-normal pairs with a known factor 1.2: the 95 % interval covers it about 95 % of the time."""
    rng = np.random.default_rng(1)
    covered = 0
    for trial in range(200):
        runs = []
        for eta, factor in ((1e-3, 1.0), (1e-2, 1.2)):
            runs += [{"temperature": 1e-5, "eta": eta, "time_step": f"eta = {eta:g}", "slice": ALL, "t_start": 0.0,
                      "t_end": 1.0, "replica": r, "diverged": False, "equilibrated": True,
                      "mu": (1.0 + r) * factor * np.exp(0.1 * rng.standard_normal())} for r in range(6)]
        row = compare_time_steps(pd.DataFrame(runs), quantities=("mu",)).iloc[0]
        covered += row["rel_low"] <= 0.2 <= row["rel_high"]
    assert 0.88 <= covered / 200 <= 0.99


def test_init_langevin_statistics_fit_the_power_law_and_eq_s2():
    """mu = A T^a exactly -> the fit returns (A, a) and Eq. S2 gives sqrt(a A T^(a+1))."""
    rng = np.random.default_rng(0)
    rows = []
    for temperature in (1e-7, 1e-6, 1e-5):
        mu = 0.003 * temperature**0.25
        for replica in range(2):
            t = np.arange(0, 100, 0.5)
            loss = mu + 1e-3 * mu * rng.standard_normal(len(t))
            loss[t >= 50] -= loss[t >= 50].mean() - mu  # exact mean inside the window
            rows.append(pd.DataFrame({"temperature": temperature, "replica": replica, "t": t, "loss": loss,
                                      "diverged": False}))
    rows.append(pd.DataFrame({"temperature": 1e-6, "replica": 2, "t": [60.0, 70.0], "loss": [1e3, 1e3],
                              "diverged": True}))
    table = init_langevin_statistics(pd.concat(rows), 50.0, 100.0)
    assert list(table["n_runs"]) == [2, 2, 2]
    np.testing.assert_allclose(table["a"], 0.25, rtol=1e-6)
    np.testing.assert_allclose(table["A"], 0.003, rtol=1e-5)
    np.testing.assert_allclose(table["sigma_eq_s2"], np.sqrt(0.25 * 0.003 * table["temperature"] ** 1.25), rtol=1e-5)
