"""The Bezier curve between replicas 0 and 1 of one cell and the errors along it (Yang et al., Eq. 4)."""

import logging

from thermoscape.connectivity import mode_connectivity
from thermoscape.datasets import read_split
from thermoscape.io import load_tensors, read_table, save_tensors, write_table
from thermoscape.jobs import start_job
from thermoscape.taxonomy import Cell, cell_data, connect_replicas, load_models

device = start_job(snakemake)
cell = Cell.from_name(snakemake.wildcards.cell)
data = cell_data(read_split(snakemake.input.dataset), read_table(snakemake.input.labels), cell, device)
stored = load_tensors(snakemake.input.models, device)
bend, errors = connect_replicas(load_models(stored, device), stored["arch"], data, snakemake.params.curve,
                                snakemake.params.seed, cell)
logging.info("train error along the curve %s: mc = %.3f", errors["train_error"].round(2).tolist(),
             mode_connectivity(errors["train_error"]))
write_table(errors, snakemake.output.curve)
save_tensors({"bend": bend.cpu(), "arch": stored["arch"]}, snakemake.output.bend)
