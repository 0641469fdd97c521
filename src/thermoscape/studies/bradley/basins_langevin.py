"""Euler-Maruyama check of Bradley et al.'s steady state (Eq. 5) with a position-dependent ``D`` (Eq. 11):
``theta <- theta - eta U' + sqrt(eta T D(theta)) xi`` (Ito), through the project's Langevin engine
(``noise_amplitude = sqrt(D)``, engine temperature ``T / 2``), against the grid density of
``thermoscape.studies.bradley.basins`` by a Kolmogorov-Smirnov test (brief 3.1, optional CPU validation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy import stats
from torch import Tensor

from thermoscape.studies.bradley.basins import BasinLoss, Diffusion, cumulative_probability, evaluate_grid
from thermoscape.dynamics.langevin import Chain, Schedule, advance, start_state
from thermoscape.core.seeds import derive_seed


@dataclass
class ParticleLandscape:
    """``n_params`` independent particles in the 1-D potential ``U^tr`` (a ``thermoscape.nets.losses.Landscape``).

    Loss ``sum_i U^tr(theta_i)`` (so coordinate ``i`` feels ``U'(theta_i)``), per-sample terms
    ``N U^tr(theta_i)`` (their mean is the loss) and ``noise_amplitude = sqrt(D(theta_i))``: run by the engine
    at temperature ``T / 2``, a step is ``theta - eta U' + sqrt(eta T D) xi``, Eq. 11 (Ito). Starts uniform on
    ``start``.
    """

    basin: BasinLoss
    diffusion: Diffusion
    n_params: int
    start: tuple[float, float] = (-4.0, 4.0)

    def per_sample_loss(self, theta: Tensor) -> Tensor:
        return self.n_params * self.basin.train(theta)

    def loss(self, theta: Tensor) -> Tensor:
        return self.basin.train(theta).sum(dim=-1)

    def loss_and_grad(self, theta: Tensor) -> tuple[Tensor, Tensor]:
        u, du = self.basin.train_derivatives(theta, (0, 1))
        return u.sum(dim=-1), du

    def noise_amplitude(self, theta: Tensor) -> Tensor:
        return torch.sqrt(self.diffusion.value(theta))

    def initial_parameters(self, generator: torch.Generator) -> Tensor:
        low, high = self.start
        return low + (high - low) * torch.rand(self.n_params, generator=generator, dtype=torch.float64)


def simulate_particles(
    landscape: ParticleLandscape, temperature: float, eta: float, steps: int, snapshot_steps: tuple[int, ...], seed: int
) -> np.ndarray:
    """Positions ``(len(snapshot_steps), N)`` of Eq. 11 at SGD temperature ``T`` (engine at ``T / 2``).

    One chain of ``N`` particles: one RNG call per noise block. Starts and noise use seeds derived from ``seed``.
    """
    chain = Chain(temperature / 2, eta, derive_seed(seed, "noise"), tuple(snapshot_steps))
    theta0 = landscape.initial_parameters(torch.Generator().manual_seed(derive_seed(seed, "start")))[None, :]
    schedule = Schedule(n_steps=steps, record_every=steps, snapshot_every=steps, chunk_steps=steps)
    params = advance(landscape, start_state(theta0, [chain]), [chain], schedule, steps)["params"]
    return np.stack(params.sort_values("step")["theta"].to_list())


def ks_test(samples: np.ndarray, theta: np.ndarray, rho: np.ndarray) -> tuple[float, float]:
    """Kolmogorov-Smirnov test of ``samples`` against the grid density ``rho`` (its CDF interpolated linearly)."""
    cumulative = cumulative_probability(theta, rho)
    result = stats.kstest(samples, lambda x: np.interp(x, theta, cumulative))
    return float(result.statistic), float(result.pvalue)


def density_histogram(samples: np.ndarray, theta: np.ndarray, rho: np.ndarray, bins: int) -> pd.DataFrame:
    """Columns theta (bin centre), simulated and theory: densities in ``bins`` equal bins over the grid's range.

    ``simulated`` is normalised by all samples (those outside the range count), ``theory`` is ``rho``'s bin mean.
    """
    edges = np.linspace(theta[0], theta[-1], bins + 1)
    counts, _ = np.histogram(samples, bins=edges)
    width = np.diff(edges)
    return pd.DataFrame(
        {
            "theta": 0.5 * (edges[:-1] + edges[1:]),
            "simulated": counts / (len(samples) * width),
            "theory": np.diff(np.interp(edges, theta, cumulative_probability(theta, rho))) / width,
        }
    )


def langevin_check(
    loss: BasinLoss,
    diffusion: Diffusion,
    temperature: float,
    eta: float = 1e-3,
    steps: int = 100_000,
    particles: int = 10_000,
    seed: int = 0,
    snapshots: int = 4,
    spacing: int = 10_000,
    start: tuple[float, float] = (-2.0, 2.0),
    theta_range: tuple[float, float] = (-4.0, 4.0),
    points: int = 80_001,
    bins: int = 100,
    theory: Diffusion | None = None,
) -> tuple[float, float, pd.DataFrame]:
    """Euler-Maruyama of Eq. 11 with ``D(theta)`` against the grid steady state of Eq. 5 (brief 3.1, optional check).

    ``particles`` start uniform on ``start`` and run ``steps`` steps of size ``eta``; the positions at the
    last ``snapshots`` steps ``spacing`` apart (the last one at step ``steps - 1``) are pooled and compared with
    ``rho_T`` for ``theory`` (default: ``diffusion``; another ``D`` is a control that must fail) by
    ``ks_test``. Its p-value assumes independent samples: exact for one snapshot (the particles are
    independent), optimistic when snapshots are closer than the relaxation time. The run must be long
    compared with the relaxation time across basins, or the test fails for that reason.

    Returns ``(ks_statistic, ks_pvalue, histogram)`` (``density_histogram`` over ``theta_range``).
    """
    landscape = ParticleLandscape(loss, diffusion, particles, start)
    snapshot_steps = tuple(steps - 1 - spacing * j for j in reversed(range(snapshots)))
    if snapshot_steps[0] < 0:
        raise ValueError(f"{snapshots} snapshots {spacing} steps apart do not fit in {steps} steps")
    samples = simulate_particles(landscape, temperature, eta, steps, snapshot_steps, seed).ravel()
    grid = evaluate_grid(loss, theta_range, points, theory or diffusion)
    rho = grid.density(temperature)
    return *ks_test(samples, grid.theta, rho), density_histogram(samples, grid.theta, rho, bins)
