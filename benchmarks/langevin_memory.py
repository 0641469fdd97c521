"""Memory of a long chunked Langevin run: resident memory per chunk, extrapolated to 10^8 steps.

    python benchmarks/langevin_memory.py [--steps 2000000] [--chunk 100000] [--record-every 100]

``run_chunked`` streams every chunk's records to Parquet parts and keeps only the engine state, so the
resident set size (RSS) must not grow with the run length (issue 3: "memory stays flat for runs of 10^8
steps"). A run of 10^8 steps of the paper's network takes days here; this runs ``--steps`` steps of a cheap
10-parameter quadratic landscape through the same engine and chunking (the records per chunk, not the
landscape, are what could accumulate), samples the RSS at every chunk boundary, fits its growth over the
second half of the run and extrapolates it to 10^8 steps. ``--network`` runs the paper's MLP instead, one
chain, ``precision: mixed`` through ``langevin.compiled`` (on x86-64 the hand-written kernel of
``thermoscape.dynamics.mlp_kernel``: a different code path whose per-step allocations must not accumulate either).
Last line: ``ratio=<RSS at the end / RSS after the first chunk>`` (flat: 1.00).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import torch

from thermoscape.data.tables import gaussian_classification, table_to_tensors
from thermoscape.dynamics.langevin import Chain, Schedule, compiled, run_chunked
from thermoscape.nets.losses import MLPLandscape, QuadraticLandscape, mixed_precision
from thermoscape.nets.mlp import MLPSpec

PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2_000_000)
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--record-every", type=int, default=100)
    parser.add_argument("--network", action="store_true", help="the paper's MLP, mixed precision, compiled")
    args = parser.parse_args()
    torch.set_num_threads(1)
    landscape = QuadraticLandscape(torch.linspace(0.1, 1.0, 10, dtype=torch.float64), 10)
    theta0 = torch.zeros(1, 10, dtype=torch.float64)
    if args.network:
        x, labels = table_to_tensors(gaussian_classification(300, 10, 3, seed=0))
        network = MLPLandscape(MLPSpec((10, 20, 20, 10, 3)), x, labels)
        theta0 = network.initial_parameters(torch.Generator().manual_seed(0)).unsqueeze(0)
        landscape = compiled(mixed_precision(network), theta0)
    chains = [Chain(temperature=1e-3, eta=1e-2, seed=0)]
    schedule = Schedule(n_steps=args.steps, record_every=args.record_every, snapshot_every=args.chunk,
                        chunk_steps=args.chunk)
    samples: list[tuple[int, int]] = []
    done = 0

    def progress(steps: int) -> None:
        nonlocal done
        done += steps
        if done % args.chunk == 0:
            samples.append((done, resident_bytes()))

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        run_chunked(landscape, theta0, chains, schedule, workdir, progress)
    seconds = time.perf_counter() - start
    steps, rss = (np.array(column, dtype=float) for column in zip(*samples))
    half = len(steps) // 2
    slope = np.polyfit(steps[half:], rss[half:], 1)[0]  # bytes per step over the second half
    what = "paper MLP, mixed, compiled" if args.network else "10-parameter quadratic"
    print(f"torch {torch.__version__}, 1 thread, {what}: {args.steps:,} steps in {len(steps)} chunks, {seconds:.0f} s")
    print(f"RSS after the first chunk {rss[0] / 2**20:.1f} MiB, at the end {rss[-1] / 2**20:.1f} MiB, "
          f"max {rss.max() / 2**20:.1f} MiB")
    print(f"growth over the second half: {slope * 1e6 / 2**10:.2f} KiB per 10^6 steps; "
          f"extrapolated to 10^8 steps: {slope * 1e8 / 2**20:.1f} MiB")
    print(f"ratio={rss[-1] / rss[0]:.2f}")


if __name__ == "__main__":
    main()
