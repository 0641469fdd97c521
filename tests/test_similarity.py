"""Tests of thermoscape.measure.similarity: linear CKA (Eq. 3) against its brute-force form, and mixup sampling."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from scipy import stats

from thermoscape.measure.similarity import beta_samples, linear_cka, mixup_inputs, offdiagonal_nanmean, pairwise_cka

F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def brute_force_cka(x: torch.Tensor, y: torch.Tensor) -> float:
    """Eq. 3 literally: Cov(X, Y) = (m-1)^-2 tr(X X^T H Y Y^T H)."""
    m = len(x)
    h = torch.eye(m, dtype=F64) - torch.ones(m, m, dtype=F64) / m

    def cov(a, b):
        return torch.trace(a @ a.T @ h @ b @ b.T @ h) / (m - 1) ** 2

    return float(cov(x, y) / torch.sqrt(cov(x, x) * cov(y, y)))


@pytest.fixture(scope="module")
def xy():
    x = torch.randn(60, 10, generator=gen(0), dtype=F64)
    y = torch.tanh(x @ torch.randn(10, 10, generator=gen(1), dtype=F64)) + 0.5 * torch.randn(
        60, 10, generator=gen(2), dtype=F64
    )
    return x, y


def test_cka_with_itself_is_one(xy):
    x, y = xy
    assert linear_cka(x, x) == pytest.approx(1.0, abs=1e-12)
    assert linear_cka(torch.softmax(y, dim=1), torch.softmax(y, dim=1)) == pytest.approx(1.0, abs=1e-12)


def test_cka_matches_brute_force_trace_formula(xy):
    x, y = xy
    value = linear_cka(x, y)
    assert value == pytest.approx(brute_force_cka(x, y), abs=1e-12)
    assert 0.0 < value < 1.0
    x5 = torch.randn(30, 5, generator=gen(3), dtype=F64)  # different feature counts are allowed
    assert linear_cka(x5, y[:30]) == pytest.approx(brute_force_cka(x5, y[:30]), abs=1e-12)


def test_cka_of_one_feature_is_squared_correlation():
    a = torch.randn(200, 1, generator=gen(4), dtype=F64)
    b = a + torch.randn(200, 1, generator=gen(5), dtype=F64)
    corr = torch.corrcoef(torch.cat([a, b], dim=1).T)[0, 1]
    assert linear_cka(a, b) == pytest.approx(float(corr) ** 2, abs=1e-12)


def test_cka_is_symmetric(xy):
    x, y = xy
    assert linear_cka(x, y) == pytest.approx(linear_cka(y, x), abs=1e-14)


def test_cka_invariant_to_orthogonal_maps_isotropic_scaling_and_shifts(xy):
    x, y = xy
    q, _ = torch.linalg.qr(torch.randn(10, 10, generator=gen(6), dtype=F64))
    reference = linear_cka(x, y)
    assert linear_cka(x @ q, y) == pytest.approx(reference, abs=1e-12)
    assert linear_cka(x, y @ q) == pytest.approx(reference, abs=1e-12)
    assert linear_cka(7.5 * x, 0.01 * y) == pytest.approx(reference, abs=1e-12)
    assert linear_cka(x + 3.0, y - 1.0) == pytest.approx(reference, abs=1e-12)


def test_cka_not_invariant_to_anisotropic_scaling(xy):
    x, y = xy
    scale = torch.tensor([10.0, 1, 1, 1, 1, 1, 1, 1, 1, 0.1], dtype=F64)
    assert abs(linear_cka(x * scale, y) - linear_cka(x, y)) > 0.05


def test_cka_accepts_higher_rank_outputs_and_float32(xy):
    x, y = xy
    assert linear_cka(x.reshape(60, 2, 5), y.float()) == pytest.approx(linear_cka(x, y), abs=1e-6)
    with pytest.raises(ValueError):
        linear_cka(x, y[:50])


def test_cka_nan_on_constant_outputs_only():
    varying = torch.softmax(torch.randn(64, 10, generator=gen(7), dtype=F64), dim=1)
    constant = torch.full((64, 10), 0.1, dtype=F64)  # e.g. a dead network's softmax
    nearly_constant = torch.softmax(torch.randn(1, 10, generator=gen(8), dtype=F64), dim=1).repeat(64, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert math.isnan(linear_cka(constant, varying))
        assert math.isnan(linear_cka(varying, nearly_constant))
        assert math.isnan(linear_cka(torch.zeros(64, 3), torch.zeros(64, 3)))
    # a constant feature alongside varying ones is fine
    partly = varying.clone()
    partly[:, 0] = 0.3
    assert 0.0 < linear_cka(partly, varying) <= 1.0 + 1e-12


def test_pairwise_cka_matrix_and_nan_safe_mean():
    outputs = [torch.softmax(torch.randn(80, 10, generator=gen(s), dtype=F64), dim=1) for s in range(3)]
    outputs.append(torch.full((80, 10), 0.1, dtype=F64))
    mean, matrix = pairwise_cka(outputs)
    assert matrix.shape == (4, 4)
    torch.testing.assert_close(matrix[:3, :3], matrix[:3, :3].T, rtol=0, atol=1e-14)
    torch.testing.assert_close(torch.diagonal(matrix)[:3], torch.ones(3, dtype=F64), rtol=0, atol=1e-12)
    assert bool(matrix[3].isnan().all()) and bool(matrix[:, 3].isnan().all())
    expected = [linear_cka(outputs[i], outputs[j]) for i in range(3) for j in range(3) if i != j]
    assert mean == pytest.approx(sum(expected) / 6, abs=1e-14)
    assert math.isnan(offdiagonal_nanmean(torch.full((3, 3), math.nan)))
    asymmetric = torch.tensor([[1.0, 0.2, 0.4], [0.3, 1.0, math.nan], [0.5, 0.6, 1.0]])
    assert offdiagonal_nanmean(asymmetric) == pytest.approx(0.4)


def test_beta_samples_follow_beta_distribution():
    for alpha in (0.5, 16.0):
        draws = beta_samples(alpha, 4000, gen(9)).numpy()
        assert stats.kstest(draws, stats.beta(alpha, alpha).cdf).pvalue > 0.01
    draws = beta_samples(16.0, 20000, gen(10))
    assert float(draws.mean()) == pytest.approx(0.5, abs=4 * math.sqrt(1 / 132 / 20000))
    assert float(draws.var()) == pytest.approx(1 / 132, rel=0.05)  # Var Beta(a, a) = 1 / (4 (2a + 1))


def test_mixup_pairs_within_batches_with_one_lambda_each():
    n = 700
    x = torch.eye(n, dtype=F64)  # sample i is the indicator e_i, so a mixed row reveals its pair and lambda
    mixed = mixup_inputs(x, n_samples=640, alpha=16.0, generator=gen(11))
    assert mixed.shape == (640, n)
    used = torch.zeros(n, dtype=torch.bool)
    for start in range(0, 640, 128):
        batch = mixed[start : start + 128]
        columns = (batch != 0).any(dim=0)
        assert int(columns.sum()) == 128  # the partners are a permutation of the batch's own samples
        assert not bool((columns & used).any())  # samples drawn without replacement across batches
        used |= columns
        # lam x_i + (1 - lam) x_perm(i) with one lam per batch: every used column sums to exactly 1
        torch.testing.assert_close(batch.sum(dim=0)[columns], torch.ones(128, dtype=F64), rtol=0, atol=1e-12)
        torch.testing.assert_close(batch.sum(dim=1), torch.ones(128, dtype=F64), rtol=0, atol=1e-12)
        values = batch[(batch != 0) & (batch != 1)]
        lam = float(values.max())
        assert 0.5 <= lam < 1.0
        torch.testing.assert_close(
            values.sort().values.unique(), torch.tensor(sorted({lam, 1 - lam}), dtype=F64)
        )


def test_mixup_is_deterministic_and_handles_small_pools():
    x = torch.randn(50, 3, 4, generator=gen(12))
    a = mixup_inputs(x, n_samples=130, generator=gen(13), batch_size=64)
    assert a.shape == (130, 3, 4) and a.dtype == x.dtype
    assert torch.equal(a, mixup_inputs(x, n_samples=130, generator=gen(13), batch_size=64))
    assert not torch.equal(a, mixup_inputs(x, n_samples=130, generator=gen(14), batch_size=64))
    ints = mixup_inputs(torch.arange(20).reshape(10, 2), n_samples=10, generator=gen(15))
    assert ints.is_floating_point()
