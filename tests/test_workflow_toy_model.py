"""The toy-model branch of the workflow (Jules et al. Sec. IV / S5, Fig. 4) end to end at smoke scale."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import ROOT, SMOKE, smoke_results

pytestmark = pytest.mark.workflow



def snakemake(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
               "--cores", "2", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}")
    return result


def test_fig4_target_runs_the_toy_model_only_and_its_checks_pass(tmp_path):
    run = snakemake(tmp_path, "fig4", "--configfile", str(SMOKE))
    ran = set(re.findall(r"^(?:local)?rule (\w+):", run.stdout + run.stderr, flags=re.MULTILINE))
    assert ran == {"jules_toy_model", "jules_fig4", "fig4"}  # no dataset, training or network Langevin

    results = smoke_results(tmp_path)
    for suffix in ("pdf", "png"):
        assert (results / "figures" / "jules" / f"fig4.{suffix}").stat().st_size > 10_000
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["jules"]["toy_model"]
    smoke = yaml.safe_load(SMOKE.read_text())["jules"]["toy_model"]

    table = pd.read_parquet(results / "jules" / "tables" / "toy_model.parquet")
    assert list(table["temperature"]) == smoke["temperatures"]
    methods = ("closed", "asymptotic", "quad_exponential", "quad_softplus")
    expected = {f"{q}_{m}" for q in ("mu", "sigma", "curvature", "entropy") for m in methods}
    expected |= {f"{q}_langevin{se}" for q in ("mu", "sigma", "curvature") for se in ("", "_se")}
    expected |= {"wall_parameter", "entropy_s24", "ks_statistic", "ks_pvalue", "in_regime", "dev_langevin"}
    assert expected <= set(table.columns)
    assert np.isfinite(table.select_dtypes("number").to_numpy()).all()
    assert (table["walkers"] == smoke["langevin"]["walkers"]).all()
    assert (table["langevin_loss"] == {"exact": "softplus"}.get(config["loss"], config["loss"])).all()

    # quadrature of exp(-B e^(a theta) / T) reproduces the closed forms of Eq. S18 to rounding
    assert (table["dev_closed_quadrature"] < 1e-9).all()
    # Eq. 11 / S20-S23 hold in their regime (c = B e^(-a theta_*) / T << 1, T << 1) up to O(c + T)
    inside = table[table["in_regime"]]
    assert len(inside) >= 2
    assert (inside["dev_asymptotic_softplus"] < 2 * inside["asymptotic_order"]).all()
    # 1-D Langevin: Boltzmann distributed (KS on the walkers' final positions), moments within errors
    assert (table["ks_pvalue"] > 1e-3).all()
    for q in ("mu", "sigma", "curvature"):
        assert (table[f"z_{q}_langevin"].abs() < 4.5).all(), q

    density = pd.read_parquet(results / "jules" / "tables" / "toy_model_density.parquet")
    shown = sorted(config["figure"]["temperatures"])
    for curve in ("boltzmann", "langevin"):
        assert sorted(density.loc[density["curve"] == curve, "temperature"].unique()) == shown
    quadratic = density[density["curve"] == "quadratic"]
    assert (quadratic["temperature"] == config["figure"]["quadratic_temperature"]).all() and len(quadratic)
