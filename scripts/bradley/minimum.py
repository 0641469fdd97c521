"""Bradley et al. stage B (rule bradley_minimum; Figs. 1-3): from theta_SGD, low-temperature descent on one
split (train: theta_tr, test: theta_test) with fixed cyclic batches (brief 4.B).

params.settings: dict(data, network, minima {lr, batch_size (None: full batch), epochs, weight_decay});
    wildcards.split (train | test), wildcards.seed. input.sgd: stage A's torch file.
Output (torch): {"theta", "buffers" (batch-norm statistics), "finite", "grad_norm"} (gradient norm of CE + L2 on the split at theta).
"""

from thermoscape.studies.bradley import shift_curvature as sc
from thermoscape.studies.bradley.networks import experiment_network, stored_data
from thermoscape.core.io import load_tensors, save_tensors
from thermoscape.core.jobs import start_job

device = start_job(snakemake)
settings, split = snakemake.params.settings, snakemake.wildcards.split
minima = settings["minima"]
data = stored_data(load_tensors(snakemake.input.dataset), device)
model = experiment_network(settings["network"], data, int(snakemake.wildcards.seed))
x, y = (data.x_train, data.y_train) if split == "train" else (data.x_test, data.y_test)
save_tensors(sc.stage_b(model, load_tensors(snakemake.input.sgd), x, y, minima["lr"], minima["batch_size"],
                        minima["epochs"], minima["weight_decay"]), snakemake.output[0])
