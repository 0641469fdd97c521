"""Cross-check with devinterp (the ``crosscheck`` extra; skipped without it): its SGLD local learning coefficient
against ``alpha = N_c / 2`` of ``thermoscape.chart`` on the quadratic landscape, where both have closed forms.

devinterp's SGLD (``SGMCMC.sgld``, Lau et al. 2023) steps ``dw = -(eps / 2) (n beta grad L + gamma (w - w_0)) + N(0, eps)``:
its stationary density is ``exp(-n beta L - gamma |w - w_0|^2 / 2)``, and the local learning coefficient is
``llc = n beta (<L> - L_0)``. With ``gamma = 0`` and ``n beta = 1 / T`` that density is Jules et al.'s
``exp(-L / T)`` (Eq. 1), so ``llc = (<L> - L_0) / T = alpha = N_c / 2`` (Eq. 2-3) in a quadratic basin.
With the localisation ``gamma``, on ``L = |w|^2 / 2`` in ``N`` dimensions, ``llc = (N / 2) n beta / (n beta +
gamma)``: smaller than ``N_c / 2`` (docs/chart.md, "Cross-check with devinterp").

On a small network (a linear softmax classifier, 15 parameters, 5 of them exactly flat: the softmax is
unchanged by a shift common to the classes) the two samplers are the same chain: devinterp's step with
``eps = 2 eta T`` and ``n beta = 1 / T`` is ``w - eta grad L + sqrt(2 eta T) xi``, Eq. 7 of Jules et al., so its
llc is the chart's ``C_h = mu_L / T``, ``N_c / 2 = 5`` in the harmonic regime.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
import torch
from torch import nn

pytest.importorskip("devinterp")
from devinterp.optim.sgmcmc import SGMCMC  # noqa: E402

from thermoscape.studies.chart import chart  # noqa: E402

N_PARAMS, N_POINTS, T = 6, 48, 1e-3


def orthogonal_design() -> tuple[torch.Tensor, torch.Tensor]:
    """``X^T X = (D / 2) I``, ``y = 0``: with mse, ``Linear(6, 1, bias=False)`` has ``L = |w|^2 / 2``."""
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(N_POINTS, N_PARAMS)))
    return torch.as_tensor(q * np.sqrt(N_POINTS / 2)), torch.zeros(N_POINTS, 1, dtype=torch.float64)


def sgld_llc(start: Callable[[], nn.Module], loss: Callable[[nn.Module], torch.Tensor], lr: float, nbeta: float,
             localization: float, chains: int, steps: int, burn_in: int, loss_0: float = 0.0) -> tuple[float, float]:
    """devinterp's SGLD chains, chain ``c`` from ``start()`` with its noise seeded by ``c``: the llc
    ``n beta (<L> - L_0)`` after the burn-in, its mean and standard error over the chains."""
    values = []
    for chain in range(chains):
        model = start()
        optimizer = SGMCMC.sgld(model.parameters(), lr=lr, nbeta=nbeta, localization=localization)
        generator = torch.Generator().manual_seed(chain)
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            value = loss(model)
            value.backward()
            optimizer.step(noise_generator=generator)
            losses.append(value.item())
        values.append(nbeta * (np.mean(losses[burn_in:]) - loss_0))
    return float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(chains))


def devinterp_llc(localization: float, chains: int = 4, steps: int = 8000, burn_in: int = 1000,
                  eps_nbeta: float = 0.02) -> tuple[float, float]:
    """devinterp's SGLD from the minimum ``w = 0`` at ``n beta = 1 / T``: the llc's mean and standard error
    over the chains (``llc = n beta (<L> - L_0)`` after the burn-in; ``L_0 = 0``)."""
    x, y = orthogonal_design()
    nbeta = 1.0 / T

    def at_minimum() -> nn.Module:
        model = nn.Linear(N_PARAMS, 1, bias=False).double()
        nn.init.zeros_(model.weight)
        return model

    return sgld_llc(at_minimum, lambda model: nn.functional.mse_loss(model(x), y), eps_nbeta / nbeta, nbeta,
                    localization, chains, steps, burn_in)


def test_devinterp_llc_is_alpha_at_n_beta_one_over_T():
    """gamma = 0, n beta = 1 / T: llc = N_c / 2 = 3 (closed form), and thermoscape.chart's alpha agrees
    (measured: llc 2.87 +- 0.12 over 4 chains of 7000 steps after the burn-in)."""
    llc, llc_error = devinterp_llc(localization=0.0)
    assert llc_error > 0
    assert llc == pytest.approx(N_PARAMS / 2, rel=0.1)
    x, y = orthogonal_design()
    table = chart(nn.Linear(N_PARAMS, 1, bias=False), x, y, temperatures=[T], loss="mse", chains=4, eta=0.02,
                  duration=60.0, burn_in=10.0, seed=1, device="cpu")
    alpha = float(table["alpha"].iloc[0])
    assert alpha == pytest.approx(N_PARAMS / 2, rel=0.1)
    assert abs(llc - alpha) < 0.1 * N_PARAMS / 2 + 3 * np.hypot(llc_error, float(table["alpha_error"].iloc[0]))


def test_devinterp_localisation_lowers_the_llc_as_the_closed_form_says():
    """gamma = n beta: llc = (N / 2) n beta / (n beta + gamma) = 1.5, half of alpha (measured: 1.43 +- 0.04)."""
    nbeta = 1.0 / T
    llc, _ = devinterp_llc(localization=nbeta)
    assert llc == pytest.approx(N_PARAMS / 2 * nbeta / (nbeta + nbeta), rel=0.1)


SOFTMAX_INPUTS, SOFTMAX_CLASSES, SOFTMAX_POINTS, SOFTMAX_ETA = 4, 3, 300, 0.1


def softmax_data() -> tuple[torch.Tensor, torch.Tensor]:
    """Three overlapping Gaussian classes in 4 dimensions (means on the unit circle of the first two inputs,
    unit noise): not separable, so cross entropy has a finite minimum."""
    labels = np.arange(SOFTMAX_POINTS) % SOFTMAX_CLASSES
    x = np.random.default_rng(0).normal(size=(SOFTMAX_POINTS, SOFTMAX_INPUTS))
    angles = 2 * np.pi * labels / SOFTMAX_CLASSES
    x[:, 0] += np.cos(angles)
    x[:, 1] += np.sin(angles)
    return torch.as_tensor(x), torch.as_tensor(labels)


def softmax_minimum(x: torch.Tensor, y: torch.Tensor) -> nn.Linear:
    """``Linear(4, 3)`` (float64) at the cross-entropy minimum, by L-BFGS to a gradient norm below 1e-8."""
    model = nn.Linear(SOFTMAX_INPUTS, SOFTMAX_CLASSES).double()
    for parameter in model.parameters():
        nn.init.zeros_(parameter)
    optimizer = torch.optim.LBFGS(model.parameters(), max_iter=500, tolerance_grad=1e-12, tolerance_change=0.0,
                                  line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        return loss

    optimizer.step(closure)
    closure()
    assert torch.cat([p.grad.flatten() for p in model.parameters()]).norm() < 1e-8
    return model


def softmax_hessian_eigenvalues(model: nn.Linear, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    theta = nn.utils.parameters_to_vector(model.parameters()).detach()
    weights = SOFTMAX_CLASSES * SOFTMAX_INPUTS

    def loss(flat):
        return nn.functional.cross_entropy(x @ flat[:weights].view(SOFTMAX_CLASSES, -1).T + flat[weights:], y)

    return np.linalg.eigvalsh(torch.autograd.functional.hessian(loss, theta).numpy())


def test_devinterp_sgld_step_is_eq_7_at_lr_two_eta_T():
    """One devinterp step (``gamma = 0``, ``eps = 2 eta T``, ``n beta = 1 / T``) is Eq. 7 of Jules et al.,
    ``w - eta grad L + sqrt(2 eta T) xi``, with the same normal draws (computed here from the same generator;
    devinterp draws them in the default dtype, float32, and adds them to the float64 weights)."""
    x, y = softmax_data()
    model = nn.Linear(SOFTMAX_INPUTS, SOFTMAX_CLASSES).double()
    start = [p.detach().clone() for p in model.parameters()]
    nn.functional.cross_entropy(model(x), y).backward()
    grads = [p.grad.detach().clone() for p in model.parameters()]
    optimizer = SGMCMC.sgld(model.parameters(), lr=2 * SOFTMAX_ETA * T, nbeta=1 / T, localization=0.0)
    optimizer.step(noise_generator=torch.Generator().manual_seed(3))
    draws = torch.Generator().manual_seed(3)
    for after, before, grad in zip(model.parameters(), start, grads):
        xi = torch.normal(0.0, 1.0, size=before.shape, generator=draws).to(before.dtype)
        expected = before - SOFTMAX_ETA * grad + np.sqrt(2 * SOFTMAX_ETA * T) * xi
        torch.testing.assert_close(after.detach(), expected, rtol=1e-12, atol=1e-12)


def test_devinterp_llc_is_the_charts_c_h_on_a_linear_softmax_network():
    """Linear(4, 3), cross entropy, 300 points: 15 parameters, 5 flat directions (Hessian eigenvalues 0), so
    ``N_c = 10`` and ``alpha = C_h = 5`` in the harmonic regime. devinterp's llc (``eps = 2 eta T``,
    ``n beta = 1 / T``, ``gamma = 0``) and the chart's ``C_h`` come from the same chain (Eq. 7) and agree within
    3 combined standard errors, both within 10 % of 5. Flat directions add nothing to either: the chains
    diffuse along them at no cost in loss. eta = 0.1 (``eta lambda_max = 0.03``: the Euler-Maruyama bias
    ``(1 / 2) sum 1 / (1 - eta lambda / 2) - 5`` is +0.05), T = 1e-3; 8 chains of 3000 steps after a burn-in
    of 500 (3 times the slowest relaxation time ``1 / lambda_min = 15``): eight chains, not four, so that the
    standard errors themselves are reliable (with four, one chain seed in four missed the 3-error bound).
    Measured: llc 5.05 +- 0.13, C_h 4.77 +- 0.09, alpha 5.19 +- 0.28, beta T 1.08; over three other chain
    seeds llc 5.06, 5.13, 4.81 and C_h 5.02, 5.01, 5.10 (docs/chart.md)."""
    x, y = softmax_data()
    minimum = softmax_minimum(x, y)
    eigenvalues = softmax_hessian_eigenvalues(minimum, x, y)
    assert np.sum(np.abs(eigenvalues) < 1e-8) == SOFTMAX_INPUTS + 1
    assert np.all(eigenvalues[SOFTMAX_INPUTS + 1:] > 1e-2)
    stiff = int(np.sum(eigenvalues > 1e-8))
    assert stiff == 10
    loss_0 = nn.functional.cross_entropy(minimum(x), y).item()
    state = {k: v.detach().clone() for k, v in minimum.state_dict().items()}
    steps, burn_in, chains = 3000, 500, 8

    def at_minimum() -> nn.Module:
        model = nn.Linear(SOFTMAX_INPUTS, SOFTMAX_CLASSES).double()
        model.load_state_dict(state)
        return model

    llc, llc_error = sgld_llc(at_minimum, lambda model: nn.functional.cross_entropy(model(x), y),
                              2 * SOFTMAX_ETA * T, 1 / T, 0.0, chains, steps, burn_in, loss_0)
    table = chart(nn.Linear(SOFTMAX_INPUTS, SOFTMAX_CLASSES).double(), x, y, temperatures=[T],
                  loss="cross_entropy", weights=state, refine=False, chains=chains, eta=SOFTMAX_ETA,
                  duration=steps * SOFTMAX_ETA, burn_in=burn_in * SOFTMAX_ETA, seed=1, device="cpu",
                  analysis={"baseline": "minimum"})
    row = table.iloc[0]
    assert llc_error > 0 and row["c_h_error"] > 0
    assert llc == pytest.approx(stiff / 2, rel=0.1)
    assert row["c_h"] == pytest.approx(stiff / 2, rel=0.1)
    assert abs(llc - row["c_h"]) < 3 * np.hypot(llc_error, row["c_h_error"])
    assert abs(llc - row["alpha"]) < 3 * np.hypot(llc_error, row["alpha_error"])
