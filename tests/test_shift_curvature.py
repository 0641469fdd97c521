"""Bradley et al. shift-curvature pipeline (thermoscape.studies.bradley.shift_curvature): SGD bookkeeping, the line (Eq. 31),
reflected fits (App. F), u^T H u against explicit Hessians, the Eq. 3 summary and the Fig. 5 helpers."""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import grad

from thermoscape.studies.bradley import shift_curvature as sc
from thermoscape.measure.curvature import full_hessian, hvp
from thermoscape.data.tensors import Data
from thermoscape.nets import build
from thermoscape.nets.small import loss_fn, small_spec
from thermoscape.nets.networks import evaluate, flat_parameters, functional_logits, set_flat_parameters


def tiny_data(n_train: int = 24, n_test: int = 12, seed: int = 0) -> Data:
    """Random 4x4 'images' with three classes; the first feature is a unique sample id."""
    generator = torch.Generator().manual_seed(seed)
    n = n_train + n_test
    x = torch.rand(n, 16, generator=generator, dtype=torch.float64)
    x[:, 0] = torch.arange(n, dtype=torch.float64) / n
    y = torch.arange(n) % 3
    return Data(x[:n_train], y[:n_train], x[n_train:], y[n_train:], 3, "unit")


def tiny_model(activation: str = "tanh", seed: int = 0):
    return build(small_spec("mlp", activation, (16,), 3, [5], []), seed, torch.float64)


# --- reflected fits -----------------------------------------------------------------------------------------


def test_reflected_fit_recovers_an_exact_parabola_with_and_without_offset():
    x = torch.linspace(0, 2, 21, dtype=torch.float64)
    assert sc.reflected_curvature(x, 0.5 * 3.0 * x**2, 2.0) == pytest.approx(3.0, rel=1e-12)
    a, c = sc.reflected_fit(x, 0.25 + 0.5 * 3.0 * x**2, 2.0, offset=True)
    assert (a, c) == pytest.approx((0.25, 3.0), rel=1e-10)
    # points outside [0, max_x] are ignored
    x_all = torch.cat([-x[1:], x, x + 2.5])
    y_all = torch.cat([torch.full((20,), 99.0), 1.5 * x**2, torch.full((21,), -7.0)])
    assert sc.reflected_curvature(x_all, y_all, 2.0) == pytest.approx(3.0, rel=1e-12)


def test_reflected_fit_of_an_asymmetric_function_matches_the_closed_form_on_its_range():
    x = torch.linspace(0, 2, 41, dtype=torch.float64)
    c, b = 3.0, 0.4
    y = 0.5 * c * x**2 + b * x**3
    for max_x in (2.0, 1.0):
        sub = x[x <= max_x + 1e-12]
        expected = c + 2 * b * (sub**5).sum() / (sub**4).sum()  # c = 2 sum x^2 y / sum x^4
        assert sc.reflected_curvature(x, y, max_x) == pytest.approx(float(expected), rel=1e-12)
    full, half = sc.reflected_curvature(x, y, 2.0), sc.reflected_curvature(x, y, 1.0)
    assert c < half < full  # the cubic term biases the fit upwards, less on the restricted range


# --- curvature along the line against explicit Hessians ----------------------------------------------------


def test_directional_curvature_by_chunked_hvp_equals_the_explicit_hessian_contraction():
    data, model = tiny_data(), tiny_model()
    theta = flat_parameters(model)
    direction = torch.randn(theta.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    u = direction / direction.norm()
    hess = full_hessian(loss_fn(functional_logits(model), data.x_train, data.y_train), theta)
    value = sc.directional_curvature(model, theta, data.x_train, data.y_train, 3.0 * direction, chunk=7)
    assert value == pytest.approx(float(u @ hess @ u), rel=1e-10)


def quadratic_line(fractions: torch.Tensor, theta_tr, theta_test, hess_tr, hess_test, u_tr0, u_test0):
    """A line table of exactly quadratic train/test losses with minima theta_tr / theta_test."""
    rows = []
    s = theta_test - theta_tr
    for f in fractions.tolist():
        theta = torch.lerp(theta_tr, theta_test, f)
        d_tr, d_test = theta - theta_tr, theta - theta_test
        rows.append((f * float(s.norm()), u_tr0 + 0.5 * float(d_tr @ hess_tr @ d_tr),
                     u_test0 + 0.5 * float(d_test @ hess_test @ d_test), 100.0, 100.0))
    return pd.DataFrame(rows, columns=sc.LINE_COLUMNS)


def test_quadratic_losses_give_line_curvatures_equal_to_uhu_and_an_exact_taylor_prediction():
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(6, 6, generator=generator, dtype=torch.float64)
    b = torch.randn(6, 6, generator=generator, dtype=torch.float64)
    hess_tr, hess_test = a @ a.T + torch.eye(6, dtype=torch.float64), b @ b.T
    theta_tr = torch.randn(6, generator=generator, dtype=torch.float64)
    theta_test = theta_tr + torch.randn(6, generator=generator, dtype=torch.float64)
    s = theta_test - theta_tr
    u = s / s.norm()
    # u^T H u by the HVP of curvature.hvp on the same quadratic (network-free)
    quad = lambda t: 0.5 * (t - theta_test) @ hess_test @ (t - theta_test)
    hvp_test = float(hvp(quad, theta_test, u) @ u)
    assert hvp_test == pytest.approx(float(u @ hess_test @ u), rel=1e-12)

    line = quadratic_line(sc.line_fractions(), theta_tr, theta_test, hess_tr, hess_test, 0.1, 0.2)
    norm = float(s.norm())
    for fraction in (1.0, 0.5):
        c_train, c_test = sc.line_curvatures(line, norm, fraction)
        assert c_train == pytest.approx(float(u @ hess_tr @ u), rel=1e-10)
        assert c_test == pytest.approx(hvp_test, rel=1e-10)
    row = sc.shift_row(1e-3, 0, 0.1, 100, 20, line, norm, hvp_test=hvp_test)
    assert list(row) == sc.SUMMARY_COLUMNS and row["finite"]
    measured = 0.2 + 0.5 * float(s @ hess_test @ s)
    assert row["test_at_train"] == pytest.approx(measured, rel=1e-12)
    assert row["prediction"] == pytest.approx(measured, rel=1e-10)
    assert row["prediction_half"] == pytest.approx(measured, rel=1e-10)
    assert row["shift_curvature"] == pytest.approx(float(s @ hess_test @ s), rel=1e-10)
    assert (row["train_minimum_loss"], row["test_minimum_loss"]) == pytest.approx((0.1, 0.2), rel=1e-12)
    # the offset fit is also exact on a quadratic
    assert sc.line_curvatures(line, norm, 1.0, offset=True)[1] == pytest.approx(hvp_test, rel=1e-8)


def test_line_curvatures_fit_the_one_sided_reflected_range():
    fractions = sc.line_fractions()
    norm = 2.0
    r = fractions * norm
    line = pd.DataFrame({"r": r, "train_loss": 0.1 + 1.5 * r**2 - 0.7 * r**3,
                         "test_loss": 0.2 + (norm - r) ** 2 + 0.9 * (norm - r) ** 3 + 5.0 * (r > norm),
                         "train_accuracy": 100.0, "test_accuracy": 100.0})
    for fraction in (1.0, 0.5):
        c_train, c_test = sc.line_curvatures(line, norm, fraction)
        x = torch.linspace(0, fraction * norm, 1 + round(20 * fraction), dtype=torch.float64)
        assert c_train == pytest.approx(sc.reflected_curvature(x, 1.5 * x**2 + 0.7 * x**3, 99.0), rel=1e-12)
        assert c_test == pytest.approx(sc.reflected_curvature(x, x**2 + 0.9 * x**3, 99.0), rel=1e-12)
    row = sc.shift_row(1e-3, 0, 0.1, 100, 20, line, norm)
    assert row["c_test"] > row["c_test_half"] > 2.0 and row["c_train"] > row["c_train_half"] > 3.0
    assert row["prediction_half"] == pytest.approx(0.2 + 0.5 * row["c_test_half"] * norm**2, rel=1e-12)
    assert row["test_at_train"] == pytest.approx(0.2 + 4.0 + 0.9 * 8.0, rel=1e-12)


def test_line_fit_on_a_short_network_line_approaches_uhu():
    data, model = tiny_data(), tiny_model()
    theta_test = flat_parameters(model)
    direction = torch.randn(theta_test.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    s = 1e-3 * direction / direction.norm()
    theta_tr = theta_test - s
    test_set = Data(data.x_test, data.y_test, data.x_test, data.y_test, 3, "unit")
    line = sc.line_losses(model, test_set, theta_tr, theta_test, sc.line_fractions(-1, 2, 61))
    hess = full_hessian(loss_fn(functional_logits(model), data.x_test, data.y_test), theta_test)
    u = s / s.norm()
    # a linear term: the slope at theta_test is not zero here, so fit the curvature of y minus the slope
    g = float(grad(loss_fn(functional_logits(model), data.x_test, data.y_test))(theta_test) @ u)
    x = 1e-3 - torch.as_tensor(line["r"].to_numpy().copy())
    y = torch.as_tensor(line["test_loss"].to_numpy().copy()) - line["test_loss"].iloc[40] + g * x
    assert sc.reflected_curvature(x, y, 1e-3) == pytest.approx(float(u @ hess @ u), rel=1e-3)


# --- the line ------------------------------------------------------------------------------------------------


def test_line_fractions_hold_zero_and_one_exactly():
    fractions = sc.line_fractions()
    assert fractions.numel() == 61 and fractions[0] == -1.0 and fractions[-1] == 2.0
    assert fractions[20] == 0.0 and fractions[40] == 1.0
    with pytest.raises(ValueError, match="does not contain"):
        sc.line_fractions(-1.0, 2.0, 60)


def test_line_ends_equal_the_losses_at_the_minima_and_points_lie_on_the_line():
    data, model = tiny_data(), tiny_model()
    theta_tr = flat_parameters(model)
    theta_test = theta_tr + 0.3 * torch.randn(theta_tr.shape, generator=torch.Generator().manual_seed(3),
                                              dtype=torch.float64)
    line = sc.line_losses(model, data, theta_tr, theta_test, sc.line_fractions(-1, 2, 7), chunk=5)
    norm = float((theta_test - theta_tr).norm())
    assert line.columns.tolist() == sc.LINE_COLUMNS
    assert line["r"].tolist() == pytest.approx([-norm, -norm / 2, 0, norm / 2, norm, 1.5 * norm, 2 * norm])
    for index, theta in ((2, theta_tr), (4, theta_test), (0, theta_tr - (theta_test - theta_tr))):
        set_flat_parameters(model, theta)
        train, test = evaluate(model, data.x_train, data.y_train, 5), evaluate(model, data.x_test, data.y_test, 5)
        expected = [train[0], test[0], train[1], test[1]]
        tolerance = 0 if index else 1e-12
        assert line.iloc[index, 1:].tolist() == pytest.approx(expected, rel=tolerance, abs=tolerance)


# --- SGD -----------------------------------------------------------------------------------------------------


def test_temperature_and_schedules():
    assert sc.temperature(0.01, 100) == pytest.approx(1e-4)
    assert sc.stage_a_schedule(1e-4, 100, 0.02) == pytest.approx((0.01, 200))
    assert sc.stage_a_schedule(1.6e-3, 100, 0.02)[1] == 13
    assert sc.stage_a_schedule(4e-4, 100, 0.25)[1] == 625
    lrs = [sc.step_decay_lr(0.1, e, 100, (0.5, 0.75)) for e in (0, 49, 50, 74, 75, 99)]
    assert lrs == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_sgd_is_reproducible_and_follows_the_schedule():
    data = tiny_data()
    runs = [sc.sgd(tiny_model(), data.x_train, data.y_train, 0.1, 5, 4, 1e-3, seed, milestones=(0.5,))
            for seed in (0, 0, 1)]
    assert torch.equal(runs[0].theta, runs[1].theta) and not torch.equal(runs[0].theta, runs[2].theta)
    assert runs[0].finite and runs[0].epochs == 4
    assert runs[0].history["lr"].tolist() == pytest.approx([0.1, 0.1, 0.01, 0.01])


def test_weight_decay_is_the_l2_term_on_one_full_batch_step():
    data, model = tiny_data(), tiny_model()
    theta0 = flat_parameters(model)
    objective = lambda t: loss_fn(functional_logits(model), data.x_train, data.y_train)(t) + 0.05 * t @ t
    expected = theta0 - 0.3 * grad(objective)(theta0)
    run = sc.sgd(model, data.x_train, data.y_train, 0.3, None, 1, weight_decay=0.1)
    torch.testing.assert_close(run.theta, expected, rtol=1e-12, atol=1e-14)


def test_gradient_norm_is_that_of_the_chunked_mean_loss_plus_l2():
    data, model = tiny_data(), tiny_model()
    theta = flat_parameters(model)
    objective = lambda t: loss_fn(functional_logits(model), data.x_train, data.y_train)(t) + 0.05 * t @ t
    expected = float(grad(objective)(theta).norm())
    assert sc.gradient_norm(model, theta, data.x_train, data.y_train, 0.1, chunk=7) == pytest.approx(expected,
                                                                                                       rel=1e-12)


def test_fixed_cyclic_batches_equal_a_hand_written_loop():
    data, model = tiny_data(), tiny_model()
    theta = flat_parameters(model)
    logits_fn = functional_logits(model)
    for _ in range(2):  # 2 epochs of batches [0:10], [10:20], [20:24]
        for start in (0, 10, 20):
            xs, ys = data.x_train[start : start + 10], data.y_train[start : start + 10]
            theta = theta - 0.2 * grad(lambda t, xs=xs, ys=ys: F.cross_entropy(logits_fn(t, xs), ys))(theta)
    run = sc.sgd(model, data.x_train, data.y_train, 0.2, 10, 2, shuffle=False, drop_last=False)
    torch.testing.assert_close(run.theta, theta, rtol=1e-12, atol=1e-14)


def test_divergence_is_flagged_not_raised_and_eval_fn_is_recorded():
    data = tiny_data()
    run = sc.sgd(tiny_model("relu"), data.x_train, data.y_train, 1e150, 4, 5, seed=0)
    assert not run.finite and run.epochs < 5
    run = sc.sgd(tiny_model(), data.x_train, data.y_train, 0.1, 4, 3, eval_fn=sc.loss_evaluator(data))
    assert run.history["epoch"].tolist() == [1, 2, 3]
    final = F.cross_entropy(functional_logits(tiny_model())(run.theta, data.x_test), data.y_test)
    assert run.history["test_loss"].iloc[-1] == pytest.approx(float(final), rel=1e-12)


def run_stages(model, data, T):
    """Stage A -> stage B on train and test -> line and summary, as the workflow's three rules chain them."""
    start = sc.stage_a(model, data, T, 0, batch=4, epochs_times_T=0.02)
    train, test = (sc.stage_b(model, start, x, y, 0.1, None, 20, 1e-5)
                   for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)))
    return start, train, test, *sc.line_summary(model, data, T, 0, start, train, test, sc.line_fractions(-1, 2, 13))


def test_stages_end_to_end_and_when_stage_a_diverges():
    data = tiny_data()
    start, train, test, row, line = run_stages(tiny_model(), data, 5e-3)
    assert list(row) == sc.SUMMARY_COLUMNS and row["finite"] and len(line) == 13
    assert (row["lr"], row["epochs"]) == pytest.approx((0.02, 4))
    assert row["test_at_train"] == line["test_loss"].iloc[4] and row["shift_norm"] == line["r"].iloc[8]
    assert row["grad_norm_train"] == train["grad_norm"] > 0 and math.isfinite(row["hvp_test"])
    assert row["shift_norm"] == pytest.approx(float((test["theta"] - train["theta"]).norm()))
    assert row["sgd_test_loss"] == start["test_loss"] > 0
    start, train, test, row, line = run_stages(tiny_model("relu"), data, 1e150)
    assert not start["finite"] and math.isnan(start["train_loss"])
    assert not train["finite"] and torch.equal(train["theta"], start["theta"])  # passed on, not descended
    assert not row["finite"] and math.isnan(row["c_test"]) and line.empty and list(row) == sc.SUMMARY_COLUMNS


# --- Fig. 5 helpers --------------------------------------------------------------------------------------------


def test_median_of_the_last_k():
    assert sc.median_last([9.0, 9.0, 1.0, 5.0, 2.0], 3) == 2.0
    assert sc.median_last([9.0, 1.0, 5.0, 2.0], 2) == 3.5
    assert sc.median_last([4.0, 1.0], 10) == 2.5


def test_sweep_row_uses_lr_t_times_b_and_the_median_of_the_last_evaluations():
    data, model = tiny_data(), tiny_model()
    theta = flat_parameters(model)
    row = sc.sweep_row(model, data, theta, 0.01, 6, 5, 1e-4, 3, seed=2)
    assert list(row) == sc.SWEEP_COLUMNS and row["finite"] and row["lr"] == pytest.approx(0.06)
    run = sc.sgd(tiny_model(), data.x_train, data.y_train, 0.06, 6, 5, 1e-4, 2, eval_fn=sc.loss_evaluator(data),
                 theta0=theta)
    assert row["final_test"] == pytest.approx(float(run.history["test_loss"].iloc[-3:].median()), rel=1e-12)
    assert row["final_train"] == pytest.approx(float(run.history["train_loss"].iloc[-3:].median()), rel=1e-12)


def test_sweep_rows_restart_from_the_stage1_batch_norm_statistics():
    """VGG9-like: with batch norm, each temperature starts from stage 1's running statistics, so a row does
    not depend on the runs before it in the same job."""
    data = tiny_data()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(data.x_train.shape[1], 8), nn.BatchNorm1d(8), nn.ReLU(),
                          nn.Linear(8, data.n_classes)).double()
    sc.sgd(model, data.x_train, data.y_train, 0.1, 6, 3, seed=1)
    theta, buffers = flat_parameters(model).clone(), sc.model_buffers(model)
    assert buffers and not torch.equal(buffers["2.running_mean"], torch.zeros(8, dtype=torch.float64))
    alone = sc.sweep_row(copy.deepcopy(model), data, theta, 0.01, 6, 3, 0.0, 2, seed=2, buffers=buffers)
    sc.sweep_row(model, data, theta, 0.05, 6, 3, 0.0, 2, seed=2, buffers=buffers)
    assert sc.sweep_row(model, data, theta, 0.01, 6, 3, 0.0, 2, seed=2, buffers=buffers) == alone
    sc.sweep_row(model, data, theta, 0.05, 6, 3, 0.0, 2, seed=2, buffers=buffers)
    assert sc.sweep_row(model, data, theta, 0.01, 6, 3, 0.0, 2, seed=2) != alone  # without: the last run's


def test_shuffled_split_keeps_sizes_and_the_multiset_of_samples():
    data = tiny_data()
    shuffled = sc.shuffled_split(data, seed=4)
    assert shuffled.x_train.shape == data.x_train.shape and shuffled.x_test.shape == data.x_test.shape
    merged = torch.cat([shuffled.x_train, shuffled.x_test])
    labels = torch.cat([shuffled.y_train, shuffled.y_test])
    order = merged[:, 0].argsort()
    torch.testing.assert_close(merged[order], torch.cat([data.x_train, data.x_test]), rtol=0, atol=0)
    assert torch.equal(labels[order], torch.cat([data.y_train, data.y_test]))
    assert not torch.equal(shuffled.x_train, data.x_train)
    assert torch.equal(sc.shuffled_split(data, seed=4).x_test, shuffled.x_test)


def test_subsampled_split_is_proportional_and_draws_distinct_samples():
    data = tiny_data(80, 20)
    sub = sc.subsampled_split(data, 50, seed=1)
    assert (sub.x_train.shape[0], sub.x_test.shape[0]) == (40, 10)
    ids = torch.cat([sub.x_train[:, 0], sub.x_test[:, 0]])
    assert ids.unique().numel() == 50
    merged = torch.cat([data.x_train, data.x_test])
    index = (ids * 100).round().long()
    torch.testing.assert_close(torch.cat([sub.x_train, sub.x_test]), merged[index], rtol=0, atol=0)
    assert sc.subsampled_split(data, 100, seed=1).x_train.shape[0] == 80
    with pytest.raises(ValueError):
        sc.subsampled_split(data, 101, seed=1)
