"""Study glue for Jules et al.: build the landscape and the Langevin chains a configuration describes."""

from __future__ import annotations

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
