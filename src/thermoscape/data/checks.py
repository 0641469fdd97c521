"""The data settings of every study checked while the DAG builds: paths exist, class subsets are in the data,
``n_train``/``n_test`` fit it (label files and headers only). Each problem names its config key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thermoscape.core.config import ConfigError
from thermoscape.data.readers import (
    FASHION_MNIST_DIR,
    SUBSET_OPTIONS,
    USER_SUPPLIED,
    SubsetError,
    data_inventory,
    subset_sizes,
)
BUNDLED = ("digits", "mnist5k")
FORT_NETWORKS = ("mlp", "cnn")  # Fort's networks take the data's class count; Bradley's paper networks have 10


@dataclass(frozen=True)
class DataBlock:
    """One data set a study reads: the reader's subsampling options and the config key naming each."""

    name: str
    path: str | None
    path_key: str
    options: dict[str, Any]
    keys: dict[str, str]


def _study_data(study: str, data: dict) -> list[DataBlock]:
    """Yang et al.'s and Feng & Tu's ``data`` block: the reader subsamples with every option."""
    if data["name"] == "cifar10" and not data.get("path"):
        return []  # the study's rules name the key when one of its jobs needs the data
    prefix = f"{study}.data"
    return [DataBlock(data["name"], data.get("path"), f"{prefix}.path",
                      {key: data.get(key) for key in SUBSET_OPTIONS}, {key: f"{prefix}.{key}" for key in SUBSET_OPTIONS})]


def _taxonomy_datasets(datasets: dict) -> list[DataBlock]:
    """Yang et al.'s further data sets (``taxonomy.datasets``, Figs. 14, 15), checked like ``taxonomy.data``
    when their files are on this machine; a user-supplied set without a path or a directory that is not here is
    named by the rules when a job needs it (a run that does not use it is not refused)."""
    blocks = []
    for key, data in datasets.items():
        path = data.get("path") or (FASHION_MNIST_DIR if data["name"] in ("idx", "fashion_mnist") else None)
        if (data["name"] in USER_SUPPLIED and not path) or (path and not Path(path).is_dir()):
            continue
        prefix = f"taxonomy.datasets.{key}"
        blocks.append(DataBlock(data["name"], data.get("path"), f"{prefix}.path",
                                {k: data.get(k) for k in SUBSET_OPTIONS}, {k: f"{prefix}.{k}" for k in SUBSET_OPTIONS}))
    return blocks


def _network_data(networks_key: str, sizes_key: str, dataset: str, paths: dict, sizes: dict,
                  classes: list | None, classes_key: str) -> list[DataBlock]:
    """Fort's and Bradley's data (``thermoscape.studies.fort.experiment.load_data``): the first ``n_train``/``n_test`` images of
    the reader's split, or with ``classes`` at most that many of them (so only the classes are checked);
    the bundled sets' sizes are checked by the rule files."""
    path = paths.get(dataset)
    if dataset == "cifar10" and not path:
        return []  # named by the rule files when a job needs it
    if classes:
        options = {"classes": classes}
    else:
        options = {} if dataset in BUNDLED else dict(sizes)
    keys = {"n_train": f"{sizes_key}.n_train", "n_test": f"{sizes_key}.n_test", "classes": classes_key}
    return [DataBlock(dataset, path, f"{networks_key}.paths.{dataset}", options, keys)]


def _data_blocks(config: dict) -> list[DataBlock]:
    blocks = []
    for study in ("taxonomy", "fengtu"):
        if study in config:
            blocks += _study_data(study, config[study]["data"])
    blocks += _taxonomy_datasets(config.get("taxonomy", {}).get("datasets", {}))
    if "fort" in config:
        networks = config["fort"]["networks"]
        sizes = {key: networks[key] for key in ("n_train", "n_test")}
        for k, run in enumerate(networks["runs"]):
            blocks += _network_data("fort.networks", "fort.networks", run["dataset"], networks.get("paths", {}),
                                    sizes, run.get("classes"), f"fort.networks.runs[{k}].classes")
    if "bradley" in config:
        networks = config["bradley"]["networks"]
        data = networks["data"]
        blocks += _network_data("bradley.networks", "bradley.networks.data", data["dataset"], networks.get("paths", {}),
                                {key: data[key] for key in ("n_train", "n_test")}, data.get("classes"),
                                "bradley.networks.data.classes")
    return blocks


def _block_problems(block: DataBlock) -> list[str]:
    try:
        inventory = data_inventory(block.name, block.path)
    except (OSError, ValueError) as error:
        return [f"{block.path_key}: {error}"]
    try:
        subset_sizes(inventory, **block.options)
    except SubsetError as error:
        return [f"{block.keys[error.key]}: {error.detail}"]
    return []


def _directory_problems(config: dict) -> list[str]:
    """Feng & Tu's LeNet-CIFAR data takes no options: its directory must be there (its files are read, and
    checked, by its dataset job)."""
    path = config.get("fengtu", {}).get("lenet_cifar", {}).get("path")
    if path and not Path(path).is_dir():
        return [f"fengtu.lenet_cifar.path: CIFAR data directory not found: {path}"]
    return []


def _relabelled_class_problems(config: dict) -> list[str]:
    """Settings that name classes of a study's data: with a class subset, the relabelled 0..k-1."""
    problems = []
    fengtu = config.get("fengtu", {})
    k = len(fengtu.get("data", {}).get("classes") or []) or None
    for task in ("task1", "task2"):
        labels = fengtu.get("forgetting", {}).get(task, [])
        if k and max(labels, default=0) >= k:
            problems.append(f"fengtu.forgetting.{task}: labels {labels} must be below the {k} classes of "
                            "fengtu.data.classes (relabelled 0..k-1 in the listed order)")
    bradley = config.get("bradley", {})
    if bradley.get("networks", {}).get("data", {}).get("classes"):
        for block in ("shift_curvature", "sweep"):
            arch = bradley.get(block, {}).get("network", {}).get("arch", "mlp")
            if arch not in FORT_NETWORKS:
                problems.append(f"bradley.networks.data.classes: bradley.{block}.network.arch {arch} has 10 "
                                "outputs; a class subset needs mlp or cnn")
    return problems


def data_problems(config: dict) -> list[str]:
    """Every problem of the validated ``config``'s data settings: a data path that is not there, a class
    subset absent from the data, more images asked for than it holds. Cheap (label files and IDX headers,
    no pixels), so the workflow runs it before any job."""
    problems = [problem for block in _data_blocks(config) for problem in _block_problems(block)]
    return list(dict.fromkeys(problems + _directory_problems(config) + _relabelled_class_problems(config)))


def check_data_settings(config: dict) -> None:
    """Raise ConfigError listing :func:`data_problems`, each naming its config key."""
    problems = data_problems(config)
    if problems:
        lines = "\n  ".join(problems)
        raise ConfigError(f"invalid data settings ({len(problems)} problem(s)):\n  {lines}")
