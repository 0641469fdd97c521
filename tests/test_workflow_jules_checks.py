"""The Jules pipeline's failure paths and its closed-form check through the workflow: bad config and an
unreachable refinement fail naming the key, and the quadratic landscape gives its Gamma law. In their own
file so that pytest-xdist runs them beside the long smoke run of ``test_workflow.py``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import SMOKE_RESULTS, smoke_results
from test_workflow import SMOKE, snakemake, write_override

pytestmark = pytest.mark.workflow


@pytest.mark.parametrize("sweep, named", [
    ({"eta": 0.01, "temperatures": [1e-4, -2e-4], "duration": 10}, "jules.langevin.sweeps[0].temperatures[1]"),
    ({"eta": 0.01, "temperatures": [1e-4], "duration": 10, "burn_in": 5, "max_duration": 4},
     "jules.langevin.sweeps[0].max_duration: 4 must exceed the burn-in 5"),
], ids=["negative-T", "max-duration-below-burn-in"])
def test_bad_config_fails_before_any_job_naming_the_key(tmp_path, sweep, named):
    bad = write_override(tmp_path / "bad.yaml", {"jules": {"langevin": {"sweeps": [sweep]}}})
    result = snakemake(tmp_path, "--configfile", str(SMOKE), str(bad), check=False)
    assert result.returncode != 0
    assert named in result.stderr + result.stdout
    assert not (tmp_path / "results").exists()


def test_figure_settings_outside_the_grid_fail_naming_every_key(tmp_path):
    """All problems at once, before any job (one dry run for the suite's time budget)."""
    bad = write_override(tmp_path / "bad.yaml", {"jules": {
        "fig1": {"eta": 0.5, "replica": 2}, "fig2": {"slice": "t1000-2000"}, "fig3": {"eta": 0.5},
        "init_langevin": {"shown_temperature": 1e-9, "late_slice": [4.0, 80.0]},
        "claims": {"headline_slice": "t5-9"}}})
    result = snakemake(tmp_path, "-n", "--configfile", str(SMOKE), str(bad), check=False)
    assert result.returncode != 0
    for named in ("jules.fig1.eta", "jules.fig1.replica", "jules.fig2.slice: no run has the analysis slice 't1000-2000'",
                  "jules.fig3.eta", "jules.init_langevin.shown_temperature", "jules.init_langevin.late_slice",
                  "jules.claims.headline_slice: no run has the analysis slice 't5-9'"):
        assert named in result.stderr + result.stdout, named
    assert not (tmp_path / "results").exists()



def test_robustness_runs_the_whole_study_per_draw_into_its_own_folder(tmp_path):
    """One dry run: every draw's jobs (module rules draw<seed>_*), each writing under jules_draws/<seed>/."""
    from test_workflow import planned_jobs

    jobs = planned_jobs(tmp_path, "jules_robustness", "--configfile", str(SMOKE))
    rules = [rule for rule, _ in jobs]
    for prefix in ("", "draw1_", "draw2_"):
        assert rules.count(f"{prefix}jules_langevin") == rules.count("jules_langevin") > 0, prefix
        assert f"{prefix}jules_claims" in rules, prefix
    assert "jules_robustness" in rules
    assert not [rule for rule in rules if rule.startswith(("draw1_taxonomy", "draw1_fengtu", "draw1_fort"))]
    dry = snakemake(tmp_path, "-n", "jules_robustness", "--configfile", str(SMOKE)).stdout
    assert f"{SMOKE_RESULTS}/jules_draws/1/jules/tables/claims.parquet" in dry
    assert f"{SMOKE_RESULTS}/jules_draws/2/jules/data/dataset.parquet" in dry


@pytest.mark.parametrize("draws, named", [([3, 3], "jules.draws: [3, 3] has non-unique elements"),
                                          ([20230101], "jules.draws: 20230101 is jules.seed")])
def test_bad_draw_lists_fail_naming_the_key(tmp_path, draws, named):
    bad = write_override(tmp_path / "bad.yaml", {"jules": {"draws": draws}})
    result = snakemake(tmp_path, "-n", "jules_robustness", "--configfile", str(bad), check=False)
    assert result.returncode != 0 and named in result.stderr + result.stdout

def quadratic_config(n_stiff: int, k_min: float, k_max: float, sweeps: list[dict]) -> dict:
    return {"jules": {
        "model": {"name": "quadratic"},
        "quadratic": {"n_params": n_stiff + 10, "n_stiff": n_stiff, "stiffness_min": k_min, "stiffness_max": k_max},
        "train": {"lr": 1e-2, "max_steps": 20000, "target_loss": 1e-6},
        "refine": {"lr": 1e-2, "max_steps": 20000, "target_loss": 1e-8, "grad_norm_tol": 1e-4},
        "langevin": {"sweeps": sweeps, "snapshot_interval": 1.0, "param_snapshots": 1, "chunk_steps": 5000},
        "analysis": {"burn_in": 10.0, "slice_length": 50.0},
    }}


# One landscape with spread stiffnesses (equal stiffnesses are the special case k_min = k_max, covered by
# tests/test_langevin.py); each case is a full pipeline run (~50 s), and the suite must stay under 20 min.
@pytest.mark.parametrize("n_stiff, k_min, k_max", [(24, 0.5, 5.0)], ids=["Nc24-spread10"])
def test_quadratic_landscape_through_the_workflow_recovers_closed_forms(tmp_path, n_stiff, k_min, k_max):
    """Sec. I: alpha = N_c / 2 and beta T = 1 from the same langevin and fluctuations rules as the MLP.

    A second sweep at eta k > 2 diverges: it is recorded, flagged and kept out of the averages. A third has
    an adaptive length: 20 time units are too short for S3, so it goes on until its window holds 100 tau_1/2
    (closed form 0.206 for these stiffnesses: chi_L = mean_i exp(-2 k_i t))."""
    temperature = 1e-3
    sweeps = [{"eta": 1e-2, "temperatures": [temperature], "duration": 210},
              {"eta": 2.5, "temperatures": [temperature], "duration": 5000},
              {"eta": 5e-3, "temperatures": [temperature], "duration": 20, "max_duration": 300}]
    overrides = quadratic_config(n_stiff, k_min, k_max, sweeps)
    overrides["jules"]["langevin"]["adaptive"] = {"check_interval": 5.0}
    config = write_override(tmp_path / "quadratic.yaml", overrides)
    snakemake(tmp_path, f"{SMOKE_RESULTS}/jules/tables/fluctuations.parquet",
              "--configfile", str(SMOKE), str(config))
    summary = pd.read_parquet(smoke_results(tmp_path) / "jules" / "tables" / "fluctuations.parquet")
    summary = summary.set_index(["eta", "slice"])

    whole = summary.loc[(1e-2, "all")]
    assert whole["n_runs"] == 2 and whole["n_diverged"] == 0
    assert abs(whole["alpha_mean"] / (n_stiff / 2) - 1) < 0.1
    assert abs(whole["beta_T_mean"] - 1) < 0.1
    assert bool(whole["equilibrated"])
    # tau_1/2 of the loss: the modes' chi_Theta = exp(-k t) squared, so ln 2 / (2k) for equal k
    if k_min == k_max:
        assert abs(whole["tau_half_mean"] / (np.log(2) / (2 * k_min)) - 1) < 0.15

    diverged = summary.loc[(2.5, "all")]
    assert diverged["n_diverged"] == 2 and diverged["n_runs"] == 0
    assert np.isnan(diverged["mu_mean"])
    langevin = smoke_results(tmp_path) / "jules" / "langevin"
    status = pd.read_parquet(langevin / "eta2.5_T0.001" / "status.parquet")
    assert status["diverged"].all() and (status["diverged_step"] > 0).all()
    assert (status["stop_reason"] == "all diverged").all()

    adaptive = pd.read_parquet(langevin / "eta0.005_T0.001" / "status.parquet")
    assert (adaptive["stop_reason"] == "stop rule").all() and (adaptive["min_duration"] == 20).all()
    stopped = adaptive["duration"].iloc[0]
    assert 10 + 0.6 * 20.6 <= stopped <= 10 + 2.0 * 20.6 + 5.0, stopped
    window = summary.loc[(5e-3, "all")]
    assert window["t_end"] == stopped and bool(window["equilibrated"])


def test_unreachable_refinement_depth_fails_with_a_clear_message(tmp_path):
    shallow = write_override(tmp_path / "shallow.yaml", {"jules": {
        "replicas": 1, "refine": {"lr": 1e-3, "max_steps": 5, "target_loss": 1e-12, "grad_norm_tol": 1e-12}}})
    result = snakemake(tmp_path, f"{SMOKE_RESULTS}/jules/models/r0/refined.pt",
                       "--configfile", str(SMOKE), str(shallow), check=False)
    assert result.returncode != 0
    log = (smoke_results(tmp_path) / "logs" / "jules_refine" / "r0.log").read_text()
    assert "jules.refine.target_loss" in log and "after 5 steps" in log
    assert not (smoke_results(tmp_path) / "jules" / "models" / "r0" / "refined.pt").exists()
