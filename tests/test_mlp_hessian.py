"""The closed-form MLP Hessian (thermoscape.measure.mlp_hessian) against torch.autograd.functional.hessian."""

from __future__ import annotations

import pytest
import torch
from conftest import F64, PAPER_SPEC, gen, quadratic

from thermoscape.measure.curvature import batched_hessian_eigenvalues, landscape_hessian_eigenvalues
from thermoscape.data.tables import gaussian_classification, table_to_tensors
from thermoscape.nets.losses import MLPLandscape
from thermoscape.measure.mlp_hessian import (
    _forward,
    _slices,
    covariance_factor,
    gauss_newton_factor,
    mlp_loss_hessian,
)
from thermoscape.nets.mlp import MLPSpec, mlp_forward

RTOL = 1e-12  # max |difference| / max |reference|


def landscape_for(widths: tuple[int, ...], bias: bool = True, n: int = 300) -> MLPLandscape:
    x, labels = table_to_tensors(gaussian_classification(n, widths[0], widths[-1], seed=0))
    return MLPLandscape(MLPSpec(widths, bias=bias), x, labels)


def random_point(landscape: MLPLandscape, seed: int) -> torch.Tensor:
    """Xavier weights plus noise on everything, so that the biases are not zero."""
    theta = landscape.initial_parameters(gen(seed))
    return theta + 0.1 * torch.randn(theta.shape, generator=gen(seed + 100), dtype=F64)


def trained_point(landscape: MLPLandscape, seed: int, steps: int = 300, lr: float = 0.5) -> torch.Tensor:
    theta = random_point(landscape, seed).unsqueeze(0)
    for _ in range(steps):
        theta = theta - lr * landscape.loss_and_grad(theta)[1]
    return theta[0]


def reference_hessian(landscape: MLPLandscape, theta: torch.Tensor) -> torch.Tensor:
    return torch.autograd.functional.hessian(lambda t: landscape.loss(t.unsqueeze(0))[0], theta)


def closed_form(landscape: MLPLandscape, theta: torch.Tensor) -> torch.Tensor:
    return mlp_loss_hessian(landscape.spec, landscape.x, landscape.labels, theta)


def relative_error(h: torch.Tensor, reference: torch.Tensor) -> float:
    return float((h - reference).abs().max() / reference.abs().max())


@pytest.mark.parametrize("point", ["random", "trained"])
def test_paper_mlp_matches_autograd(paper_landscape, point):
    landscape = paper_landscape
    theta = random_point(landscape, 1) if point == "random" else trained_point(landscape, 2)
    if point == "trained":  # a few hundred steps do lower the loss well below its start
        start = random_point(landscape, 2).unsqueeze(0)
        assert float(landscape.loss(theta.unsqueeze(0))) < 0.5 * float(landscape.loss(start))
    h, reference = closed_form(landscape, theta), reference_hessian(landscape, theta)
    assert h.shape == (landscape.n_params, landscape.n_params) == (883, 883) and h.dtype == F64
    assert relative_error(h, reference) < RTOL
    assert float((h - h.T).abs().max()) <= 1e-15 * float(h.abs().max())


@pytest.mark.parametrize(
    "widths, bias",
    [
        (PAPER_SPEC.widths, False),
        ((10, 16, 3), True),  # depth 2
        ((10, 12, 9, 8, 7, 3), True),  # depth 5
        ((10, 12, 9, 8, 7, 4), False),  # depth 5, four classes, no biases
        ((10, 3), True),  # depth 1: logistic regression, no residual
    ],
)
def test_other_mlps_match_autograd(widths, bias):
    landscape = landscape_for(widths, bias, n=120)
    for theta in (random_point(landscape, 3), trained_point(landscape, 4, steps=200)):
        assert relative_error(closed_form(landscape, theta), reference_hessian(landscape, theta)) < RTOL


def test_confident_point_keeps_its_small_curvature(paper_landscape):
    """Near a minimum the curvature is tiny (~1e-8 here) and ``1 - p_y`` rounds to 0 for some samples: the
    closed form, which never subtracts from 1, still agrees with autograd of the stable loss to rounding."""
    theta = trained_point(paper_landscape, 5)
    theta[-33:] *= 8.0  # sharpen the output layer
    confident = paper_landscape.per_sample_loss(theta.unsqueeze(0))[0] < 1e-9
    assert int(confident.sum()) > 100
    landscape = MLPLandscape(paper_landscape.spec, paper_landscape.x[confident], paper_landscape.labels[confident])
    p = torch.softmax(mlp_forward(theta.unsqueeze(0), landscape.x, landscape.spec)[0][0], dim=1)
    assert bool((1 - p.max(dim=1).values == 0).any())
    reference = reference_hessian(landscape, theta)
    assert float(reference.abs().max()) < 1e-6
    assert relative_error(closed_form(landscape, theta), reference) < RTOL


def test_gauss_newton_term_alone_misses_the_cross_layer_residual(paper_landscape):
    """Control: ``A^T A / n`` alone is the generalised Gauss-Newton matrix, not the Hessian."""
    theta = trained_point(paper_landscape, 6)
    layers, logits, inputs = _forward(paper_landscape.spec, paper_landscape.x, theta)
    factor = gauss_newton_factor(layers, inputs, torch.softmax(logits, dim=1))
    gauss_newton = factor.T @ factor / paper_landscape.x.shape[0]
    reference = reference_hessian(paper_landscape, theta)
    assert relative_error(gauss_newton, reference) > 1e-3
    assert relative_error(closed_form(paper_landscape, theta), reference) < RTOL
    # the difference sits in the cross-layer blocks only: each layer's own block (W_l, b_l) is pure GN
    for weight, bias in _slices(paper_landscape.spec):
        own = slice(weight.start, bias.stop)
        assert relative_error(gauss_newton[own, own], reference[own, own]) < RTOL


@pytest.mark.parametrize("scale", [1.0, 10.0])
def test_covariance_factor_reproduces_the_multinomial_covariance(scale):
    logits = scale * torch.randn(50, 5, generator=gen(7), dtype=F64)
    p = torch.softmax(logits, dim=1)
    u = covariance_factor(p)
    assert u.shape == (50, 4, 5)
    product = u.transpose(1, 2) @ u
    off_diagonal = ~torch.eye(5, dtype=torch.bool)
    torch.testing.assert_close(product[:, off_diagonal], -(p.unsqueeze(2) * p.unsqueeze(1))[:, off_diagonal],
                               rtol=0, atol=1e-16)
    # the diagonal p_c (1 - p_c) to relative accuracy even where p_c is ~1 (1 - p_c as a sum, not a difference)
    others = (p.unsqueeze(1) * off_diagonal).sum(dim=2)  # sum_{k != c} p_k
    exact = p * others
    if scale > 1:
        assert float(others.min()) < 1e-10  # some p_c within 1e-10 of 1
    torch.testing.assert_close(torch.diagonal(product, dim1=1, dim2=2), exact, rtol=1e-13, atol=0)


def test_landscape_eigenvalues_use_the_closed_form_for_an_mlp():
    landscape = landscape_for((4, 6, 5, 3), n=40)
    thetas = torch.stack([random_point(landscape, seed) for seed in range(3)])
    fast = landscape_hessian_eigenvalues(landscape, thetas)
    slow = batched_hessian_eigenvalues(lambda t: landscape.loss(t.unsqueeze(0))[0], thetas)
    assert fast.shape == (3, landscape.n_params) and fast.dtype == F64
    torch.testing.assert_close(fast, slow, rtol=0, atol=1e-12 * float(slow.abs().max()))
    assert landscape_hessian_eigenvalues(landscape, thetas[:0]).shape == (0, landscape.n_params)


def test_landscape_eigenvalues_of_the_quadratic_go_through_torch_func():
    stiffness = [3.0, 2.0, 0.5]
    landscape = quadratic(5, stiffness)
    thetas = torch.randn(2, 5, generator=gen(8), dtype=F64)
    expected = torch.tensor([0.0, 0.0, *sorted(stiffness)], dtype=F64)
    for row in landscape_hessian_eigenvalues(landscape, thetas):
        torch.testing.assert_close(row, expected, rtol=0, atol=1e-12)
