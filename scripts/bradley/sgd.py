"""Bradley et al. stage A (rule bradley_sgd; Figs. 1-3): SGD at temperature T = lr / B (Eq. 9) for
E = ceil(epochs_times_T / T) epochs from a seeded initialisation, on the training set.

params.T; params.settings: dict(data, network, sgd {batch_size, epochs_times_T, weight_decay, momentum});
    wildcards.seed. input.dataset: the stored split.
Output (torch): {"theta": flat parameters, "buffers" (batch-norm statistics), "finite": bool, "lr", "batch", "epochs", "train_loss", "test_loss"}
    (losses: mean cross-entropy without L2 at theta; NaN if the run diverged).
"""

from thermoscape.studies.bradley import shift_curvature as sc
from thermoscape.studies.bradley.networks import experiment_network, stored_data
from thermoscape.core.io import load_tensors, save_tensors
from thermoscape.core.jobs import ProgressLog, start_job

device = start_job(snakemake)
settings, T, seed = snakemake.params.settings, float(snakemake.params.T), int(snakemake.wildcards.seed)
stage = settings["sgd"]
data = stored_data(load_tensors(snakemake.input.dataset), device)
model = experiment_network(settings["network"], data, seed)
save_tensors(sc.stage_a(model, data, T, seed, stage["batch_size"], stage["epochs_times_T"], stage["weight_decay"],
                        stage["momentum"], progress=lambda epochs: ProgressLog(epochs, f"SGD at T = {T:g}", "epochs")),
            snakemake.output[0])
