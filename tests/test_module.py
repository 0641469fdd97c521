"""thermoscape as a Snakemake module of another workflow (README, "Using thermoscape as a Snakemake module"): a
workflow outside the repository imports every rule with a prefix, gives its own config (the smoke scale) and
builds the toy-model figure into its own folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.workflow

ROOT = Path(__file__).resolve().parents[1]

SNAKEFILE = """\
configfile: "{smoke}"


module thermoscape:
    snakefile:
        "{snakefile}"
    config:
        config | {{"results": "out"}}


use rule * from thermoscape as thermoscape_*


rule all:
    default_target: True  # else the module's own default target (thermoscape_all, every figure) would be it
    input:
        "out/figures/jules/fig4.png",
"""


def run(workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args], cwd=workdir, env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return result


def test_module_builds_the_toy_model_figure_into_the_importing_workflow(tmp_path):
    workdir = tmp_path / "other_workflow"
    workdir.mkdir()
    (workdir / "Snakefile").write_text(SNAKEFILE.format(smoke=ROOT / "config" / "smoke.yaml",
                                                        snakefile=ROOT / "Snakefile"))
    # the whole DAG resolves under the prefix (the module's default target is thermoscape_all)
    planned = run(workdir, "-n", "thermoscape_all")
    assert "thermoscape_jules_langevin" in planned.stdout and "thermoscape_claims" in planned.stdout
    built = run(workdir)
    assert "thermoscape_jules_toy_model" in built.stderr + built.stdout
    for suffix in ("pdf", "png"):
        assert (workdir / "out" / "figures" / "jules" / f"fig4.{suffix}").stat().st_size > 10_000
    assert (workdir / "out" / "jules" / "tables" / "toy_model.parquet").exists()
    assert (workdir / "out" / "logs" / "jules_toy_model" / "job.log").exists()
    assert not (ROOT / "out").exists()
    assert "Nothing to be done" in "".join(run(workdir, "-n").stdout) + "".join(run(workdir, "-n").stderr)
