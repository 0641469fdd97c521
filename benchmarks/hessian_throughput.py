"""Full-Hessian throughput: closed-form MLP Hessian (thermoscape.measure.mlp_hessian) versus autograd.functional.hessian.

    python benchmarks/hessian_throughput.py [--points 8] [--rounds 3]

Both form the 883 x 883 float64 Hessian of the paper's MLP loss on its 300 Gaussian points at the same
parameter points and diagonalise it with eigvalsh, one thread. The engine is what the workflow runs
(scripts/jules/hessian.py): ``landscape_hessian_eigenvalues(landscape, points)``, i.e. the closed form
plus eigvalsh; the baseline is ``torch.autograd.functional.hessian`` looped over the points plus eigvalsh.
Rounds alternate engine and baseline, so load from other processes on the machine hits both alike; the
best round of each counts. Prints Hessians (with eigenvalues) per second of each, the engine's split
between forming the Hessian and eigvalsh, the agreement, and, last, ``ratio=<engine/baseline>``.
"""

from __future__ import annotations

import argparse
import time

import torch

from thermoscape.measure.curvature import landscape_hessian_eigenvalues
from thermoscape.data.tables import gaussian_classification, table_to_tensors
from thermoscape.nets.losses import MLPLandscape
from thermoscape.measure.mlp_hessian import mlp_loss_hessian
from thermoscape.nets.mlp import MLPSpec


def rates(values: list[float]) -> str:
    return f"{max(values):.3f} Hessians/s (rounds: " + ", ".join(f"{r:.3f}" for r in values) + ")"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    x, labels = table_to_tensors(gaussian_classification(300, 10, 3, seed=0))
    landscape = MLPLandscape(MLPSpec((10, 20, 20, 10, 3)), x, labels)
    generator = torch.Generator().manual_seed(0)
    points = torch.stack([landscape.initial_parameters(generator) for _ in range(args.points)])

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        return landscape.loss(theta.unsqueeze(0))[0]

    landscape_hessian_eigenvalues(landscape, points[:1])  # warm-up
    engine, baseline, forming, diagonalising = [], [], [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        fast = landscape_hessian_eigenvalues(landscape, points)
        engine.append(args.points / (time.perf_counter() - start))
        start = time.perf_counter()
        slow = torch.stack([torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_fn, p)) for p in points])
        baseline.append(args.points / (time.perf_counter() - start))
        start = time.perf_counter()
        hessians = [mlp_loss_hessian(landscape.spec, x, labels, p) for p in points]
        forming.append((time.perf_counter() - start) / args.points)
        start = time.perf_counter()
        for h in hessians:
            torch.linalg.eigvalsh(h)
        diagonalising.append((time.perf_counter() - start) / args.points)
    reference = torch.autograd.functional.hessian(loss_fn, points[0])
    hessian_error = float((hessians[0] - reference).abs().max() / reference.abs().max())
    error = float((fast - slow).abs().max() / slow.abs().max())
    print(f"torch {torch.__version__}, 1 thread, float64, {landscape.n_params} x {landscape.n_params} Hessians, "
          f"{args.points} points, {args.rounds} alternating rounds")
    print(f"closed form + eigvalsh          : {rates(engine)}")
    print(f"autograd.functional.hessian loop: {rates(baseline)}")
    print(f"engine split (best round): forming {1e3 * min(forming):.1f} ms, eigvalsh {1e3 * min(diagonalising):.1f} ms"
          " per Hessian")
    print(f"max relative Hessian difference: {hessian_error:.1e}; eigenvalues: {error:.1e}")
    print(f"ratio={max(engine) / max(baseline):.2f}")


if __name__ == "__main__":
    main()
