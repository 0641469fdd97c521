"""Tests of thermoscape.measure.flatness (Feng & Tu Eqs. 6-8) on analytic batched losses with known widths."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.stats import ortho_group

from thermoscape.measure.flatness import (
    PAPER_RANKS,
    QuadraticLogFit,
    crossing_widths,
    flatness,
    loss_profile,
    quadratic_log_fit,
    scan_ranks,
)
from thermoscape.measure.stats import variance_flatness_exponent

F64 = torch.float64
L0 = 0.37
WIDTHS = torch.tensor([0.02, 0.5, 1.0, 3.0, 40.0], dtype=F64)  # F_i along q_0..q_4; q_5 is flat


class AnalyticLoss:
    """``L(w) = L0 exp(sum_i [c1_i x_i + 4 x_i^2 / F_i^2])``, ``x_i = (w - w0) . q_i``: Eq. 7 made exact.

    ``q_0..q_4`` carry ``WIDTHS``; the loss does not depend on the remaining directions. Counts its calls.
    """

    def __init__(self, n: int = 8, slopes: torch.Tensor | None = None, seed: int = 0):
        self.q = torch.as_tensor(ortho_group.rvs(n, random_state=seed), dtype=F64)
        self.w0 = torch.as_tensor(np.random.default_rng(seed).standard_normal(n), dtype=F64)
        self.slopes = torch.zeros(WIDTHS.numel(), dtype=F64) if slopes is None else slopes
        self.calls = 0

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        assert points.ndim == 2
        self.calls += 1
        x = (points - self.w0) @ self.q[: WIDTHS.numel()].T
        return L0 * torch.exp((self.slopes * x + 4 * x**2 / WIDTHS**2).sum(dim=1))


# --- crossing_widths / flatness (brief 3.2) ---


def test_crossing_widths_recover_known_flatness():
    loss = AnalyticLoss()
    d_plus, d_minus, l0 = crossing_widths(loss, loss.w0, loss.q[:5])
    assert l0 == pytest.approx(L0, rel=1e-14)
    # Each side is F/2 (ln L = ln L0 + 1 at +-F/2); the midpoint of a 1e-3 bracket is within 5e-4.
    torch.testing.assert_close(d_plus, WIDTHS / 2, rtol=1e-3, atol=0)
    torch.testing.assert_close(d_minus, WIDTHS / 2, rtol=1e-3, atol=0)
    torch.testing.assert_close(flatness(loss, loss.w0, loss.q[:5]), WIDTHS, rtol=1e-3, atol=0)
    # All 10 rays advance together: one call for L0, ~15 doublings for F = 40, ~10 bisection steps.
    assert loss.calls < 2 * 30


def test_crossing_widths_tighter_tolerance_and_other_factor():
    loss = AnalyticLoss()
    d_plus, d_minus, _ = crossing_widths(loss, loss.w0, loss.q[:5], factor=math.e**4, rel_tol=1e-8)
    # ln L = ln L0 + 4 at x = +-F: the factor sets the level.
    torch.testing.assert_close(d_plus, WIDTHS, rtol=1e-8, atol=0)
    torch.testing.assert_close(d_minus, WIDTHS, rtol=1e-8, atol=0)


@pytest.mark.parametrize("rel_tol", [0.05, 0.2])
def test_crossing_widths_return_bracket_midpoint(rel_tol):
    loss = AnalyticLoss()
    d_plus, d_minus, _ = crossing_widths(loss, loss.w0, loss.q[:5], rel_tol=rel_tol)
    # |mid - d| <= rel_tol hi / 2 and hi <= d / (1 - rel_tol): the midpoint halves the bracket's error.
    bound = rel_tol / (2 * (1 - rel_tol))
    for d in (d_plus, d_minus):
        assert torch.all(torch.abs(d / (WIDTHS / 2) - 1) <= bound)


def test_crossing_widths_asymmetric_profile_matches_closed_form_roots():
    slopes = torch.tensor([0.0, 1.5, -0.7, 0.0, 0.1], dtype=F64)
    loss = AnalyticLoss(slopes=slopes)
    d_plus, d_minus, _ = crossing_widths(loss, loss.w0, loss.q[:5], rel_tol=1e-9)
    # Roots of 4 x^2 / F^2 + c1 x - 1 = 0: x = (-c1 +- sqrt(c1^2 + 16 / F^2)) F^2 / 8.
    root = torch.sqrt(slopes**2 + 16 / WIDTHS**2)
    torch.testing.assert_close(d_plus, (-slopes + root) * WIDTHS**2 / 8, rtol=1e-8, atol=0)
    torch.testing.assert_close(d_minus, (slopes + root) * WIDTHS**2 / 8, rtol=1e-8, atol=0)
    assert d_plus[1] < d_minus[1] and d_plus[2] > d_minus[2]


def test_crossing_widths_flat_direction_is_infinite():
    loss = AnalyticLoss()
    directions = torch.stack([loss.q[2], loss.q[5], loss.q[7]])  # q_5, q_7 do not change the loss
    d_plus, d_minus, _ = crossing_widths(loss, loss.w0, directions, max_doublings=12)
    assert torch.isinf(d_plus[1:]).all() and torch.isinf(d_minus[1:]).all()
    torch.testing.assert_close(d_plus[0], WIDTHS[2] / 2, rtol=1e-3, atol=0)
    assert torch.isinf(flatness(loss, loss.w0, directions, max_doublings=12)[1:]).all()


def test_crossing_widths_unnormalised_direction_measures_in_its_units():
    loss = AnalyticLoss()
    d_plus, _, _ = crossing_widths(loss, loss.w0, 2 * loss.q[3:4])
    torch.testing.assert_close(d_plus, WIDTHS[3:4] / 4, rtol=1e-3, atol=0)


def test_crossing_widths_nan_counts_as_crossing():
    def blows_up(points: torch.Tensor) -> torch.Tensor:
        r = points.norm(dim=1)
        return torch.where(r < 1.0, 1.0 + 0 * r, torch.full_like(r, math.nan))

    d_plus, d_minus, _ = crossing_widths(blows_up, torch.zeros(3, dtype=F64), torch.eye(3, dtype=F64))
    torch.testing.assert_close(d_plus, torch.ones(3, dtype=F64), rtol=1e-3, atol=0)
    torch.testing.assert_close(d_minus, torch.ones(3, dtype=F64), rtol=1e-3, atol=0)


def test_crossing_widths_rejects_bad_input():
    loss = AnalyticLoss()
    with pytest.raises(ValueError, match="directions"):
        crossing_widths(loss, loss.w0, loss.q[:2, :4])
    with pytest.raises(ValueError, match="w0"):
        crossing_widths(loss, loss.q[:2], loss.q[:2])
    with pytest.raises(ValueError, match="factor"):
        crossing_widths(loss, loss.w0, loss.q[:2], factor=1.0)
    with pytest.raises(ValueError, match="L0"):
        crossing_widths(lambda p: torch.zeros(p.shape[0], dtype=F64), loss.w0, loss.q[:2])
    with pytest.raises(ValueError, match="values"):
        crossing_widths(lambda p: torch.ones(1, dtype=F64), loss.w0, loss.q[:2])


# --- loss_profile and quadratic_log_fit (Eqs. 6-7) ---


def test_loss_profile_is_one_batched_call():
    loss = AnalyticLoss()
    offsets = torch.linspace(-1, 1, 11, dtype=F64)
    profile = loss_profile(loss, loss.w0, loss.q[1], offsets)
    assert loss.calls == 1 and profile.shape == (11,)
    torch.testing.assert_close(profile, L0 * torch.exp(4 * offsets**2 / WIDTHS[1] ** 2))


@pytest.mark.parametrize("i", [1, 3, 4])
def test_quadratic_log_fit_recovers_width_on_analytic_loss(i):
    loss = AnalyticLoss()
    f = float(WIDTHS[i])
    offsets = torch.linspace(-f / 2, f / 2, 21, dtype=F64)
    fit = quadratic_log_fit(offsets, loss_profile(loss, loss.w0, loss.q[i], offsets))
    assert isinstance(fit, QuadraticLogFit)
    assert fit.width_fit == pytest.approx(f, rel=1e-9)
    assert fit.c2 == pytest.approx(4 / f**2, rel=1e-9) and fit.curvature == pytest.approx(8 / f**2, rel=1e-9)
    assert fit.c0 == pytest.approx(math.log(L0), rel=1e-9)
    assert abs(fit.c1) * f < 1e-9 and fit.r2 == pytest.approx(1.0, abs=1e-12)


def test_quadratic_log_fit_linear_term_and_minimum():
    x = np.linspace(-1, 1, 15)
    fit = quadratic_log_fit(x, np.exp(0.2 - 0.6 * x + 3.0 * x**2))
    assert (fit.c0, fit.c1, fit.c2) == pytest.approx((0.2, -0.6, 3.0), rel=1e-9)
    assert fit.minimum == pytest.approx(0.1, rel=1e-9)
    concave = quadratic_log_fit(x, np.exp(-(x**2)))
    assert math.isnan(concave.width_fit) and math.isnan(concave.minimum)


def test_quadratic_log_fit_r2_below_one_for_non_quadratic_profile():
    x = np.linspace(-1, 1, 21)
    assert quadratic_log_fit(x, np.exp(x**4 + x**2)).r2 < 0.999


@pytest.mark.parametrize(
    "x, y", [([0.0, 1.0], [1.0, 2.0]), ([0.0, 0.0, 1.0], [1.0, 2.0, 3.0]), ([0.0, 1.0, 2.0], [1.0, 0.0, 2.0])]
)
def test_quadratic_log_fit_rejects_bad_input(x, y):
    with pytest.raises(ValueError):
        quadratic_log_fit(np.array(x), np.array(y))


# --- variance_flatness_exponent (Eq. 8) ---


def test_variance_flatness_exponent_recovers_psi_four():
    rng = np.random.default_rng(0)
    widths = np.geomspace(0.1, 10, 200)
    variances = 2.0 * widths**-4 * np.exp(0.3 * rng.standard_normal(200))
    # Directions that never crossed (inf) or degenerate entries are dropped, not fitted.
    widths_all = np.concatenate([widths, [np.inf, 1.0, np.nan]])
    variances_all = np.concatenate([variances, [1.0, 0.0, 1.0]])
    psi, stderr, rho, n = variance_flatness_exponent(variances_all, torch.as_tensor(widths_all))
    assert n == 200
    # stderr = 0.3 / (std(log F) sqrt(200)) ~ 0.016; 0.08 is ~5 of them.
    assert stderr == pytest.approx(0.3 / (np.log(widths).std() * math.sqrt(200)), rel=0.2)
    assert psi == pytest.approx(4.0, abs=0.08)
    assert rho < -0.95


def test_variance_flatness_exponent_exact_power_law():
    widths = np.geomspace(1, 100, 10)
    psi, _, rho, n = variance_flatness_exponent(widths**-2.5, widths)
    assert psi == pytest.approx(2.5, abs=1e-12) and rho == pytest.approx(-1.0) and n == 10


def test_variance_flatness_exponent_needs_three_pairs():
    with pytest.raises(ValueError, match=">= 3"):
        variance_flatness_exponent(np.array([1.0, 2.0, 3.0]), np.array([1.0, np.inf, 2.0]))
    with pytest.raises(ValueError, match="same length"):
        variance_flatness_exponent(np.ones(3), np.ones(4))


# --- scan_ranks (brief 3.2, 5.3) ---


def test_scan_ranks_defaults():
    ranks = scan_ranks(999)
    assert ranks.dtype.kind == "i"
    assert np.all(np.diff(ranks) > 0)  # sorted and unique
    assert ranks[0] == 1 and ranks[-1] == 600
    assert set(PAPER_RANKS) <= set(ranks.tolist())
    spaced = ranks[ranks >= 2]
    assert 35 <= spaced.size <= 45 + len(PAPER_RANKS)
    ratios = spaced[1:] / spaced[:-1]
    assert ratios[-10:].max() < 1.2  # log spacing: constant ratio (600/2)^(1/44) = 1.14 at large ranks


def test_scan_ranks_limited_by_available_modes():
    ranks = scan_ranks(40)
    assert ranks.max() == 40 and ranks.min() == 1
    assert {1, 2, 10, 20, 30} <= set(ranks.tolist()) and 49 not in ranks and 50 not in ranks
    np.testing.assert_array_equal(scan_ranks(1), [1])
    np.testing.assert_array_equal(scan_ranks(100, count=3, low=5, high=20, always=()), [5, 10, 20])


def test_scan_ranks_rejects_bad_input():
    with pytest.raises(ValueError):
        scan_ranks(0)
    with pytest.raises(ValueError):
        scan_ranks(100, low=50, high=10)
