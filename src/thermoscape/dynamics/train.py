"""Full-batch optimisation of a landscape: finding (Adam) and refining a minimum (Jules et al., Sec. II)."""

from __future__ import annotations

from collections.abc import Callable

from dataclasses import dataclass

import pandas as pd
import torch
from torch import Tensor

from thermoscape.nets.losses import Landscape


@dataclass
class Descent:
    theta: Tensor  # (N,)
    curve: pd.DataFrame  # step, loss, grad_norm
    converged: bool


def adam_descent(
    landscape: Landscape,
    theta: Tensor,
    lr: float,
    max_steps: int,
    target_loss: float,
    grad_norm_tol: float = float("inf"),
    record_every: int = 10,
    progress: Callable[[int], None] | None = None,
) -> Descent:
    """Full-batch Adam from ``theta`` until ``L <= target_loss`` and ``|grad L| <= grad_norm_tol``.

    The convergence test runs every ``record_every`` steps (the only host synchronisations), which is
    also the resolution of the returned training curve. Cross-entropy on separable data has no point
    minimum: the loss keeps falling, so ``target_loss`` sets how deep the "minimum" is (brief, section 7).
    """
    param = theta.detach().clone().unsqueeze(0).requires_grad_(True)
    optimizer = torch.optim.Adam([param], lr=lr)
    rows = []
    converged = False
    for step in range(max_steps + 1):
        with torch.no_grad():
            loss, grad = landscape.loss_and_grad(param)
        if step % record_every == 0 or step == max_steps:
            loss_value, grad_norm = float(loss[0]), float(torch.linalg.vector_norm(grad))
            rows.append((step, loss_value, grad_norm))
            if progress is not None:
                progress(step)
            if not torch.isfinite(loss).all():
                break
            if loss_value <= target_loss and grad_norm <= grad_norm_tol:
                converged = True
                break
        if step == max_steps:
            break
        param.grad = grad
        optimizer.step()
    curve = pd.DataFrame(rows, columns=["step", "loss", "grad_norm"])
    return Descent(param.detach()[0], curve, converged)
