"""Bad inputs and faults through the workflow (issue 24): each fails before any job, naming the key or the
file, quickly and without growing memory; resumes lose nothing."""

from __future__ import annotations

import time

import pytest
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
