"""Langevin throughput: the engine against a naive PyTorch loop and an idiomatic JAX sampler, same process.

    taskset -c 1 python benchmarks/langevin_throughput.py [--chains 32] [--rounds 5] [--seconds 4]

Every contender integrates Eq. 7 (``theta - eta grad L + sqrt(2 eta T) xi``) on the paper's 10-20-20-10-3
MLP and its 300 Gaussian points on one thread:

* ``naive loop``: what one writes first, one chain: an nn.Module in float64, torch.autograd.grad, an
  in-place update and loss.item() every step;
* ``compiled x32`` and ``float64 x32``: the engine's torch.compile step (``thermoscape.dynamics.langevin.compiled``)
  with the gradient and noise in float32 (``precision: mixed``) and in float64; the mixed one is what the
  engine ran before the hand-written kernel;
* ``engine x32``: ``thermoscape.dynamics.langevin.advance`` on ``compiled(mixed_precision(landscape))``, which on an
  x86-64 CPU runs the kernel of ``thermoscape.dynamics.mlp_kernel``: the workflow's default (``precision: mixed``,
  ``compile: true``), float64 state, float32 gradient and normals, loss and distance recorded every step;
* ``torch.func x32``: the engine's generic path for any ``nn.Module``
  (``thermoscape.nets.module_landscape.ModuleLandscape``: ``functional_call`` under ``vmap`` over the chains,
  ``grad_and_value`` of the mean loss), on the same network as a float64 ``nn.Sequential``, eager, float64
  gradient and noise: what ``thermoscape.chart`` runs on a user's model;
* ``jax x32`` (only if ``jax`` is installed: ``pip install -e .[bench]``): ``jax.vmap`` over the chains of
  ``jax.value_and_grad`` of the same network's mean cross-entropy, the same update with per-chain
  temperatures and ``jax.random.normal`` noise, ``lax.scan`` over 1,000 steps under ``jax.jit``, float32
  state and arithmetic, the loss of every step returned. XLA is held to one thread
  (``--xla_cpu_multi_thread_eigen=false``, set before jax is imported; run under ``taskset`` to pin it).

Rates are chain-steps per CPU-second of this process (``time.process_time``), which other processes on a
shared machine do not inflate; pinning with ``taskset -c <core>`` keeps every thread on one core. Rounds
alternate the contenders. The FP32 GEMM peak is measured here too: the best single-thread float32 ``mm``
of square matrices (256 to 2048) over every round. A chain-step of the engine does 1.37 MFLOP of GEMM
(forward and weight gradient ``2 D sum(in out)`` each, input gradients of the layers after the first).

The line before the last: ``generic_ratio=<torch.func path / naive loop, median rounds>``.
Last line: ``ratio=<best engine round / best naive round> median_ratio=<ratio of the median rounds>
jax_ratio=<engine / JAX, median rounds, or nan> peak_fraction=<median engine GEMM FLOP rate / FP32 peak>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch
from torch import nn

from thermoscape.data.tables import gaussian_classification, table_to_tensors
from thermoscape.dynamics.langevin import Chain, Schedule, advance, compiled, start_state
from thermoscape.nets.losses import MLPLandscape, mixed_precision
from thermoscape.dynamics.mlp_kernel import MLPKernel
from thermoscape.nets.module_landscape import ModuleLandscape
from thermoscape.nets.mlp import MLPSpec

SPEC = MLPSpec((10, 20, 20, 10, 3))
ETA = 1e-2
JAX_STEPS = 1000


def flops_per_chain_step(n_samples: int) -> float:
    """GEMM FLOPs of one gradient: forward and weight gradient ``2 D in out`` per layer each, and the input
    gradient ``2 D in out`` of every layer but the first (the data need none)."""
    sizes = SPEC.layer_sizes()
    products = 2 * sum(i * o for i, o in sizes) + sum(i * o for i, o in sizes[1:])
    return 2.0 * n_samples * products


def fp32_peak_gflops(sizes=(256, 512, 1024, 2048), repeats: int = 3) -> float:
    """Best single-thread float32 GEMM rate (GFLOP per CPU-second) over square sizes."""
    best = 0.0
    for n in sizes:
        a, b, c = torch.randn(n, n), torch.randn(n, n), torch.empty(n, n)
        torch.mm(a, b, out=c)
        for _ in range(repeats):
            start = time.process_time()
            torch.mm(a, b, out=c)
            best = max(best, 2 * n**3 / max(time.process_time() - start, 1e-9) / 1e9)
    return best


def temperatures(n_chains: int) -> list[float]:
    return torch.logspace(-7, -4, n_chains).tolist()


def paper_module() -> nn.Sequential:
    """The paper's MLP as a float64 ``nn.Sequential`` (PyTorch's default initialisation, seed 0)."""
    torch.manual_seed(0)
    layers = []
    for i, (n_in, n_out) in enumerate(SPEC.layer_sizes()):
        layers += [nn.Linear(n_in, n_out, dtype=torch.float64)] + ([nn.ReLU()] if i < len(SPEC.layer_sizes()) - 1 else [])
    return nn.Sequential(*layers)


def naive_rate(x: torch.Tensor, labels: torch.Tensor, seconds: float) -> float:
    model = paper_module()
    params = list(model.parameters())
    temperature = 1e-5
    scale = (2 * ETA * temperature) ** 0.5
    steps, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        loss = nn.functional.cross_entropy(model(x), labels)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p.add_(g, alpha=-ETA).add_(torch.randn_like(p), alpha=scale)
        loss.item()
        steps += 1
    return steps / (time.process_time() - start)


def engine_rate(landscape, theta: torch.Tensor, seconds: float) -> float:
    chains = [Chain(t, ETA, seed) for seed, t in enumerate(temperatures(theta.shape[0]))]
    state = start_state(theta, chains)
    schedule = Schedule(n_steps=10**9, record_every=1, snapshot_every=1000, chunk_steps=10**9)
    steps, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        advance(landscape, state, chains, schedule, 512)
        steps += 512
    return steps * theta.shape[0] / (time.process_time() - start)


def jax_contender(x: torch.Tensor, labels: torch.Tensor, theta: torch.Tensor):
    """A timed JAX sampler (see the module docstring), or None when jax is not installed."""
    flags = "--xla_cpu_multi_thread_eigen=false"
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + flags).strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    k = theta.shape[0]
    params, offset = [], 0
    for n_in, n_out in SPEC.layer_sizes():  # the engine's starting points, as per-chain pytrees
        w = theta[:, offset : offset + n_in * n_out].reshape(k, n_out, n_in)
        offset += n_in * n_out
        b = theta[:, offset : offset + n_out]
        offset += n_out
        params.append((jnp.asarray(w.numpy(), jnp.float32), jnp.asarray(b.numpy(), jnp.float32)))
    xs, ys = jnp.asarray(x.numpy(), jnp.float32), jnp.asarray(labels.numpy())
    scale = jnp.sqrt(2 * ETA * jnp.asarray(temperatures(k), jnp.float32))

    def loss_fn(p, x, y):
        h = x
        for w, b in p[:-1]:
            h = jax.nn.relu(h @ w.T + b)
        w, b = p[-1]
        logits = h @ w.T + b
        return jnp.mean(jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, y[:, None], axis=1)[:, 0])

    value_and_grad = jax.vmap(jax.value_and_grad(loss_fn), in_axes=(0, None, None))

    def step(carry, _):
        p, key = carry
        key, sub = jax.random.split(key)
        loss, grad = value_and_grad(p, xs, ys)
        leaves, tree = jax.tree_util.tree_flatten(p)
        keys = jax.random.split(sub, len(leaves))
        noise = [jax.random.normal(kk, leaf.shape, leaf.dtype) for kk, leaf in zip(keys, leaves)]
        new = [leaf - ETA * g + scale.reshape((k,) + (1,) * (leaf.ndim - 1)) * xi
               for leaf, g, xi in zip(leaves, jax.tree_util.tree_leaves(grad), noise)]
        return (jax.tree_util.tree_unflatten(tree, new), key), loss

    run = jax.jit(lambda p, key: jax.lax.scan(step, (p, key), None, length=JAX_STEPS))
    carry = (params, jax.random.PRNGKey(0))
    carry, losses = run(*carry)  # compile
    jax.block_until_ready(losses)
    state = {"carry": carry}

    def rate(seconds: float) -> float:
        steps, start = 0, time.process_time()
        while steps == 0 or time.process_time() - start < seconds:
            state["carry"], losses = run(*state["carry"])
            jax.block_until_ready(losses)
            steps += JAX_STEPS
        return steps * k / (time.process_time() - start)

    return rate, f"jax {jax.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--no-jax", action="store_true", help="leave the JAX contender out")
    args = parser.parse_args()
    torch.set_num_threads(1)
    x, labels = table_to_tensors(gaussian_classification(300, 10, 3, seed=0))
    landscape = MLPLandscape(SPEC, x, labels)
    generator = torch.Generator().manual_seed(0)
    theta = torch.stack([landscape.initial_parameters(generator) for _ in range(args.chains)])
    mixed = compiled(mixed_precision(landscape), theta)  # jules.langevin: compile: true, precision: mixed
    kernel = isinstance(getattr(mixed.fused_step, "__self__", None), MLPKernel)
    os.environ["THERMOSCAPE_NO_KERNEL"] = "1"  # the torch.compile step the engine ran before the kernel
    graph = compiled(mixed_precision(landscape), theta)
    del os.environ["THERMOSCAPE_NO_KERNEL"]
    float64 = compiled(landscape, theta)
    generic = ModuleLandscape(paper_module(), x, labels)  # the generic path of thermoscape.chart
    chains = f"x{args.chains}"
    contenders = {  # label -> a timed run (chain-steps per CPU-second)
        "naive loop": lambda: naive_rate(x, labels, args.seconds),
        f"float64 {chains}": lambda: engine_rate(float64, theta, args.seconds),
        f"compiled {chains}": lambda: engine_rate(graph, theta, args.seconds),
        f"engine {chains}": lambda: engine_rate(mixed, theta, args.seconds),
        f"torch.func {chains}": lambda: engine_rate(generic, theta, args.seconds),
    }
    jax_label, jax_note = f"jax {chains}", "JAX is not installed (pip install -e .[bench]): no JAX row, jax_ratio=nan"
    if args.no_jax:
        jax_note = "JAX left out (--no-jax): jax_ratio=nan"
    else:
        contender = jax_contender(x, labels, theta)
        if contender is not None:
            contenders[jax_label] = lambda: contender[0](args.seconds)
            jax_note = f"{contender[1]}, XLA_FLAGS={os.environ['XLA_FLAGS']}"
    rounds: dict[str, list[float]] = {label: [] for label in contenders}
    peaks = []
    for _ in range(args.rounds):
        peaks.append(fp32_peak_gflops())
        for label, run in contenders.items():
            rounds[label].append(run())
    best = {label: max(rates) for label, rates in rounds.items()}
    median = {label: statistics.median(rates) for label, rates in rounds.items()}
    peak = max(peaks)
    flops = flops_per_chain_step(len(x))
    engine = f"engine {chains}"
    print(f"torch {torch.__version__}, 1 thread, paper MLP on 300 points ({flops / 1e6:.2f} MFLOP of GEMM per "
          f"chain-step), {args.rounds} alternating rounds of {args.seconds:g} CPU-s; the engine runs "
          + ("the hand-written kernel (thermoscape.dynamics.mlp_kernel)" if kernel else "torch.compile (no kernel here)"))
    print(jax_note)
    print("chain-steps per CPU-second: best round, median round, GEMM GFLOP/s of the median (all rounds)")
    for label, rates in rounds.items():
        print(f"{label:<15}: {best[label]:8.0f} {median[label]:8.0f} {median[label] * flops / 1e9:6.2f}  ("
              + ", ".join(f"{r:.0f}" for r in rates) + ")")
    print(f"FP32 GEMM peak, 1 thread (best square mm of 256-2048, every round): {peak:.1f} GFLOP/s "
          f"(rounds: {', '.join(f'{p:.1f}' for p in peaks)})")
    func_label = f"torch.func {chains}"
    print(f"generic_ratio={median[func_label] / median['naive loop']:.2f} (the torch.func path against the naive "
          f"loop, median rounds; {median[func_label] / median[engine]:.3f} of the engine)")
    jax_ratio = median[engine] / median[jax_label] if jax_label in median else float("nan")
    print(f"ratio={best[engine] / best['naive loop']:.2f} median_ratio={median[engine] / median['naive loop']:.2f} "
          f"jax_ratio={jax_ratio:.2f} peak_fraction={median[engine] * flops / 1e9 / peak:.3f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
