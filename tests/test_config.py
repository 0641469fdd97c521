import re
from pathlib import Path

import pytest
import yaml

from thermoscape.config import ConfigError, key_path, validate_config

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture
def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def test_shipped_configs_are_valid(default_config):
    for name in ("smoke.yaml", "paper.yaml"):
        override = yaml.safe_load((ROOT / "config" / name).read_text())
        validate_config(merge(default_config, override), SCHEMA)
    assert validate_config(default_config, SCHEMA)["jules"]["analysis"]["drift_sigma"] == 3.0  # default


def merge(base: dict, override: dict) -> dict:
    out = dict(base)
    for key, value in override.items():
        out[key] = merge(base[key], value) if isinstance(value, dict) and key in base else value
    return out


@pytest.mark.parametrize(
    "edit, named",
    [
        (lambda c: c["jules"]["langevin"]["sweeps"][0]["temperatures"].__setitem__(1, -1e-5),
         "jules.langevin.sweeps[0].temperatures[1]"),
        (lambda c: c["jules"]["model"].__setitem__("name", "resnet"), "jules.model.name"),
        (lambda c: c["jules"]["refine"].pop("target_loss"), "jules.refine.target_loss: missing"),
        (lambda c: c["jules"].pop("seed"), "jules.seed: missing"),
        (lambda c: c["jules"]["train"].__setitem__("learning_rate", 1e-3), "'learning_rate' was unexpected"),
        (lambda c: c.__setitem__("device", "tpu"), "device"),
        (lambda c: c["jules"]["langevin"]["sweeps"][1].__setitem__("eta", -1e-3), "jules.langevin.sweeps[1].eta"),
        (lambda c: c["jules"]["langevin"].__setitem__("sweeps", []), "jules.langevin.sweeps: [] should be non-empty"),
        (lambda c: c["jules"]["langevin"]["sweeps"][0].__setitem__("temperatures", []),
         "jules.langevin.sweeps[0].temperatures: [] should be non-empty"),
        (lambda c: c["jules"]["langevin"]["sweeps"][0].__setitem__("duration", "long"),
         "jules.langevin.sweeps[0].duration: 'long' is not of type 'number'"),
        (lambda c: c["jules"]["dataset"].__setitem__("name", "cifar"), "jules.dataset: Additional properties"),
        (lambda c: c["jules"].__setitem__("replicas", 0), "jules.replicas: 0 is less than the minimum of 1"),
        (lambda c: c["jules"].__setitem__("replicas", 2.5), "jules.replicas: 2.5 is not of type 'integer'"),
        (lambda c: c["jules"]["init_langevin"].__setitem__("temperatures", [1e-6]),
         "jules.init_langevin.temperatures: [1e-06] is too short"),
        (lambda c: c["jules"]["claims"].__setitem__("spearman_min", 2), "jules.claims.spearman_min"),
    ],
    ids=["negative-T", "unknown-model", "missing-L0", "missing-seed", "typo", "device", "negative-eta", "no-sweeps",
         "empty-T-grid", "duration-type", "unknown-dataset", "no-replicas", "fractional-replicas", "one-init-T",
         "spearman-range"],
)
def test_bad_config_fails_naming_the_key(default_config, edit, named):
    edit(default_config)
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("]", r"\]")):
        validate_config(default_config, SCHEMA)


def test_yaml_exponent_strings_become_numbers(default_config):
    default_config["jules"]["langevin"]["sweeps"][0]["temperatures"] = ["1e-6", 2e-6]
    assert validate_config(default_config, SCHEMA)["jules"]["langevin"]["sweeps"][0]["temperatures"] == [1e-6, 2e-6]


def test_key_path():
    assert key_path(["jules", "sweeps", 0, "eta"]) == "jules.sweeps[0].eta"


def test_every_rule_whose_script_picks_a_device_asks_the_cluster_for_a_gpu():
    """Under ``device: cuda`` a job without a GPU resource would run on a CPU-only SLURM allocation."""
    rules_dir = ROOT / "workflow" / "rules"
    without = []
    for smk in sorted(rules_dir.glob("*.smk")):
        for block in re.split(r"\n(?=rule \w+:)", smk.read_text()):
            rule, script = re.match(r"rule (\w+):", block), re.search(r'script:\s*\n\s*"([^"]+)"', block)
            picks_device = bool(script) and "device = start_job" in (rules_dir / script.group(1)).read_text()
            if rule and picks_device and not re.search(r"\*\*\w*GPU\b", block):
                without.append(rule.group(1))
    assert without == []
