"""The Langevin engine and the closed-form Hessian at paper scale on a GPU (issue 22, item 3).

    python benchmarks/gpu_paper_scale.py [--chains 1024] [--steps 2000] [--points 1000] [--out gpu_paper_scale.json]
    python benchmarks/gpu_paper_scale.py --device cpu --small   # a seconds-long smoke run of the same code

On the paper's 10-20-20-10-3 MLP and its 300 Gaussian points, on the device the workflow's ``device: auto``
picks (``thermoscape.core.device.select_device``):

* the engine (``thermoscape.dynamics.langevin.advance``, loss and distance recorded every step) with K chains:
  float64 eager, float64 ``compiled`` (torch.compile, inductor/Triton) and ``precision: mixed`` compiled
  (the workflow's default; the hand-written CPU kernel does not apply on a GPU), chain-steps per second;
* the Hessian path of ``scripts/jules/hessian.py`` (``curvature.landscape_hessian_eigenvalues``: closed-form
  883 x 883 float64 Hessian plus ``eigvalsh``) at ``--points`` parameter points (the paper's 1,000 per T),
  Hessians per second;
* agreement with the CPU: the float64 gradient and the Hessian eigenvalues at the same points.

Everything stops at a deadline (``--budget`` seconds, default 240, so the whole run stays under 5 minutes): a
part cut short reports what it did. Prints the numbers and writes them as JSON to ``--out``. Without
CUDA (and without ``--device cpu``) it says so and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

from thermoscape.measure.curvature import landscape_hessian_eigenvalues
from thermoscape.data.tables import gaussian_classification, table_to_tensors
from thermoscape.dynamics.langevin import Chain, Schedule, advance, compiled, start_state
from thermoscape.nets.losses import MLPLandscape, mixed_precision
from thermoscape.nets.mlp import MLPSpec

SPEC = MLPSpec((10, 20, 20, 10, 3))


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def engine_rate(landscape, theta: torch.Tensor, steps: int, deadline: float) -> dict:
    """Chain-steps per second of ``advance`` over up to ``steps`` steps (after one warm-up stretch)."""
    k = theta.shape[0]
    temperatures = torch.logspace(-7, -4, k).tolist()
    chains = [Chain(t, 1e-2, seed) for seed, t in enumerate(temperatures)]
    state = start_state(theta, chains)
    stretch = 256
    schedule = Schedule(n_steps=10**9, record_every=1, snapshot_every=1000, chunk_steps=10**9, noise_block=stretch)
    advance(landscape, state, chains, schedule, stretch)  # warm-up (allocator, kernels, autotuning)
    synchronize(theta.device)
    done, start = 0, time.perf_counter()
    while done < steps and time.perf_counter() < deadline:
        advance(landscape, state, chains, schedule, stretch)
        done += stretch
    synchronize(theta.device)
    seconds = time.perf_counter() - start
    finite = bool(torch.isfinite(state.theta).all())
    return {"chains": k, "steps": done, "seconds": seconds, "chain_steps_per_s": done * k / max(seconds, 1e-9),
            "finite": finite}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu (a smoke run)")
    parser.add_argument("--chains", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=2048)
    parser.add_argument("--points", type=int, default=1000, help="Hessian points (the paper: 1,000 per T)")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds before every part stops")
    parser.add_argument("--small", action="store_true", help="8 chains, 256 steps, 3 points, no torch.compile")
    parser.add_argument("--out", default="gpu_paper_scale.json")
    args = parser.parse_args(argv)
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here: this benchmark measures the GPU path (run it on a GPU, or --device cpu "
              "--small for a smoke run); nothing was measured")
        sys.exit(2)
    if args.small:
        args.chains, args.steps, args.points = 8, 256, 3
    started = time.perf_counter()
    deadline = started + args.budget
    device = torch.device(args.device)
    x, labels = table_to_tensors(gaussian_classification(300, 10, 3, seed=0))
    cpu_landscape = MLPLandscape(SPEC, x, labels)
    landscape = MLPLandscape(SPEC, x.to(device), labels.to(device))
    generator = torch.Generator().manual_seed(0)
    theta_cpu = torch.stack([cpu_landscape.initial_parameters(generator) for _ in range(args.chains)])
    theta = theta_cpu.to(device)
    result: dict = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "model": "MLP 10-20-20-10-3, 300 Gaussian points",
        "command": " ".join(["python", "benchmarks/gpu_paper_scale.py", *(argv if argv is not None else sys.argv[1:])]),
    }

    # agreement with the CPU: the float64 gradient at a few chains
    _, grad = landscape.loss_and_grad(theta[:4])
    _, grad_cpu = cpu_landscape.loss_and_grad(theta_cpu[:4])
    result["gradient_max_relative_difference_vs_cpu"] = float(
        (grad.cpu() - grad_cpu).abs().max() / grad_cpu.abs().max())

    engines = {"float64 eager": lambda: landscape}
    if not args.small:
        engines["float64 compiled"] = lambda: compiled(landscape, theta)
        engines["mixed compiled"] = lambda: compiled(mixed_precision(landscape), theta)
    else:
        engines["mixed eager"] = lambda: mixed_precision(landscape)
    result["engine"] = {}
    for label, build in engines.items():
        if time.perf_counter() > deadline:
            result["engine"][label] = {"skipped": "budget spent"}
            continue
        built = time.perf_counter()
        engine = build()
        setup = time.perf_counter() - built
        result["engine"][label] = {"setup_seconds": setup, **engine_rate(engine, theta, args.steps, deadline)}
        print(f"engine {label:<17}: {result['engine'][label]['chain_steps_per_s']:12.0f} chain-steps/s "
              f"(K = {args.chains}, {result['engine'][label]['steps']} steps, setup {setup:.1f} s)", flush=True)

    # the Hessian path of scripts/jules/hessian.py at the paper's number of points
    points = torch.stack([cpu_landscape.initial_parameters(generator) for _ in range(args.points)]).to(device)
    landscape_hessian_eigenvalues(landscape, points[:1])  # warm-up (cuSOLVER handles, kernels)
    synchronize(device)
    eigenvalues, start = [], time.perf_counter()
    for theta_p in points:
        if time.perf_counter() > deadline:
            break
        eigenvalues.append(landscape_hessian_eigenvalues(landscape, theta_p.unsqueeze(0)))
    synchronize(device)
    seconds = time.perf_counter() - start
    done = len(eigenvalues)
    hessian = {"points": done, "requested": args.points, "seconds": seconds,
               "hessians_per_s": done / max(seconds, 1e-9)}
    if done:
        reference = landscape_hessian_eigenvalues(cpu_landscape, points[:2].cpu())
        ours = torch.cat(eigenvalues[:2]).cpu()
        hessian["eigenvalue_max_relative_difference_vs_cpu"] = float(
            (ours - reference[: len(ours)]).abs().max() / reference.abs().max())
    result["hessian"] = hessian
    print(f"hessian (closed form + eigvalsh): {hessian['hessians_per_s']:.2f} Hessians/s ({done} of "
          f"{args.points} points in {seconds:.1f} s)", flush=True)
    result["wall_seconds"] = time.perf_counter() - started
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
