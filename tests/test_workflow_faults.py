"""Bad inputs and faults through the workflow (issue 24): each fails before any job, naming the key or the
file, quickly and without growing memory; resumes lose nothing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import SMOKE_RESULTS, smoke_results
from test_workflow import SMOKE, snakemake, write_override

pytestmark = pytest.mark.workflow


def test_oversized_config_fails_in_seconds_naming_every_key_and_estimate(tmp_path):
    override = write_override(tmp_path / "big.yaml", {"jules": {
        "replicas": 100000,
        "train": {"lr": 1e-3, "max_steps": 1e12, "target_loss": 1e-4},
        "langevin": {"sweeps": [{"eta": 1e-2, "temperatures": [1e-5], "duration": 1e12}]}}})
    start = time.monotonic()
    out = snakemake(tmp_path, "-n", "--configfile", str(SMOKE), str(override), check=False)
    assert time.monotonic() - start < 60
    assert out.returncode != 0
    for named in ("config implies too much work", "jules.langevin.sweeps[0].duration: steps (1e+14",
                  "jules.langevin.sweeps[0].duration: analysis slices", "jules.replicas: jobs of the Jules DAG",
                  "jules.train.max_steps: optimisation steps of one replica job = 1e+12", "raise limits.chain_steps"):
        assert named in out.stdout + out.stderr, out.stdout[-3000:]
    assert "Traceback" not in out.stdout + out.stderr


def test_nan_and_infinity_fail_before_any_job_naming_the_key(tmp_path):
    override = tmp_path / "nan.yaml"
    override.write_text("jules:\n  fig1: {eta: .nan}\n  langevin:\n    sweeps:\n"
                        "      - {eta: 1.0e-2, temperatures: [.inf], duration: 10}\n")
    out = snakemake(tmp_path, "-n", "--configfile", str(SMOKE), str(override), check=False)
    assert out.returncode != 0
    assert "jules.fig1.eta: nan is not a finite number" in out.stdout + out.stderr, out.stdout[-3000:]
    assert "jules.langevin.sweeps[0].temperatures[0]: inf is not a finite number" in out.stdout + out.stderr


def test_figure_settings_are_checked_only_for_the_targets_that_need_them(tmp_path):
    """Jules' figure settings outside the grid: the fluctuation table builds; a figure target fails naming
    its rule and key."""
    bad = write_override(tmp_path / "bad.yaml", {"jules": {"fig1": {"eta": 0.5}, "fig2": {"slice": "t1000-2000"}}})
    snakemake(tmp_path, "-n", "jules_aggregate", "--configfile", str(SMOKE), str(bad))
    out = snakemake(tmp_path, "-n", "fig2", "--configfile", str(SMOKE), str(bad), check=False)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert "jules_fig2 (a step the requested targets need) has invalid settings" in text, text[-3000:]
    assert "jules.fig2.slice: no run has the analysis slice 't1000-2000'" in text
    assert "jules.fig1.eta: no sweep runs at eta = 0.5 (rule jules_fig1)" in text  # reported, for later


def test_snakemake_reports_a_yaml_error_without_the_file_and_check_config_names_it(tmp_path):
    """Snakemake loads --configfile before the workflow runs, so the workflow cannot improve this message:
    the README points to scripts/check_config.py, which names the file and line."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("jules:\n  fig1: {eta: 0.01\n  replicas: 3\n")
    out = snakemake(tmp_path, "-n", "--configfile", str(bad), check=False)
    assert out.returncode != 0 and "Config file is not valid JSON or YAML" in out.stdout + out.stderr


def test_unwritable_results_folder_fails_before_any_job_naming_the_key_and_remedy(tmp_path):
    """/sys refuses new files even to root (chmod would not stop root): the results key names it."""
    bad = write_override(tmp_path / "bad.yaml", {"results": "/sys/thermoscape-results"})
    out = snakemake(tmp_path, "-n", "--configfile", str(SMOKE), str(bad), check=False)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert "results: cannot write outputs to /sys/thermoscape-results (nor create it in /sys)" in text, text[-3000:]
    assert "point the config key results at a writable folder" in text and "Traceback (most recent" not in text


def test_a_job_output_carries_the_config_hash_and_scale(tmp_path):
    """One tiny job (the Jules data set): its table says which config made it, and runs of different scales
    keep to their own folders."""
    import yaml
    from snakemake.utils import update_config
    from test_workflow import ROOT

    from thermoscape.core.config import config_hash, validate_config
    from thermoscape.core.io import read_provenance

    snakemake(tmp_path, f"{SMOKE_RESULTS}/jules/data/dataset.parquet", "--configfile", str(SMOKE))
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    update_config(config, yaml.safe_load(SMOKE.read_text()))
    expected = config_hash(validate_config(config, ROOT / "workflow" / "schemas" / "config.schema.yaml"))
    assert read_provenance(smoke_results(tmp_path) / "jules" / "data" / "dataset.parquet") == {
        "config_hash": expected, "scale": "smoke"}
    # the smoke config has its own folder, marked with its scale; the default plans into results/, beside it
    marker = smoke_results(tmp_path) / ".thermoscape-scale"
    assert SMOKE_RESULTS != "results" and marker.read_text() == "smoke\n"
    default = snakemake(tmp_path, "-n", "results/jules/data/dataset.parquet").stdout
    assert "output: results/jules/data/dataset.parquet" in default and f"{SMOKE_RESULTS}/" not in default
    # a default run pointed at the smoke folder (an override of the key results) is refused, naming the fix
    into_smoke = write_override(tmp_path / "into_smoke.yaml", {"results": SMOKE_RESULTS})
    out = snakemake(tmp_path, "-n", "--configfile", str(into_smoke), check=False)
    text = out.stdout + out.stderr
    assert out.returncode != 0
    assert f"results: {SMOKE_RESULTS} holds the outputs of scale 'smoke' ({marker.relative_to(tmp_path)})" in text, \
        text[-2000:]
    assert "a config of scale 'default' would mix with them. Give it its own folder (e.g. results: " \
           f"{Path(SMOKE_RESULTS).parent / 'default'})" in text  # beside the smoke folder, not inside it
    assert "Traceback (most recent" not in text and marker.read_text() == "smoke\n"


def test_training_jobs_log_progress_with_rate_and_eta(tmp_path):
    """jules_train reports progress in its log (every 10 s by default; every update here)."""
    snakemake(tmp_path, f"{SMOKE_RESULTS}/jules/models/r0/train_curve.parquet", "--configfile", str(SMOKE),
              env={"THERMOSCAPE_PROGRESS_EVERY": "0"})
    log = (smoke_results(tmp_path) / "logs" / "jules_train" / "r0.log").read_text()
    assert "replica 0 Adam: " in log and " steps/s, ETA " in log, log[-2000:]
