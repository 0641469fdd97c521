"""Tests of thermoscape.measure.spectrum (Fort & Ganguli Hessian-structure measures) against closed forms."""

from __future__ import annotations

import math

import pytest
import torch

from thermoscape.measure.spectrum import (
    bulk_edge,
    curvature_ratio,
    descending_eigh,
    eigenvector_cosines,
    gradient_power,
    outlier_count,
    projected_curvature_ratio,
    random_orthonormal,
    trace_over_top,
)

F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def with_spectrum(eigenvalues: list[float], seed: int = 0) -> torch.Tensor:
    """A symmetric matrix ``Q diag(eigenvalues) Q^T`` with a random orthogonal ``Q``."""
    q = random_orthonormal(len(eigenvalues), len(eigenvalues), gen(seed))
    return q @ torch.diag(torch.tensor(eigenvalues, dtype=F64)) @ q.T


def test_descending_eigh_orders_and_reconstructs():
    values = [3.0, -2.0, 0.5, 7.0, 1.0]
    h = with_spectrum(values)
    lam, v = descending_eigh(h + 1e-12 * torch.randn(5, 5, generator=gen(1), dtype=F64))  # tiny asymmetry
    assert torch.allclose(lam, torch.tensor(sorted(values, reverse=True), dtype=F64), atol=1e-9)
    assert torch.allclose(v @ torch.diag(lam) @ v.T, h, atol=1e-9)
    assert torch.allclose(v.T @ v, torch.eye(5, dtype=F64), atol=1e-12)


def test_outlier_count_finds_the_known_gap():
    bulk = torch.linspace(1.0, 0.5, 40, dtype=F64)
    lam = torch.cat([torch.tensor([9.0, 8.0, 6.0], dtype=F64), bulk])
    assert outlier_count(lam, 6) == (3, pytest.approx(6.0))
    # the gap lies beyond max_rank: only the ratios up to max_rank count
    n, gap = outlier_count(lam, 2)
    assert n == 2 and gap == pytest.approx(8.0 / 6.0)


def test_outlier_count_skips_nonpositive_denominators_and_prefers_first_tie():
    # ratio at i = 2 would divide by 0 and at i = 3 by a negative number: both skipped
    n, gap = outlier_count(torch.tensor([4.0, 2.0, 0.0, -1.0]), 3)
    assert (n, gap) == (1, 2.0)
    assert outlier_count(torch.tensor([8.0, 4.0, 2.0, 1.0]), 3) == (1, 2.0)
    n, gap = outlier_count(torch.tensor([1.0, -1.0, -2.0]), 2)
    assert n == 0 and math.isnan(gap)


def test_bulk_edge_is_the_95th_percentile_of_the_rest():
    rest = torch.arange(1, 102, dtype=F64).flip(0)  # 101 values: 95th percentile of 1..101 is 96
    lam = torch.cat([torch.tensor([1e3, 5e2], dtype=F64), -rest])  # signs do not matter
    assert bulk_edge(lam, 2) == pytest.approx(96.0)
    assert math.isnan(bulk_edge(lam, 200))


def test_gradient_in_the_span_of_top_eigenvectors_has_power_one():
    _, v = descending_eigh(with_spectrum([5.0, 4.0, 3.0, 2.0, 1.0, 0.5, 0.1]))
    g = v[:, :3] @ torch.tensor([0.3, -2.0, 1.1], dtype=F64)
    assert gradient_power(g, v, 3) == pytest.approx(1.0, abs=1e-12)
    assert gradient_power(g, v, 2) == pytest.approx((0.3**2 + 2.0**2) / (0.3**2 + 2.0**2 + 1.1**2), abs=1e-12)
    assert gradient_power(g, v[:, 3:], 4) == pytest.approx(0.0, abs=1e-12)


def test_squared_cosines_over_a_full_basis_sum_to_one():
    _, v = descending_eigh(with_spectrum([float(i) for i in range(12)], seed=3))
    g = torch.randn(12, generator=gen(4), dtype=F64)
    cos = eigenvector_cosines(g, v)
    assert cos.square().sum() == pytest.approx(1.0, abs=1e-12)
    assert torch.allclose(eigenvector_cosines(-2.5 * g, 3.0 * v), -cos)  # scale-free, signed


def test_curvature_ratio_closed_forms():
    r, d = 4, 9
    assert curvature_ratio(with_spectrum([2.5] * r + [0.0] * (d - r))) == pytest.approx(math.sqrt(r))
    assert curvature_ratio(with_spectrum([3.0, 1.0, 0.0, -1.0, -3.0])) == pytest.approx(0.0, abs=1e-12)
    assert curvature_ratio(with_spectrum([-1.0] * 9)) == pytest.approx(-3.0)  # lower bound -sqrt(D)
    assert trace_over_top(with_spectrum([4.0, 2.0, 1.0, -1.0])) == pytest.approx(1.5)
    assert trace_over_top(torch.eye(3), lambda_max=2.0) == pytest.approx(1.5)


def test_random_orthonormal_is_orthonormal_and_seeded():
    a = random_orthonormal(50, 7, gen(5))
    assert a.shape == (50, 7) and a.dtype == F64
    assert torch.allclose(a.T @ a, torch.eye(7, dtype=F64), atol=1e-12)
    assert torch.equal(a, random_orthonormal(50, 7, gen(5)))
    assert not torch.equal(a, random_orthonormal(50, 7, gen(6)))


def test_projected_curvature_ratio_closed_forms():
    d = 10
    mean, sd = projected_curvature_ratio(3.0 * torch.eye(40, dtype=F64), d, 5, gen(0))
    assert mean == pytest.approx(math.sqrt(d)) and sd == pytest.approx(0.0, abs=1e-12)
    # a rank-one PSD Hessian stays rank one (ratio 1) on every hyperplane
    u = torch.randn(40, 1, generator=gen(1), dtype=F64)
    mean, sd = projected_curvature_ratio(u @ u.T, d, 5, gen(2))
    assert mean == pytest.approx(1.0) and sd == pytest.approx(0.0, abs=1e-9)
    mean, sd = projected_curvature_ratio(u @ u.T, d, 1, gen(2))
    assert math.isnan(sd)


def test_projected_curvature_ratio_matrix_free_matches_matrix():
    h = with_spectrum([float(i) - 10.0 for i in range(30)], seed=7)
    direct = projected_curvature_ratio(h, 5, 4, gen(8))
    assert projected_curvature_ratio(lambda a: h @ a, 5, 4, gen(8), dim=30) == pytest.approx(direct)
    with pytest.raises(ValueError):
        projected_curvature_ratio(lambda a: h @ a, 5, 4, gen(8))
