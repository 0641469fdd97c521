"""Fluctuation statistics of loss time series (Jules et al., Eqs. 2-4, 8, S1-S2).

Small pure functions over numpy arrays: the gamma fit of the loss distribution (Eq. 2), the
autocorrelation and its times (Eq. 4), error bars of means of correlated series, the sparsity
(Eq. 8), the proportional and power-law fits behind Fig. 1c / Fig. S1b / Fig. 2b, and a drift
check across analysis slices (brief section 7).
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def gamma_mle(samples: np.ndarray) -> tuple[float, float]:
    """Maximum-likelihood ``(alpha, beta)`` of the gamma density of Eq. 2 (location fixed at 0).

    ``P(L) = beta^alpha L^(alpha-1) exp(-beta L) / Gamma(alpha)``; ``N_c = 2 alpha`` and equilibrium
    predicts ``beta T = 1``. Raises ``ValueError`` unless there are at least 2 finite, positive,
    not all equal samples.
    """
    x = np.asarray(samples, dtype=float).ravel()
    if x.size < 2:
        raise ValueError(f"gamma_mle needs at least 2 samples, got {x.size}")
    if not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise ValueError("gamma_mle needs finite, strictly positive samples (the gamma support is L > 0)")
    if np.ptp(x) == 0:
        raise ValueError("gamma_mle: all samples are equal, the MLE of alpha diverges")
    alpha, _, scale = stats.gamma.fit(x, floc=0)
    return float(alpha), float(1.0 / scale)


def autocorrelation(x: np.ndarray, max_lag: int | None = None) -> np.ndarray:
    """Normalised autocorrelation ``chi_g(lag)`` of Eq. 4 for ``lag = 0..max_lag``.

    ``chi(lag) = mean_t[(x_t - mu)(x_{t+lag} - mu)] / var(x)``, each lag averaged over its ``N - lag``
    pairs and ``var`` the population variance, so ``chi(0) = 1``. Computed with a zero-padded FFT.
    ``max_lag`` defaults to ``len(x) - 1``. Raises ``ValueError`` for a constant series.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size < 2:
        raise ValueError("autocorrelation needs a 1-D series of at least 2 values")
    if np.ptp(x) == 0:
        raise ValueError("autocorrelation of a constant series is undefined (zero variance)")
    n = x.size
    max_lag = n - 1 if max_lag is None else int(max_lag)
    if not 0 <= max_lag < n:
        raise ValueError(f"max_lag must lie in [0, {n - 1}], got {max_lag}")
    dx = x - x.mean()
    f = np.fft.rfft(dx, n=2 * n)  # padding to 2n makes the circular correlation linear
    acov = np.fft.irfft(f * np.conj(f), n=2 * n)[: max_lag + 1] / (n - np.arange(max_lag + 1))
    return acov / acov[0]


def half_time(chi: np.ndarray, dt: float) -> float:
    """Correlation half-time ``tau_1/2`` (Sec. III B, Fig. 2b): first lag where ``chi`` reaches 1/2.

    Linearly interpolated between the bracketing lags and returned in time units (``lag * dt``);
    ``nan`` if ``chi`` never drops to 1/2.
    """
    chi = np.asarray(chi, dtype=float)
    below = np.flatnonzero(chi <= 0.5)
    if below.size == 0:
        return float("nan")
    i = int(below[0])
    if i == 0:
        return 0.0
    lag = (i - 1) + (chi[i - 1] - 0.5) / (chi[i - 1] - chi[i])
    return float(lag * dt)


def integrated_time(chi: np.ndarray, dt: float) -> float:
    """Integrated autocorrelation time ``tau_int = dt * (1/2 + sum_{lag >= 1} chi(lag))``.

    The sum stops before the first lag where ``chi < 0`` (a simple self-consistent window). For
    ``chi = exp(-t/tau)`` and ``dt << tau`` this gives ``tau_int ~ tau``; the variance of a mean over
    a window of duration ``N dt`` is ``sigma^2 * 2 tau_int / (N dt)``.
    """
    chi = np.asarray(chi, dtype=float)
    negative = np.flatnonzero(chi[1:] < 0)
    stop = 1 + int(negative[0]) if negative.size else chi.size
    return float(dt * (0.5 + chi[1:stop].sum()))


def mean_error(x: np.ndarray, dt: float) -> float:
    """Standard error of the mean of a correlated series: ``sigma * sqrt(2 tau_int / (N dt))``.

    ``tau_int`` from :func:`integrated_time` of the series' own autocorrelation (Eq. 4); floored at
    the independent-sample value ``sigma / sqrt(N)``. Raises ``ValueError`` for a constant series.
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    sigma = float(np.std(x, ddof=1)) if n > 1 else float("nan")
    tau = integrated_time(autocorrelation(x), dt)
    return max(sigma * np.sqrt(2.0 * tau / (n * dt)), sigma / np.sqrt(n))


def sparsity(per_sample_losses: np.ndarray) -> np.ndarray:
    """Sparsity ``phi = (sum_i l_i)^2 / sum_i l_i^2`` of Eq. 8, over the last axis.

    A ``(snapshots, samples)`` array gives one ``phi`` per snapshot; ``k`` equal nonzero losses give
    ``phi = k``. All-zero losses give ``nan``.
    """
    losses = np.asarray(per_sample_losses, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(losses.sum(axis=-1) ** 2 / (losses**2).sum(axis=-1))


def _positive_logs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape or x.size == 0:
        raise ValueError("x and y must be non-empty and of the same length")
    if not (np.all(x > 0) and np.all(y > 0) and np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("log-space fits need finite, strictly positive x and y")
    return np.log(x), np.log(y)


def fit_proportional(x: np.ndarray, y: np.ndarray) -> float:
    """Slope ``C`` of ``y = C x`` through the origin, e.g. ``mu_L = C_h T`` (Eq. 3, Fig. 1c).

    The data span decades of ``T``, so the fit is least squares in log space,
    ``log y = log C + log x``, i.e. ``C = exp(mean(log y - log x))``: every point weighs equally
    in relative terms instead of the largest ``T`` dominating.
    """
    lx, ly = _positive_logs(x, y)
    return float(np.exp(np.mean(ly - lx)))


def fit_power_law(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """``(A, a, stderr_a)`` of ``y = A x^a`` by linear regression of ``log y`` on ``log x``.

    Used for ``mu_L = A T^a`` with Eq. S2 (Fig. S1b) and for log-log slope checks such as
    ``tau_1/2 ~ T^-1`` (Fig. 2b). Needs at least 2 points with distinct ``x``.
    """
    lx, ly = _positive_logs(x, y)
    res = stats.linregress(lx, ly)
    return float(np.exp(res.intercept)), float(res.slope), float(res.stderr)


def drift_flag(
    times: np.ndarray, means: np.ndarray, errors: np.ndarray, n_sigma: float = 3.0
) -> tuple[float, float, bool]:
    """Trend of per-slice means across a run (brief section 7: statistics drift over long runs).

    Weighted (``1/error^2``) straight-line fit of ``means`` against slice mid-``times``, with the
    slope error from the given errors alone. Returns ``(slope, slope_error, flagged)``, flagged when
    ``|slope| > n_sigma * slope_error``; ``(nan, nan, False)`` with fewer than 2 slices.
    """
    t, m, e = (np.asarray(a, dtype=float).ravel() for a in (times, means, errors))
    if not t.shape == m.shape == e.shape:
        raise ValueError("times, means and errors must have the same length")
    if t.size < 2:
        return float("nan"), float("nan"), False
    if not np.all(e > 0):
        raise ValueError("drift_flag needs strictly positive errors")
    coef, cov = np.polyfit(t, m, 1, w=1.0 / e, cov="unscaled")
    slope, slope_error = float(coef[0]), float(np.sqrt(cov[0, 0]))
    return slope, slope_error, bool(abs(slope) > n_sigma * slope_error)


def variance_flatness_exponent(
    variances: np.ndarray, widths: np.ndarray
) -> tuple[float, float, float, int]:
    """``(psi, stderr, spearman_rho, n)`` of Feng & Tu's inverse variance-flatness relation (their Eq. 8),
    ``sigma_i^2 ~ F_i^-psi``. Here, without torch, so that tables and figures need no torch import.

    ``psi`` is minus the OLS slope of ``log sigma_i^2`` on ``log F_i`` and ``spearman_rho`` the rank correlation
    of ``sigma_i^2`` with ``F_i`` (``scipy.stats.spearmanr``; paper: ``psi ~ 4``, so ``rho`` near ``-1``). Only
    pairs with both values finite and positive are used (an ``inf`` width, from a direction that never
    crosses, drops out); ``n`` is their number, at least 3.
    """
    v = np.asarray(variances, dtype=float)
    f = np.asarray(widths, dtype=float)
    if v.shape != f.shape:
        raise ValueError(f"variances and widths must have the same length, got {v.size} and {f.size}")
    keep = np.isfinite(v) & np.isfinite(f) & (v > 0) & (f > 0)
    n = int(keep.sum())
    if n < 3:
        raise ValueError(f"variance_flatness_exponent needs >= 3 finite positive (sigma^2, F) pairs, got {n}")
    _, slope, stderr = fit_power_law(f[keep], v[keep])
    rho = float(stats.spearmanr(v[keep], f[keep]).statistic)
    return -slope, stderr, rho, n
