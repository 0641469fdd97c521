"""Cross-check with devinterp (the ``crosscheck`` extra; skipped without it): its SGLD local learning coefficient
against ``alpha = N_c / 2`` of ``thermoscape.chart`` on the quadratic landscape, where both have closed forms.

devinterp's SGLD (``SGMCMC.sgld``, Lau et al. 2023) steps ``dw = -(eps / 2) (n beta grad L + gamma (w - w_0)) + N(0, eps)``:
its stationary density is ``exp(-n beta L - gamma |w - w_0|^2 / 2)``, and the local learning coefficient is
``llc = n beta (<L> - L_0)``. With ``gamma = 0`` and ``n beta = 1 / T`` that density is Jules et al.'s
``exp(-L / T)`` (Eq. 1), so ``llc = (<L> - L_0) / T = alpha = N_c / 2`` (Eq. 2-3) in a quadratic basin.
With the localisation ``gamma``, on ``L = |w|^2 / 2`` in ``N`` dimensions, ``llc = (N / 2) n beta / (n beta +
gamma)``: smaller than ``N_c / 2`` (docs/chart.md, "Cross-check with devinterp").
"""

from __future__ import annotations

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


def devinterp_llc(localization: float, chains: int = 4, steps: int = 8000, burn_in: int = 1000,
                  eps_nbeta: float = 0.02) -> tuple[float, float]:
    """devinterp's SGLD from the minimum ``w = 0`` at ``n beta = 1 / T``: the llc's mean and standard error
    over the chains (``llc = n beta (<L> - L_0)`` after the burn-in; ``L_0 = 0``)."""
    x, y = orthogonal_design()
    nbeta = 1.0 / T
    values = []
    for chain in range(chains):
        model = nn.Linear(N_PARAMS, 1, bias=False).double()
        nn.init.zeros_(model.weight)
        optimizer = SGMCMC.sgld(model.parameters(), lr=eps_nbeta / nbeta, nbeta=nbeta, localization=localization)
        generator = torch.Generator().manual_seed(chain)
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step(noise_generator=generator)
            losses.append(loss.item())
        values.append(nbeta * np.mean(losses[burn_in:]))
    return float(np.mean(values)), float(np.std(values, ddof=1) / np.sqrt(chains))


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
