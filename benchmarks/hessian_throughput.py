"""Full-Hessian throughput: compiled torch.func hessian (jacfwd(jacrev)) versus autograd.functional.hessian.

    python benchmarks/hessian_throughput.py [--points 4] [--rounds 2]

Both form the 883 x 883 float64 Hessian of the paper's MLP loss on its 300 Gaussian points at the same
parameter points and diagonalise it with eigvalsh, one thread. Rounds alternate. Prints Hessians (with
eigenvalues) per second of each and, last, ``ratio=<engine/baseline>``. The engine is what the
workflow runs: ``batched_hessian_eigenvalues(..., compile=True)``; its one-off compilation is timed
separately and not counted.
"""

from __future__ import annotations

import argparse
import time

import torch

from thermoscape.curvature import batched_hessian_eigenvalues
from thermoscape.data import gaussian_classification, table_to_tensors
from thermoscape.losses import MLPLandscape
from thermoscape.models import MLPSpec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    x, labels = table_to_tensors(gaussian_classification(300, 10, 3, seed=0))
    landscape = MLPLandscape(MLPSpec((10, 20, 20, 10, 3)), x, labels)
    generator = torch.Generator().manual_seed(0)
    points = torch.stack([landscape.initial_parameters(generator) for _ in range(args.points)])

    def loss_fn(theta: torch.Tensor) -> torch.Tensor:
        return landscape.loss(theta.unsqueeze(0))[0]

    start = time.perf_counter()
    batched_hessian_eigenvalues(loss_fn, points[:1], compile=True)
    compile_seconds = time.perf_counter() - start
    engine, baseline = [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        fast = batched_hessian_eigenvalues(loss_fn, points, compile=True)
        engine.append(args.points / (time.perf_counter() - start))
        start = time.perf_counter()
        slow = torch.stack([torch.linalg.eigvalsh(torch.autograd.functional.hessian(loss_fn, p)) for p in points])
        baseline.append(args.points / (time.perf_counter() - start))
    error = float((fast - slow).abs().max() / slow.abs().max())
    print(f"torch {torch.__version__}, 1 thread, float64, {landscape.n_params} x {landscape.n_params} Hessians")
    print(f"compiled torch.func hessian     : {max(engine):.3f} Hessians/s (rounds: "
          + ", ".join(f"{r:.3f}" for r in engine) + ")")
    print(f"autograd.functional.hessian loop: {max(baseline):.3f} Hessians/s (rounds: "
          + ", ".join(f"{r:.3f}" for r in baseline) + ")")
    print(f"one-off compilation: {compile_seconds:.1f} s")
    print(f"max relative eigenvalue difference: {error:.1e}")
    print(f"ratio={max(engine) / max(baseline):.2f}")


if __name__ == "__main__":
    main()
