"""The workflow files themselves (issue 25): `snakemake --lint` is clean, rule files hold only constants and rules,
every heavy rule writes a benchmark and asks for more memory and time on each retry."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "workflow" / "rules"
# the rules whose jobs train, sample or scan (minutes to hours at paper scale): not the SMALL bookkeeping ones
HEAVY = {"taxonomy_ablation", "bradley_dataset", "bradley_langevin_check", "bradley_sgd", "bradley_minimum", "bradley_line",
         "bradley_stage1", "bradley_stage2", "bradley_resampled", "fengtu_cifar_dataset", "fengtu_train",
         "fengtu_langevin", "fengtu_pca", "fengtu_flatness", "fengtu_minibatch", "fengtu_temperature", "fengtu_task1",
         "fengtu_task2", "fort_train", "fort_hessian", "fort_radius", "jules_init", "jules_train", "jules_refine",
         "jules_langevin", "jules_fluctuations", "jules_hessian", "jules_free_diffusion", "taxonomy_cell"}


def rule_blocks():
    for path in sorted(RULES.glob("*.smk")):
        for block in re.split(r"(?m)^(?=rule )", path.read_text())[1:]:
            yield path, re.match(r"rule (\w+):", block).group(1), block


def test_lint_is_clean(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path), "--lint"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def test_rule_files_define_no_functions():
    for path in RULES.glob("*.smk"):
        text = path.read_text()
        if re.search(r"^rule ", text, re.M):
            assert not re.search(r"^\s*def ", text, re.M), f"{path.name}: functions belong in a *common.smk"


def test_every_heavy_rule_benchmarks_and_grows_on_retry():
    seen = set()
    for path, name, block in rule_blocks():
        if name not in HEAVY:
            continue
        seen.add(name)
        assert f'    benchmark:\n        benchmark_path("{name}"' in block, f"{path.name}: rule {name}"
        for resource in ("mem_mb", "runtime"):
            assert re.search(rf"^        {resource}=scaled\(", block, re.M), f"{path.name}: rule {name} {resource}"
    assert seen == HEAVY


def common_function(name: str):
    """A plain-Python helper of common.smk, run on its own."""
    text = (RULES / "common.smk").read_text()
    source = re.search(rf"^def {name}\(.*?(?=^\S)", text, re.M | re.S).group(0)
    namespace = {"RESULTS": "results"}
    exec(source, namespace)
    return namespace[name]


def test_scaled_resources_double_with_every_attempt():
    scaled = common_function("scaled")
    assert [scaled(3000)(None, attempt) for attempt in (1, 2, 3)] == [3000, 6000, 12000]
    by_wildcards = scaled(lambda wildcards: wildcards["n"])
    assert [by_wildcards({"n": 10}, attempt) for attempt in (1, 2)] == [10, 20]
    assert common_function("benchmark_path")("jules_langevin", "{batch}") == "results/benchmarks/jules_langevin/{batch}.tsv"


def test_slurm_profile_retries_with_more_resources():
    import yaml

    profile = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
    assert profile["retries"] >= 1
