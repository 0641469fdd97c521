"""SGD throughput of one taxonomy cell: train_sgd once per replica versus train_mlp_replicas, same process.

    python benchmarks/taxonomy_sgd_throughput.py [--replicas 3] [--steps 175] [--rounds 2]

Both train ``--replicas`` 64-w-w-10 ReLU MLPs (the config's depth 2) in float32 on the 1400 training
digits (``datasets.load_digits_split``) with the paper's protocol (lr 0.05, momentum 0.9, weight decay
5e-4), one thread, no checkpoint file, for about ``--steps`` steps per replica (whole epochs; the stop
rule cannot fire). Rounds alternate so that machine noise hits both alike; the best round counts.
Prints replica-steps per second of each for width 64 and 512 at batch 8 and 128 and, last,
``ratio=<fast/slow>`` for width 64, batch 8 (the workflow's most step-bound cell).
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from thermoscape.data.readers import load_digits_split
from thermoscape.nets import build
from thermoscape.dynamics.sgd import SGDSettings, train_mlp_replicas, train_sgd


def replica_steps_per_s(fast: bool, width: int, batch: int, x, y, replicas: int, steps: int) -> float:
    epochs = math.ceil(steps / (len(x) // batch))
    settings = SGDSettings(batch_size=batch, min_epochs=10**6, max_epochs=epochs)
    arch = {"name": "mlp", "in_features": 64, "width": width, "depth": 2, "n_classes": 10}
    models = [build(arch, seed=r) for r in range(replicas)]
    seeds = list(range(100, 100 + replicas))
    start = time.perf_counter()
    if fast:
        train_mlp_replicas(models, x, y, settings, seeds)
    else:
        for model, seed in zip(models, seeds):
            train_sgd(model, x, y, settings, seed)
    return replicas * epochs * (len(x) // batch) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=3)
    parser.add_argument("--steps", type=int, default=175)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)
    split = load_digits_split()
    x = torch.tensor(split.x_train, dtype=torch.float32)
    y = torch.tensor(split.y_train, dtype=torch.int64)
    print(f"torch {torch.__version__}, 1 thread, float32, digits {tuple(x.shape)}, {args.replicas} replicas,"
          f" ~{args.steps} steps per replica")
    ratios = {}
    for width in (64, 512):
        for batch in (8, 128):
            rates: dict[bool, list[float]] = {False: [], True: []}
            for _ in range(args.rounds):
                for fast in (False, True):
                    rate = replica_steps_per_s(fast, width, batch, x, y, args.replicas, args.steps)
                    rates[fast].append(rate)
            slow, fast = max(rates[False]), max(rates[True])
            ratios[width, batch] = fast / slow
            print(f"width {width:3d} batch {batch:3d}: train_sgd x{args.replicas} {slow:8.0f} steps/s,"
                  f" train_mlp_replicas {fast:8.0f} steps/s, speedup {fast / slow:5.1f}x")
    print(f"ratio={ratios[64, 8]:.2f}")


if __name__ == "__main__":
    main()
