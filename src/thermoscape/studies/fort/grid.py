"""Fort & Ganguli's settings as the rule files need them while Snakemake builds the DAG: the checks the schema
cannot make. Torch-free (core only): every Snakemake start imports it. ``check`` raises ``ValueError`` naming every
config key at fault; the rule file turns it into a ``WorkflowError`` before any job starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from thermoscape.core.grids import BUNDLED_SPLITS


def check(fort: Mapping[str, Any]) -> None:
    """Settings the schema cannot check, reported together (one ValueError naming every key) before any job."""
    networks, problems = fort["networks"], []
    epochs = networks["training"]["epochs"]
    for key, values in (("stages", networks["stages"].values()), ("hessian.epochs", networks["hessian"]["epochs"])):
        if max(values) > epochs:
            problems.append(f"fort.networks.{key}: epochs beyond fort.networks.training.epochs = {epochs}")
    if networks["training"]["batch_size"] > networks["n_train"]:
        problems.append("fort.networks.training.batch_size: larger than fort.networks.n_train")
    for k, run in enumerate(networks["runs"]):
        if run["dataset"] in BUNDLED_SPLITS and not run.get("classes"):  # a class subset takes what there is
            for key, have in zip(("n_train", "n_test"), BUNDLED_SPLITS[run["dataset"]], strict=True):
                if networks[key] > have:
                    problems.append(f"fort.networks.{key}: {networks[key]} images, but {run['dataset']} "
                                    f"(runs[{k}]) has {have}")
        n_classes = len(run.get("classes") or []) or 10
        if networks["hessian"]["max_rank"] <= 2 * n_classes and run["hessian"]:
            problems.append(f"fort.networks.hessian.max_rank: must exceed 2C = {2 * n_classes} (runs[{k}])")
    if fort["sweep"]["default_exponent"] not in fort["sweep"]["exponents"]:
        problems.append("fort.sweep.default_exponent: not one of fort.sweep.exponents")
    if problems:
        raise ValueError("invalid fort settings:\n  " + "\n  ".join(problems))
