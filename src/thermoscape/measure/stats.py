"""Fluctuation statistics of loss time series (Jules et al., Eqs. 2-4, 8, S1-S2).

Small pure functions over numpy arrays: the gamma fit of the loss distribution (Eq. 2), the
autocorrelation and its times (Eq. 4), error bars of means of correlated series, the sparsity
(Eq. 8), the proportional and power-law fits behind Fig. 1c / Fig. S1b / Fig. 2b, a drift
check across analysis slices (brief section 7), MCMC diagnostics across replicas (R-hat, bulk ESS;
ArviZ), a block bootstrap of correlated series and Monte Carlo error propagation.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import special, stats


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


# --- MCMC diagnostics across replicas (ArviZ) ---


def _arviz():
    """ArviZ, imported on first use (about 2 s, which most users of this module never need), with the
    FutureWarning it may emit about its coming 1.0 API silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz
    return arviz


def _chain_array(chains: np.ndarray, min_chains: int = 1) -> np.ndarray:
    draws = np.asarray(chains, dtype=float)
    if draws.ndim != 2 or draws.shape[0] < min_chains or draws.shape[1] < 4:
        raise ValueError(f"chains must be a (chain, draw) array with at least {min_chains} chain(s) of 4 draws, "
                         f"got shape {draws.shape}")
    if not np.all(np.isfinite(draws)):
        raise ValueError("chains must be finite")
    return draws


def split_rhat(chains: np.ndarray) -> float:
    """Rank-normalised split R-hat (Vehtari et al. 2021) of a ``(chain, draw)`` array of one quantity,
    ``arviz.rhat(chains, method="rank")``.

    Near 1 when every chain samples the same distribution; above ~1.01 (strict) or 1.1 (lenient) when
    the chains disagree or trend: here replicas that sit in minima of different depth, or still drift
    (brief section 7). Each chain is split in halves, so a trend within a chain shows too. Needs at least
    2 chains (ArviZ's rule).
    """
    return float(_arviz().rhat(_chain_array(chains, min_chains=2), method="rank"))


def bulk_ess(chains: np.ndarray) -> float:
    """Bulk effective sample size of a ``(chain, draw)`` array over all its chains,
    ``arviz.ess(chains, method="bulk")`` (rank-normalised, Vehtari et al. 2021).

    For a stationary AR(1) series of ``N`` draws with coefficient ``rho`` it is about
    ``N (1 - rho) / (1 + rho)``, i.e. ``N dt / (2 tau_int)`` with ``tau_int`` of :func:`integrated_time`.
    """
    return float(_arviz().ess(_chain_array(chains), method="bulk"))


# --- block bootstrap of correlated series and error propagation ---


def block_starts(
    n: int, block_length: int, n_resamples: int, rng: np.random.Generator, overlapping: bool = True
) -> np.ndarray:
    """Start indices ``(n_resamples, n // block_length)`` of the blocks of a block bootstrap.

    Moving blocks (Kuensch 1989; ``overlapping``) may start anywhere in ``[0, n - block_length]``;
    non-overlapping blocks (Carlstein 1986) only at multiples of ``block_length``. Each resample
    concatenates ``n // block_length`` blocks drawn with replacement, so correlations shorter than a block
    survive the resampling.
    """
    if not 1 <= block_length <= n:
        raise ValueError(f"block_length must lie in [1, {n}], got {block_length}")
    n_blocks = n // block_length
    if overlapping:
        return rng.integers(0, n - block_length + 1, size=(n_resamples, n_blocks))
    return block_length * rng.integers(0, n_blocks, size=(n_resamples, n_blocks))


def block_bootstrap(
    x: np.ndarray, statistic, block_length: int, n_resamples: int, rng: np.random.Generator,
    overlapping: bool = True,
) -> np.ndarray:
    """Replicates ``statistic(resample)`` of a block bootstrap of the series ``x`` (first axis is time);
    blocks as in :func:`block_starts`. General but one call per replicate: for means, use
    :func:`block_bootstrap_means`, which gives the same replicates for the same ``rng`` state."""
    x = np.asarray(x, dtype=float)
    starts = block_starts(len(x), block_length, n_resamples, rng, overlapping)
    indices = (starts[:, :, None] + np.arange(block_length)).reshape(n_resamples, -1)
    return np.array([statistic(x[i]) for i in indices])


def block_bootstrap_means(
    x: np.ndarray, block_length: int, n_resamples: int, rng: np.random.Generator, overlapping: bool = True
) -> np.ndarray:
    """Block-bootstrap replicates of the mean of the series ``x`` (``(n,)`` or ``(n, k)``, time first):
    ``(n_resamples,)`` or ``(n_resamples, k)``.

    A replicate is the mean of its blocks' sums, taken from cumulative sums: ``O(n + n_resamples x n_blocks)``
    instead of resampling the series. Statistics that are functions of means (variance from the means of
    ``x`` and ``x^2``, the gamma fit from the means of ``L`` and ``ln L``) follow replicate by replicate.
    """
    x = np.asarray(x, dtype=float)
    starts = block_starts(len(x), block_length, n_resamples, rng, overlapping)
    cumulative = np.concatenate([np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)])
    block_sums = cumulative[starts + block_length] - cumulative[starts]
    return block_sums.sum(axis=1) / (starts.shape[1] * block_length)


def gamma_mle_from_means(mean: np.ndarray, mean_log: np.ndarray, iterations: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """``(alpha, beta)`` of the maximum-likelihood gamma fit (Eq. 2) from its sufficient statistics, the means
    of ``L`` and ``ln L``; vectorised, for bootstrap replicates.

    ``alpha`` solves ``ln alpha - psi(alpha) = ln mean - mean_log`` (the equation ``scipy.stats.gamma.fit``
    solves with ``floc=0``), by Minka's (2002) generalised Newton iteration from his closed-form start;
    ``beta = alpha / mean``.
    """
    mean, mean_log = np.asarray(mean, dtype=float), np.asarray(mean_log, dtype=float)
    s = np.log(mean) - mean_log  # > 0 by Jensen unless the samples are all equal
    alpha = (3 - s + np.sqrt((s - 3) ** 2 + 24 * s)) / (12 * s)
    for _ in range(iterations):
        step = (mean_log - np.log(mean) + np.log(alpha) - special.digamma(alpha)) / (
            alpha**2 * (1 / alpha - special.polygamma(1, alpha))
        )
        alpha = 1 / (1 / alpha + step)
    return alpha, alpha / mean


def propagate_relative_errors(
    function, values: list[np.ndarray], errors: list[np.ndarray], rng: np.random.Generator, n_draws: int = 500
) -> float:
    """Standard deviation of ``function(*draws)`` when each positive value is redrawn log-normally with its
    relative error ``error / value`` (Monte Carlo error propagation through medians, fits and ranks).

    Log-normal because every quantity propagated here (``mu_L``, ``sigma_L``, ``beta T``, ``N_c``, ``phi``)
    is positive and spans decades. ``nan`` when any error is missing, not finite or zero (a zero spread of
    identical replicas is no error bar): the caller says why.
    """
    values = [np.asarray(v, dtype=float) for v in values]
    relative = [np.asarray(e, dtype=float) / v for v, e in zip(values, errors)]
    if not all(np.all(np.isfinite(r)) and np.all(r > 0) for r in relative):
        return float("nan")
    draws = [v * np.exp(r * rng.standard_normal((n_draws,) + v.shape)) for v, r in zip(values, relative)]
    results = np.array([function(*sample) for sample in zip(*draws)], dtype=float)
    return float(np.std(results, ddof=1))


def power_law_slope_error(x: np.ndarray, y: np.ndarray, y_error: np.ndarray) -> float:
    """Standard error of the log-log slope of ``y = A x^a`` propagated from the points' own errors:
    weighted least squares of ``ln y`` on ``ln x`` with ``sigma_i = y_error_i / y_i``,
    ``var(a) = 1 / sum_i w_i (ln x_i - <ln x>_w)^2``. Unlike the residual-based error of
    :func:`fit_power_law`, it exists for two points; ``nan`` if an error is missing or zero (identical
    replicas say nothing about the error)."""
    lx, _ = _positive_logs(x, y)
    y_error = np.asarray(y_error, dtype=float).ravel()
    if not (np.all(np.isfinite(y_error)) and np.all(y_error > 0)) or np.ptp(lx) == 0:
        return float("nan")
    weights = (np.asarray(y, dtype=float).ravel() / y_error) ** 2
    centred = lx - np.average(lx, weights=weights)
    return float(1 / np.sqrt(np.sum(weights * centred**2)))
