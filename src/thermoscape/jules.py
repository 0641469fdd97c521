"""Study glue for Jules et al.: build the landscape and the Langevin chains a configuration describes."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from thermoscape.data import table_to_tensors
from thermoscape.io import read_table
from thermoscape.langevin import Chain, Schedule
from thermoscape.losses import Landscape, MLPLandscape, QuadraticLandscape
from thermoscape.models import MLPSpec
from thermoscape.seeds import derive_seed


def build_landscape(study: dict[str, Any], dataset: pd.DataFrame, device: torch.device) -> Landscape:
    """The paper's MLP on the data set (``model.name: mlp``) or the analytic quadratic of Sec. I."""
    model = study["model"]
    if model["name"] == "mlp":
        x, labels = table_to_tensors(dataset, torch.float64, device)
        n_classes = study["dataset"]["n_classes"]
        widths = (x.shape[1], *model["hidden"], n_classes)
        return MLPLandscape(MLPSpec(widths, bias=model["bias"]), x, labels)
    if model["name"] == "quadratic":
        quad = study["quadratic"]
        stiffness = np.geomspace(quad["stiffness_min"], quad["stiffness_max"], quad["n_stiff"])
        return QuadraticLandscape(torch.tensor(stiffness, dtype=torch.float64, device=device), quad["n_params"])
    raise ValueError(f"unknown jules.model.name {model['name']!r}")


def langevin_schedule(langevin: dict[str, Any], eta: float, duration: float, drift: bool = True) -> Schedule:
    """Steps of a run of continuous ``duration`` at time step ``eta`` and its recording intervals."""
    return Schedule(
        n_steps=round(duration / eta),
        record_every=int(langevin["record_every"]),
        snapshot_every=max(1, round(langevin["snapshot_interval"] / eta)),
        chunk_steps=int(langevin["chunk_steps"]),
        drift=drift,
    )


def langevin_chains(
    seed: int, replicas: int, temperature: float, eta: float, schedule: Schedule, burn_in: float, n_snapshots: int
) -> list[Chain]:
    """One chain per replica minimum; noise seeds and snapshot times derive from ``(seed, T, eta, r)``."""
    chains = []
    first = min(round(burn_in / eta), schedule.n_steps - 1)
    for replica in range(replicas):
        chain_seed = derive_seed(seed, "langevin", replica, temperature, eta)
        rng = np.random.default_rng(derive_seed(seed, "snapshots", replica, temperature, eta))
        count = min(n_snapshots, schedule.n_steps - first)
        steps = np.sort(rng.choice(np.arange(first, schedule.n_steps), size=count, replace=False))
        chains.append(Chain(temperature, eta, chain_seed, tuple(int(s) for s in steps)))
    return chains


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
    ``key``) for a burn-in not shorter than the run or a repeated (eta, T).
    """
    batches, seen = [], set()
    for index, sweep in enumerate(sweeps):
        burn_in = float(sweep.get("burn_in", default_burn_in))
        if burn_in >= sweep["duration"]:
            raise ValueError(f"{key}[{index}]: burn-in {burn_in} (its burn_in or "
                             f"jules.analysis.burn_in) must be shorter than its duration {sweep['duration']}")
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
                batches.append(LangevinBatch(name, eta, chunk, float(sweep["duration"]), burn_in, label, start))
    return batches


def read_trajectories(
    trajectory_paths: list[str], status_paths: list[str], columns: tuple[str, ...] = ("t", "loss")
) -> dict[float, pd.DataFrame]:
    """Langevin trajectories of several jobs by temperature, with ``chain`` renumbered to the replica."""
    trajectories = {}
    for trajectory_path, status_path in zip(trajectory_paths, status_paths):
        table = read_table(trajectory_path, columns=["chain", *columns])
        status = read_table(status_path).set_index("chain")
        for temperature, chains in status.groupby("temperature"):
            rows = table[table["chain"].isin(chains.index)]
            trajectories[temperature] = rows.assign(chain=chains["replica"].reindex(rows["chain"]).to_numpy())
    return trajectories


def read_hessians(paths: list[str]) -> tuple[pd.DataFrame, int]:
    """The eigenvalue tables of ``jules_hessian`` in one table, and the number of parameters N."""
    table = pd.concat([read_table(path) for path in paths], ignore_index=True)
    return table, int(table["index"].max()) + 1
