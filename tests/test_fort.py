"""Fort & Ganguli real-network measurements (thermoscape.studies.fort.experiment) against explicit autograd computations."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.func import hessian

from thermoscape.studies.fort import experiment as fort
from thermoscape.measure.curvature import lanczos_eigenpairs
from thermoscape.nets import build
from thermoscape.nets.networks import flat_parameters, functional_logits
from thermoscape.nets.small import small_spec
from thermoscape.measure.similarity import logit_clustering


def tiny_model(arch: str = "mlp", activation: str = "tanh", n_classes: int = 3, seed: int = 0):
    return build(small_spec(arch, activation, (16,), n_classes, [5], [2, 3]), seed, torch.float64)


def tiny(arch: str = "mlp", activation: str = "tanh", n: int = 24, n_classes: int = 3, seed: int = 0):
    """A small network on random 4x4 'images' with every class present."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 16, generator=generator, dtype=torch.float64)
    y = torch.arange(n) % n_classes
    model = tiny_model(arch, activation, n_classes, seed)
    return functional_logits(model), flat_parameters(model).detach(), x, y


def explicit_g_term(logits_fn, theta, x):
    """(1/N) sum_mu J^T (diag p - p p^T) J with J from torch.autograd.functional.jacobian, one example at a time."""
    total = torch.zeros(theta.numel(), theta.numel(), dtype=torch.float64)
    for sample in x:
        jac = torch.autograd.functional.jacobian(lambda t, s=sample: logits_fn(t, s[None])[0], theta)
        p = torch.softmax(logits_fn(theta, sample[None])[0], dim=0).detach()
        total += jac.T @ (torch.diag(p) - torch.outer(p, p)) @ jac
    return total / x.shape[0]


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_g_term_plus_h_term_is_the_autograd_hessian(arch):
    logits_fn, theta, x, y = tiny(arch)
    full = hessian(fort.loss_fn(logits_fn, x, y))(theta)
    eye = torch.eye(theta.numel(), dtype=torch.float64)
    g_term = torch.stack([fort.ggn_operator(logits_fn, theta, x)(v) for v in eye])
    h_term = torch.stack([fort.h_term_operator(logits_fn, theta, x, y)(v) for v in eye])
    torch.testing.assert_close(g_term, explicit_g_term(logits_fn, theta, x))
    torch.testing.assert_close(g_term + h_term, full)
    assert h_term.abs().max() > 1e-3 * full.abs().max()  # the H-term is not trivially zero here


@pytest.mark.parametrize("arch", ["mlp", "cnn"])
def test_logit_jacobians_and_streamed_clustering_match_per_example_autograd(arch):
    logits_fn, theta, x, y = tiny(arch, "relu")
    model = tiny_model(arch, "relu")
    jac = fort.logit_jacobians(model, x)
    for mu in (0, 5):
        expected = torch.autograd.functional.jacobian(lambda t, m=mu: logits_fn(t, x[m : m + 1])[0], theta)
        torch.testing.assert_close(jac[mu], expected)
    geometry = fort.logit_geometry(tiny_model(arch, "relu", seed=1), theta, x, y, chunk=5)  # theta loaded
    for key, value in logit_clustering(jac, y).items():
        assert geometry.clustering[key] == pytest.approx(value, abs=1e-12)
    assert geometry.gradient_length == pytest.approx(float(jac.norm(dim=2).mean()))


def test_hutchinson_is_exact_for_a_diagonal_hessian_and_consistent_otherwise():
    d = torch.tensor([3.0, -1.0, 0.5, 2.0], dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    trace, ratio = fort.hutchinson_curvature(lambda v: d * v, torch.zeros(4, dtype=torch.float64), 3, generator)
    assert trace == pytest.approx(float(d.sum()))
    assert ratio == pytest.approx(float(d.sum() / d.norm()))
    h = torch.randn(30, 30, generator=generator, dtype=torch.float64)
    h = h @ h.T / 30 + torch.eye(30, dtype=torch.float64)
    estimate = fort.hutchinson_curvature(lambda v: h @ v, torch.zeros(30, dtype=torch.float64), 4000, generator)[1]
    assert estimate == pytest.approx(float(torch.trace(h) / torch.linalg.matrix_norm(h)), rel=0.05)


def test_lanczos_gives_the_extreme_eigenpairs_of_an_explicit_matrix():
    generator = torch.Generator().manual_seed(3)
    a = torch.randn(60, 60, generator=generator, dtype=torch.float64)
    h = (a + a.T) / 2
    exact = torch.linalg.eigvalsh(h)
    top, vectors = lanczos_eigenpairs(lambda v: h @ v, 60, 5, "LA", generator)
    torch.testing.assert_close(top, exact.flip(0)[:5])
    torch.testing.assert_close(h @ vectors, vectors * top)
    torch.testing.assert_close(lanczos_eigenpairs(lambda v: h @ v, 60, 2, "SA", generator)[0], exact[:2])


def test_hessian_structure_matches_the_exact_decomposition():
    logits_fn, theta, x, y = tiny(n_classes=3, n=30)
    loss = fort.loss_fn(logits_fn, x, y)
    full = hessian(loss)(theta)
    g_term = explicit_g_term(logits_fn, theta, x)
    table, summary = fort.hessian_structure(logits_fn, theta, x, y, 8, 4000, 5, 3, torch.Generator().manual_seed(0))
    values, vectors = torch.linalg.eigh(full)
    torch.testing.assert_close(torch.as_tensor(table["eigenvalue"].to_numpy()), values.flip(0)[:8])
    torch.testing.assert_close(torch.as_tensor(table["g_eigenvalue"].to_numpy()),
                               torch.linalg.eigvalsh(g_term).flip(0)[:8])
    h_term = torch.linalg.eigvalsh(full - g_term)
    torch.testing.assert_close(torch.as_tensor(table["h_eigenvalue"].to_numpy()), h_term.flip(0)[:8])
    assert summary["h_min"] == pytest.approx(float(h_term[0]))
    g = torch.func.grad(loss)(theta)
    top3 = vectors.flip(1)[:, :3]
    assert summary["power_top_c"] == pytest.approx(float((top3.T @ g).square().sum() / g.square().sum()))
    exact_ratio = float(torch.trace(full) / torch.linalg.matrix_norm(full))
    assert summary["curvature_ratio"] == pytest.approx(exact_ratio, rel=0.1)
    assert summary["lambda_max"] == pytest.approx(float(values[-1]))
    with pytest.raises(ValueError, match="2C"):
        fort.hessian_structure(logits_fn, theta, x, y, 6, 10, 5, 3, torch.Generator())


def test_load_data_records_and_applies_the_preprocessing():
    unit = fort.load_data("digits", 300, 100, "unit")
    assert unit.x_train.min() >= 0 and unit.x_train.max() <= 1 and unit.preprocess == "unit"
    zscore = fort.load_data("digits", 300, 100, "zscore")
    varying = zscore.x_train.std(dim=0) > 0
    torch.testing.assert_close(zscore.x_train.mean(dim=0), torch.zeros(64, dtype=torch.float64))
    torch.testing.assert_close(zscore.x_train.std(dim=0)[varying], torch.ones(int(varying.sum()), dtype=torch.float64))
    subset = fort.load_data("digits", 10_000, 100, "unit", classes=[2, 0, 1])
    assert subset.n_classes == 3 and set(subset.y_train.tolist()) == {0, 1, 2}
    # relabelled in the listed order: class 2 became 0
    assert torch.equal(subset.x_train[subset.y_train == 0][0], unit.x_train[unit.y_train == 2][0])
    with pytest.raises(ValueError, match="available"):
        fort.load_data("digits", 10_000, 100, "unit")
    with pytest.raises(ValueError, match="preprocess"):
        fort.load_data("digits", 100, 100, "centred")


def test_load_data_reads_a_user_supplied_idx_directory(tmp_path):
    from test_datasets import write_idx_dir  # MNIST-format files, as Debian's Fashion-MNIST package has them

    write_idx_dir(tmp_path, n_train=12, n_test=6)
    data = fort.load_data("fashion_mnist", 10, 6, "unit", path=str(tmp_path))
    assert data.x_train.shape == (10, 784) and data.x_test.shape == (6, 784) and data.n_classes == 10
    assert 0 <= float(data.x_train.min()) and float(data.x_train.max()) <= 1
    cnn = build(small_spec("cnn", "relu", (784,), 10, [8], [4, 4]), 0, torch.float64)
    assert cnn(data.x_train).shape == (10, 10)


def test_networks_have_the_documented_sizes():
    mlp = build(small_spec("mlp", "relu", (64,), 10, [32, 32], [16, 32, 32]), 0, torch.float64)
    assert sum(p.numel() for p in mlp.parameters()) == 3466  # brief 5.3: 64-32-32-10
    cnn = build(small_spec("cnn", "relu", (64,), 10, [32], [16, 32, 32]), 0, torch.float64)
    assert cnn(torch.zeros(5, 64, dtype=torch.float64)).shape == (5, 10)
    # SmallCNN of ref. [29] on CIFAR shapes: 448 + 4640 + 9248 + 1056 + 330 = 15,722 parameters (brief)
    cifar = build(small_spec("cnn", "relu", (3, 32, 32), 10, [32], [16, 32, 32]), 0, torch.float64)
    assert sum(p.numel() for p in cifar.parameters()) == 15_722
    with pytest.raises(ValueError, match="square"):
        build(small_spec("cnn", "relu", (60,), 10, [32], [16]), 0, torch.float64)


def test_training_is_reproducible_and_records_divergence():
    data = fort.Data(*tiny(n=40)[2:4], *tiny(n=20, seed=1)[2:4], 3, "unit")

    def run(lr):
        model = build(small_spec("mlp", "tanh", (16,), 3, [5], [2]), 0, torch.float64)
        return fort.train(model, data, fort.Training(lr, 10, 3), seed=0, checkpoints=[0, 2], n_stats=8)

    history, kept = run(0.5)
    again, _ = run(0.5)
    assert list(history["epoch"]) == [0.0, 1.0, 2.0, 3.0] and sorted(kept) == [0, 2]
    torch.testing.assert_close(torch.as_tensor(history.drop(columns="finite").to_numpy()),
                               torch.as_tensor(again.drop(columns="finite").to_numpy()), equal_nan=True)
    assert history["loss"].iloc[-1] < history["loss"].iloc[0]
    diverged, _ = run(1e300)
    assert not diverged["finite"].iloc[-1] and len(diverged) < 4


def test_logit_variance_and_max_probability_closed_forms():
    logits = torch.tensor([[0.0, 1.0, 2.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    assert fort.logit_variance(logits) == pytest.approx((2 / 3) / 2)
    expected = (math.exp(2) / (1 + math.e + math.exp(2)) + 1 / 3) / 2
    assert fort.mean_max_probability(logits) == pytest.approx(expected)


def test_logit_radius_scales_the_initialisation():
    logits_fn, theta, x, _ = tiny("mlp", "relu")
    table = fort.logit_radius(logits_fn, theta, x, [0.5, 1.0, 8.0])
    assert list(table["radius"]) == pytest.approx([s * float(theta.norm()) for s in (0.5, 1.0, 8.0)])
    assert table["logit_variance"].is_monotonic_increasing and table["mean_max_p"].is_monotonic_increasing
    with torch.no_grad():
        assert table["logit_variance"].iloc[1] == pytest.approx(fort.logit_variance(logits_fn(theta, x)))


def test_init_radius_row_and_hyperplane_training():
    logits_fn, theta, x, y = tiny("mlp", "relu", n=30)
    generator = torch.Generator().manual_seed(0)
    small = fort.init_radius_row(logits_fn, 0.5 * theta, x, y, 8, 4, 2, generator)
    large = fort.init_radius_row(logits_fn, 8.0 * theta, x, y, 8, 4, 2, generator)
    assert small["radius"] == pytest.approx(0.5 * float(theta.norm()))
    assert large["logit_variance"] > small["logit_variance"]  # Fig. 4 BR: logits grow with the radius
    assert large["mean_max_p"] > small["mean_max_p"]  # ... and the probabilities freeze
    data = fort.Data(x, y, x, y, 3, "unit")
    start = float(F.cross_entropy(logits_fn(theta, x), y))
    row = fort.hyperplane_row(logits_fn, theta, data, 5, 100, 0.05, generator)
    assert row["loss"] < start and -math.sqrt(5) <= row["projected_ratio"] <= math.sqrt(5)
