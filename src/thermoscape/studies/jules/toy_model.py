"""Exponential-wall toy model of Jules et al. (Sec. IV, Fig. 4; supplementary S5 A).

One sample near the decision boundary contributes the softplus loss of Eq. 9-10 / S15,
``l_1D(theta) = log(1 + exp(a theta + b))``, approximated by ``B exp(a theta)`` with ``B = e^b``
(Eq. 10 / S16). A hard wall at ``theta = -theta_*`` (``theta_* > 0``) stands for the next sample point,
and the Boltzmann density is ``p(theta) ~ exp(-l / T)`` on ``[-theta_*, inf)`` (Eq. S17).

For the exponential loss everything follows from the partition function of Eq. S18,
``Z = -Ei(-c) / (a theta_0) = E1(c) / (a theta_0)`` with ``c = B e^(-a theta_*) / T``. Writing
``g(c) = e^c E1(c)``, the exact thermal averages (Eq. S8 and S1 applied to Eq. S18) are::

    mu      = -d log Z / d beta    = T / g
    sigma^2 =  d^2 log Z / d beta^2 = T^2 ((1 + c) g - 1) / g^2
    <l''>   = a^2 mu                          (l'' = a^2 l for l = B e^(a theta); Eq. S21)
    S       =  d(T log Z) / dT      = log Z + mu / T

With ``E1(c) = D + c + O(c^2)``, ``D = a theta_* - gamma + log(T/B) = -gamma - log c``, they reduce to
Eq. 11 / S20, S22 and S23 with relative errors O(c): the asymptotic forms need ``c << 1``
(``B e^(-a theta_*) << T``, as S5 says). ``T << 1`` is the separate condition for the exponential
loss to approximate the softplus (the moments then differ by a relative O(T)).

Paper slips (the code uses the corrected forms):

* Eq. S19 has the wrong overall sign: ``a theta_0 Z = E1(c) ~ -(log c + gamma) + c``, not
  ``log c + gamma - c`` (which is negative for ``c < e^-gamma``). The moments depend on ``log|Z|`` only.
* Eq. S20 labels its second line ``<l^2>``; it is the variance ``<l^2> - <l>^2``, as in Eq. 11.
* Eq. S21 integrates from ``-theta_0``; the lower limit is the wall ``-theta_*``.
* S14 says ``b > 0`` while Eq. 10 needs ``e^(a theta + b)`` small; only ``B e^(-a theta_*) << T`` matters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import integrate, stats
from scipy.special import exp1, expi, expit, hyperu

from thermoscape.core.seeds import derive_seed

Loss = Literal["exact", "exponential"]
Floats = float | np.ndarray

_E1_UNDERFLOW = 700.0  # above this c, e^c E1(c) comes from the Tricomi function U(1, 1, c)
_TAIL = 750.0  # quadrature stops where l - l(-theta_*) = _TAIL T (weights below e^-750)


# --------------------------------------------------------------------------------------------------
# The loss (Eq. 9-10, S15-S16)
# --------------------------------------------------------------------------------------------------


def loss_value(theta: ArrayLike, a: float, B: float, loss: Loss = "exact") -> Floats:
    """``l(theta)``: softplus ``log(1 + e^(a theta + b))`` with ``b = log B`` (Eq. 10 / S15, for
    ``loss='exact'``) or its approximation ``B e^(a theta)`` (Eq. 10 / S16, ``'exponential'``)."""
    x = a * np.asarray(theta, dtype=float) + np.log(B)
    if loss == "exact":
        return np.logaddexp(0.0, x)
    if loss == "exponential":
        return np.exp(x)
    raise ValueError(f"loss must be 'exact' or 'exponential', got {loss!r}")


def inverse_loss(value: ArrayLike, a: float, B: float, loss: Loss = "exact") -> Floats:
    """``theta`` with ``l(theta) = value > 0`` (``l`` is increasing): ``(log(e^value - 1) - b) / a``
    (exact, evaluated overflow-free) or ``log(value / B) / a`` (exponential)."""
    value = np.asarray(value, dtype=float)
    if loss == "exact":
        return (value + np.log(-np.expm1(-value)) - np.log(B)) / a
    if loss == "exponential":
        return np.log(value / B) / a
    raise ValueError(f"loss must be 'exact' or 'exponential', got {loss!r}")


def loss_gradient(theta: ArrayLike, a: float, B: float, loss: Loss = "exact") -> Floats:
    """``dl/dtheta``: ``a sigmoid(a theta + b)`` (exact) or ``a B e^(a theta)`` (exponential)."""
    if loss == "exact":
        return a * expit(a * np.asarray(theta, dtype=float) + np.log(B))
    return a * loss_value(theta, a, B, loss)


def loss_curvature(theta: ArrayLike, a: float, B: float, loss: Loss = "exact") -> Floats:
    """``d^2 l/dtheta^2``: ``a^2 s (1 - s)`` with ``s = sigmoid(a theta + b)``, or ``a^2 l`` (Eq. S21)."""
    if loss == "exact":
        x = a * np.asarray(theta, dtype=float) + np.log(B)
        return a**2 * expit(x) * expit(-x)
    return a**2 * loss_value(theta, a, B, loss)


# --------------------------------------------------------------------------------------------------
# Closed forms for the exponential loss (Eq. S17-S18 and their derivatives)
# --------------------------------------------------------------------------------------------------


def wall_parameter(T: ArrayLike, a: float, B: float, theta_star: float) -> Floats:
    """``c = beta B e^(-a theta_*)``: the loss at the wall in units of ``T`` (argument of Ei in Eq. S18)."""
    return B * np.exp(-a * theta_star) / np.asarray(T, dtype=float)


def _scaled_e1(c: ArrayLike) -> Floats:
    """``g(c) = e^c E1(c)`` for ``c > 0``; ``= U(1, 1, c)`` (Tricomi) where ``E1`` would underflow."""
    c = np.asarray(c, dtype=float)
    small = np.minimum(c, _E1_UNDERFLOW)
    return np.where(c <= _E1_UNDERFLOW, np.exp(small) * exp1(small), hyperu(1.0, 1.0, c))


def partition_function(T: ArrayLike, a: float, B: float, theta_star: float, theta0: float = 1.0) -> Floats:
    """Eq. S18: ``Z = -Ei(-c) / (a theta_0)``, the closed form of Eq. S17.

    ``Z = (1/theta_0) int_{-theta_*}^inf exp(-beta B e^(a theta)) dtheta``; ``u = beta B e^(a theta)``
    turns it into ``E1(c) / (a theta_0)``. Underflows to 0 for ``c > ~700``: use
    :func:`log_partition_function` there.
    """
    return -expi(-wall_parameter(T, a, B, theta_star)) / (a * theta0)


def log_partition_function(
    T: ArrayLike, a: float, B: float, theta_star: float, theta0: float = 1.0
) -> Floats:
    """``log Z`` of Eq. S18, ``log g(c) - c - log(a theta_0)``, finite for every ``c > 0``."""
    c = wall_parameter(T, a, B, theta_star)
    return np.log(_scaled_e1(c)) - c - np.log(a * theta0)


def mean_loss(T: ArrayLike, a: float, B: float, theta_star: float) -> Floats:
    """Exact ``mu = -d log Z / d beta = T e^(-c) / E1(c)`` (Eq. S8 applied to Eq. S18)."""
    return np.asarray(T, dtype=float) / _scaled_e1(wall_parameter(T, a, B, theta_star))


def loss_variance(T: ArrayLike, a: float, B: float, theta_star: float) -> Floats:
    """Exact ``sigma^2 = d^2 log Z / d beta^2 = T^2 ((1 + c) g - 1) / g^2``, ``g = e^c E1(c)`` (Eq. S8).

    Satisfies Eq. S1, ``sigma^2 = T^2 d mu / dT``. For ``c >> 1`` (outside the paper's regime) the
    difference ``(1 + c) g - 1 ~ 1/c^2`` loses about ``c^2 * 1e-16`` in relative precision.
    """
    c = wall_parameter(T, a, B, theta_star)
    g = _scaled_e1(c)
    return np.asarray(T, dtype=float) ** 2 * ((1.0 + c) * g - 1.0) / g**2


def mean_curvature(T: ArrayLike, a: float, B: float, theta_star: float) -> Floats:
    """Exact ``<l''> = a^2 mu`` (Eq. S21-S22), since ``l'' = a^2 l`` for the exponential loss."""
    return a**2 * mean_loss(T, a, B, theta_star)


def entropy(T: ArrayLike, a: float, B: float, theta_star: float, theta0: float = 1.0) -> Floats:
    """Exact ``S = d(T log Z)/dT = log Z + mu / T`` (the definition above Eq. S23)."""
    mu_over_T = mean_loss(T, a, B, theta_star) / np.asarray(T, dtype=float)
    return log_partition_function(T, a, B, theta_star, theta0) + mu_over_T


@dataclass(frozen=True)
class ToyMoments:
    """Thermal averages: mean loss, loss variance, mean curvature ``<l''>`` and entropy."""

    mean: Floats
    variance: Floats
    curvature: Floats
    entropy: Floats

    @property
    def std(self) -> Floats:
        """``sigma = sqrt(variance)``."""
        return np.sqrt(self.variance)


def closed_form_moments(
    T: ArrayLike, a: float, B: float, theta_star: float, theta0: float = 1.0
) -> ToyMoments:
    """Exact thermal averages of the exponential-wall model from Eq. S18 (any ``c > 0``)."""
    return ToyMoments(
        mean=mean_loss(T, a, B, theta_star),
        variance=loss_variance(T, a, B, theta_star),
        curvature=mean_curvature(T, a, B, theta_star),
        entropy=entropy(T, a, B, theta_star, theta0),
    )


# --------------------------------------------------------------------------------------------------
# Asymptotics (Eq. 11 / S20, S22-S24): c = B e^(-a theta_*) / T << 1
# --------------------------------------------------------------------------------------------------


def log_denominator(T: ArrayLike, a: float, B: float, theta_star: float) -> Floats:
    """``D = a theta_* - gamma + log(T / B) = -gamma - log c``, the denominator of Eq. 11 / S20."""
    return a * theta_star - np.euler_gamma + np.log(np.asarray(T, dtype=float) / B)


def asymptotic_moments(
    T: ArrayLike, a: float, B: float, theta_star: float, theta0: float = 1.0
) -> ToyMoments:
    """Eq. 11 (= S20, S22) and S23: ``mu ~ T/D``, ``sigma^2 ~ T^2 (D - 1)/D^2``, ``<l''> ~ a^2 T/D``,
    ``S ~ log(D / (a theta_0)) + 1/D``; relative errors O(c) against :func:`closed_form_moments`."""
    T = np.asarray(T, dtype=float)
    D = log_denominator(T, a, B, theta_star)
    return ToyMoments(
        mean=T / D,
        variance=T**2 * (D - 1.0) / D**2,
        curvature=a**2 * T / D,
        entropy=np.log(D / (a * theta0)) + 1.0 / D,
    )


def entropy_expanded(T: ArrayLike, a: float, B: float, theta_star: float, theta0: float = 1.0) -> Floats:
    """Eq. S24, ``S ~ (1 + log(T/B) - gamma) / (a theta_*) + log(theta_* / theta_0)``: Eq. S23 to first
    order in ``(log(T/B) - gamma) / (a theta_*)`` and ``1 / (a theta_*)``."""
    T = np.asarray(T, dtype=float)
    return (1.0 + np.log(T / B) - np.euler_gamma) / (a * theta_star) + np.log(theta_star / theta0)


# --------------------------------------------------------------------------------------------------
# Numerical quadrature of the Boltzmann density (Eq. S17), for either loss
# --------------------------------------------------------------------------------------------------


def _boltzmann_integral(
    f: Callable[[float], float] | None, T: float, a: float, B: float, theta_star: float, loss: Loss
) -> float:
    """``int_{-theta_*}^inf f w dtheta`` (``f = 1`` if None) with ``w = exp(-(l - l(-theta_*)) / T)``.

    The weight is taken relative to the wall so that it cannot underflow. The upper limit is where the
    loss has risen by ``750 T`` above the wall; breakpoints sit around ``theta_T``, where
    ``B e^(a theta_T) = T``: the density is flat below it and falls within a few ``1/a`` above.
    """
    wall = float(loss_value(-theta_star, a, B, loss))
    upper = float(inverse_loss(wall + _TAIL * T, a, B, loss))
    points = [p for p in np.log(T / B) / a + np.array([-3.0, 0.0, 2.0, 4.0]) / a if -theta_star < p < upper]

    def integrand(theta: float) -> float:
        w = float(np.exp(-(loss_value(theta, a, B, loss) - wall) / T))
        return w if f is None else f(theta) * w

    return integrate.quad(
        integrand, -theta_star, upper, points=points or None, epsabs=0.0, epsrel=1e-12, limit=200
    )[0]


def boltzmann_quadrature(
    T: float, a: float, B: float, theta_star: float, loss: Loss = "exact", theta0: float = 1.0
) -> ToyMoments:
    """Moments of ``p(theta) ~ exp(-l/T)`` on ``[-theta_*, inf)`` by numerical quadrature (Eq. S17).

    ``loss='exact'`` uses the softplus of Eq. 10, ``'exponential'`` its approximation (which must
    reproduce :func:`closed_form_moments`). The entropy is the Gibbs entropy ``-int p log(theta_0 p)
    = log Z + mu / T`` with ``Z = (1/theta_0) int exp(-l/T)`` of Eq. S17.
    """

    def ell(theta: float) -> float:
        return float(loss_value(theta, a, B, loss))

    norm = _boltzmann_integral(None, T, a, B, theta_star, loss)

    def average(f: Callable[[float], float]) -> float:
        return _boltzmann_integral(f, T, a, B, theta_star, loss) / norm

    mu = average(ell)
    variance = average(lambda t: (ell(t) - mu) ** 2)
    curvature = average(lambda t: float(loss_curvature(t, a, B, loss)))
    log_z = np.log(norm / theta0) - ell(-theta_star) / T
    return ToyMoments(mean=mu, variance=variance, curvature=curvature, entropy=float(log_z + mu / T))


def boltzmann_density(
    theta: ArrayLike, T: float, a: float, B: float, theta_star: float, loss: Loss = "exact"
) -> np.ndarray:
    """Normalised ``p(theta) = exp(-l/T) / int exp(-l/T)``, zero below the wall (the curves of Fig. 4)."""
    theta = np.asarray(theta, dtype=float)
    inside = np.maximum(theta, -theta_star)
    shifted = (loss_value(inside, a, B, loss) - loss_value(-theta_star, a, B, loss)) / T
    norm = _boltzmann_integral(None, T, a, B, theta_star, loss)
    return np.where(theta >= -theta_star, np.exp(-shifted) / norm, 0.0)


def boltzmann_cdf(
    theta: ArrayLike, T: float, a: float, B: float, theta_star: float, loss: Loss = "exact", n_grid: int = 20_001
) -> np.ndarray:
    """CDF of ``p(theta) ~ exp(-l/T)`` on ``[-theta_*, inf)``: :func:`cdf_exponential` for the
    exponential loss; for the softplus the cumulative Simpson integral of the density on ``n_grid``
    points from the wall to where ``l`` has risen by ``50 T`` (tail mass ``< e^-50``), interpolated
    linearly (absolute error ~1e-7 at the default grid)."""
    if loss == "exponential":
        return np.asarray(cdf_exponential(theta, T, a, B, theta_star), dtype=float)
    wall = float(loss_value(-theta_star, a, B, loss))
    upper = float(inverse_loss(wall + 50.0 * T, a, B, loss))
    grid = np.linspace(-theta_star, upper, n_grid)
    weight = np.exp(-(loss_value(grid, a, B, loss) - wall) / T)
    mass = integrate.cumulative_simpson(weight, x=grid, initial=0.0)
    return np.interp(np.asarray(theta, dtype=float), grid, mass / mass[-1], left=0.0, right=1.0)


def cdf_exponential(theta: ArrayLike, T: float, a: float, B: float, theta_star: float) -> Floats:
    """Closed-form CDF of the exponential wall, ``1 - E1(beta B e^(a theta)) / E1(c)`` (from Eq. S18)."""
    u = loss_value(np.maximum(np.asarray(theta, dtype=float), -theta_star), a, B, "exponential") / T
    c = wall_parameter(T, a, B, theta_star)
    return -np.expm1(np.log(_scaled_e1(u) / _scaled_e1(c)) - (u - c))


# --------------------------------------------------------------------------------------------------
# Fig. 4's quadratic approximation p_Q
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuadraticApproximation:
    """Second-order expansion of ``l`` at ``expansion_point`` (where ``l = mu(T)``) and its Gaussian ``p_Q``.

    ``l_Q = mu + l' d + k d^2 / 2`` (``d = theta - expansion_point``) gives ``p_Q ~ exp(-l_Q / T)``, a
    Gaussian of variance ``T / k`` centred at ``centre``.
    """

    T: float
    expansion_point: float
    stiffness: float  # k = l''(expansion_point)
    centre: float

    @property
    def std(self) -> float:
        return float(np.sqrt(self.T / self.stiffness))

    def pdf(self, theta: ArrayLike) -> np.ndarray:
        """``p_Q(theta)``, normalised on the whole real line (it ignores the wall)."""
        return stats.norm.pdf(theta, loc=self.centre, scale=self.std)


def quadratic_approximation(
    T: float, a: float, B: float, theta_star: float, loss: Loss = "exact", linear_term: bool = True
) -> QuadraticApproximation:
    """Fig. 4's ``p_Q``: expand ``l`` to second order at ``theta_0`` with ``l(theta_0) = mu(T)`` (Sec. IV).

    ``mu`` is the thermal mean of the chosen loss (closed form for ``'exponential'``, quadrature for
    ``'exact'``); ``l`` is increasing, so ``theta_0 = l^-1(mu)`` (:func:`inverse_loss`). With the
    linear term ``p_Q`` is centred at ``theta_0 - l'/k`` (``= theta_0 - 1/a`` for the exponential
    loss); the paper does not say whether it is kept, and ``linear_term=False`` centres it at ``theta_0``.
    """
    if loss == "exponential":
        mu = mean_loss(T, a, B, theta_star)
    else:
        mu = boltzmann_quadrature(T, a, B, theta_star, loss).mean
    theta_0 = float(inverse_loss(mu, a, B, loss))
    k = float(loss_curvature(theta_0, a, B, loss))
    shift = float(loss_gradient(theta_0, a, B, loss)) / k if linear_term else 0.0
    return QuadraticApproximation(
        T=T, expansion_point=float(theta_0), stiffness=k, centre=float(theta_0 - shift)
    )


# --------------------------------------------------------------------------------------------------
# 1-D Langevin dynamics (Eq. 7) with a reflecting wall
# --------------------------------------------------------------------------------------------------


def langevin_1d(
    T: float,
    a: float,
    B: float,
    theta_star: float,
    eta: float,
    n_steps: int,
    seed: int,
    n_walkers: int = 1000,
    record_every: int = 1,
    theta_init: float | None = None,
    loss: Loss = "exponential",
) -> np.ndarray:
    """Eq. 7 in 1-D for independent walkers, reflected at the wall: returns ``(n_steps // record_every,
    n_walkers)`` states, recorded after steps ``record_every, 2 record_every, ...``.

    ``theta <- theta - eta l'(theta) + sqrt(2 eta T) xi``, then ``theta -> -2 theta_* - theta`` wherever
    ``theta < -theta_*``. Walkers start at ``theta_init`` (default: where ``B e^(a theta) = T``, but not
    below the wall). Deterministic given ``seed`` (``numpy.random.default_rng``).
    """
    rng = np.random.default_rng(seed)
    start = max(np.log(T / B) / a, -theta_star) if theta_init is None else theta_init
    theta = np.full(n_walkers, float(start))
    noise = np.sqrt(2.0 * eta * T)
    records = np.empty((n_steps // record_every, n_walkers))
    for step in range(1, n_steps + 1):
        theta = theta - eta * loss_gradient(theta, a, B, loss) + noise * rng.standard_normal(n_walkers)
        theta = np.where(theta < -theta_star, -2.0 * theta_star - theta, theta)
        if step % record_every == 0:
            records[step // record_every - 1] = theta
    return records


# --------------------------------------------------------------------------------------------------
# Workflow tables (rule jules_toy_model): every method per temperature, and Fig. 4's curves
# --------------------------------------------------------------------------------------------------

LOSS_NAMES = {"exact": "softplus", "exponential": "exponential"}  # column suffixes of the quadratures
QUANTITIES = {"mu": "mean", "sigma": "std", "curvature": "curvature", "entropy": "entropy"}


@dataclass(frozen=True)
class LangevinSettings:
    """Eq. 7 for the toy model with times in units of ``1 / (a^2 T)``, the relaxation time at the wall
    (the curvature where ``l = T``): ``eta = time_step / (a^2 T)``. The noise per step,
    ``sqrt(2 eta T) = sqrt(2 time_step) / a``, and the steps per relaxation time are then the same at
    every temperature. Crossing the flat region (``~ D / a`` wide) takes ``~ D^2`` such units, so
    ``burn_in`` must exceed a few ``(a theta_* / pi)^2``.

    Where the wall itself is steeper (``c = l(-theta_*) / T > 1``, walkers pressed against it) the
    density varies over ``1 / (a c)`` and relaxes in ``1 / c^2`` units: each step is split into
    ``substeps = ceil(c^2)`` (the cost grows as ``c^2``; outside the paper's regime ``c << 1``)."""

    walkers: int = 2000
    time_step: float = 0.02
    burn_in: float = 300.0
    duration: float = 200.0
    record_interval: float = 1.0
    loss: Loss = "exact"

    @staticmethod
    def substeps(c: float) -> int:
        return max(1, int(np.ceil(c**2)))

    def eta(self, T: float, a: float, substeps: int = 1) -> float:
        return self.time_step / (a**2 * T * substeps)

    def record_every(self, substeps: int = 1) -> int:
        return substeps * max(1, round(self.record_interval / self.time_step))

    def burn_in_steps(self, substeps: int = 1) -> int:
        every = self.record_every(1)
        return substeps * every * round(self.burn_in / self.time_step / every)

    def n_steps(self, substeps: int = 1) -> int:
        records = max(1, round(self.duration / self.time_step / self.record_every(1)))
        return self.burn_in_steps(substeps) + records * self.record_every(substeps)


@dataclass(frozen=True)
class LangevinSample:
    """One temperature's walkers: ``steady`` holds the records after the burn-in, ``(records, walkers)``."""

    T: float
    eta: float
    n_steps: int
    seed: int
    steady: np.ndarray

    @property
    def final(self) -> np.ndarray:
        """The walkers' last positions: independent draws, the sample of the KS test."""
        return self.steady[-1]


def langevin_seed(base: int, T: float) -> int:
    """The seed of the toy model's run at ``T``: independent of the other temperatures of the grid."""
    return derive_seed(base, "toy_model", float(T))


def sample_langevin(
    T: float, a: float, B: float, theta_star: float, settings: LangevinSettings, seed: int
) -> LangevinSample:
    """Run :func:`langevin_1d` with ``settings`` and keep the steady-state records."""
    k = settings.substeps(float(loss_value(-theta_star, a, B, settings.loss)) / T)
    every, eta, n_steps = settings.record_every(k), settings.eta(T, a, k), settings.n_steps(k)
    records = langevin_1d(T, a, B, theta_star, eta, n_steps, seed, settings.walkers, every, loss=settings.loss)
    return LangevinSample(T=float(T), eta=eta, n_steps=n_steps, seed=seed,
                          steady=records[settings.burn_in_steps(k) // every :])


def langevin_statistics(sample: LangevinSample, a: float, B: float, theta_star: float, loss: Loss) -> dict:
    """Steady-state mean and std of ``l`` and mean of ``l''`` (time and walker averages) with standard
    errors from the scatter between walkers (which are independent; delta method for the variance),
    and the KS test of the walkers' final positions against :func:`boltzmann_cdf`."""
    n = sample.steady.shape[1]
    ell = loss_value(sample.steady, a, B, loss)
    per_walker = ell.mean(0)
    mean = float(ell.mean())
    second = (ell**2).mean(0)
    variance = float(second.mean() - mean**2)
    variance_se = float((second - 2.0 * mean * per_walker).std(ddof=1) / np.sqrt(n))
    curvature = loss_curvature(sample.steady, a, B, loss).mean(0)
    ks = stats.kstest(sample.final, lambda x: boltzmann_cdf(x, sample.T, a, B, theta_star, loss))
    sigma = float(np.sqrt(variance))
    return {
        "mu_langevin": mean,
        "mu_langevin_se": float(per_walker.std(ddof=1) / np.sqrt(n)),
        "sigma_langevin": sigma,
        "sigma_langevin_se": variance_se / (2.0 * sigma),
        "curvature_langevin": float(curvature.mean()),
        "curvature_langevin_se": float(curvature.std(ddof=1) / np.sqrt(n)),
        "ks_statistic": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
    }


def _columns(moments: ToyMoments, method: str) -> dict:
    return {f"{q}_{method}": float(np.asarray(getattr(moments, attr))) for q, attr in QUANTITIES.items()}


def _deviation(row: dict, method: str, reference: str, quantities=("mu", "sigma", "curvature")) -> float:
    """Largest relative deviation ``|x_method / x_reference - 1|``; inf where ``x_method`` is undefined."""
    ratios = [row[f"{q}_{method}"] / row[f"{q}_{reference}"] - 1.0 for q in quantities]
    return float(np.max(np.where(np.isfinite(ratios), np.abs(ratios), np.inf)))


def summary_table(
    temperatures: list[float],
    a: float,
    B: float,
    theta_star: float,
    theta0: float,
    samples: dict[float, LangevinSample],
    loss: Loss,
    max_wall_parameter: float,
    max_temperature: float,
) -> pd.DataFrame:
    """One row per temperature: the exact moments of Eq. S18 (``*_closed``), Eq. 11 / S20 / S22 / S23
    (``*_asymptotic``) and S24 (``entropy_s24``), quadrature of the Boltzmann density of the exponential
    and softplus losses (``*_quad_exponential``, ``*_quad_softplus``), and the 1-D Langevin run of
    ``loss`` (``*_langevin``, standard errors, KS test). ``dev_*`` are the largest relative deviations
    over mu, sigma and <l''> (``dev_closed_quadrature`` also over S); the asymptotic forms drop terms of
    relative order ``c + T`` (``asymptotic_order``); ``in_regime`` marks ``c`` and ``T`` below the
    given bounds (the paper's ``a theta_* >> 1, T << 1``, i.e. ``B e^(-a theta_*) << T << 1``)."""
    reference = f"quad_{LOSS_NAMES[loss]}"
    rows = []
    for T in temperatures:
        c = float(wall_parameter(T, a, B, theta_star))
        row = {"temperature": float(T), "wall_parameter": c,
               "log_denominator": float(log_denominator(T, a, B, theta_star))}
        row |= _columns(closed_form_moments(T, a, B, theta_star, theta0), "closed")
        with np.errstate(invalid="ignore"):  # sigma of Eq. 11 is undefined for D < 1 (far outside)
            row |= _columns(asymptotic_moments(T, a, B, theta_star, theta0), "asymptotic")
        row["entropy_s24"] = float(entropy_expanded(T, a, B, theta_star, theta0))
        for name, which in (("exponential", "exponential"), ("softplus", "exact")):
            row |= _columns(boltzmann_quadrature(T, a, B, theta_star, which, theta0), f"quad_{name}")
        sample = samples[float(T)]
        row |= langevin_statistics(sample, a, B, theta_star, loss)
        row |= {"langevin_loss": LOSS_NAMES[loss], "eta": sample.eta, "n_steps": sample.n_steps,
                "walkers": sample.steady.shape[1], "seed": sample.seed}
        row["dev_closed_quadrature"] = _deviation(
            row, "quad_exponential", "closed", ("mu", "sigma", "curvature", "entropy"))
        row["dev_asymptotic_closed"] = _deviation(row, "asymptotic", "closed")
        row["dev_asymptotic_softplus"] = _deviation(row, "asymptotic", "quad_softplus")
        row["asymptotic_order"] = c + float(T)
        row["in_regime"] = bool(c <= max_wall_parameter and T <= max_temperature)
        row["dev_langevin"] = _deviation(row, "langevin", reference)
        for q in ("mu", "sigma", "curvature"):
            row[f"z_{q}_langevin"] = (row[f"{q}_langevin"] - row[f"{q}_{reference}"]) / row[f"{q}_langevin_se"]
        rows.append(row)
    return pd.DataFrame(rows)


def figure_range(temperatures: list[float], a: float, B: float, theta_star: float,
                 quadratic: QuadraticApproximation) -> tuple[float, float]:
    """The theta range of Fig. 4: from just below the wall to beyond the highest temperature's drop
    (``theta_T + 6 / a``) and the Gaussian ``p_Q`` (``centre + 3 std``)."""
    upper = max(float(np.log(max(temperatures) / B) / a) + 6.0 / a, quadratic.centre + 3.0 * quadratic.std)
    return -theta_star - 0.05 * (upper + theta_star), upper


def density_table(
    temperatures: list[float],
    quadratic_temperature: float,
    a: float,
    B: float,
    theta_star: float,
    samples: dict[float, LangevinSample],
    loss: Loss,
    bins: int,
    linear_term: bool = True,
    n_grid: int = 1201,
) -> pd.DataFrame:
    """Fig. 4's curves in long form (columns ``curve, temperature, theta, value, bin_width``):

    * ``loss``, ``loss_exponential``: ``l_1D`` (Eq. 10) and ``B e^(a theta)``; ``loss_quadratic`` (at
      ``quadratic_temperature``): the second-order expansion at ``theta_0``, ``l(theta_0) = mu(T)``;
    * ``boltzmann``: ``p(theta) ~ e^(-l/T)`` of ``loss`` per temperature; ``quadratic``: its ``p_Q``;
    * ``langevin``: histogram of the steady-state Langevin records (``theta`` = bin centre);
    * ``mean_loss``: one row per temperature, ``value = mu(T)`` at ``theta = l^-1(mu)``.
    """
    quadratic = quadratic_approximation(quadratic_temperature, a, B, theta_star, loss, linear_term)
    lower, upper = figure_range(temperatures, a, B, theta_star, quadratic)
    wall = [np.nextafter(-theta_star, -np.inf), -theta_star]  # the density's jump, drawn vertical
    grid = np.union1d(np.linspace(lower, upper, n_grid), wall)
    frames = []

    def add(curve: str, T: float, theta, value, width=np.nan) -> None:
        theta = np.atleast_1d(np.asarray(theta, dtype=float))
        frames.append(pd.DataFrame({"curve": curve, "temperature": float(T), "theta": theta,
                                    "value": np.broadcast_to(np.asarray(value, dtype=float), theta.shape),
                                    "bin_width": width}))

    add("loss", np.nan, grid, loss_value(grid, a, B, "exact"))
    add("loss_exponential", np.nan, grid, loss_value(grid, a, B, "exponential"))
    mu_q = float(loss_value(quadratic.expansion_point, a, B, loss))
    offset = quadratic.expansion_point - quadratic.centre  # l_Q = mu + l' d + k d^2 / 2, d = theta - theta_0
    add("loss_quadratic", quadratic_temperature, grid,
        mu_q + quadratic.stiffness * ((grid - quadratic.centre) ** 2 - offset**2) / 2.0)
    add("quadratic", quadratic_temperature, grid, quadratic.pdf(grid))
    edges = np.linspace(-theta_star, upper, bins + 1)
    for T in sorted(set(map(float, temperatures)) | {float(quadratic_temperature)}):
        mu = boltzmann_quadrature(T, a, B, theta_star, loss).mean
        add("mean_loss", T, inverse_loss(mu, a, B, loss), mu)
        if T not in map(float, temperatures):
            continue
        add("boltzmann", T, grid, boltzmann_density(grid, T, a, B, theta_star, loss))
        records = samples[T].steady.ravel()
        counts, _ = np.histogram(records, bins=edges)
        add("langevin", T, (edges[1:] + edges[:-1]) / 2, counts / (records.size * np.diff(edges)), np.diff(edges))
    return pd.concat(frames, ignore_index=True)
