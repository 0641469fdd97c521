"""Tests of thermoscape.measure.connectivity: the Bezier curve (Eq. 12), mc (Eq. 4) and curve training."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from conftest import F64, gen

from thermoscape.measure.connectivity import (
    bezier_point,
    evaluate_along_curve,
    garipov_lr_factor,
    init_bend,
    mode_connectivity,
    train_bezier_curve,
)

# ---------------------------------------------------------------- mc, Eq. 4


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        ([0.0, 6.7, 28.0, 6.7, 0.0], -28.0),  # barrier: poorly connected
        ([2.81, 0.0, 0.0, 0.0, 2.62], 2.715),  # convex: under-trained endpoints
        ([0.0] * 5, 0.0),  # flat: well connected
        ([1.0, 1.5, 1.2, 0.2, 3.0], 1.8),  # t* = 0.75 (the deviation is largest below the mean)
        ([10.0, 10.0, 10.0, 10.0, 0.0], -5.0),  # endpoints take part in the argmax
    ],
)
def test_mode_connectivity_sign_convention(errors, expected):
    assert mode_connectivity(errors) == pytest.approx(expected, abs=1e-12)
    assert mode_connectivity(np.array(errors)) == pytest.approx(expected, abs=1e-12)
    assert mode_connectivity(torch.tensor(errors)) == pytest.approx(expected, abs=1e-6)


def test_mode_connectivity_ties_go_to_the_first_point_and_nan_propagates():
    assert mode_connectivity([2.0, 4.0, 0.0, 2.0]) == -2.0
    assert mode_connectivity([2.0, 0.0, 4.0, 2.0]) == 2.0
    assert math.isnan(mode_connectivity([0.0, math.nan, 1.0, 0.0]))
    with pytest.raises(ValueError):
        mode_connectivity([1.0])


# ---------------------------------------------------------------- the curve


@pytest.fixture(scope="module")
def endpoints():
    return torch.randn(7, generator=gen(0), dtype=F64), torch.randn(7, generator=gen(1), dtype=F64)


def test_bezier_endpoints_and_midpoint(endpoints):
    theta0, theta1 = endpoints
    bend = torch.randn(7, generator=gen(2), dtype=F64)
    assert torch.equal(bezier_point(theta0, bend, theta1, 0.0), theta0)
    assert torch.equal(bezier_point(theta0, bend, theta1, 1.0), theta1)
    torch.testing.assert_close(
        bezier_point(theta0, bend, theta1, 0.5), 0.25 * theta0 + 0.5 * bend + 0.25 * theta1
    )
    mid = init_bend(theta0, theta1, "midpoint")
    torch.testing.assert_close(
        bezier_point(theta0, mid, theta1, 0.5), 0.5 * (theta0 + theta1), rtol=0, atol=1e-15
    )
    for t in (0.1, 0.3, 0.9):  # the midpoint bend makes the initial curve the straight segment
        torch.testing.assert_close(bezier_point(theta0, mid, theta1, t), (1 - t) * theta0 + t * theta1)


def test_bezier_vectorised_over_t(endpoints):
    theta0, theta1 = endpoints
    bend = torch.randn(7, generator=gen(3), dtype=F64)
    ts = torch.linspace(0, 1, 5, dtype=F64)
    points = bezier_point(theta0, bend, theta1, ts)
    assert points.shape == (5, 7)
    for t, point in zip(ts, points):
        torch.testing.assert_close(point, bezier_point(theta0, bend, theta1, float(t)))


def test_init_bend_modes(endpoints):
    theta0, theta1 = endpoints
    draw = lambda g: torch.rand(7, generator=g, dtype=F64)
    bend = init_bend(theta0, theta1, "random", generator=gen(4), random_init=draw)
    assert torch.equal(bend, draw(gen(4)))
    with pytest.raises(ValueError):
        init_bend(theta0, theta1, "random", generator=gen(4))
    with pytest.raises(ValueError):
        init_bend(theta0, theta1, "random", random_init=lambda g: torch.zeros(3))
    with pytest.raises(ValueError):
        init_bend(theta0, theta1, "linear")


def test_learning_rate_schedule_matches_paper():
    # "decay the learning rate to 1% of the initial value linearly from epoch 25 to epoch 45" (of 50)
    factors = [garipov_lr_factor(e, 50) for e in range(1, 51)]
    assert factors[:25] == [1.0] * 25
    assert factors[25] == pytest.approx(1 - 0.02 / 0.4 * 0.99)
    assert factors[34] == pytest.approx(1 - 0.2 / 0.4 * 0.99)
    assert factors[44] == pytest.approx(0.01)
    assert factors[44:] == pytest.approx([0.01] * 6)
    assert all(a >= b for a, b in itertools.pairwise(factors))


# ---------------------------------------------------------------- curve training


def test_single_training_step_is_sgd_on_loss_plus_half_wd_norm(endpoints):
    theta0, theta1 = endpoints
    target = torch.randn(7, generator=gen(5), dtype=F64)

    def loss(theta, batch):
        return batch * (theta - target).square().sum()

    bend0 = torch.randn(7, generator=gen(6), dtype=F64)
    lr, wd = 0.1, 0.3
    bend, losses = train_bezier_curve(
        loss, theta0, theta1, lambda epoch: [2.0], epochs=1, lr=lr, momentum=0.9, weight_decay=wd,
        schedule=lambda e, n: 0.5, generator=gen(7), bend=bend0,
    )  # fmt: skip
    t = float(torch.rand((), generator=gen(7), dtype=F64))
    point = bezier_point(theta0, bend0, theta1, t)
    gradient = (2.0 * 2 * (point - target) + wd * point) * 2 * t * (1 - t)  # d gamma / d bend = 2t(1-t)
    torch.testing.assert_close(bend, bend0 - lr * 0.5 * gradient, rtol=0, atol=1e-12)
    assert losses == [pytest.approx(float(loss(point, 2.0) + 0.5 * wd * point.square().sum()))]
    assert bend0.grad is None and not bend.requires_grad


def ring_loss(theta: torch.Tensor, batch=None) -> torch.Tensor:
    """Zero on the unit circle: (1, 0) and (-1, 0) are separated by a barrier of height 1 on the chord."""
    return (theta.square().sum(dim=-1) - 1) ** 2


def test_training_bends_the_curve_around_a_barrier():
    theta0 = torch.tensor([1.0, 0.0], dtype=F64)
    theta1 = -theta0
    straight = init_bend(theta0, theta1)  # (0, 0): the chord, a saddle; nudge it off the symmetry line
    start = straight + torch.tensor([0.0, 0.1], dtype=F64)
    bend, losses = train_bezier_curve(
        ring_loss, theta0, theta1, lambda epoch: range(20), epochs=50, lr=0.01, generator=gen(8), bend=start
    )
    ts = torch.linspace(0, 1, 201, dtype=F64)
    barrier_straight = float(ring_loss(bezier_point(theta0, straight, theta1, ts)).max())
    barrier_trained = float(ring_loss(bezier_point(theta0, bend, theta1, ts)).max())
    assert barrier_straight == pytest.approx(1.0)
    assert barrier_trained < 0.1 * barrier_straight
    assert abs(float(bend[1])) > 1.5 and losses[-1] < 0.1 * losses[0]

    mc_straight = mode_connectivity(evaluate_along_curve(ring_loss, theta0, straight, theta1))
    mc_trained = mode_connectivity(evaluate_along_curve(ring_loss, theta0, bend, theta1))
    assert mc_straight == pytest.approx(-1.0)
    assert -0.1 < mc_trained <= 0.0

    again, _ = train_bezier_curve(
        ring_loss, theta0, theta1, lambda epoch: range(20), epochs=50, lr=0.01, generator=gen(8), bend=start
    )
    assert torch.equal(again, bend)
