"""Bradley et al.'s settings as the rule files need them while Snakemake builds the DAG: the checks the schema
cannot make and the params of the network jobs. Torch-free (core only): every Snakemake start imports it.

``check`` raises ``ValueError`` naming every config key at fault; the rule file turns it into a ``WorkflowError``
before any job starts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from thermoscape.core.grids import BUNDLED_SPLITS


def settings(block: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    """What a network job depends on besides the stored data (params: a change reruns it): the block's network
    and ``keys`` of the block; sorted keys keep the repr stable."""
    chosen = {"network": block["network"]} | {key: block[key] for key in keys}
    return {key: dict(sorted(value.items())) if isinstance(value, dict) else value for key, value in chosen.items()}


def check(bradley: Mapping[str, Any]) -> None:
    """Settings the schema cannot check, reported together (one ValueError naming every key) before any job."""
    shift, sweep, networks = bradley["shift_curvature"], bradley["sweep"], bradley["networks"]
    problems, basins = [], bradley["basins"]
    for name, case in basins["cases"].items():
        if not len(case["minima"]) == len(case["weights"]) == len(case["sigmas"]):
            problems.append(f"bradley.basins.cases.{name}: minima, weights and sigmas differ in length")
        if basins["c_role"] == "diffusion" and case["c"] <= 0:
            problems.append(f"bradley.basins.cases.{name}.c: must be > 0 when c_role is diffusion (c is D)")
    low, high = basins["theta_range"]
    if low >= high:
        problems.append("bradley.basins.theta_range: must be [low, high] with low < high")
    if basins["temperatures"]["min"] >= basins["temperatures"]["max"]:
        problems.append("bradley.basins.temperatures: min must be below max")
    langevin = basins["langevin_check"]
    if not len(langevin["loss"]["minima"]) == len(langevin["loss"]["weights"]) == len(langevin["loss"]["sigmas"]):
        problems.append("bradley.basins.langevin_check.loss: minima, weights and sigmas differ in length")
    if langevin["diffusion"]["amplitude"] >= langevin["diffusion"]["base"]:
        problems.append("bradley.basins.langevin_check.diffusion.amplitude: must be below base (D > 0)")
    data = networks["data"]
    if data["dataset"] in BUNDLED_SPLITS:
        for key, have in zip(("n_train", "n_test"), BUNDLED_SPLITS[data["dataset"]], strict=True):
            if data[key] > have:
                problems.append(f"bradley.networks.data.{key}: {data[key]} images, but {data['dataset']} has {have}")
    for block in ("shift_curvature", "sweep"):
        arch = bradley[block]["network"]["arch"]
        if arch in ("resnet10", "vgg16", "vgg9") and data["dataset"] != "cifar10":
            problems.append(f"bradley.{block}.network.arch: {arch} needs bradley.networks.data.dataset cifar10")
    for key, size in (("shift_curvature.sgd.batch_size", shift["sgd"]["batch_size"]),
                      ("sweep.stage1.batch_size", sweep["stage1"]["batch_size"] or 0),
                      *((f"sweep.stage2.batch_sizes[{k}]", b) for k, b in enumerate(sweep["stage2"]["batch_sizes"]))):
        if size > data["n_train"]:
            problems.append(f"bradley.{key}: {size} is larger than bradley.networks.data.n_train")
    for size in sweep["sample_sizes"]:
        if size > data["n_train"] + data["n_test"]:
            problems.append(f"bradley.sweep.sample_sizes: {size} is more than n_train + n_test")
    if sweep["stage2"]["final_epochs"] > sweep["stage2"]["epochs"]:
        problems.append("bradley.sweep.stage2.final_epochs: more than bradley.sweep.stage2.epochs")
    line = shift["line"]
    for anchor in (0.0, 1.0):  # the minima themselves must be line points
        position = (anchor - line["r_min"]) / (line["r_max"] - line["r_min"]) * (line["points"] - 1)
        if abs(position - round(position)) > 1e-9:
            problems.append(f"bradley.shift_curvature.line: {line['points']} points on [r_min, r_max] miss r = {anchor:g}")
    if shift["figure1_seed"] >= shift["seeds"]:
        problems.append("bradley.shift_curvature.figure1_seed: must be below bradley.shift_curvature.seeds")
    if problems:
        raise ValueError("invalid bradley settings:\n  " + "\n  ".join(problems))
