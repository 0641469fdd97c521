"""Tests of thermoscape.studies.fort.random_model (Fort & Ganguli Secs. 3-4) against explicit sums and closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from thermoscape.studies.fort import random_model as rm
from thermoscape.core.seeds import derive_seed
from thermoscape.measure.spectrum import descending_eigh, outlier_count

F64 = torch.float64

SUMMARY_COLUMNS = [
    "seed", "n_classes", "dim", "n_examples", "sigma_z", "sigma_c", "sigma_e", "q_slsc", "q_sl", "q_dl",
    "q_sl_theory", "mean_max_p", "accuracy", "n_outliers", "gap_ratio", "bulk_edge", "power_top_c_minus_1",
    "power_top_c", "power_top_2c", "power_top_c_eq16", "curvature_ratio", "trace_over_top",
    "top_outlier_eq16_rel_diff",
]
SWEEP_COLUMNS = [
    "exponent", "seed", "sigma_z", "sigma_c", "sigma_e", "lambda_max", "curvature_ratio", "trace_over_top",
    "projected_ratio", "projected_ratio_sd", "mean_max_p", "entropy_bits",
]


def small(seed: int = 0, n: int = 7, n_classes: int = 4, dim: int = 6, sigma_z: float = 2.0) -> rm.RandomModelDraw:
    return rm.draw(n, n_classes, dim, sigma_z, 1.0, 0.7, 0.8, seed)


def test_logit_hessians_are_eq7_and_annihilate_ones():
    p = small().p
    hess = rm.logit_hessians(p)
    for mu in range(len(p)):
        for k in range(p.shape[1]):
            for ell in range(p.shape[1]):
                expected = p[mu, k] * (float(k == ell) - p[mu, ell])
                assert hess[mu, k, ell] == pytest.approx(float(expected), abs=1e-15)
    assert torch.allclose(hess @ torch.ones(p.shape[1], dtype=F64), torch.zeros(len(p), p.shape[1], dtype=F64),
                          atol=1e-15)
    assert (torch.linalg.eigvalsh(hess) > -1e-15).all()  # PSD


def test_model_hessian_equals_explicit_sum_over_examples():
    model = small()
    j, hess = rm.logit_gradients(model), rm.logit_hessians(model.p)
    explicit = sum(j[mu].T @ hess[mu] @ j[mu] for mu in range(model.n_examples)) / model.n_examples
    assert torch.allclose(rm.model_hessian(j, hess), explicit, atol=1e-13)
    assert torch.equal(j, model.c[None] + model.residuals)  # Eq. 14


def test_decomposed_hessian_is_eq16_and_differs_from_eq10_by_the_cross_terms():
    model = small(seed=1)
    c, e, hess = model.c, model.residuals, rm.logit_hessians(model.p)
    n = model.n_examples
    p_bar = sum(hess[mu] for mu in range(n)) / n
    explicit = c.T @ p_bar @ c + sum(e[mu].T @ hess[mu] @ e[mu] for mu in range(n)) / n
    h16 = rm.decomposed_hessian(c, e, hess)
    assert torch.allclose(h16, explicit, atol=1e-13)
    cross = sum(c.T @ hess[mu] @ e[mu] + e[mu].T @ hess[mu] @ c for mu in range(n)) / n
    assert torch.allclose(rm.model_hessian(rm.logit_gradients(model), hess) - h16, cross, atol=1e-13)


def test_rank_of_the_mean_logit_gradient_term_is_c_minus_1():
    n_classes = 5
    model = rm.draw(30, n_classes, 40, 1.5, 1.0, 0.5, 0.9, 2)
    low_rank = model.c.T @ rm.logit_hessians(model.p).mean(dim=0) @ model.c
    assert int(torch.linalg.matrix_rank(low_rank)) == n_classes - 1


def test_model_gradient_and_hessian_match_autograd_of_a_linear_logit_model():
    """With logits linear in W (the NTK case, no H-term), z^mu(W) = z^mu + J^mu W, autograd at W = 0 gives
    exactly Eq. 8 with the corrected sign p - y and Eq. 10."""
    model = small(seed=3)
    j = rm.logit_gradients(model)

    def loss(w):
        z = model.z + j @ w
        return torch.nn.functional.cross_entropy(z, model.labels)

    w0 = torch.zeros(model.dim, dtype=F64, requires_grad=True)
    (grad,) = torch.autograd.grad(loss(w0), w0)
    assert torch.allclose(rm.model_gradient(j, model.p, model.labels), grad, atol=1e-14)
    hessian = torch.autograd.functional.hessian(loss, w0.detach())
    assert torch.allclose(rm.model_hessian(j, rm.logit_hessians(model.p)), hessian, atol=1e-13)


def test_entropy_bits_closed_forms():
    assert torch.allclose(rm.entropy_bits(torch.full((2, 8), 1 / 8, dtype=F64)), torch.full((2,), 3.0, dtype=F64))
    assert torch.equal(rm.entropy_bits(torch.eye(4, dtype=F64)), torch.zeros(4, dtype=F64))
    assert rm.entropy_bits(torch.tensor([0.5, 0.5, 0.0])) == pytest.approx(1.0)


def test_entropy_curve_falls_from_log2_c_to_zero():
    table = rm.entropy_curve([3, 10], np.geomspace(1e-3, 1e2, 11), 400, 0)
    assert list(table.columns) == ["n_classes", "sigma_z", "entropy_bits", "entropy_sd"]
    for classes, group in table.groupby("n_classes"):
        s = group.sort_values("sigma_z")["entropy_bits"].to_numpy()
        assert s[0] == pytest.approx(math.log2(classes), abs=1e-5)
        assert (np.diff(s) < 0).all()
        assert s[-1] < 0.1


def test_freezing_simplex_rows_are_distributions_moving_to_corners():
    table = rm.freezing_simplex([0.1, 1.0, 10.0], 50, 0)
    assert list(table.columns) == ["sigma_z", "example", "p1", "p2", "p3"] and len(table) == 150
    p = table[["p1", "p2", "p3"]].to_numpy()
    assert np.allclose(p.sum(axis=1), 1.0)
    max_p = table.assign(m=p.max(axis=1)).groupby("sigma_z")["m"].mean().to_numpy()
    assert (np.diff(max_p) > 0).all()
    base = torch.softmax(15.0 * rm.draw(50, 3, 1, 1.0, 1.0, 1.0, 1.0, 7).z, dim=1).numpy()
    assert np.allclose(rm.freezing_simplex([15.0], 50, 7)[["p1", "p2", "p3"]].to_numpy(), base)


def test_draw_is_reproducible_and_rescalable():
    a, b = rm.draw(20, 5, 30, 3.0, 0.2, 0.1, 0.9, 11), rm.draw(20, 5, 30, 3.0, 0.2, 0.1, 0.9, 11)
    for name in ("z", "p", "labels", "c", "residuals"):
        assert torch.equal(getattr(a, name), getattr(b, name))
    assert not torch.equal(a.c, rm.draw(20, 5, 30, 3.0, 0.2, 0.1, 0.9, 12).c)
    unit = rm.draw(20, 5, 30, 1.0, 1.0, 1.0, 0.9, 11)
    c = rm.rescale(unit, 3.0, 0.2, 0.1)
    for name in ("z", "p", "labels", "c", "residuals"):
        assert torch.equal(getattr(a, name), getattr(c, name))
    assert a.z.dtype == a.c.dtype == a.residuals.dtype == F64
    assert (a.n_examples, a.n_classes, a.dim) == (20, 5, 30)


def test_draw_realises_the_accuracy_within_binomial_tolerance():
    n, accuracy = 4000, 0.9
    model = rm.draw(n, 6, 1, 5.0, 1.0, 1.0, accuracy, 0)
    top = model.p.argmax(dim=1)
    correct = (model.labels == top).to(F64).mean()
    assert abs(float(correct) - accuracy) < 4 * math.sqrt(accuracy * (1 - accuracy) / n)
    wrong = model.labels[model.labels != top]
    # the wrong labels are uniform over the other classes: roughly equal shift counts
    shifts = torch.bincount((wrong - top[model.labels != top]) % 6, minlength=6)[1:].to(F64)
    assert shifts.min() > 0.5 * shifts.mean()


def test_sigma_c_schedule():
    assert rm.sigma_c_schedule(15.0, 0.25, 15.0, 0.03) == pytest.approx(0.03)
    assert rm.sigma_c_schedule(150.0, 0.5, 15.0, 2.0) == pytest.approx(2.0 * math.sqrt(10.0))
    assert np.allclose(rm.sigma_c_schedule(np.array([1.0, 4.0]), 0.0), [1.0, 1.0])
    assert rm.sigma_c_schedule(30.0, 1.0) == pytest.approx(2.0)


def test_paper_size_model_has_c_minus_1_outliers():
    """Brief 5.1: N = 300, C = 10, D = 1000, sigma_z = 15, sigma_c = 1/sqrt(D), sigma_E = 0.7/sqrt(D)."""
    n_classes, dim = 10, 1000
    model = rm.draw(300, n_classes, dim, 15.0, 1 / math.sqrt(dim), 0.7 / math.sqrt(dim), 0.95, 0)
    h = rm.model_hessian(rm.logit_gradients(model), rm.logit_hessians(model.p))
    values = torch.linalg.eigvalsh(h).flip(0)
    n_outliers, gap = outlier_count(values, 2 * n_classes)
    assert n_outliers == n_classes - 1 and gap >= 3.0


def test_base_measurements_tables():
    n_classes, dim = 5, 300
    model = rm.draw(100, n_classes, dim, 15.0, 1 / math.sqrt(dim), 0.7 / math.sqrt(dim), 0.95, 1)
    summary, spectrum = rm.base_measurements(model)
    assert list(summary) == SUMMARY_COLUMNS
    assert list(spectrum.columns) == ["seed", "rank", "eigenvalue", "eigenvalue_eq16", "cosine", "cosine_eq16"]
    assert len(spectrum) == dim and (spectrum["rank"].to_numpy() == np.arange(1, dim + 1)).all()
    assert (np.diff(spectrum["eigenvalue"]) <= 0).all() and (np.diff(spectrum["eigenvalue_eq16"]) <= 0).all()
    assert (spectrum["cosine"] ** 2).sum() == pytest.approx(1.0)
    assert summary["n_outliers"] == n_classes - 1 and summary["gap_ratio"] >= 3.0
    assert summary["power_top_c_minus_1"] <= summary["power_top_c"] <= summary["power_top_2c"] <= 1.0
    assert summary["q_sl_theory"] == pytest.approx(1 / 0.49 / (1 / 0.49 + 1))
    assert summary["top_outlier_eq16_rel_diff"] < 0.2
    values = torch.tensor(spectrum["eigenvalue"].to_numpy())
    assert summary["curvature_ratio"] == pytest.approx(float(values.sum() / values.norm()))
    assert summary["trace_over_top"] == pytest.approx(float(values.sum() / values[0]))
    again, _ = rm.base_measurements(rm.draw(100, n_classes, dim, 15.0, 1 / math.sqrt(dim), 0.7 / math.sqrt(dim),
                                            0.95, 1))
    assert again == summary


def test_eigenvalues_of_base_measurements_are_those_of_the_hessians():
    model = small(seed=4, n=20, n_classes=3, dim=10)
    _, spectrum = rm.base_measurements(model)
    hess = rm.logit_hessians(model.p)
    values, _ = descending_eigh(rm.model_hessian(rm.logit_gradients(model), hess))
    assert np.allclose(spectrum["eigenvalue"], values.numpy())
    values16, _ = descending_eigh(rm.decomposed_hessian(model.c, model.residuals, hess))
    assert np.allclose(spectrum["eigenvalue_eq16"], values16.numpy())


def test_sweep_scales_with_sigma_c_squared_and_the_ratio_is_schedule_free():
    """With sigma_E / sigma_c fixed, H = sigma_c^2 H_unit(p): lambda_max scales like sigma_c^2 and
    Tr/||H|| does not depend on the schedule (Sec. 4 (4))."""
    sigma_zs = [0.01, 1.0, 30.0]
    args = (40, 4, 50, sigma_zs)
    sweep = rm.sigma_z_sweep(*args, [0.0, 0.5], 0.1, 0.07, 0.95, 3, 3, 5)
    assert list(sweep.columns) == SWEEP_COLUMNS and len(sweep) == 6
    flat, grow = (sweep[sweep["exponent"] == a].reset_index(drop=True) for a in (0.0, 0.5))
    assert np.allclose(grow["sigma_c"], 0.1 * np.sqrt(np.array(sigma_zs) / 15.0))
    assert np.allclose(grow["sigma_e"] / grow["sigma_c"], 0.7)
    assert np.allclose(grow["lambda_max"] / flat["lambda_max"], (grow["sigma_c"] / 0.1) ** 2)
    for column in ("curvature_ratio", "trace_over_top", "projected_ratio", "mean_max_p", "entropy_bits"):
        assert np.allclose(grow[column], flat[column])
    assert (np.diff(flat["entropy_bits"]) < 0).all() and (np.diff(flat["mean_max_p"]) > 0).all()
    point = rm.sweep_point(rm.draw(40, 4, 50, 1.0, 0.1, 0.07, 0.95, 3), 3, 5,
                           torch.Generator().manual_seed(derive_seed(3, "projections")))
    assert point == {k: v for k, v in flat.iloc[1].items() if k != "exponent"}
    # the schedule by rescaling equals a point drawn at the grown sigma_c itself
    grown = rm.sweep_point(rm.draw(40, 4, 50, 30.0, grow["sigma_c"][2], grow["sigma_e"][2], 0.95, 3), 3, 5,
                           torch.Generator().manual_seed(derive_seed(3, "projections")))
    assert grown["lambda_max"] == pytest.approx(grow["lambda_max"][2], rel=1e-9)
    assert grown["projected_ratio"] == pytest.approx(grow["projected_ratio"][2], rel=1e-9)
