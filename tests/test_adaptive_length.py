"""Adaptive Langevin run length: a run continues chunk by chunk until every chain's analysis window passes
S3 (and shows no drift), or until its maximum length; deterministic and resumable."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.optimize import brentq

from thermoscape.measure.fluctuations import StopRule
from thermoscape.core.io import read_table
from thermoscape.studies.jules.experiment import equilibration_stop, langevin_chains, langevin_schedule
from thermoscape.dynamics.langevin import Schedule, run_chunked
from thermoscape.nets.losses import QuadraticLandscape

ETA = 0.01
LANGEVIN = {"record_every": 1, "snapshot_interval": 1.0, "chunk_steps": 10**6}
CHECK = 2.0  # time between stop-rule checks


def loss_half_time(stiffness: np.ndarray) -> float:
    """``tau_1/2`` of the loss on the quadratic: each mode energy contributes ``T^2 / 2`` to Var L and decays
    as ``exp(-2 k_i t)`` (OU), so ``chi_L(t) = mean_i exp(-2 k_i t)``; the time where it is 1/2."""
    return brentq(lambda t: np.mean(np.exp(-2 * stiffness * t)) - 0.5, 0.0, 100.0 / stiffness.min())


def run_adaptive(stiffness, rule, duration, max_duration, workdir, replicas=4, progress=None):
    landscape = QuadraticLandscape(torch.tensor(stiffness, dtype=torch.float64), len(stiffness) + 5)
    schedule = langevin_schedule(LANGEVIN, ETA, duration, max_duration=max_duration, check_interval=CHECK)
    chains = langevin_chains(3, replicas, 1e-3, ETA, schedule, rule.burn_in, 0)
    theta0 = torch.zeros(replicas, landscape.n_params, dtype=torch.float64)
    return run_chunked(landscape, theta0, chains, schedule, workdir, progress, equilibration_stop(rule, ETA))


@pytest.mark.parametrize("stiffness", [np.ones(10), np.geomspace(0.1, 1.0, 10)], ids=["narrow", "wide"])
def test_quadratic_run_stops_when_its_window_is_factor_half_times_long(stiffness, tmp_path):
    factor, burn_in, check = 100.0, 20.0, CHECK
    rule = StopRule(burn_in=burn_in, slice_length=1e9, equilibration_factor=factor)
    state, parts = run_adaptive(stiffness, rule, duration=burn_in + check, max_duration=600.0, workdir=tmp_path)
    end = state.step * ETA
    assert state.stop_reason == "stop rule"
    # it stopped at the first check where every chain passes
    trajectory = pd.concat(read_table(part) for part in parts["trajectory"])
    assert rule.passing(trajectory, end).all()
    assert not rule.passing(trajectory[trajectory["t"] < end - check], end - check).all()
    # ... which is when the window holds `factor` closed-form half-times: over 12 seeds the ratio ranged over
    # 0.75-1.58 (the tau_1/2 estimate of a 100 tau window scatters, and the rule waits for the slowest chain)
    needed = factor * loss_half_time(stiffness)
    assert 0.6 * needed <= end - burn_in <= 2.0 * needed, (end - burn_in, needed)


def test_the_wide_spread_runs_longer_than_the_narrow_one(tmp_path):
    rule = StopRule(burn_in=20.0, slice_length=1e9, equilibration_factor=100.0)
    narrow, _ = run_adaptive(np.ones(10), rule, 25.0, 600.0, tmp_path / "narrow")
    wide, _ = run_adaptive(np.geomspace(0.1, 1.0, 10), rule, 25.0, 600.0, tmp_path / "wide")
    assert loss_half_time(np.geomspace(0.1, 1.0, 10)) > 2.5 * loss_half_time(np.ones(10))
    assert wide.step * ETA - 20.0 > 1.5 * (narrow.step * ETA - 20.0)  # the analysis windows


def test_run_that_cannot_equilibrate_stops_at_its_maximum(tmp_path):
    # tau_1/2 ~ 35 for k = 0.01: 100 tau_1/2 never fit into a 60-unit maximum
    rule = StopRule(burn_in=10.0, slice_length=1e9, equilibration_factor=100.0)
    state, _ = run_adaptive(np.full(5, 0.01), rule, 20.0, 60.0, tmp_path, replicas=2)
    assert state.stop_reason == "maximum length"
    assert state.step == round(60.0 / ETA)


def test_adaptive_run_resumes_to_the_same_stop_and_records(tmp_path):
    stiffness = np.geomspace(0.2, 1.0, 6)
    rule = StopRule(burn_in=10.0, slice_length=1e9, equilibration_factor=40.0)
    reference, ref_parts = run_adaptive(stiffness, rule, 15.0, 300.0, tmp_path / "a", replicas=2)
    assert reference.stop_reason == "stop rule" and reference.step > round(20.0 / ETA)

    done = [0]

    def kill_after_two_checks(n):
        done[0] += n
        if done[0] > round(15.0 / ETA) + 2 * round(CHECK / ETA):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_adaptive(stiffness, rule, 15.0, 300.0, tmp_path / "b", replicas=2, progress=kill_after_two_checks)
    resumed, parts = run_adaptive(stiffness, rule, 15.0, 300.0, tmp_path / "b", replicas=2)
    assert (resumed.step, resumed.stop_reason) == (reference.step, reference.stop_reason)
    assert torch.equal(resumed.theta, reference.theta)
    pd.testing.assert_frame_equal(pd.concat(map(read_table, parts["trajectory"])),
                                  pd.concat(map(read_table, ref_parts["trajectory"])))


def test_fixed_length_is_unchanged_by_the_adaptive_machinery():
    schedule = langevin_schedule(LANGEVIN, ETA, 30.0)
    assert not schedule.adaptive and schedule.n_steps == 3000 and schedule.guaranteed_steps == 3000
    adaptive = langevin_schedule(LANGEVIN, ETA, 30.0, max_duration=90.0, check_interval=CHECK)
    assert adaptive.adaptive and (adaptive.min_steps, adaptive.n_steps, adaptive.check_every) == (3000, 9000, 200)
    # chunks end at the minimum length, then at every check
    assert [adaptive.next_chunk(s) for s in (0, 2999, 3000, 3500, 8900)] == [3000, 1, 200, 200, 100]
    # parameter snapshots lie before the minimum length, where every run gets
    chains = langevin_chains(1, 3, 1e-3, ETA, adaptive, 10.0, 50)
    assert all(1000 <= s < 3000 for c in chains for s in c.param_snapshot_steps)


def test_adaptive_schedule_without_a_rule_is_refused(tmp_path):
    landscape = QuadraticLandscape(torch.ones(2, dtype=torch.float64), 2)
    schedule = Schedule(n_steps=100, min_steps=50, check_every=10)
    with pytest.raises(ValueError, match="stop_rule"):
        run_chunked(landscape, torch.zeros(1, 2, dtype=torch.float64), [], schedule, tmp_path)


def ar1(n, rho, rng):
    x = np.empty(n)
    x[0] = rng.standard_normal()
    for i in range(1, n):
        x[i] = rho * x[i - 1] + np.sqrt(1 - rho**2) * rng.standard_normal()
    return x


def test_stop_rule_refuses_a_drifting_run_only_when_asked_to():
    rng = np.random.default_rng(0)
    t = np.arange(20000) * 0.1  # tau of the AR(1) ~ 1 time unit: 100 tau_1/2 fit in the 2000-unit window
    stationary = 1.0 + 0.05 * ar1(len(t), np.exp(-0.1), rng)
    drifting = stationary + 0.05 * t / t[-1]  # a trend of one noise amplitude over the run
    strict = StopRule(burn_in=0.0, slice_length=400.0, equilibration_factor=100.0, require_no_drift=True)
    lenient = StopRule(burn_in=0.0, slice_length=400.0, equilibration_factor=100.0, require_no_drift=False)
    assert strict.run_passes(t, stationary, 2000.0)
    assert not strict.run_passes(t, drifting, 2000.0)
    assert lenient.run_passes(t, drifting, 2000.0)
    # a window shorter than 100 tau_1/2 fails S3
    assert not strict.run_passes(t[:500], stationary[:500], 50.0)


@pytest.mark.parametrize("max_duration", [50.0, 100.0, 150.0])
def test_max_duration_at_or_below_the_burn_in_or_the_duration_is_refused_naming_the_key(max_duration):
    from thermoscape.core.grids import langevin_batches

    sweeps = [{"eta": 0.01, "temperatures": [1e-5], "duration": 200.0, "burn_in": 100.0, "max_duration": max_duration}]
    with pytest.raises(ValueError, match=r"jules\.langevin\.sweeps\[0\]\.max_duration"):
        langevin_batches(sweeps, 0.0, 1)
    sweeps[0]["max_duration"] = 400.0
    assert langevin_batches(sweeps, 0.0, 1)[0].longest == 400.0
