"""Per-example logit Jacobians of the Fort & Ganguli SmallCNN on digits: vmap(jacrev) over examples
(baseline) against fort.logit_jacobians (torch's per-sample gradients, one batched backward per logit),
alternating in one process, one thread. Prints, last, ratio=<baseline time / engine time>."""

import argparse
import time

import torch
from torch.func import jacrev, vmap

from thermoscape.studies.fort import experiment as fort
from thermoscape.nets import build
from thermoscape.nets.networks import flat_parameters, functional_logits
from thermoscape.nets.small import small_spec

parser = argparse.ArgumentParser()
parser.add_argument("--examples", type=int, default=50)
parser.add_argument("--rounds", type=int, default=3)
args = parser.parse_args()
torch.set_num_threads(1)
data = fort.load_data("digits", 1000, 100, "unit")
model = build(small_spec("cnn", "relu", (64,), 10, [32], [16, 32, 32]), 0, torch.float64)
logits_fn, theta, x = functional_logits(model), flat_parameters(model).detach(), data.x_train[: args.examples]
one = lambda t, sample: logits_fn(t, sample.unsqueeze(0)).squeeze(0)
methods = {"vmap(jacrev)": lambda: vmap(jacrev(one), in_dims=(None, 0))(theta, x),
           "per-sample": lambda: fort.logit_jacobians(model, x)}
best = {name: float("inf") for name in methods}
for _ in range(args.rounds):
    for name, method in methods.items():
        start = time.perf_counter()
        method()
        best[name] = min(best[name], time.perf_counter() - start)
print(f"torch {torch.__version__}, 1 thread, float64, SmallCNN (D = {theta.numel()}), {args.examples} digits")
for name, seconds in best.items():
    print(f"{name:>13}: {seconds:.3f} s (best of {args.rounds})")
torch.testing.assert_close(methods["vmap(jacrev)"](), methods["per-sample"]())
print(f"ratio={best['vmap(jacrev)'] / best['per-sample']:.2f}")
