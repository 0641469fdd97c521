"""Feng & Tu's run grid, as the rule files need it while Snakemake builds the DAG: every SGD run by name with its
settings, checked against the config. Torch-free (numpy/pandas/core only): every Snakemake start imports it.

A setting the schema cannot check raises ``ValueError`` naming the config key; the rule file turns it into a
``WorkflowError`` before any job starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# prefix of a run name -> where its grid lies in the ``fengtu`` config section
GRIDS = {"mlp2": "fengtu.runs", "mlp4": "fengtu.deep.runs", "lenet": "fengtu.lenet.runs",
         "adam": "fengtu.adam.runs", "cifar": "fengtu.lenet_cifar.runs"}


def _number(value: Any) -> str:
    """A grid value as spelled in a file name (the rule files' ``wildcard_number``): round-trip exact."""
    return repr(float(value))


def run_name(arch: str, run: Mapping[str, Any]) -> str:
    """The name of one SGD run of grid ``arch`` (a prefix of ``GRIDS``): learning rate, batch size, seed."""
    return f"{arch}_lr{_number(run['lr'])}_B{run['batch_size']}_s{run['seed']}"


def runs(fengtu: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every SGD run by name: architecture, hidden widths, schedule and the weight matrices it snapshots."""
    training = fengtu["training"]
    mlp2 = {"arch": "mlp", "hidden": fengtu["model"]["hidden"], "epochs": training["epochs"],
            "window": training["window"], "checkpoints": training["checkpoints"]}
    deep = {"arch": "mlp", "hidden": fengtu["deep"]["hidden"], "epochs": fengtu["deep"]["epochs"],
            "window": training["window"], "checkpoints": [0, fengtu["deep"]["epochs"]]}
    lenet = {"arch": "lenet_mnist", "hidden": [], "epochs": fengtu["lenet"]["epochs"], "window": 0,
             "checkpoints": [0, fengtu["lenet"]["epochs"]]}
    cifar = fengtu["lenet_cifar"]  # E5, Figs. S3C-D: SGD with momentum, conv1 and conv2 snapshotted
    lenet_cifar = {"arch": "lenet_cifar", "hidden": [], "epochs": cifar["epochs"], "window": cifar["window"],
                   "checkpoints": [0, cifar["epochs"]], "momentum": cifar["momentum"]}
    named = {}
    for prefix, base, grid in (("mlp2", mlp2, fengtu["runs"]), ("mlp4", deep, fengtu["deep"]["runs"]),
                               ("lenet", lenet, fengtu["lenet"]["runs"]),
                               ("adam", mlp2 | {"optimizer": "adam"}, fengtu["adam"]["runs"]),
                               ("cifar", lenet_cifar, cifar["runs"])):
        for run in grid:
            # sorted keys: a param's repr must not depend on the key order of an override file
            settings = dict(sorted(({"optimizer": "sgd", "momentum": 0.0} | base | run).items()))
            hidden = settings["hidden"]
            settings["layers"] = (["conv1", "conv2"] if settings["arch"] == "lenet_cifar"
                                  else [f"W{layer}" for layer in range(2, len(hidden) + 1)])
            named[run_name(prefix, run)] = settings
    return named


def run_names(fengtu: Mapping[str, Any], prefix: str) -> list[str]:
    """The names of the runs of one grid (``GRIDS``), in config order."""
    section: Any = fengtu
    for key in GRIDS[prefix].split(".")[1:]:
        section = section[key]
    return [run_name(prefix, run) for run in section]


def check_runs(fengtu: Mapping[str, Any], named: Mapping[str, Mapping[str, Any]],
               data_size: int | None = None) -> None:
    """Settings of ``named`` (``runs(fengtu)``) the schema cannot check; ``data_size``: the training images of
    the study's data set where known (None: not checked). Raises ValueError naming the config key."""
    cifar = set(run_names(fengtu, "cifar"))
    for name, run in named.items():
        if run["window"] > run["epochs"]:
            key = "fengtu.lenet_cifar.window" if name in cifar else "fengtu.training.window"
            raise ValueError(f"{key}: {run['window']} epochs, longer than run {name} ({run['epochs']} epochs)")
    if max(fengtu["training"]["checkpoints"]) > fengtu["training"]["epochs"]:
        raise ValueError("fengtu.training.checkpoints: beyond fengtu.training.epochs")
    if data_size is not None:
        for name, run in named.items():
            if name not in cifar and run["batch_size"] > data_size:
                raise ValueError(f"fengtu: run {name}: batch_size {run['batch_size']} exceeds the "
                                 f"{data_size} training images")


def layers(named: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(run, layer) pairs that get a PCA and a flatness scan: every snapshotted layer of every run."""
    return [(name, layer) for name, run in named.items() for layer in run["layers"]]


def shown_ranks(fengtu: Mapping[str, Any]) -> list[int]:
    """Ranks every flatness scan includes: the paper's (brief 3.2) and those the figures show."""
    return sorted({1, 2, 10, 20, 30, 49, 50, 100, *fengtu["flatness"]["profile_ranks"],
                   *fengtu["temperature"]["ranks"], fengtu["temperature"]["time_rank"],
                   fengtu["minibatch"]["shown_rank"]})
