"""Sizes checked before any job (issue 24, item 1): estimates from the config, ceilings under ``limits``,
NaN and infinity rejected everywhere."""

from pathlib import Path

import pytest
import yaml
from test_config import SCHEMA, merge

from thermoscape.core.config import ConfigError, as_numbers, validate_config
from thermoscape.core.sizes import check_sizes, size_problems

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


def validated(config: dict, yaml_override: str = "") -> dict:
    return validate_config(merge(config, yaml.safe_load(yaml_override) or {}), SCHEMA)


@pytest.mark.parametrize("name", [None, "smoke.yaml", "paper.yaml", "fashion_mnist.yaml"])
def test_shipped_configs_are_within_the_limits(default_config, name):
    override = yaml.safe_load((ROOT / "config" / name).read_text()) if name else {}
    assert size_problems(validate_config(merge(default_config, override), SCHEMA)) == []


@pytest.mark.parametrize("override, named", [
    ("jules: {langevin: {sweeps: [{eta: 1.0e-2, temperatures: [1.0e-5], duration: 1.0e12}]}}",
     "jules.langevin.sweeps[0].duration: steps (1e+14, duration / eta) x chains (4)"),
    ("jules: {langevin: {sweeps: [{eta: 1.0e-2, temperatures: [1.0e-5], duration: 1.0e12}]}}",
     "jules.langevin.sweeps[0].duration: analysis slices of one run"),
    ("jules: {langevin: {sweeps: [{eta: 1.0e-2, temperatures: [1.0e-5], duration: 1.0e12}]}}",
     "jules.langevin.sweeps[0].duration: memory (GB)"),
    ("jules: {replicas: 100000}", "jules.replicas: jobs of the Jules DAG"),
    ("jules: {train: {lr: 1.0e-3, max_steps: 1e12, target_loss: 1.0e-4}}",
     "jules.train.max_steps: optimisation steps of one replica job = 1e+12"),
    ("jules: {train: {lr: 1.0e-3, max_steps: 1e12, target_loss: 1.0e-4}}", "jules.train.max_steps: count = 1e+12"),
    ("jules: {langevin: {param_snapshots: 100000}}", "jules.langevin.param_snapshots: Hessian spectra"),
    ("jules: {figS2: {catapult: {duration: 1.0e12}}}", "jules.figS2.catapult.duration: steps"),
    ("fengtu: {training: {epochs: 1000000000}}", "fengtu.training.epochs: count = 1e+09"),
    ("taxonomy: {replicas: 1000000000}", "taxonomy.replicas: count = 1e+09"),
    ("taxonomy: {replicas: 1000}", "cells of taxonomy.experiments x 1000 replicas)"),
    ("fengtu: {training: {window: 100000}}", "fengtu.runs[0].batch_size: memory (GB) of the PCA window"),
])
def test_too_much_work_fails_naming_the_key_and_the_estimate(default_config, override, named):
    config = validated(default_config, override)
    with pytest.raises(ConfigError, match="config implies too much work") as error:
        check_sizes(config)
    assert named in str(error.value), str(error.value)
    assert "raise limits." in str(error.value)


def test_the_ceilings_are_configurable(default_config):
    override = "jules: {train: {lr: 1.0e-3, max_steps: 1e9, target_loss: 1.0e-4}}"
    assert size_problems(validated(default_config, override)) == [
        "jules.train.max_steps: count = 1e+09, above limits.count = 1e+08 (a typo? if meant, raise limits.count)"]
    assert size_problems(validated(default_config, override + "\nlimits: {count: 1.0e+9}")) == []


@pytest.mark.parametrize("override, named", [
    ("jules: {fig1: {eta: .nan}}", "jules.fig1.eta: nan is not a finite number"),
    ("jules: {langevin: {sweeps: [{eta: 1.0e-2, temperatures: [.inf], duration: 10}]}}",
     "jules.langevin.sweeps[0].temperatures[0]: inf is not a finite number"),
    ("jules: {analysis: {burn_in: -.inf}}", "jules.analysis.burn_in: -inf is not a finite number"),
    ("limits: {count: .inf}", "limits.count: inf is not a finite number"),
    ("fengtu: {langevin: {temperature: .NaN}}", "fengtu.langevin.temperature: nan is not a finite number"),
])
def test_nan_and_infinity_are_rejected_everywhere(default_config, override, named):
    with pytest.raises(ConfigError) as error:
        validated(default_config, override)
    assert named in str(error.value), str(error.value)
    assert str(error.value).count("\n") == 1, "one problem, not a second schema message about the same value"


def test_only_decimal_strings_become_numbers():
    assert as_numbers({"a": "1e-6", "b": "nan", "c": "inf", "d": ".5", "e": "run1"}) == {
        "a": 1e-6, "b": "nan", "c": "inf", "d": 0.5, "e": "run1"}
