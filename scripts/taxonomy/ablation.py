"""Metric ablations of one cell's replicas (Yang et al. Figs. 9-11): CKA with other mixup alphas and on
pixel-noised inputs, mc from curves with other learning rates and a 4-bend curve."""

import logging

from thermoscape.core.io import load_tensors, read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.data.readers import read_split
from thermoscape.studies.taxonomy.experiment import Cell, ablation_metrics, cell_data, load_models

device = start_job(snakemake)
cell = Cell.from_name(snakemake.wildcards.cell)
data = cell_data(read_split(snakemake.input.dataset), read_table(snakemake.input.labels), cell, device)
models = load_models(load_tensors(snakemake.input.models, device), device)
params = snakemake.params
table = ablation_metrics(models, data, params.ablations, params.cka, params.curve, params.seed, cell)
logging.info("ablations:\n%s", table.to_string())
write_table(table, snakemake.output[0])
