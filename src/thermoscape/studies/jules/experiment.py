"""Study glue for Jules et al.: build the landscape and the Langevin chains a configuration describes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from thermoscape.data.tables import table_to_tensors
from thermoscape.measure.fluctuations import StopRule
from thermoscape.core.io import read_table
from thermoscape.dynamics.langevin import Chain, EngineState, Schedule
from thermoscape.nets.losses import Landscape, MLPLandscape, QuadraticLandscape
from thermoscape.nets.mlp import MLPSpec
from thermoscape.core.seeds import derive_seed


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


def langevin_schedule(
    langevin: dict[str, Any], eta: float, duration: float, drift: bool = True, max_duration: float | None = None,
    check_interval: float | None = None,
) -> Schedule:
    """Steps of a run of continuous ``duration`` at time step ``eta`` and its recording intervals.

    With ``max_duration`` (> ``duration``) the length is adaptive: at least ``duration``, then a stop-rule
    check every ``check_interval`` time units (default: every chunk), at most ``max_duration``.
    """
    adaptive = max_duration is not None and max_duration > duration
    return Schedule(
        n_steps=round((max_duration if adaptive else duration) / eta),
        record_every=int(langevin["record_every"]),
        snapshot_every=max(1, round(langevin["snapshot_interval"] / eta)),
        chunk_steps=int(langevin["chunk_steps"]),
        drift=drift,
        min_steps=round(duration / eta) if adaptive else None,
        check_every=max(1, round(check_interval / eta)) if adaptive and check_interval else None,
    )


def equilibration_stop(rule: StopRule, eta: float) -> Callable[[dict[str, list[Path]], EngineState], bool]:
    """The engine's ``stop_rule`` for a job whose chains share the time step ``eta``: stop once every chain
    that has not diverged passes ``rule`` on its trajectory so far. Each part file is read once per job (a
    chunk's records do not change once written), not again at every check."""
    read: dict[Path, pd.DataFrame] = {}

    def stop(parts: dict[str, list[Path]], state: EngineState) -> bool:
        live = [i for i, d in enumerate(state.diverged_step) if d is None]
        for part in parts["trajectory"]:
            if part not in read:
                read[part] = read_table(part, columns=["chain", "t", "loss"])
        trajectory = pd.concat([read[part] for part in parts["trajectory"]])
        passing = rule.passing(trajectory[trajectory["chain"].isin(live)], state.step * eta)
        logging.getLogger(__name__).info("t = %g: %d of %d chains pass the stop rule", state.step * eta,
                                         int(passing.sum()), len(live))
        return bool(len(passing) == len(live) and passing.all())

    return stop


def langevin_chains(
    seed: int, replicas: int, temperature: float, eta: float, schedule: Schedule, burn_in: float, n_snapshots: int
) -> list[Chain]:
    """One chain per replica minimum; noise seeds and snapshot times derive from ``(seed, T, eta, r)``."""
    chains = []
    last = schedule.guaranteed_steps  # an adaptive run may stop there: its snapshots lie before
    first = min(round(burn_in / eta), last - 1)
    for replica in range(replicas):
        chain_seed = derive_seed(seed, "langevin", replica, temperature, eta)
        rng = np.random.default_rng(derive_seed(seed, "snapshots", replica, temperature, eta))
        count = min(n_snapshots, last - first)
        steps = np.sort(rng.choice(np.arange(first, last), size=count, replace=False))
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
