"""Catastrophic forgetting, task 1 (brief 6.1): train the MLP on all digits, re-initialise W2 and freeze the
other layers, train W2 on task 1 into the exploration phase, PCA of the window (p_1i, sigma_1i^2), the
flatness F_1i of every constrained direction (e L_0 crossings, brief 3.2) and EWC's diagonal Fisher."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from thermoscape.data.readers import read_split
from thermoscape.studies.fengtu.experiment import (
    SGDRun,
    build_task,
    evaluator,
    layer_slices,
    network_landscape,
    split_tensors,
    task_tensors,
    train_with_snapshots,
    uniform_init,
)
from thermoscape.measure.flatness import crossing_widths
from thermoscape.studies.fengtu.forgetting import fisher_diagonal
from thermoscape.core.io import save_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.core.seeds import derive_seed
from thermoscape.measure.pca import principal_components

device = start_job(snakemake)
settings, hidden = snakemake.params.forgetting, snakemake.params.hidden
seed = int(snakemake.wildcards.seed)
workdir = Path(snakemake.params.workdir)
data = split_tensors(read_split(snakemake.input.dataset), device)
network = {"arch": "mlp", "hidden": hidden, "seed": seed}
task, theta, _ = build_task(network, data, seed)
pretrain = train_with_snapshots(theta, task.batch_loss_and_grad, task.n_samples,
                                SGDRun(settings["lr"], settings["batch_size"], settings["pretrain_epochs"], 0),
                                derive_seed(seed, "pretrain"), evaluator(task, data), state_path=workdir / "pretrain.pt")
logging.info("pretrained on all digits: %s", pretrain.history.iloc[-1].to_dict())

base = pretrain.theta.clone()
w2 = layer_slices(task.spec)[1]
base[w2] = uniform_init(task.spec, derive_seed(seed, "reinit"))[w2].to(device)
task1 = task_tensors(data, settings["task1"])
landscape, w_start = network_landscape(task1, hidden, base, 2)
test_landscape, _ = network_landscape(task_tensors(data, settings["task1"], test=True), hidden, base, 2)


def evaluate(w):
    return *landscape.loss_and_error(w), test_landscape.loss_and_error(w)[1]


run = SGDRun(settings["lr"], settings["batch_size"], settings["task1_epochs"], settings["task1_window"])
outcome = train_with_snapshots(w_start.clone(), landscape.batch_loss_and_grad, landscape.n_samples, run,
                               derive_seed(seed, "task1"), evaluate, {"W2": slice(0, w_start.numel())},
                               state_path=workdir / "task1.pt")
w1 = outcome.theta
logging.info("task 1: %s", outcome.history.iloc[-1].to_dict())
pca = principal_components(outcome.snapshots["W2"])
n_directions = min(max(settings["constrained"]), int(np.sum(pca.variances > 0)))
directions = torch.as_tensor(pca.directions[:n_directions], device=device)
d_plus, d_minus, loss0 = crossing_widths(landscape.loss, w1, directions, h0=snakemake.params.flatness["h0"],
                                         rel_tol=snakemake.params.flatness["rel_tol"])
widths = d_plus + d_minus
logging.info("task-1 flatness of %d directions: F from %.3g to %.3g", n_directions, widths.min(), widths.max())
save_tensors({"base": base.cpu(), "w1": w1.cpu(), "directions": directions.cpu(), "widths": widths.cpu(),
              "fisher": fisher_diagonal(landscape.per_sample_loss, w1).cpu(),
              "task1_test_error": float(outcome.history["test_error"].iloc[-1])}, snakemake.output.state)
write_table(pd.DataFrame({"rank": np.arange(1, n_directions + 1), "variance": pca.variances[:n_directions],
                          "width": widths.cpu().numpy(), "loss0": loss0}), snakemake.output.table)
