"""The size of the work a config implies, estimated from the config alone before Snakemake builds the DAG.

A typo such as ``duration: 1.0e12`` or ``replicas: 100000`` would otherwise make Snakemake build a DAG (or a
job allocate memory) in proportion to the number of steps, and be killed without a message. The estimates
here are arithmetic on the config (no grid is expanded), compared with the ceilings under the config key
``limits``; each problem names the key, the estimate and the ceiling to raise if the size is meant.

Estimates (the Jules study in full, Yang et al.'s jobs, Feng & Tu's PCA memory, every study's counts generically):

* ``chain_steps``: integration or optimisation steps x chains advanced by one job;
* ``records``: rows one job records (loss records of a Langevin job, steps/record_every x chains), and the
  memory of the analysis that reads them (``memory_gb``, 24 bytes a row);
* ``slices``: analysis slices of one run ((duration - burn_in) / slice_length), each a DAG file;
* ``hessian_points``: parameter snapshots whose Hessian spectrum is computed (Fig. 3a);
* ``jobs``: jobs of the Jules study's DAG (per-replica training, per-batch Langevin, per-run analysis) and the
  training jobs of Yang et al.'s phase diagrams (cells x replicas);
* ``memory_gb`` also: Feng & Tu's PCA window (a weight snapshot per SGD iteration of the last epochs);
* ``count``: any single count (a key named ``*steps``, ``*epochs``, ``replicas``, ``walkers``, ``samples``,
  ``points``, ...) anywhere in the config.
"""

from __future__ import annotations

import math
import re
from typing import Any

from thermoscape.core.config import ConfigError, key_path

# Ceilings when the config has no ``limits`` (the schema's defaults are the same).
DEFAULT_LIMITS = {
    "chain_steps": 1.0e10,
    "records": 1.0e9,
    "memory_gb": 64.0,
    "slices": 10000,
    "hessian_points": 100000,
    "jobs": 50000,
    "count": 1.0e8,
}
BYTES_PER_RECORD = 24  # step, loss, distance of one chain's record, as the analysis holds them

COUNT_KEY = re.compile(r"(^|_)(steps|epochs|replicas|realizations|walkers|samples|points|batches|directions|"
                       r"resamples|snapshots|walks)$")


def _counts(value: Any, path: list) -> list[tuple[str, float]]:
    """(key, value) of every count-like number in the config."""
    found = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (int, float)) and not isinstance(item, bool) and COUNT_KEY.search(str(key)):
                found.append((key_path(path + [key]), float(item)))
            else:
                found += _counts(item, path + [key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _counts(item, path + [index])
    return found


def _steps(duration: float, eta: float) -> float:
    return math.ceil(float(duration) / float(eta) - 1e-9)


def _mlp_parameters(jules: dict) -> int:
    dataset, model = jules["dataset"], jules["model"]
    widths = [dataset["dim"], *model.get("hidden", []), dataset["n_classes"]]
    bias = model.get("bias", True)
    return sum(a * b + (b if bias else 0) for a, b in zip(widths, widths[1:]))


class _Estimates:
    def __init__(self, limits: dict):
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.problems: list[str] = []

    def check(self, key: str, kind: str, estimate: float, what: str) -> None:
        ceiling = self.limits[kind]
        if estimate > ceiling:
            self.problems.append(f"{key}: {what} = {estimate:.3g}, above limits.{kind} = {ceiling:.3g} "
                                 f"(a typo? if meant, raise limits.{kind})")


def _jules(jules: dict, est: _Estimates) -> None:
    replicas = int(jules["replicas"])
    draws = 1 + len(jules.get("draws", []))
    for block in ("train", "refine"):
        if block in jules:
            est.check(f"jules.{block}.max_steps", "chain_steps", float(jules[block]["max_steps"]),
                      "optimisation steps of one replica job")
    langevin = jules["langevin"]
    analysis = jules.get("analysis", {})
    record_every = int(langevin.get("record_every", 1))
    per_job = int(langevin.get("temperatures_per_job", 1))
    default_burn_in = float(analysis.get("burn_in", 1000.0))
    slice_length = float(analysis.get("slice_length", 1000.0))
    runs = 0
    batches = 0
    hessian_chains = 0
    fig3_eta = float(jules.get("fig3", {}).get("eta", 0.01))
    for index, sweep in enumerate(langevin["sweeps"]):
        key = f"jules.langevin.sweeps[{index}]"
        temperatures = [float(t) for t in sweep["temperatures"]]
        if "eta" in sweep:
            etas = [float(sweep["eta"])] * len(temperatures)
        elif "eta_times_T" in sweep:
            etas = [float(sweep["eta_times_T"]) / t for t in temperatures]
        else:
            continue  # named by langevin_batches
        duration = max(float(sweep["duration"]), float(sweep.get("max_duration") or 0.0))
        duration_key = f"{key}.max_duration" if sweep.get("max_duration") else f"{key}.duration"
        chains = replicas * int(sweep.get("realizations", 1))
        job_chains = chains * (min(per_job, len(temperatures)) if "eta" in sweep else 1)
        steps = max(_steps(duration, eta) for eta in etas)
        est.check(duration_key, "chain_steps", steps * job_chains,
                  f"steps ({steps:.3g}, duration / eta) x chains ({job_chains}) of one Langevin job")
        records = steps / record_every * job_chains
        est.check(duration_key, "records", records,
                  f"loss records (steps / jules.langevin.record_every x {job_chains} chains) of one Langevin job")
        est.check(duration_key, "memory_gb", records * BYTES_PER_RECORD / 1e9,
                  "memory (GB) of the analysis reading one Langevin job's records")
        burn_in = float(sweep.get("burn_in", default_burn_in))
        est.check(f"{key}.duration", "slices", max(0.0, duration - burn_in) / slice_length,
                  "analysis slices of one run ((duration - burn_in) / jules.analysis.slice_length)")
        runs += len(temperatures)
        batches += len(temperatures) if "eta_times_T" in sweep else math.ceil(len(temperatures) / per_job)
        if "eta" in sweep and float(sweep["eta"]) == fig3_eta:
            hessian_chains += chains * len(temperatures)
    snapshots = int(langevin.get("param_snapshots", 5))
    points = snapshots * hessian_chains
    est.check("jules.langevin.param_snapshots", "hessian_points", points,
              f"Hessian spectra (param_snapshots x {hessian_chains} chains at jules.fig3.eta; "
              f"{_mlp_parameters(jules)} parameters each)")
    for key, run in _extra_runs(jules):
        steps = _steps(run["duration"], run["eta"])
        est.check(f"{key}.duration", "chain_steps", steps * run["chains"] * replicas,
                  f"steps ({steps:.3g}) x chains ({run['chains'] * replicas}) of one Langevin job")
        est.check(f"{key}.duration", "records", steps / record_every * run["chains"] * replicas,
                  "loss records of one Langevin job")
    toy = jules.get("toy_model", {}).get("langevin")
    if toy:
        steps = (float(toy["burn_in"]) + float(toy["duration"])) / float(toy["time_step"])
        est.check("jules.toy_model.langevin.duration", "chain_steps", steps * int(toy["walkers"]),
                  "steps x walkers of one toy-model job")
    # per replica: init, train, refine; per batch a Langevin job; per run and replica its analysis
    jobs = draws * (3 * replicas + batches + runs * (2 + replicas))
    est.check("jules.replicas", "jobs", jobs,
              f"jobs of the Jules DAG ({draws} draw(s) x (3 x replicas + batches + runs x (replicas + 2)))")


def _extra_runs(jules: dict) -> list[tuple[str, dict]]:
    runs = []
    init = jules.get("init_langevin")
    if init:
        runs.append(("jules.init_langevin", {"duration": init["duration"], "eta": init["eta"],
                                             "chains": len(init["temperatures"])}))
    for side, run in jules.get("figS2", {}).items():
        if isinstance(run, dict):
            runs.append((f"jules.figS2.{side}", {"duration": run["duration"], "eta": run["eta"], "chains": 1}))
    return runs


def _taxonomy(taxonomy: dict, est: _Estimates) -> None:
    """Cells of the phase diagrams x replicas (each a training job; shared cells counted once per experiment)."""
    replicas = int(taxonomy.get("replicas", 1))
    cells = 0
    for name, experiment in taxonomy.get("experiments", {}).items():
        n = 1
        for axis in ("load", "temperature", "panel"):
            if isinstance(experiment.get(axis), dict):
                n *= len(experiment[axis].get("values", []))
        cells += n
    est.check("taxonomy.replicas", "jobs", cells * replicas,
              f"training jobs of the phase diagrams ({cells} cells of taxonomy.experiments x {replicas} replicas)")


# training images of the data sets when the config does not say (an upper bound: the full training split)
_FULL_TRAIN = {"digits": 1400, "mnist5k": 4000, "idx": 60000, "cifar10": 50000}


def _fengtu(fengtu: dict, est: _Estimates) -> None:
    """The PCA window keeps a weight snapshot per SGD iteration of its last ``window`` epochs."""
    data = fengtu.get("data", {})
    n_train = data.get("n_train") or _FULL_TRAIN.get(data.get("name"), 60000)
    widths = [784, *fengtu.get("model", {}).get("hidden", [50, 50]), 10]
    n_params = sum(a * b for a, b in zip(widths, widths[1:]))
    window = int(fengtu.get("training", {}).get("window", 10))
    for index, run in enumerate(fengtu.get("runs", [])):
        snapshots = window * math.ceil(n_train / int(run["batch_size"]))
        est.check(f"fengtu.runs[{index}].batch_size", "memory_gb", snapshots * n_params * 4 / 1e9,
                  f"memory (GB) of the PCA window ({snapshots} snapshots of {n_params} weights, "
                  "fengtu.training.window epochs)")


def size_problems(config: dict) -> list[str]:
    """Every estimate of a validated ``config`` above its ceiling (``config["limits"]``), each naming its key."""
    est = _Estimates(config.get("limits", {}))
    for key, value in _counts({k: v for k, v in config.items() if k != "limits"}, []):
        est.check(key, "count", value, "count")
    for study, estimate in (("jules", _jules), ("taxonomy", _taxonomy), ("fengtu", _fengtu)):
        if study in config:
            try:
                estimate(config[study], est)
            except (KeyError, TypeError, ValueError, ZeroDivisionError):
                pass  # a shape the schema reports; the estimate needs the validated config
    return list(dict.fromkeys(est.problems))


def check_sizes(config: dict) -> None:
    """Raise ConfigError listing :func:`size_problems`."""
    problems = size_problems(config)
    if problems:
        lines = "\n  ".join(problems)
        raise ConfigError(f"config implies too much work ({len(problems)} problem(s)):\n  {lines}")
