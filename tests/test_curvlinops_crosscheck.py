"""The project's curvature code against curvlinops-for-pytorch 3.x on the same network, data and parameters.

curvlinops (Dangel et al.) is a maintained library of curvature linear operators; here it is the independent
reference for what ``thermoscape.measure.curvature`` and ``thermoscape.measure.mlp_hessian`` compute: Hessian-vector products
and the dense Hessian, the top eigenvalue (power iteration; Lanczos), the Hutchinson trace and the spectral
density (the project's exact eigenvalues against curvlinops' Lanczos spectral density of Papyan 2020).

The network is an ``nn.Sequential`` of ``Linear`` + ReLU layers loaded with the project's flat parameter vector
(whose layout is ``torch.nn.Linear``'s, weight then bias, layer by layer); the loss is the mean cross-entropy on
the full data set, split into three mini-batches on the curvlinops side (so its batch accumulation is exercised).

curvlinops is the optional extra ``curvature-check`` (``pip install -e '.[test,curvature-check]' torch==2.13.0``;
pinning torch in the same command keeps pip from replacing the CPU build through torchvision). Without it the
tests are skipped; with ``THERMOSCAPE_REQUIRE_CURVLINOPS=1`` (set by ``.ci/run``) a skip becomes a failure.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch
from scipy.sparse.linalg import eigsh

from thermoscape.measure.curvature import full_hessian, hutchinson_trace, hvp, lanczos_eigenpairs, top_eigenvalue
from thermoscape.data.tables import gaussian_classification, table_to_tensors
from thermoscape.nets.losses import MLPLandscape
from thermoscape.measure.mlp_hessian import mlp_loss_hessian
from thermoscape.nets.mlp import MLPSpec, xavier_normal_init

if os.environ.get("THERMOSCAPE_REQUIRE_CURVLINOPS"):
    import curvlinops  # a missing package fails the run here
else:
    curvlinops = pytest.importorskip("curvlinops", reason="curvlinops-for-pytorch (extra `curvature-check`)")

F64 = torch.float64
SPEC = MLPSpec((10, 16, 16, 3))  # 499 parameters
N_DATA = 200


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def problem():
    """(landscape, theta, curvlinops Hessian operator, dense Hessian from curvlinops) at a trained point."""
    x, labels = table_to_tensors(gaussian_classification(N_DATA, SPEC.widths[0], SPEC.widths[-1], seed=0))
    landscape = MLPLandscape(SPEC, x, labels)
    theta = xavier_normal_init(SPEC, gen(0)).unsqueeze(0)
    for _ in range(300):  # full-batch gradient descent: away from init, where the top eigenvalue dominates
        _, g = landscape.loss_and_grad(theta)
        theta = theta - 0.5 * g
    theta = theta[0]

    layers = []
    for index, (n_in, n_out) in enumerate(SPEC.layer_sizes()):
        layers += [torch.nn.Linear(n_in, n_out, dtype=F64)] + ([torch.nn.ReLU()] if index < len(SPEC.widths) - 2
                                                              else [])
    model = torch.nn.Sequential(*layers)
    torch.nn.utils.vector_to_parameters(theta.clone(), model.parameters())
    params = [p for p in model.parameters() if p.requires_grad]
    data = list(zip(x.split(N_DATA // 3 + 1), labels.split(N_DATA // 3 + 1)))  # 3 mini-batches, unequal sizes
    operator = curvlinops.HessianLinearOperator(model, torch.nn.CrossEntropyLoss(reduction="mean"), params, data)
    dense = operator @ torch.eye(SPEC.n_params, dtype=F64)
    return landscape, theta, operator, dense


def loss_fn(landscape):
    return lambda theta: landscape.loss(theta.unsqueeze(0))[0]


def test_same_loss_and_same_network(problem):
    landscape, theta, operator, _ = problem
    with torch.no_grad():
        model_loss = torch.nn.functional.cross_entropy(operator._model_func(landscape.x), landscape.labels)
    assert float(model_loss) == pytest.approx(float(loss_fn(landscape)(theta)), rel=1e-12)


def test_hessian_vector_products_and_dense_hessian_agree(problem):
    landscape, theta, operator, dense = problem
    closed_form = mlp_loss_hessian(SPEC, landscape.x, landscape.labels, theta)
    scale = float(closed_form.abs().max())
    torch.testing.assert_close(dense, closed_form, rtol=0, atol=1e-10 * scale)
    torch.testing.assert_close(full_hessian(loss_fn(landscape), theta), dense, rtol=0, atol=1e-10 * scale)
    for seed in range(3):
        v = torch.randn(SPEC.n_params, generator=gen(10 + seed), dtype=F64)
        torch.testing.assert_close(hvp(loss_fn(landscape), theta, v), operator @ v, rtol=0, atol=1e-10 * scale)


def test_top_eigenvalue_agrees(problem):
    landscape, theta, operator, dense = problem
    # curvlinops' operator through SciPy's Lanczos (ARPACK), as curvlinops' own spectral boundaries do
    reference = eigsh(operator.to_scipy(), k=2, which="LM", tol=1e-12, return_eigenvectors=False)
    reference = sorted(reference, key=abs, reverse=True)
    top, ratio = float(reference[0]), abs(reference[1] / reference[0])
    assert top > 0 and ratio < 0.95  # a positive top eigenvalue, separated from the next (0.935 here)
    assert top == pytest.approx(float(torch.linalg.eigvalsh(dense)[-1]), rel=1e-10)

    lam, _, n_iter = top_eigenvalue(loss_fn(landscape), theta, generator=gen(1))  # the defaults (PyHessian's)
    # stopping at relative change rel_tol = 1e-3 leaves an error of about rel_tol / (1 - ratio^2); allow 2x
    assert abs(lam - top) / top < 2e-3 / (1 - ratio**2), (lam, top, ratio, n_iter)
    lam, _, _ = top_eigenvalue(loss_fn(landscape), theta, max_iter=5000, rel_tol=1e-14, generator=gen(1))
    assert lam == pytest.approx(top, rel=1e-7)

    values, _ = lanczos_eigenpairs(lambda v: hvp(loss_fn(landscape), theta, v), SPEC.n_params, 5, generator=gen(2))
    top5 = np.sort(eigsh(operator.to_scipy(), k=5, which="LA", tol=1e-12, return_eigenvectors=False))[::-1]
    np.testing.assert_allclose(values.numpy(), top5, rtol=1e-8)


def test_hutchinson_trace_agrees_within_its_standard_error(problem):
    """Both estimators are means of ``n`` independent Rademacher quadratic forms ``v^T H v``, whose variance is
    ``2 (||H||_F^2 - sum_i H_ii^2)``: each lies within 4 standard errors of the exact trace, and the two
    differ by less than 4 standard errors of their difference (false alarm ~6e-5 per comparison)."""
    landscape, theta, operator, dense = problem
    n = 200
    exact = float(torch.trace(dense))
    se = math.sqrt(2 * float((dense**2).sum() - (torch.diagonal(dense) ** 2).sum()) / n)
    assert 4 * se < 0.1 * exact  # the comparison can see a 10 % error in either code

    ours, n_probes = hutchinson_trace(loss_fn(landscape), theta, max_iter=n, rel_tol=0.0, generator=gen(3))
    assert n_probes == n
    torch.manual_seed(4)  # curvlinops draws its probes from the global generator
    theirs = float(curvlinops.hutchinson_trace(operator, num_matvecs=n, distribution="rademacher"))
    assert abs(ours - exact) < 4 * se, (ours, exact, se)
    assert abs(theirs - exact) < 4 * se, (theirs, exact, se)
    assert abs(ours - theirs) < 4 * math.sqrt(2) * se, (ours, theirs, se)
    # the exact traces: the project's closed-form Hessian against curvlinops' dense matrix
    closed = float(torch.trace(mlp_loss_hessian(SPEC, landscape.x, landscape.labels, theta)))
    assert closed == pytest.approx(exact, rel=1e-10)


def smoothed_density(eigenvalues: np.ndarray, grid: np.ndarray, sigma: float) -> np.ndarray:
    """``(1/N) sum_i N(lambda; lambda_i, sigma^2)`` on ``grid``: the exact spectrum with curvlinops' bumps."""
    z = (grid[:, None] - eigenvalues[None, :]) / sigma
    return np.exp(-0.5 * z**2).sum(axis=1) / (len(eigenvalues) * sigma * math.sqrt(2 * math.pi))


def test_spectral_density_agrees_with_lanczos_quadrature(problem):
    """The project's spectrum (all eigenvalues of the closed-form Hessian, as the Jules and Fort Hessian rules
    compute them) against curvlinops' Lanczos spectral density (Papyan 2020, Alg. 2: 64 Lanczos nodes, averaged
    over 16 random start vectors). Both are smoothed with the same Gaussian bump (width
    ``2 d / (ncv - 1) / sqrt(8 ln kappa)``, ``d`` the half-width of the padded spectral interval, here 0.022).

    * L1 distance of the two densities < 0.05 (measured 0.021-0.033 over six seeds); the same spectrum
      stretched by 25 % or shifted by one bump width is farther than that (0.087-0.103 and > 0.5), so the
      comparison sees an error of that size;
    * the density's mean eigenvalue is a Lanczos quadrature of ``v^T H v / ||v||^2`` for random ``v``, unbiased
      for ``tr(H) / N`` with variance ``2 var(lambda) / (N + 2)`` per start vector: within 4 standard errors
      of the exact mean (4 SE = 23 % of it here).
    """
    landscape, theta, operator, _ = problem
    eigenvalues = torch.linalg.eigvalsh(mlp_loss_hessian(SPEC, landscape.x, landscape.labels, theta)).numpy()
    ncv, repeats, kappa, margin, num_points = 64, 16, 3.0, 0.05, 1024
    boundaries = (float(eigenvalues[0]), float(eigenvalues[-1]))  # exact: only the quadrature is compared
    torch.manual_seed(5)  # curvlinops draws its Lanczos start vectors from the global generator
    grid, density = curvlinops.lanczos_approximate_spectrum(
        operator, ncv, num_points=num_points, num_repeats=repeats, kappa=kappa, boundaries=boundaries,
        margin=margin,
    )
    grid, density = grid.numpy(), density.numpy()
    half_width = (1 + 2 * margin) * (boundaries[1] - boundaries[0]) / 2
    sigma = half_width * 2 / (ncv - 1) / math.sqrt(8 * math.log(kappa))
    step = grid[1] - grid[0]

    def distance(values: np.ndarray) -> float:
        return float(np.abs(smoothed_density(values, grid, sigma) - density).sum() * step)

    assert smoothed_density(eigenvalues, grid, sigma).sum() * step == pytest.approx(1, abs=1e-3)
    assert density.sum() * step == pytest.approx(1, abs=1e-3)
    threshold = 0.05
    assert distance(eigenvalues) < threshold
    assert distance(1.25 * eigenvalues) > threshold and distance(eigenvalues + sigma) > threshold

    n = len(eigenvalues)
    se = math.sqrt(2 * eigenvalues.var() / (n + 2) / repeats)
    mean = float((grid * density).sum() / density.sum())
    assert abs(mean - eigenvalues.mean()) < 4 * se, (mean, eigenvalues.mean(), se)
    assert 4 * se < 0.25 * eigenvalues.mean()
