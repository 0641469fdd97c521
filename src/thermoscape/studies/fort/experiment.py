"""Real networks for Fort & Ganguli, "Emergent properties of the local geometry of neural loss landscapes"
(arXiv 1910.05929): data with recorded preprocessing, small MLPs and a SmallCNN, plain SGD with per-epoch
logit statistics (Fig. 4), logit-gradient clustering (Fig. 1, Eqs. 11-13), the G-term / H-term split of the
Hessian (Eq. 9) and the Goldilocks measurements (Tr(H)/||H|| versus the initialisation radius, training on
random affine hyperplanes; the paper's Sec. 1 property 4 and refs. [16, 17]).

Everything is a function of a flat float64 parameter vector ``theta`` through ``logits_fn(theta, x)``
(``networks.functional_logits``), so ``torch.func`` gives HVPs and GGN-vector products; per-example logit
Jacobians come from torch's per-sample gradients of the module.
The paper gives no training details; the defaults follow the brief (Sec. 4 E4-E6, Sec. 5.3).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import grad, jvp, vjp, vmap
from torch.nn.utils._per_sample_grad import call_for_per_sample_grads

from thermoscape.measure.curvature import hvp, lanczos_eigenpairs, rademacher, top_eigenvalue
from thermoscape.core.grids import run_name
from thermoscape.nets.networks import flat_parameters, functional_logits, set_flat_parameters
from thermoscape.data.tensors import Data, load_data
from thermoscape.data.batches import BatchOrder
from thermoscape.dynamics.train import Optimizer, train as run_trainer
from thermoscape.nets import build
from thermoscape.nets.small import LogitsFn, loss_fn, small_spec
from thermoscape.measure.similarity import ClusteringSums
from thermoscape.measure.spectrum import (
    curvature_ratio,
    eigenvector_cosines,
    gradient_power,
    outlier_count,
    projected_curvature_ratio,
    random_orthonormal,
)



# --- logit statistics (Fig. 1, Fig. 4) --------------------------------------------------------------------


def logit_variance(logits: Tensor) -> float:
    """Fig. 4 TL: the variance of the logits across classes (population variance), averaged over examples."""
    return float(logits.var(dim=1, unbiased=False).mean())


def accuracy_percent(logits: Tensor, y: Tensor) -> float:
    return 100.0 * float((logits.argmax(dim=1) == y).double().mean())


def mean_max_probability(logits: Tensor) -> float:
    """The average highest softmax probability (the paper's "p = 0.94" at sigma_z = 15)."""
    return float(torch.softmax(logits, dim=1).max(dim=1).values.mean())


def logit_jacobians(model: nn.Module, x: Tensor) -> Tensor:
    """Per-example logit gradients dz_k^mu/dW at the model's parameters, ``(B, C, D)`` in
    ``flat_parameters`` order (the objects of Eqs. 9-15).

    One batched backward pass per logit through torch's per-sample-gradient ("expanded weights") layers;
    at steady state 0.85-1.3 times the speed of ``vmap(jacrev)`` (benchmarks/fort_jacobians.py), without
    its one-off warm-up of several seconds for the CNN. Evaluation mode.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    was_training = model.training
    model.eval()
    try:
        logits = call_for_per_sample_grads(model)(x)
        rows = []
        for k in range(logits.shape[1]):
            logits[:, k].sum().backward(retain_graph=k < logits.shape[1] - 1)
            rows.append(torch.cat([p.grad_sample.reshape(x.shape[0], -1) for p in params], dim=1))
            for p in params:
                p.grad_sample = None
    finally:
        model.train(was_training)
    return torch.stack(rows, dim=1)


@dataclass(frozen=True)
class LogitGeometry:
    clustering: dict[str, float]  # q_slsc, q_sl, q_dl (Eqs. 11-13)
    gradient_length: float  # Fig. 4 TR: mean over (mu, k) of ||dz_k^mu/dW||


def logit_geometry(model: nn.Module, theta: Tensor, x: Tensor, y: Tensor, chunk: int = 100) -> LogitGeometry:
    """Clustering (Eqs. 11-13) and logit-gradient length at ``theta`` (loaded into ``model``), streamed over
    chunks of ``chunk`` examples, so ``N x C x D`` is never held at once."""
    set_flat_parameters(model, theta)
    sums, length = ClusteringSums(), 0.0
    for start in range(0, x.shape[0], chunk):
        jac = logit_jacobians(model, x[start : start + chunk])
        sums.add(jac, y[start : start + chunk])
        length += float(jac.norm(dim=2).sum())
    return LogitGeometry(sums.values(), length / (x.shape[0] * sums.n_classes))




# --- training with per-epoch statistics --------------------------------------------------------------------


@dataclass(frozen=True)
class Training:
    lr: float
    batch_size: int
    epochs: int
    momentum: float = 0.0


def _epoch_row(model: nn.Module, theta: Tensor, data: Data, n_stats: int, track_lambda_max: bool,
               seed: int) -> dict[str, float]:
    x, y = data.x_train, data.y_train
    logits_fn = functional_logits(model)
    with torch.no_grad():
        logits, test_logits = logits_fn(theta, x), logits_fn(theta, data.x_test)
    stats = logit_geometry(model, theta, x[:n_stats], y[:n_stats])
    lam = math.nan
    if track_lambda_max:
        generator = torch.Generator().manual_seed(seed)
        lam = top_eigenvalue(loss_fn(logits_fn, x, y), theta, generator=generator)[0]
    return {
        "loss": float(F.cross_entropy(logits, y)),
        "accuracy": accuracy_percent(logits, y),
        "test_accuracy": accuracy_percent(test_logits, data.y_test),
        "logit_variance": logit_variance(logits),
        "gradient_length": stats.gradient_length,
        "weight_norm": float(theta.norm()),
        "lambda_max": lam,
    }


def train(model: nn.Module, data: Data, training: Training, seed: int, checkpoints: Sequence[int],
          n_stats: int = 200, track_lambda_max: bool = False,
          progress: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, dict[int, Tensor]]:
    """Plain minibatch SGD on the mean cross-entropy (Eq. 3), recording a history row before training
    (epoch 0) and after every epoch, and keeping ``theta`` at the ``checkpoints`` epochs.

    The history's statistics are on the full training set (loss, accuracy, logit variance) and its first
    ``n_stats`` samples (logit-gradient length); ``lambda_max`` (power iteration on the training loss) only
    when ``track_lambda_max``. Minibatches come from ``(seed, epoch)`` (``data.batches``' ``"affine"``
    seeding), so the run is reproducible. A non-finite loss or weight norm ends training; the row is kept
    (``finite`` False) and nothing is raised. The loop is ``dynamics.train.train`` with a per-epoch hook.
    """
    rows, kept = [], {}
    x, y = data.x_train, data.y_train

    def record(epoch: int) -> bool:
        theta = flat_parameters(model).detach().clone()
        row = {"epoch": float(epoch), **_epoch_row(model, theta, data, n_stats, track_lambda_max, seed + epoch)}
        row["finite"] = math.isfinite(row["loss"]) and math.isfinite(row["weight_norm"])
        rows.append(row)
        if epoch in checkpoints:
            kept[epoch] = theta
        return row["finite"]

    def end_epoch(epoch: int, _run) -> str | None:
        finite = record(epoch)
        if progress is not None:
            progress(epoch)
        return None if finite else "diverged"

    def step(index: Tensor) -> Tensor:
        loss = F.cross_entropy(model(x[index]), y[index])
        loss.backward()
        return loss

    if record(0):
        run_trainer(list(model.parameters()), step, Optimizer("sgd", lr=training.lr, momentum=training.momentum),
                    training.epochs, first_epoch=1, batches=BatchOrder(x.shape[0], training.batch_size, seed, "affine"),
                    on_epoch_start=lambda epoch: model.train(), on_epoch_end=end_epoch,
                    divergence="never", track_loss=False)
    return pd.DataFrame(rows), kept


# --- Hessian structure at a checkpoint (the four properties) ---------------------------------------------


def ggn_operator(logits_fn: LogitsFn, theta: Tensor, x: Tensor) -> Callable[[Tensor], Tensor]:
    """``v -> G v`` with G = (1/N) sum_mu J^mu^T P^mu J^mu (Eq. 9's G-term; P^mu of Eq. 7), matrix-free by
    one jvp and one vjp per product; the probabilities are computed once, at ``theta``."""
    fn = lambda t: logits_fn(t, x)
    with torch.no_grad():
        p = torch.softmax(fn(theta), dim=1)

    def product(v: Tensor) -> Tensor:
        jv = jvp(fn, (theta,), (v,))[1]
        return vjp(fn, theta)[1](p * jv - p * (p * jv).sum(dim=1, keepdim=True))[0] / x.shape[0]

    return product


def hutchinson_curvature(product: Callable[[Tensor], Tensor], theta: Tensor, probes: int,
                         generator: torch.Generator) -> tuple[float, float]:
    """``(Tr H, Tr(H)/||H||_F)`` estimated matrix-free from ``probes`` Rademacher vectors v:
    Tr H = E[v^T H v] and ||H||_F^2 = E[||H v||^2] (both unbiased; the ratio is consistent)."""
    v = rademacher((probes, theta.numel()), theta.dtype, generator=generator)
    hv = vmap(product)(v)
    trace = (hv * v).sum(dim=1).mean()
    return float(trace), float(trace / hv.pow(2).sum(dim=1).mean().sqrt())


def block_product(product: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """``A -> H A`` for a ``(D, m)`` block from a matrix-free ``v -> H v``."""
    return lambda block: vmap(product, in_dims=1, out_dims=1)(block)


def h_term_operator(logits_fn: LogitsFn, theta: Tensor, x: Tensor, y: Tensor) -> Callable[[Tensor], Tensor]:
    """``v -> `` Eq. 9's H-term times v, (1/N) sum_mu sum_k (p_k - y_k) (d^2 z_k^mu/dW^2) v, as HVPs of the
    surrogate theta -> (1/N) sum (p - y) . z(theta) with p held at ``theta`` (Eq. 6 with the corrected sign
    p - y); the residual p - y is computed once."""
    with torch.no_grad():
        logits = logits_fn(theta, x)
        residual = torch.softmax(logits, dim=1) - F.one_hot(y, logits.shape[1])
    surrogate = lambda t: (residual * logits_fn(t, x)).sum() / x.shape[0]
    return lambda v: hvp(surrogate, theta, v)


def hessian_structure(logits_fn: LogitsFn, theta: Tensor, x: Tensor, y: Tensor, max_rank: int, probes: int,
                      projection_dim: int, projections: int, generator: torch.Generator
                      ) -> tuple[pd.DataFrame, dict[str, float]]:
    """The four properties at one point (Sec. 1) from the loss on ``(x, y)``, matrix-free (brief 6.5).

    Top ``max_rank`` eigenpairs of H, of its G-term and of its H-term (Eq. 9) by Lanczos on HVPs and
    GGN-vector products, with cos(g, v_i) (g the full-batch gradient, v_i H's eigenvectors). Summary:
    outliers of H and G by the largest gap ratio among the top 2C (brief 6.6), the gradient power in the
    top C-1, C and 2C eigenvectors (property 2), lambda_max (property 3), Tr(H)/||H||_F by Hutchinson
    and on random ``projection_dim``-dimensional projections (property 4), the H-term's eigenvalue range.
    """
    n_classes, dim = int(logits_fn(theta, x[:1]).shape[1]), theta.numel()
    if max_rank <= 2 * n_classes:
        raise ValueError(f"max_rank must exceed 2C = {2 * n_classes} to count outliers, got {max_rank}")
    loss = loss_fn(logits_fn, x, y)
    h_product = lambda v: hvp(loss, theta, v)
    g_product = ggn_operator(logits_fn, theta, x)
    r_product = h_term_operator(logits_fn, theta, x, y)
    values, vectors = lanczos_eigenpairs(h_product, dim, max_rank, "LA", generator)
    g_values = lanczos_eigenpairs(g_product, dim, max_rank, "LA", generator)[0]
    h_values = lanczos_eigenpairs(r_product, dim, max_rank, "LA", generator)[0]
    h_min = float(lanczos_eigenpairs(r_product, dim, 1, "SA", generator)[0][0])
    g = grad(loss)(theta)
    table = pd.DataFrame({"rank": np.arange(1, max_rank + 1), "eigenvalue": values.numpy(),
                          "g_eigenvalue": g_values.numpy(), "h_eigenvalue": h_values.numpy(),
                          "cosine": eigenvector_cosines(g, vectors).numpy()})
    n_outliers, gap = outlier_count(values, 2 * n_classes)
    trace, ratio = hutchinson_curvature(h_product, theta, probes, generator)
    projected, projected_sd = projected_curvature_ratio(block_product(h_product), projection_dim, projections,
                                                        generator, dim=dim)
    summary = {
        "n_classes": n_classes, "n_outliers": n_outliers, "gap_ratio": gap,
        "g_n_outliers": outlier_count(g_values, 2 * n_classes)[0],
        **{f"power_top_{name}": gradient_power(g, vectors, k)
           for name, k in (("c_minus_1", n_classes - 1), ("c", n_classes), ("2c", 2 * n_classes))},
        "curvature_ratio": ratio, "projected_ratio": projected, "projected_ratio_sd": projected_sd,
        "trace_over_top": trace / float(values[0]), "lambda_max": float(values[0]),
        "g_lambda_max": float(g_values[0]), "h_min": h_min, "h_max": float(h_values[0]),
        "gradient_norm": float(g.norm()),
    }
    return table, summary


# --- Goldilocks: radius sweep and hyperplane training ----------------------------------------------------


def init_radius_row(logits_fn: LogitsFn, theta: Tensor, x: Tensor, y: Tensor, probes: int, projection_dim: int,
                    projections: int, generator: torch.Generator) -> dict[str, float]:
    """Fig. 4 BR and the Goldilocks statistic at one (rescaled) initialisation, matrix-free.

    Logit variance and mean max p (freezing, Sec. 3.3); Tr(H)/||H||_F of the Hessian and of its G-term
    (Hutchinson, ``probes`` Rademacher vectors), Tr(H_d)/||H_d||_F on random ``projection_dim``-dimensional
    hyperplanes (exact per hyperplane) and Tr(H)/lambda_max (power iteration).
    """
    with torch.no_grad():
        logits = logits_fn(theta, x)
    loss = loss_fn(logits_fn, x, y)
    h_product = lambda v: hvp(loss, theta, v)
    g_product = ggn_operator(logits_fn, theta, x)
    trace, ratio = hutchinson_curvature(h_product, theta, probes, generator)
    projected, projected_sd = projected_curvature_ratio(block_product(h_product), projection_dim, projections,
                                                        generator, dim=theta.numel())
    lam = top_eigenvalue(loss, theta, generator=generator)[0]
    return {"radius": float(theta.norm()), "logit_variance": logit_variance(logits),
            "mean_max_p": mean_max_probability(logits), "curvature_ratio": ratio,
            "g_curvature_ratio": hutchinson_curvature(g_product, theta, probes, generator)[1],
            "projected_ratio": projected, "projected_ratio_sd": projected_sd, "trace_over_top": trace / lam}


def hyperplane_training(logits_fn: LogitsFn, anchor: Tensor, basis: Tensor, data: Data, steps: int, lr: float
                        ) -> dict[str, float]:
    """Train only ``theta_d`` in W = W_0 + M theta_d (ref. [16]'s random affine subspace; brief 6.8) with
    full-batch Adam from theta_d = 0; final training loss and accuracies (%)."""
    theta_d = torch.zeros(basis.shape[1], dtype=anchor.dtype, requires_grad=True)

    def step(_batch: None) -> Tensor:
        loss = F.cross_entropy(logits_fn(anchor + basis @ theta_d, data.x_train), data.y_train)
        loss.backward()
        return loss

    run_trainer([theta_d], step, Optimizer("adam", lr=lr), steps, divergence="never", track_loss=False)
    with torch.no_grad():
        w = anchor + basis @ theta_d
        logits, test_logits = logits_fn(w, data.x_train), logits_fn(w, data.x_test)
    return {"loss": float(F.cross_entropy(logits, data.y_train)),
            "accuracy": accuracy_percent(logits, data.y_train),
            "test_accuracy": accuracy_percent(test_logits, data.y_test)}


def hyperplane_row(logits_fn: LogitsFn, anchor: Tensor, data: Data, dim: int, steps: int, lr: float,
                   generator: torch.Generator) -> dict[str, float]:
    """One random hyperplane through ``anchor``: Tr(H_d)/||H_d||_F there (theta_d = 0) and the result of
    training on it (the Goldilocks prediction of ref. [17]: trainable where the ratio is large)."""
    basis = random_orthonormal(anchor.numel(), dim, generator)
    loss = loss_fn(logits_fn, data.x_train, data.y_train)
    projected = basis.T @ block_product(lambda v: hvp(loss, anchor, v))(basis)
    return {"projected_ratio": curvature_ratio(projected),
            **hyperplane_training(logits_fn, anchor, basis, data, steps, lr)}


def logit_radius(logits_fn: LogitsFn, initial: Tensor, x: Tensor, scales: Sequence[float]) -> pd.DataFrame:
    """Fig. 4 BR: logit variance and mean max p at the initialisation scaled by each s (W = s W_0, biases
    included: brief 6.7), forward passes only; ``radius`` = ||s W_0||."""
    rows = []
    with torch.no_grad():
        for scale in scales:
            logits = logits_fn(scale * initial, x)
            rows.append({"scale": float(scale), "radius": float(scale * initial.norm()),
                         "logit_variance": logit_variance(logits), "mean_max_p": mean_max_probability(logits)})
    return pd.DataFrame(rows)


# --- runs -------------------------------------------------------------------------------------------------

def with_run(table: pd.DataFrame, run: dict) -> pd.DataFrame:
    """``table`` with the run's metadata columns first (the preprocessing is recorded with every result)."""
    meta = {"run": run_name(run), **{key: run[key] for key in ("dataset", "arch", "activation", "preprocess")},
            "classes": ",".join(map(str, run["classes"])) if run.get("classes") else "all", "seed": run["seed"]}
    return pd.concat([pd.DataFrame(meta, index=table.index), table], axis=1)


def run_data(run: dict, networks: dict, path: str | None = None) -> Data:
    return load_data(run["dataset"], networks["n_train"], networks["n_test"], run["preprocess"],
                     seed=run["seed"], classes=run.get("classes"), path=path)


def run_network(run: dict, networks: dict, data: Data) -> nn.Module:
    """The run's network (brief 5.3: ``arch`` mlp or cnn, ``activation``; the study's ``widths``, ``channels``),
    float64, seeded by the run's seed."""
    spec = small_spec(run["arch"], run["activation"], tuple(data.x_train.shape[1:]), data.n_classes,
                      networks["widths"], networks["channels"])
    return build(spec, run["seed"], torch.float64)
