import re
from pathlib import Path

import pytest
import yaml

from thermoscape.core.config import ConfigError, key_path, validate_config
from thermoscape.data.checks import check_data_settings, data_problems
from thermoscape.data.readers import FASHION_MNIST_DIR

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


def test_each_shipped_config_writes_to_a_results_folder_of_its_own(default_config):
    """Issue 24: a smoke, paper or Fashion-MNIST run never writes into the default's results/ nor into another's
    folder; each config also has its own scale, which the results-folder guard (core.io) checks."""
    merged = {path.name: validate_config(merge(default_config, yaml.safe_load(path.read_text()) or {}), SCHEMA)
              for path in sorted((ROOT / "config").glob("*.yaml"))}
    assert set(merged) >= {"config.yaml", "smoke.yaml", "paper.yaml"}
    folders = {name: config["results"] for name, config in merged.items()}
    assert len(set(folders.values())) == len(folders), folders
    assert len({config["scale"] for config in merged.values()}) == len(merged)
    assert folders["config.yaml"] == "results" and folders["smoke.yaml"] == "results/smoke", folders


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


# --- data settings: checked before any job, naming the key ------------------------------------------


@pytest.fixture
def idx_dir(tmp_path) -> Path:
    """A synthetic MNIST-format directory: 40 training images (labels 0..9 in turn), 20 test images."""
    from test_datasets import write_idx_dir

    write_idx_dir(tmp_path / "idx", n_train=40, n_test=20)
    return tmp_path / "idx"


def fashion_run(**extra) -> dict:
    return {"dataset": "fashion_mnist", "arch": "mlp", "activation": "relu", "preprocess": "unit", **extra}


@pytest.mark.parametrize(
    "override, named",
    [
        ({"taxonomy": {"data": {"name": "idx", "path": "{idx}", "n_train": 90000}}},
         "taxonomy.data.n_train: 90000 is larger than the 40 training images of {idx}"),
        ({"taxonomy": {"data": {"name": "idx", "path": "{idx}", "classes": [3, 12]}}},
         "taxonomy.data.classes: class 12 is absent from the training images of {idx} (labels 0-9)"),
        ({"taxonomy": {"data": {"name": "idx", "path": "{idx}/nowhere"}}},
         "taxonomy.data.path: IDX data directory not found: {idx}/nowhere"),
        ({"taxonomy": {"data": {"name": "cifar10", "path": "{idx}"}}},
         "taxonomy.data.path: missing data file: {idx}/data_batch_1"),
        ({"taxonomy": {"data": {"n_train": 1797}}},
         "taxonomy.data.n_train: 1797 is larger than the 1796 training images digits can give"),
        ({"fengtu": {"data": {"classes": [0, 1]}}},
         "fengtu.data.n_test: 1000 leaves no training images of the 1000 images of mnist5k in classes [0, 1]"),
        ({"fengtu": {"data": {"classes": [0, 1, 2], "n_test": 100}}},
         "fengtu.forgetting.task2: labels [2, 3] must be below the 3 classes of fengtu.data.classes"),
        ({"fengtu": {"lenet_cifar": {"path": "{idx}/none"}}},
         "fengtu.lenet_cifar.path: CIFAR data directory not found: {idx}/none"),
        ({"fort": {"networks": {"paths": {"fashion_mnist": "{idx}"}, "runs": [fashion_run()]}}},
         "fort.networks.n_train: 1000 is larger than the 40 training images of {idx}"),
        ({"fort": {"networks": {"runs": [fashion_run(dataset="digits", classes=[0, 12])]}}},
         "fort.networks.runs[0].classes: class 12 is absent from the images of digits"),
        ({"bradley": {"networks": {"data": {"dataset": "fashion_mnist"}, "paths": {"fashion_mnist": "{idx}/x"}}}},
         "bradley.networks.paths.fashion_mnist: IDX data directory not found: {idx}/x"),
        ({"bradley": {"networks": {"data": {"classes": [0, 1]}}, "sweep": {"network": {"arch": "vgg9"}}}},
         "bradley.networks.data.classes: bradley.sweep.network.arch vgg9 has 10 outputs"),
    ],
    ids=["n_train", "absent-class", "missing-path", "cifar-files", "digits-n_train", "pool-classes",
         "relabelled-tasks", "lenet-cifar-path", "fort-n_train", "fort-classes", "bradley-path", "bradley-paper-network"],
)
def test_bad_data_settings_name_the_key(default_config, idx_dir, override, named):
    text = yaml.safe_dump(override).replace("{idx}", str(idx_dir))
    config = validate_config(merge(default_config, yaml.safe_load(text)), SCHEMA)
    with pytest.raises(ConfigError, match=re.escape(named.replace("{idx}", str(idx_dir)))):
        check_data_settings(config)


def test_shipped_data_settings_pass(default_config):
    check_data_settings(validate_config(default_config, SCHEMA))
    cifar_without_path = merge(default_config, {"taxonomy": {"data": {"name": "cifar10"}}})
    assert data_problems(validate_config(cifar_without_path, SCHEMA)) == []  # named by the rule that needs it
    fashion = merge(default_config, yaml.safe_load((ROOT / "config" / "fashion_mnist.yaml").read_text()))
    fashion = validate_config(fashion, SCHEMA)
    assert fashion["taxonomy"]["data"]["n_train"] == 1400 and fashion["results"] == "results/fashion_mnist"
    if Path(FASHION_MNIST_DIR).is_dir():
        check_data_settings(fashion)


@pytest.mark.workflow
def test_bad_data_fails_before_any_job_naming_every_key(tmp_path, idx_dir):
    """Through Snakemake (one dry run for the suite's time): all problems at once, no traceback, no job."""
    from test_workflow import SMOKE, snakemake, write_override

    bad = write_override(tmp_path / "bad.yaml", {
        "taxonomy": {"data": {"name": "idx", "path": str(idx_dir), "n_train": 90000}},
        "fengtu": {"data": {"name": "idx", "path": str(tmp_path / "nowhere")}},
        "fort": {"networks": {"paths": {"fashion_mnist": str(idx_dir)}, "runs": [fashion_run(classes=[3, 12])]}}})
    result = snakemake(tmp_path, "taxonomy", "-n", "--configfile", str(SMOKE), str(bad), check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in output
    for named in (f"taxonomy.data.n_train: 90000 is larger than the 40 training images of {idx_dir}",
                  f"fengtu.data.path: IDX data directory not found: {tmp_path / 'nowhere'}",
                  f"fort.networks.runs[0].classes: class 12 is absent from the training images of {idx_dir}"):
        assert named in output, named
    assert not (tmp_path / "results").exists()
