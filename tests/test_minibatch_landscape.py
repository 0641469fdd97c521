"""Tests of thermoscape.studies.fengtu.minibatch_landscape (Feng & Tu, Eq. 3, 9-11, 17, S3) against closed forms.

* MLF fits: exponential-quadratic per-sample losses ``l_k = b_k exp[a_k ((w - m_k) . p)^2 / 2 + q(w)]``, with
  ``q`` constant along ``p``, make ``ln L^mu`` exactly quadratic for single-sample batches, with known
  ``M^mu = a_k`` and ``theta~^mu = (m_k - w0) . p``.
* Derivatives: a small tanh network's per-sample cross-entropy against autograd Jacobians.
* Active temperature: the exact formula against exhaustive enumeration of all minibatches, the Monte Carlo
  definition, and the closed form for quadratic per-sample losses.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from conftest import F64, gen

from thermoscape.studies.fengtu.minibatch_landscape import (
    MinibatchFit,
    active_temperature,
    active_temperature_monte_carlo,
    directional_derivatives,
    margin_fit,
    margin_slopes,
    margins,
    minibatch_curvatures,
    minibatch_profiles,
    minibatch_statistics,
    random_batches,
    temperature_profile,
)

N = 6  # parameters of the synthetic landscapes


def unit(v: torch.Tensor) -> torch.Tensor:
    return v / torch.linalg.vector_norm(v)


# ---------------------------------------------------------------- exactly quadratic ln l_k along p

CURVATURES = np.array([2.0, 0.5, 3.0, -1.0, 1.5])  # a_k; sample 3 is concave along p


@pytest.fixture(scope="module")
def exp_quadratic():
    """``l_k(w) = b_k exp[a_k s_k^2 / 2 + 0.3 |w_perp|^2]``, ``s_k = (w - m_k) . p``, ``w_perp = w - (w.p) p``."""
    p = unit(torch.randn(N, generator=gen(10), dtype=F64))
    w0 = torch.randn(N, generator=gen(11), dtype=F64)
    m = torch.randn(len(CURVATURES), N, generator=gen(12), dtype=F64)
    b = torch.rand(len(CURVATURES), generator=gen(13), dtype=F64) + 0.5
    a = torch.as_tensor(CURVATURES, dtype=F64)

    def per_sample_loss(points: torch.Tensor) -> torch.Tensor:
        s = (points @ p)[:, None] - (m @ p)[None, :]
        perp = points - (points @ p)[:, None] * p
        return b * torch.exp(0.5 * a * s**2 + 0.3 * (perp**2).sum(-1, keepdim=True))

    theta = ((m - w0) @ p).numpy()  # exact minimum locations theta~^mu along p
    return per_sample_loss, w0, p, theta


def test_single_sample_fits_recover_curvature_and_minimum(exp_quadratic):
    loss, w0, p, theta = exp_quadratic
    offsets = torch.linspace(-1.0, 1.0, 21, dtype=F64)
    batches = torch.arange(len(CURVATURES))[:, None]
    fit = minibatch_curvatures(offsets, minibatch_profiles(loss, w0, p, offsets, batches))
    np.testing.assert_allclose(fit.curvature, CURVATURES, rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.minimum, theta, rtol=0, atol=1e-8)
    np.testing.assert_array_equal(fit.convex, CURVATURES > 0)


def test_statistics_match_hand_computation(exp_quadratic):
    loss, w0, p, theta = exp_quadratic
    offsets = np.linspace(-0.8, 0.8, 9)
    batches = torch.arange(len(CURVATURES))[:, None]
    stats = minibatch_statistics(minibatch_curvatures(offsets, minibatch_profiles(loss, w0, p, offsets, batches)))
    keep = CURVATURES > 0
    assert stats["n_used"] == 4 and stats["n_batches"] == 5
    assert stats["discarded_fraction"] == pytest.approx(0.2)
    assert stats["M0"] == pytest.approx(CURVATURES[keep].mean(), abs=1e-8)  # (2 + 0.5 + 3 + 1.5) / 4
    assert stats["M0"] == pytest.approx(1.75, abs=1e-8)
    t = theta[keep]
    assert stats["theta_tilde_mean"] == pytest.approx(t.mean(), abs=1e-8)
    assert stats["sigma_tilde2"] == pytest.approx(np.mean((t - t.mean()) ** 2), abs=1e-8)
    assert stats["sigma_tilde2_raw"] == pytest.approx(np.mean(t**2), abs=1e-8)
    assert stats["M0_squared_sigma_tilde2"] == pytest.approx(1.75**2 * np.var(t), abs=1e-7)


def test_statistics_from_hand_made_coefficients():
    # ln L = c2 (x - t)^2 + const: c1 = -2 c2 t
    c2 = np.array([1.0, 2.0, -0.5, 0.0])
    t = np.array([0.1, -0.3, 5.0, 1.0])
    fit = MinibatchFit(c0=np.zeros(4), c1=-2 * c2 * t, c2=c2)
    stats = minibatch_statistics(fit)
    assert stats["n_used"] == 2 and stats["discarded_fraction"] == 0.5  # c2 = 0 is not convex
    assert stats["M0"] == pytest.approx(3.0)
    assert stats["sigma_tilde2"] == pytest.approx(0.04)  # values 0.1, -0.3: mean -0.1
    assert stats["sigma_tilde2_raw"] == pytest.approx(0.05)
    none = minibatch_statistics(MinibatchFit(np.zeros(2), np.zeros(2), -np.ones(2)))
    assert none["n_used"] == 0 and none["discarded_fraction"] == 1.0 and math.isnan(none["M0"])


def test_profiles_average_each_batch_after_one_loss_call(exp_quadratic):
    loss, w0, p, _ = exp_quadratic
    calls = []

    def counted(points):
        calls.append(points.shape)
        return loss(points)

    offsets = torch.linspace(-0.5, 0.7, 7, dtype=F64)
    batches = random_batches(len(CURVATURES), 3, 4, gen(20))
    profiles = minibatch_profiles(counted, w0, p, offsets, batches)
    assert calls == [torch.Size([7, N])]
    assert profiles.shape == (4, 7)
    for k, batch in enumerate(batches):
        for g, x in enumerate(offsets):
            expected = math.log(float(loss((w0 + x * p)[None])[0, batch].mean()))
            assert float(profiles[k, g]) == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------------- a small nonlinear network

HIDDEN, FEATURES, CLASSES = 4, 5, 3


def tanh_network(n_samples: int, seed: int):
    """Per-sample cross-entropy of ``W3 tanh(W2 tanh(V x))`` as a function of the flat ``W2`` (n = 16)."""
    x = torch.randn(n_samples, FEATURES, generator=gen(seed), dtype=F64)
    v = torch.randn(HIDDEN, FEATURES, generator=gen(seed + 1), dtype=F64)
    w3 = torch.randn(CLASSES, HIDDEN, generator=gen(seed + 2), dtype=F64)
    labels = torch.randint(0, CLASSES, (n_samples,), generator=gen(seed + 3))
    h1 = torch.tanh(x @ v.T)

    def per_sample_loss(points: torch.Tensor) -> torch.Tensor:
        w2 = points.reshape(-1, HIDDEN, HIDDEN)
        logits = torch.einsum("gmi,ci->gmc", torch.tanh(torch.einsum("mj,gij->gmi", h1, w2)), w3)
        target = logits.gather(-1, labels.expand(points.shape[0], n_samples)[..., None])[..., 0]
        return torch.logsumexp(logits, dim=-1) - target

    points = 0.8 * torch.randn(3, HIDDEN * HIDDEN, generator=gen(seed + 4), dtype=F64)
    direction = unit(torch.randn(HIDDEN * HIDDEN, generator=gen(seed + 5), dtype=F64))
    return per_sample_loss, points, direction


def test_directional_derivatives_match_autograd_and_finite_differences():
    loss, points, p = tanh_network(20, seed=30)
    g = directional_derivatives(loss, points, p)
    assert g.shape == (3, 20)
    for row, w in enumerate(points):
        jac = torch.autograd.functional.jacobian(lambda v: loss(v[None])[0], w)  # (M, n)
        torch.testing.assert_close(g[row], jac @ p, rtol=0, atol=1e-12)
        h = 1e-5
        central = (loss((w + h * p)[None])[0] - loss((w - h * p)[None])[0]) / (2 * h)
        torch.testing.assert_close(g[row], central, rtol=0, atol=1e-8)


def test_exact_temperature_equals_enumeration_of_all_minibatches():
    m, b, lr = 7, 3, 0.1
    loss, points, p = tanh_network(m, seed=40)
    g = directional_derivatives(loss, points, p)
    subsets = torch.tensor(list(itertools.combinations(range(m), b)))  # all 35 minibatches, equally likely
    noise = g[:, subsets].mean(-1) - g.mean(-1, keepdim=True)  # d delta L^mu / d delta theta
    expected = 0.5 * lr * (noise**2).mean(-1)
    torch.testing.assert_close(active_temperature(loss, points, p, lr, b), expected, rtol=1e-12, atol=0)


def test_exact_temperature_equals_monte_carlo_definition():
    m, b, k, lr = 60, 10, 20000, 0.1
    loss, points, p = tanh_network(m, seed=50)
    point = points[0]
    exact = float(active_temperature(loss, point[None], p, lr, b)[0])
    mc = active_temperature_monte_carlo(loss, point, p, lr, b, k, gen(51))
    # the standard error of the same draws
    g = directional_derivatives(loss, point[None], p)[0]
    squares = 0.5 * lr * (g[random_batches(m, b, k, gen(51))].mean(1) - g.mean()) ** 2
    assert float(squares.mean()) == pytest.approx(mc, rel=1e-12)
    se = float(squares.std()) / math.sqrt(k)
    assert abs(mc - exact) < 4 * se
    # ... and the test can tell: dropping the (M - B)/(M - 1) correction is rejected
    assert abs(mc - exact * (m - 1) / (m - b)) > 4 * se


def test_full_batch_temperature_is_zero():
    m = 12
    loss, points, p = tanh_network(m, seed=60)
    assert torch.equal(active_temperature(loss, points, p, 0.1, m), torch.zeros(3, dtype=F64))
    assert active_temperature_monte_carlo(loss, points[1], p, 0.1, m, 50, gen(61)) < 1e-28
    assert float(active_temperature(loss, points, p, 0.1, 1).min()) > 0


def test_temperature_profile_matches_closed_form_for_quadratic_losses():
    # l_k = a_k s_k^2 / 2 + |w|^2 / 2 with s_k = (w - m_k).p: g_k = a_k (x - theta_k) + w.p, the last term common
    m, b, lr = 9, 4, 0.2
    p = unit(torch.randn(N, generator=gen(70), dtype=F64))
    w0 = torch.randn(N, generator=gen(71), dtype=F64)
    centres = torch.randn(m, N, generator=gen(72), dtype=F64)
    a = torch.rand(m, generator=gen(73), dtype=F64) * 3

    def loss(points):
        s = (points @ p)[:, None] - (centres @ p)[None, :]
        return 0.5 * a * s**2 + 0.5 * (points**2).sum(-1, keepdim=True)

    offsets = torch.linspace(-2.0, 2.0, 11, dtype=F64)
    profile = temperature_profile(loss, w0, p, offsets, lr, b)
    theta = ((centres - w0) @ p).numpy()
    x = offsets.numpy()[:, None]
    expected = 0.5 * lr * np.var(a.numpy() * (x - theta), axis=1) / b * (m - b) / (m - 1)
    np.testing.assert_allclose(profile.numpy(), expected, rtol=1e-12, atol=0)
    points = w0 + offsets[:, None] * p
    torch.testing.assert_close(profile, active_temperature(loss, points, p, lr, b), rtol=0, atol=0)


# ---------------------------------------------------------------- minibatches


def test_random_batches_are_subsets_without_replacement():
    batches = random_batches(20, 5, 4000, gen(80))
    assert batches.shape == (4000, 5) and batches.dtype == torch.long
    assert int(batches.min()) >= 0 and int(batches.max()) < 20
    assert all(len(set(row.tolist())) == 5 for row in batches[:500])
    assert torch.equal(batches, random_batches(20, 5, 4000, gen(80)))
    counts = torch.bincount(batches.flatten(), minlength=20).double()
    # each index is in a batch with probability B/M = 1/4: 1000 +- sqrt(4000 * 3/16) ~ 27
    assert float((counts - 1000).abs().max()) < 150
    assert torch.equal(random_batches(7, 7, 3, gen(81)).sort(1).values, torch.arange(7).expand(3, 7))


# ---------------------------------------------------------------- margins


def test_margins_on_hand_made_logits():
    logits = torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 5.0], [-1.0, -2.0, -3.0], [0.0, 0.0, 4.0]])
    labels = torch.tensor([0, 2, 1, 0])
    expected = torch.tensor([1.0, 0.0, -1.0, -4.0])
    torch.testing.assert_close(margins(logits, labels), expected, rtol=0, atol=0)
    stacked = torch.stack([logits, 2 * logits])  # (G, M, C): leading axes broadcast
    torch.testing.assert_close(margins(stacked, labels), torch.stack([expected, 2 * expected]))


def test_margin_slopes_recover_linear_margins():
    offsets = np.linspace(-1.0, 2.0, 13)
    beta = np.array([0.5, -1.2, 3.0, 0.0])
    intercept = np.array([1.0, 0.2, -0.7, 2.5])
    values = intercept + np.outer(offsets, beta)
    np.testing.assert_allclose(margin_slopes(torch.as_tensor(offsets), torch.as_tensor(values)), beta, atol=1e-12)
    fit = margin_fit(offsets, values)
    np.testing.assert_allclose(fit.intercept, intercept, atol=1e-12)
    np.testing.assert_allclose(fit.r2[:3], 1.0, atol=1e-12)
    assert math.isnan(fit.r2[3])  # constant margin: R^2 undefined
    noisy = values + np.random.default_rng(0).normal(0, 0.3, values.shape)
    r2 = margin_fit(offsets, noisy).r2
    assert np.all(r2[:3] < 1.0) and r2[2] > 0.9


# ---------------------------------------------------------------- input checks


def test_invalid_inputs_raise(exp_quadratic):
    loss, w0, p, _ = exp_quadratic
    offsets = torch.linspace(-1, 1, 5, dtype=F64)
    batches = torch.zeros(2, 1, dtype=torch.long)
    with pytest.raises(ValueError, match="unit vector"):
        minibatch_profiles(loss, w0, 2 * p, offsets, batches)
    with pytest.raises(ValueError, match="batch indices"):
        minibatch_profiles(loss, w0, p, offsets, batches + 5)
    with pytest.raises(ValueError, match="3 distinct"):
        minibatch_curvatures([0.0, 1.0, 1.0], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="shape"):
        minibatch_curvatures(offsets, np.zeros((2, 4)))
    points = w0[None].expand(2, N)
    with pytest.raises(ValueError, match="batch_size"):
        active_temperature(loss, points, p, 0.1, 6)
    with pytest.raises(ValueError, match="lr"):
        active_temperature(loss, points, p, 0.0, 2)
    with pytest.raises(ValueError, match="batch_size"):
        random_batches(5, 0, 3, gen(0))
    with pytest.raises(ValueError, match="labels"):
        margins(torch.zeros(3, 4), torch.tensor([0, 1, 4]))
    with pytest.raises(ValueError, match="2 distinct"):
        margin_fit(np.ones(3), np.zeros((3, 2)))
