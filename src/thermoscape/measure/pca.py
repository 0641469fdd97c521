"""PCA of an SGD weight trajectory and the motion along its modes (Feng & Tu, Eq. 5, Fig. 1; brief 3.1, 3.7).

Snapshots ``w(t)`` of one weight matrix, taken once per SGD iteration over a window of ``T`` steps and
flattened to rows of an ``(n_snap, n)`` array, are decomposed as in Eq. 5,

    ``w(t) = <w>_T + sum_i theta_i(t) p_i``,   ``p_i . p_j = delta_ij``,   ``sigma_i^2 = <theta_i^2>_T``,

with ``sigma_i^2`` in descending order. From that decomposition this module gives

* the spectrum statistics of Fig. 1A-B: the cumulative variance ``C(n)`` of modes ``2..n`` excluding the
  drift mode, ``n_90``, and the exponent ``gamma`` of ``sigma_i^2 ~ i^-gamma`` (paper: 2.6 for
  ``20 < i < 200``);
* the drift/diffusion diagnostics of Figs. 1C-D (brief 3.7): the velocity autocorrelation
  ``C_i(tau) = <v_i(t) v_i(t + tau)> / <v_i^2>``, its persistence time, and the mean squared displacement
  with its log-log exponent (about 2 for the ballistic drift mode ``i = 1``, about 1 for diffusive modes);
* ``random_walk``, the isotropic random walk of control C2 (Antognini & Sohl-Dickstein 2018), whose PCA
  gives ``sigma_i^2 ~ i^-2`` and a first mode explaining ``6 / pi^2 ~ 61%`` of the variance.

Small pure functions over numpy arrays; everything is computed in float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from thermoscape.measure.stats import autocorrelation, fit_power_law


@dataclass(frozen=True)
class WeightPCA:
    """The decomposition of Eq. 5 of a window of weight snapshots.

    * ``mean``: ``(n,)``, the time average ``<w>_T``.
    * ``variances``: ``(r,)``, ``sigma_i^2`` in descending order, ``r = min(n_snap - 1, n)`` (centring
      removes one dimension). Population variances (divided by ``n_snap``), so
      ``variances[i] == mean(theta[:, i] ** 2)``. Always the full spectrum, also when the components are
      truncated, because ``C(n)`` and ``gamma`` need it.
    * ``directions``: ``(k, n)``, rows are the unit vectors ``p_1..p_k`` (``k = r`` unless truncated).
    * ``theta``: ``(n_snap, k)``, the projections ``theta_i(t) = (w(t) - <w>_T) . p_i``.

    Signs (PCA leaves them free): every ``p_i`` is oriented so that ``theta_i`` has a non-negative
    covariance with time, ``sum_t (t - tbar) theta_i(t) >= 0``. For ``p_1`` this is the brief's rule that
    the drift coordinate ``theta_1`` increases over the window. An exact tie (zero covariance) is broken by
    making the largest-magnitude component of ``p_i`` positive.
    """

    mean: np.ndarray
    variances: np.ndarray
    directions: np.ndarray
    theta: np.ndarray


def principal_components(snapshots: np.ndarray, n_components: int | None = None) -> WeightPCA:
    """PCA of Eq. 5 of an ``(n_snap, n)`` array of flattened weight snapshots, one row per SGD step.

    Uses the thin SVD of the centred snapshot matrix, ``S_c = U diag(s) V^T``: ``sigma_i^2 = s_i^2 / n_snap``,
    ``p_i`` the rows of ``V^T`` and ``theta_i = U_i s_i``. That is exact (it never squares the condition
    number, unlike ``eigh`` of the covariance) and costs ``O(n_snap n min(n_snap, n))``, which is cheaper
    than a ``2500 x 2500`` ``eigh`` when ``n_snap < n`` and comparable otherwise.

    ``n_components`` keeps only the first ``k`` directions and projections (``variances`` stays complete).
    See :class:`WeightPCA` for the sign convention.
    """
    s = np.asarray(snapshots, dtype=np.float64)
    if s.ndim != 2:
        raise ValueError(f"snapshots must be a 2-D (n_snap, n) array, got shape {s.shape}")
    n_snap, n = s.shape
    if n_snap < 2 or n < 1:
        raise ValueError(f"PCA needs at least 2 snapshots of at least 1 weight, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("snapshots contain non-finite values")
    r = min(n_snap - 1, n)
    k = r if n_components is None else int(n_components)
    if not 1 <= k <= r:
        raise ValueError(f"n_components must lie in [1, {r}] (min(n_snap - 1, n)), got {n_components}")

    mean = s.mean(axis=0)
    centred = s - mean
    u, sv, vt = np.linalg.svd(centred, full_matrices=False)
    variances = sv[:r] ** 2 / n_snap
    directions = vt[:k].copy()
    theta = u[:, :k] * sv[:k]

    t = np.arange(n_snap, dtype=np.float64)
    trend = (t - t.mean()) @ theta
    biggest = directions[np.arange(k), np.argmax(np.abs(directions), axis=1)]
    flip = (trend < 0) | ((trend == 0) & (biggest < 0))
    sign = np.where(flip, -1.0, 1.0)
    return WeightPCA(
        mean=mean, variances=variances, directions=directions * sign[:, None], theta=theta * sign
    )


def _spectrum(variances: np.ndarray) -> np.ndarray:
    v = np.asarray(variances, dtype=np.float64)
    if v.ndim != 1 or v.size == 0:
        raise ValueError("variances must be a non-empty 1-D array")
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("variances must be finite and non-negative")
    if np.any(np.diff(v) > 0):
        raise ValueError("variances must be sorted in descending order (rank i = position + 1)")
    return v


def cumulative_variance(variances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(n, C)`` of Fig. 1B: ``C(n) = sum_{i=2}^{n} sigma_i^2 / sum_{i=2}^{N} sigma_i^2`` for ``n = 2..N``.

    The normalised cumulative variance of the top ``n - 1`` modes "excluding i = 1" (the drift mode).
    ``n`` holds the 1-based ranks ``2..N`` and ``C[k]`` is ``C(n[k])``, so ``C[-1] == 1``. ``variances`` must be
    descending; needs ``N >= 2`` and a positive variance beyond the first mode.
    """
    v = _spectrum(variances)
    if v.size < 2:
        raise ValueError("cumulative_variance needs at least 2 variances (mode 1 is excluded)")
    partial = np.cumsum(v[1:])
    if partial[-1] <= 0:
        raise ValueError("cumulative_variance: all variances beyond the first are zero")
    return np.arange(2, v.size + 1), partial / partial[-1]


def n_fraction(variances: np.ndarray, fraction: float = 0.9) -> int:
    """Smallest rank ``n`` with ``C(n) >= fraction`` (Fig. 1B; the paper's ``n_90 = 35`` at 0.9)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    n, c = cumulative_variance(variances)
    return int(n[np.argmax(c >= fraction)])


def spectrum_exponent(variances: np.ndarray, low: int = 20, high: int = 200) -> tuple[float, float]:
    """``(gamma, stderr)`` of ``sigma_i^2 ~ i^-gamma`` (Fig. 1A; paper: ``gamma ~ 2.6``).

    Ordinary least squares of ``log sigma_i^2`` on ``log i`` over the 1-based ranks ``low < i < high``
    (strict, brief 3.3) that exist. Needs at least 3 such ranks, all with positive variance.
    """
    v = _spectrum(variances)
    rank = np.arange(1, v.size + 1)
    keep = (rank > low) & (rank < high)
    if keep.sum() < 3:
        raise ValueError(f"spectrum_exponent needs >= 3 ranks in ({low}, {high}); {v.size} variances given")
    if np.any(v[keep] <= 0):
        raise ValueError(f"spectrum_exponent: zero variances among the ranks in ({low}, {high})")
    _, slope, stderr = fit_power_law(rank[keep], v[keep])
    return -slope, stderr


def _series(theta_i: np.ndarray, min_size: int) -> np.ndarray:
    x = np.asarray(theta_i, dtype=np.float64)
    if x.ndim != 1 or x.size < min_size:
        raise ValueError(
            f"expected a 1-D series theta_i(t) of at least {min_size} values, got shape {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("theta_i contains non-finite values")
    return x


def velocity_autocorrelation(theta_i: np.ndarray, max_lag: int, centred: bool = False) -> np.ndarray:
    """``C_i(tau)`` for ``tau = 0..max_lag`` of the velocity ``v(t) = theta_i(t + 1) - theta_i(t)`` (brief 3.7).

    Default: the brief's raw ``C_i(tau) = <v(t) v(t + tau)> / <v^2>`` (each lag averaged over its pairs,
    FFT-computed), which keeps a drift: a constant speed ``v_bar`` plus white noise of variance ``s^2``
    gives the plateau ``v_bar^2 / (v_bar^2 + s^2)`` at every lag ``>= 1``. ``centred=True`` subtracts the mean
    velocity first (:func:`thermoscape.measure.stats.autocorrelation`), leaving only the correlation of the
    velocity fluctuations. ``C_i(0) = 1`` either way.
    """
    v = np.diff(_series(theta_i, 3))
    max_lag = int(max_lag)
    if not 0 <= max_lag < v.size:
        raise ValueError(f"max_lag must lie in [0, {v.size - 1}] (len(theta_i) - 2), got {max_lag}")
    if centred:
        return autocorrelation(v, max_lag)
    if not np.any(v):
        raise ValueError("velocity autocorrelation of a constant series is undefined (zero speed)")
    n = v.size
    f = np.fft.rfft(v, n=2 * n)  # zero padding to 2n makes the circular correlation linear
    acov = np.fft.irfft(f * np.conj(f), n=2 * n)[: max_lag + 1] / (n - np.arange(max_lag + 1))
    return acov / acov[0]


def persistence_time(chi: np.ndarray, level: float = 1 / math.e) -> float:
    """First lag (in steps) at which the autocorrelation ``chi`` falls below ``level`` (default ``1/e``).

    Linearly interpolated between the bracketing integer lags, so ``chi = exp(-lag / tau)`` gives ``~tau``;
    ``nan`` if ``chi`` never falls below ``level``.
    """
    chi = np.asarray(chi, dtype=np.float64)
    if chi.ndim != 1 or chi.size == 0:
        raise ValueError("chi must be a non-empty 1-D array")
    below = np.flatnonzero(chi < level)
    if below.size == 0:
        return float("nan")
    j = int(below[0])
    if j == 0:
        return 0.0
    return float((j - 1) + (chi[j - 1] - level) / (chi[j - 1] - chi[j]))


def _lags(lags: np.ndarray, size: int) -> np.ndarray:
    tau = np.asarray(lags)
    if tau.ndim != 1 or tau.size == 0:
        raise ValueError("lags must be a non-empty 1-D array of integers")
    if not np.all(tau == np.round(tau)):
        raise ValueError("lags must be integers (in SGD steps)")
    tau = tau.astype(np.int64)
    if np.any(tau < 1) or np.any(tau >= size):
        raise ValueError(f"lags must lie in [1, {size - 1}] (len(theta_i) - 1)")
    return tau


def mean_squared_displacement(theta_i: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """``MSD(tau) = <(theta_i(t + tau) - theta_i(t))^2>_t`` for each integer lag (brief 3.7, Figs. 1C-D).

    Averaged over all ``len(theta_i) - tau`` start times; ``~ v^2 tau^2`` for a drift, ``~ 2 D tau`` for a
    diffusing mode.
    """
    x = _series(theta_i, 2)
    tau = _lags(lags, x.size)
    return np.array([np.mean((x[t:] - x[:-t]) ** 2) for t in tau])


def msd_exponent(theta_i: np.ndarray, lags: np.ndarray) -> float:
    """Log-log slope of :func:`mean_squared_displacement` against the lag: ~2 ballistic, ~1 diffusive.

    Needs at least 2 distinct lags and a positive MSD at each.
    """
    tau = _lags(lags, _series(theta_i, 2).size)
    if np.unique(tau).size < 2:
        raise ValueError("msd_exponent needs at least 2 distinct lags")
    msd = mean_squared_displacement(theta_i, tau)
    if np.any(msd <= 0):
        raise ValueError("msd_exponent: zero mean squared displacement at some lag (constant series?)")
    return fit_power_law(tau, msd)[1]


def random_walk(n_steps: int, dim: int, seed: int) -> np.ndarray:
    """``(n_steps, dim)`` isotropic Gaussian random walk ``w(t) = sum_{s <= t} xi_s``, ``xi_s ~ N(0, I)``.

    Control C2 of the brief: its PCA gives cosine-like ``theta_i(t)``, ``sigma_i^2 ~ i^-2`` and a first
    mode with ``6 / pi^2`` of the variance (Antognini & Sohl-Dickstein 2018), a baseline for the SGD spectrum
    and drift. Drawn with ``numpy.random.default_rng(seed)``.
    """
    if n_steps < 1 or dim < 1:
        raise ValueError(f"random_walk needs n_steps >= 1 and dim >= 1, got {n_steps}, {dim}")
    return np.cumsum(np.random.default_rng(seed).standard_normal((n_steps, dim)), axis=0)
