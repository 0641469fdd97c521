"""Langevin throughput: a naive single-chain PyTorch loop versus the batched engine, same process.

    python benchmarks/langevin_throughput.py [--chains 32] [--rounds 3] [--seconds 5]

Both integrate Eq. 7 with a float64 state on the paper's 10-20-20-10-3 MLP and its 300 Gaussian points,
one thread. The naive loop is what one would write first: an nn.Module, torch.autograd.grad, an in-place
update and loss.item() every step. The engine advances a 32-chain sweep (temperatures x replicas)
through thermoscape.dynamics.langevin.advance: eager float64; compiled (torch.compile) float64
(``precision: float64``); and compiled with the gradient and the noise in float32 (``precision: mixed``,
the workflow's default, what the ratio reports). Rounds alternate so that machine noise hits all alike.
Prints chain-steps per second of each, the achieved GFLOP/s against the FP64 peak of a large matmul on
the same thread, and, last, ``ratio=<engine/naive>``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from thermoscape.data.tables import gaussian_classification, table_to_tensors
from thermoscape.dynamics.langevin import Chain, Schedule, advance, compiled, start_state
from thermoscape.nets.losses import MLPLandscape, mixed_precision
from thermoscape.nets.mlp import MLPSpec

SPEC = MLPSpec((10, 20, 20, 10, 3))


def flops_per_chain_step(n_samples: int) -> float:
    """Forward 2 D in out per layer, backward twice that (input and weight gradients)."""
    return 6.0 * n_samples * sum(i * o for i, o in SPEC.layer_sizes())


def fp64_peak_gflops(n: int = 1024, repeats: int = 5) -> float:
    a, b = torch.randn(n, n, dtype=torch.float64), torch.randn(n, n, dtype=torch.float64)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def naive_rate(x: torch.Tensor, labels: torch.Tensor, seconds: float) -> float:
    torch.manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(SPEC.layer_sizes()):
        layers += [nn.Linear(n_in, n_out, dtype=torch.float64)] + ([nn.ReLU()] if i < len(SPEC.layer_sizes()) - 1 else [])
    model = nn.Sequential(*layers)
    params = list(model.parameters())
    eta, temperature = 1e-2, 1e-5
    scale = (2 * eta * temperature) ** 0.5
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        loss = nn.functional.cross_entropy(model(x), labels)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.add_(g, alpha=-eta).add_(torch.randn_like(p), alpha=scale)
        loss.item()
        steps += 1
    return steps / (time.perf_counter() - start)


def engine_rate(landscape: MLPLandscape, n_chains: int, seconds: float) -> float:
    generator = torch.Generator().manual_seed(0)
    theta = torch.stack([landscape.initial_parameters(generator) for _ in range(n_chains)])
    temperatures = torch.logspace(-7, -4, n_chains).tolist()
    chains = [Chain(t, 1e-2, seed) for seed, t in enumerate(temperatures)]
    state = start_state(theta, chains)
    schedule = Schedule(n_steps=10**9, record_every=1, snapshot_every=1000, chunk_steps=10**9)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        advance(landscape, state, chains, schedule, 512)
        steps += 512
    return steps * n_chains / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    x, labels = table_to_tensors(gaussian_classification(300, 10, 3, seed=0))
    landscape = MLPLandscape(SPEC, x, labels)
    example = torch.zeros(args.chains, landscape.n_params, dtype=torch.float64)
    fast = compiled(landscape, example)  # jules.langevin.compile: true, precision: float64
    mixed = compiled(mixed_precision(landscape), example)  # compile: true, precision: mixed
    chains = f"x{args.chains}"
    contenders = {  # label -> a timed run; the last is the engine the ratio reports
        "naive loop": lambda: naive_rate(x, labels, args.seconds),
        f"eager {chains}": lambda: engine_rate(landscape, args.chains, args.seconds),
        f"float64 {chains}": lambda: engine_rate(fast, args.chains, args.seconds),
        f"engine {chains}": lambda: engine_rate(mixed, args.chains, args.seconds),
    }
    rounds: dict[str, list[float]] = {label: [] for label in contenders}
    for _ in range(args.rounds):
        for label, run in contenders.items():
            rounds[label].append(run())
    best = {label: max(rates) for label, rates in rounds.items()}
    peak = fp64_peak_gflops()
    flops = flops_per_chain_step(len(x))
    print(f"torch {torch.__version__}, 1 thread, float64, paper MLP on 300 points ({flops / 1e6:.2f} MFLOP/chain-step)")
    for label, rates in rounds.items():
        print(f"{label:<11}: {best[label]:8.0f} chain-steps/s  {best[label] * flops / 1e9:6.2f} GFLOP/s  (rounds: "
              + ", ".join(f"{r:.0f}" for r in rates) + ")")
    print(f"FP64 peak (1024^2 matmul, 1 thread): {peak:.2f} GFLOP/s; the float64 engine reaches "
          f"{best[f'float64 {chains}'] * flops / 1e9 / peak:.0%}")
    median = {label: statistics.median(rates) for label, rates in rounds.items()}
    print(f"ratio of the median rounds (machine noise only slows a round down; the best rounds are the ratio): "
          f"{median[f'engine {chains}'] / median['naive loop']:.2f}")
    print(f"ratio={best[f'engine {chains}'] / best['naive loop']:.2f}")


if __name__ == "__main__":
    main()
