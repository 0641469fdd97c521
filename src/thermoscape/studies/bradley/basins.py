"""Synthetic 1-D basins of Bradley et al. (Figs. 4, 6): the SGD steady state and its basin bookkeeping.

The losses (brief 3.1; the paper does not give the form) are
``U^tr(theta) = -sum_i w_i N(theta; m_i, s_i^2) + c theta^2`` with ``N`` the normalised Gaussian density and
``U^test(theta) = U^tr(theta + shift)``. With ``c_role="diffusion"`` there is no quadratic term and ``c`` is
the constant noise ``D`` instead (only the T axis changes).

In 1-D the steady state of Eq. 10 is exact (Eq. 5 / 24; Assumption 1 always holds):
``rho_T = exp(-2 v / T) / Z`` with the effective potential ``v(theta) = int (U' + (T/2) D') / D dtheta``,
which is ``U / D`` for constant ``D`` (footnote 3). Everything here is evaluated on a uniform grid:
``v`` by cumulative Simpson, ``Z``, basin probabilities and expectations by the trapezoid rule. Basins are
the stretches between adjacent local maxima of ``U^tr`` (or out to the grid ends); the Laplace weights of
Eq. 6 / App. B.2, ``w_k ~ exp(-2 v(mu_k) / T) |v''(mu_k)|^(-1/2)``, are compared with the exact
integrals, and Eq. 8 ``sum_k w_k (U_k + s^2 C_k / 2)`` is reported next to the exact ``E_T[U^test]``.

``thermoscape.studies.bradley.basins_langevin`` validates Eq. 5 with a position-dependent ``D`` by Euler-Maruyama. This
module needs no torch (the losses also accept torch tensors, duck-typed).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
from scipy import integrate
from scipy.signal import argrelextrema

Array = TypeVar("Array", bound=Any)  # numpy arrays or torch tensors
CRole = Literal["quadratic", "diffusion"]
_SQRT_2PI = math.sqrt(2 * math.pi)


def _exp(x: Array) -> Array:
    return x.exp() if hasattr(x, "exp") else np.exp(x)  # a torch tensor stays one


def _tanh(x: Array) -> Array:
    return x.tanh() if hasattr(x, "tanh") else np.tanh(x)


# --------------------------------------------------------------------------------------------------
# The losses and the noise
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BasinLoss:
    """``U^tr = -sum_i weights_i N(theta; minima_i, sigmas_i^2) + q theta^2``, ``U^test(theta) = U^tr(theta + shift)``.

    ``c_role="quadratic"`` (default): ``q = c`` confines and the noise is the constant ``diffusion``;
    ``c_role="diffusion"``: ``q = 0`` and ``c`` is the constant ``D`` (brief 3.1). Evaluates on numpy
    arrays and on torch tensors alike.
    """

    minima: tuple[float, ...]
    weights: tuple[float, ...]
    sigmas: tuple[float, ...]
    c: float
    shift: float
    c_role: CRole = "quadratic"
    diffusion: float = 1.0

    def __post_init__(self) -> None:
        for name in ("minima", "weights", "sigmas"):
            object.__setattr__(self, name, tuple(float(x) for x in getattr(self, name)))
        if not len(self.minima) == len(self.weights) == len(self.sigmas) >= 1:
            raise ValueError("minima, weights and sigmas must be non-empty and of equal length")
        if self.c_role not in ("quadratic", "diffusion"):
            raise ValueError(f"c_role must be 'quadratic' or 'diffusion', not {self.c_role!r}")
        if self.constant_diffusion <= 0:
            raise ValueError("the constant D (diffusion, or c with c_role='diffusion') must be positive")

    @property
    def quadratic(self) -> float:
        """The coefficient ``q`` of ``q theta^2`` in ``U^tr``."""
        return self.c if self.c_role == "quadratic" else 0.0

    @property
    def constant_diffusion(self) -> float:
        """The constant ``D`` of the paper's synthetic experiment."""
        return self.diffusion if self.c_role == "quadratic" else self.c

    def train_derivatives(self, theta: Array, orders: tuple[int, ...] = (0, 1)) -> list[Array]:
        """``d^j U^tr / d theta^j`` for each ``j`` in ``orders`` (0, 1 or 2), sharing each well's Gaussian.

        With ``z = (theta - m) / s``: ``d/dtheta N = -(z / s) N`` and ``d^2/dtheta^2 N = ((z^2 - 1) / s^2) N``.
        """
        if not set(orders) <= {0, 1, 2}:
            raise ValueError("orders must be among 0, 1, 2")
        q = self.quadratic
        out = {0: q * theta**2, 1: 2 * q * theta, 2: 2 * q + 0 * theta}
        out = {j: out[j] for j in orders}
        for m, w, s in zip(self.minima, self.weights, self.sigmas, strict=True):
            z = (theta - m) / s
            density = _exp(-0.5 * z * z) * (w / (s * _SQRT_2PI))
            for j in out:
                out[j] = out[j] + density * (-1.0 if j == 0 else z / s if j == 1 else (1 - z * z) / s**2)
        return [out[j] for j in orders]

    def train(self, theta: Array, derivative: int = 0) -> Array:
        """``U^tr`` (``derivative=0``), ``dU^tr/dtheta`` (1) or ``d^2U^tr/dtheta^2`` (2)."""
        return self.train_derivatives(theta, (derivative,))[0]

    def test(self, theta: Array, derivative: int = 0) -> Array:
        """``U^test(theta) = U^tr(theta + shift)`` or its derivative (Fig. 4 caption: a constant shift)."""
        return self.train(theta + self.shift, derivative)


@dataclass(frozen=True)
class Diffusion:
    """Noise ``D(theta) = base + amplitude tanh(theta)`` (brief 3.1 suggests 0.5 + 0.4 tanh); constant if 0."""

    base: float = 1.0
    amplitude: float = 0.0

    def __post_init__(self) -> None:
        if abs(self.amplitude) >= self.base:
            raise ValueError("D > 0 needs |amplitude| < base")

    def value(self, theta: Array) -> Array:
        return self.base + self.amplitude * _tanh(theta)

    def derivative(self, theta: Array) -> Array:
        return self.amplitude * (1 - _tanh(theta) ** 2)


def default_diffusion(loss: BasinLoss) -> Diffusion:
    """The paper's constant ``D`` for ``loss`` (``diffusion``, or ``c`` with ``c_role='diffusion'``)."""
    return Diffusion(base=loss.constant_diffusion)


# --------------------------------------------------------------------------------------------------
# Steady state on a grid (Eq. 5 / 24)
# --------------------------------------------------------------------------------------------------


def effective_potential(
    theta: np.ndarray, du: np.ndarray, d: np.ndarray, dd: np.ndarray, temperature: float
) -> np.ndarray:
    """Eq. 5 / 24 in 1-D: ``v(theta) = int_{theta_0}^theta (U' + (T/2) D') / D``, zero at the first grid point.

    ``du``, ``d``, ``dd`` are ``U'``, ``D`` and ``D'`` on the grid. Cumulative Simpson: the error enters
    ``rho`` multiplied by ``2 / T``, so the trapezoid rule's ``O(h^2 U''')`` is too coarse at ``T = 1e-4``.
    Equals ``(U - U(theta_0)) / D`` for constant ``D`` (footnote 3), ``(1 + T/2) log U`` for ``D = U`` (App. B.1).
    """
    return integrate.cumulative_simpson((du + 0.5 * temperature * dd) / d, x=theta, initial=0.0)


def steady_state(theta: np.ndarray, v: np.ndarray, temperature: float) -> np.ndarray:
    """Eq. 5: ``rho_T = exp(-2 v / T) / Z``, a density normalised on the grid (trapezoid).

    The largest exponent is subtracted before exponentiating, so any ``T > 0`` is safe.
    """
    exponent = -2.0 * v / temperature
    weight = np.exp(exponent - exponent.max())
    return weight / integrate.trapezoid(weight, theta)


def cumulative_probability(theta: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``F(theta) = int_{theta_0}^theta rho`` (trapezoid; ``F`` ends at 1 for a ``steady_state`` density)."""
    return integrate.cumulative_trapezoid(rho, theta, initial=0.0)


def expectation(theta: np.ndarray, rho: np.ndarray, values: np.ndarray) -> float:
    """``E_rho[f] = int rho f`` on the grid (brief 3.1 step 4: the curves of Figs. 4, 6 are integrated)."""
    return float(integrate.trapezoid(rho * values, theta))


# --------------------------------------------------------------------------------------------------
# Basins
# --------------------------------------------------------------------------------------------------


def basin_edges(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid indices of the strict local minima of ``values`` and of their basins' edges.

    Basin ``k`` runs from ``edges[k]`` to ``edges[k + 1]``: the largest value between adjacent minima, or
    the grid ends. Returns ``(minima, edges)`` with ``len(edges) = len(minima) + 1``.
    """
    minima = argrelextrema(values, np.less)[0]
    if len(minima) == 0:
        raise ValueError("no interior local minimum on the grid")
    between = [lo + int(np.argmax(values[lo : hi + 1])) for lo, hi in itertools.pairwise(minima)]
    return minima, np.array([0, *between, len(values) - 1], dtype=np.int64)


def parabola_vertex(x: np.ndarray, y: np.ndarray, i: int) -> tuple[float, float, float]:
    """The parabola through ``(x, y)`` at ``i - 1, i, i + 1``: its vertex ``x*``, value ``y(x*)`` and ``y''``.

    Refines a grid minimum to ``O(h^3)`` in the value (a grid point is off by ``y'' h^2 / 8``).
    """
    (x0, x1, x2), (y0, y1, y2) = x[i - 1 : i + 2], y[i - 1 : i + 2]
    slope = (y1 - y0) / (x1 - x0)  # Newton form: y0 + slope (x - x0) + half_curvature (x - x0) (x - x1)
    half_curvature = ((y2 - y1) / (x2 - x1) - slope) / (x2 - x0)
    vertex = 0.5 * (x0 + x1) - slope / (2 * half_curvature)
    value = y0 + slope * (vertex - x0) + half_curvature * (vertex - x0) * (vertex - x1)
    return float(vertex), float(value), float(2 * half_curvature)


def basin_probabilities(theta: np.ndarray, rho: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Exact basin weights: ``int rho`` between adjacent edges (brief 3.1 step 3), trapezoid per basin.

    Integrated basin by basin rather than differenced from ``F``, so tiny weights keep their relative precision.
    """
    return np.array([integrate.trapezoid(rho[lo : hi + 1], theta[lo : hi + 1]) for lo, hi in itertools.pairwise(edges)])


def laplace_weights(theta: np.ndarray, v: np.ndarray, temperature: float, edges: np.ndarray) -> np.ndarray:
    """Eq. 6 / App. B.2: ``w_k ~ exp(-2 v(mu_k) / T) |v''(mu_k)|^(-1/2)``, normalised over the basins.

    ``mu_k`` is the minimum of ``v`` inside basin ``k`` (refined by ``parabola_vertex``); a basin where ``v``
    has no interior minimum (possible for a position-dependent ``D`` at large ``T``) gets NaN and the others
    are normalised among themselves.
    """
    log_w = np.full(len(edges) - 1, np.nan)
    for k, (lo, hi) in enumerate(itertools.pairwise(edges)):
        i = lo + int(np.argmin(v[lo : hi + 1]))
        if lo < i < hi:
            _, v_mu, curvature = parabola_vertex(theta, v, i)
            log_w[k] = -2.0 * v_mu / temperature - 0.5 * np.log(abs(curvature))
    w = np.exp(log_w - np.nanmax(log_w))
    return w / np.nansum(w)


def eq8_test_expectation(weights: np.ndarray, u_minima: np.ndarray, c_minima: np.ndarray, shift: float) -> float:
    """Eq. 8: ``E[U^test] ~ sum_k w_k (U_k^tr + s^2 C_k^tr / 2)`` (constant ``D``, ``U^test(theta) = U^tr(theta + s)``).

    Brief 3.1: poor for the paper's parameters (``s`` is comparable to the narrow basins' widths).
    """
    return float(np.sum(weights * (u_minima + 0.5 * shift**2 * c_minima)))


# --------------------------------------------------------------------------------------------------
# The E1 tables
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """A loss and a noise evaluated once on a uniform grid; the temperature enters later."""

    theta: np.ndarray
    u_train: np.ndarray
    u_test: np.ndarray
    du_train: np.ndarray
    d: np.ndarray
    dd: np.ndarray

    def potential(self, temperature: float) -> np.ndarray:
        return effective_potential(self.theta, self.du_train, self.d, self.dd, temperature)

    def density(self, temperature: float) -> np.ndarray:
        return steady_state(self.theta, self.potential(temperature), temperature)


def evaluate_grid(
    loss: BasinLoss, theta_range: tuple[float, float], points: int, diffusion: Diffusion | None = None
) -> Grid:
    """``loss`` and ``diffusion`` (default: the loss's constant ``D``) on ``points`` grid points over ``theta_range``."""
    diffusion = diffusion or default_diffusion(loss)
    theta = np.linspace(theta_range[0], theta_range[1], points)
    u_train, du_train = loss.train_derivatives(theta, (0, 1))
    return Grid(theta, u_train, loss.test(theta), du_train, diffusion.value(theta), diffusion.derivative(theta))


def thin(n: int, max_points: int) -> np.ndarray:
    """Every ``stride``-th index of ``n`` points (first one kept), at most ``max_points`` of them."""
    return np.arange(0, n, max(1, math.ceil((n - 1) / (max_points - 1))))


def basin_tables(
    loss: BasinLoss,
    temperatures: np.ndarray,
    plot_temperatures: tuple[float, ...] | np.ndarray = (),
    theta_range: tuple[float, float] = (-4.0, 4.0),
    points: int = 160_001,
    diffusion: Diffusion | None = None,
    max_points: int = 4001,
) -> dict[str, pd.DataFrame]:
    """The E1 tables of one case (Figs. 4, 6; .scratch/bradley_tables.md): ``landscape`` (theta, u_train,
    u_test), ``steady_state`` (T, theta, rho) at ``plot_temperatures``, ``basins`` (T, basin, location,
    probability, laplace) and ``expectations`` (T, expected_train, expected_test, expected_test_eq8).

    Basins are those of ``U^tr`` (``location``: its refined minimum ``theta_k^tr``; ``U_k``, ``C_k`` of Eq. 8
    there); ``probability`` integrates ``rho_T`` over the basin; ``laplace`` is Eq. 6 from ``v`` at ``T``.
    ``diffusion`` defaults to the loss's constant ``D``. Landscape and steady-state grids are thinned to at
    most ``max_points`` points.
    """
    grid = evaluate_grid(loss, theta_range, points, diffusion)
    theta = grid.theta
    minima, edges = basin_edges(grid.u_train)
    vertices = np.array([parabola_vertex(theta, grid.u_train, i) for i in minima])
    location, u_minima, c_minima = vertices.T
    keep = thin(points, max_points)

    basin_rows, expectation_rows = [], []
    for temperature in np.asarray(temperatures, dtype=float):
        v = grid.potential(temperature)
        rho = steady_state(theta, v, temperature)
        laplace = laplace_weights(theta, v, temperature, edges)
        basin_rows.append(
            pd.DataFrame(
                {
                    "T": temperature,
                    "basin": np.arange(len(minima), dtype=np.int64),
                    "location": location,
                    "probability": basin_probabilities(theta, rho, edges),
                    "laplace": laplace,
                }
            )
        )
        expectation_rows.append(
            {
                "T": temperature,
                "expected_train": expectation(theta, rho, grid.u_train),
                "expected_test": expectation(theta, rho, grid.u_test),
                "expected_test_eq8": eq8_test_expectation(laplace, u_minima, c_minima, loss.shift),
            }
        )
    steady = [
        pd.DataFrame({"T": float(t), "theta": theta[keep], "rho": grid.density(float(t))[keep]})
        for t in plot_temperatures
    ]
    return {
        "landscape": pd.DataFrame({"theta": theta[keep], "u_train": grid.u_train[keep], "u_test": grid.u_test[keep]}),
        "steady_state": (
            pd.concat(steady, ignore_index=True)
            if steady
            else pd.DataFrame({"T": [], "theta": [], "rho": []}, dtype=float)
        ),
        "basins": pd.concat(basin_rows, ignore_index=True),
        "expectations": pd.DataFrame(expectation_rows),
    }
