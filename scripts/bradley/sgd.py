"""Bradley et al. stage A (rule bradley_sgd; Figs. 1-3): SGD at temperature T = lr / B (Eq. 9) for
E = ceil(epochs_times_T / T) epochs from a seeded initialisation, on the training set.

params.T; params.settings: dict(data, network, sgd {batch_size, epochs_times_T, weight_decay, momentum});
    wildcards.seed. input.dataset: the stored split.
Output (torch): {"theta": flat parameters, "buffers" (batch-norm statistics), "finite": bool, "lr", "batch", "epochs", "train_loss", "test_loss"}
    (losses: mean cross-entropy without L2 at theta; NaN if the run diverged).
"""

import math

from thermoscape import shift_curvature as sc
from thermoscape.bradley_networks import experiment_network, stored_data
from thermoscape.io import load_tensors, save_tensors
from thermoscape.jobs import start_job
from thermoscape.networks import evaluate

device = start_job(snakemake)
settings, T, seed = snakemake.params.settings, float(snakemake.params.T), int(snakemake.wildcards.seed)
stage = settings["sgd"]
data = stored_data(load_tensors(snakemake.input.dataset), device)
model = experiment_network(settings["network"], data, seed)
lr, epochs = sc.stage_a_schedule(T, stage["batch_size"], stage["epochs_times_T"])
run = sc.sgd(model, data.x_train, data.y_train, lr, stage["batch_size"], epochs, stage["weight_decay"], seed,
             momentum=stage["momentum"])
losses = [evaluate(model, x, y)[0] if run.finite else math.nan
          for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test))]
save_tensors({"theta": run.theta.cpu(), "buffers": sc.model_buffers(model), "finite": run.finite, "lr": lr,
              "batch": stage["batch_size"],
              "epochs": epochs, "train_loss": losses[0], "test_loss": losses[1]}, snakemake.output[0])
