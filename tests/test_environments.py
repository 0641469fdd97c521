"""The declared software environments (README, "Software environments and clusters"): the conda environment of
every rule holds exactly pyproject.toml's dependencies, every rule that runs a script names it, the workflow
names a container, and the Apptainer recipe installs this project. Neither environment is built here (no conda,
no apptainer on the test machine); `snakemake --lint` no longer asks for a software definition."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
ENV_FILE = ROOT / "workflow" / "envs" / "thermoscape.yaml"
RECIPE = ROOT / "workflow" / "envs" / "thermoscape.def"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def normalised(requirements) -> dict[str, tuple[SpecifierSet, str]]:
    parsed = [Requirement(r) for r in requirements]
    return {r.name.lower().replace("_", "-"): (r.specifier, str(r.marker or "")) for r in parsed}


def test_conda_env_pip_part_is_the_project_dependencies():
    env = yaml.safe_load(ENV_FILE.read_text())
    assert env["channels"][0] == "conda-forge"
    pip = [d for d in env["dependencies"] if isinstance(d, dict)]
    assert len(pip) == 1 and set(pip[0]) == {"pip"}
    requirements = [r for r in pip[0]["pip"] if not r.startswith("-")]
    assert normalised(requirements) == normalised(PROJECT["dependencies"])
    assert len(requirements) == len(PROJECT["dependencies"])
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    assert "pip" in conda
    python = next(d for d in conda if d.startswith("python"))
    version = python.split("=")[-1].strip()
    assert SpecifierSet(PROJECT["requires-python"]).contains(version)  # e.g. python =3.11
    assert all(d == "pip" or d.startswith("python") for d in conda)  # nothing beside pyproject's list


def rule_blocks(text: str):
    """(name, body) of every rule in a rule file."""
    for match in re.finditer(r"^(?:rule|checkpoint) (\w+):\n((?:(?:    .*)?\n)*)", text, re.M):
        yield match.group(1), match.group(2)


def test_every_rule_that_runs_a_script_names_the_conda_env():
    common = (ROOT / "workflow" / "rules" / "common.smk").read_text()
    assert 'CONDA_ENV = "../envs/thermoscape.yaml"' in common
    assert (ROOT / "workflow" / "rules" / "../envs/thermoscape.yaml").resolve() == ENV_FILE
    assert re.search(r"^container: config\[\"container\"\]$", common, re.M)
    scripts = 0
    for path in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for name, body in rule_blocks(path.read_text()):
            if re.search(r"^    (script|shell|notebook|wrapper):", body, re.M):
                scripts += 1
                assert "    conda:\n        CONDA_ENV\n" in body, f"{path.name}: rule {name}"
            assert not re.search(r"^    run:", body, re.M), f"{path.name}: rule {name} (run: cannot use conda)"
    assert scripts >= 60


def test_apptainer_recipe_installs_the_project():
    recipe = RECIPE.read_text()
    python = next(d for d in yaml.safe_load(ENV_FILE.read_text())["dependencies"]
                  if isinstance(d, str) and d.startswith("python"))
    assert f"From: python:{python.split('=')[-1].strip()}-slim" in recipe  # the conda env's Python
    assert re.search(r"^Bootstrap: docker$", recipe, re.M)
    for path in ("pyproject.toml", "README.md", "LICENSE", "src"):
        assert re.search(rf"^    {re.escape(path)} /opt/thermoscape/{re.escape(path)}$", recipe, re.M), path
        assert (ROOT / path).exists()
    assert "pip install --no-cache-dir /opt/thermoscape" in recipe


@pytest.mark.workflow
def test_lint_finds_no_rule_without_software(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path), "--lint",
         "--configfile", str(ROOT / "config" / "smoke.yaml")],
        capture_output=True, text=True, check=False,
    )
    text = result.stdout + result.stderr
    assert "Lints for" in text or result.returncode == 0, text[-3000:]  # lint ran (other complaints: issue 25.2)
    assert "Specify a conda environment or container" not in text
    assert f"Lints for snakefile {ROOT / 'workflow' / 'rules' / 'common.smk'}" not in text, text[-3000:]
