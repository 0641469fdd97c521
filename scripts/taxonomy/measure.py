"""Every measurement of one cell's replicas (one job, as each costs seconds): per replica loss/accuracy
and Hessian (top eigenvalue, trace); per ordered pair CKA and L2; the Bezier curve between replicas 0 and
1 and the errors along it (Yang et al., Eqs. 3, 4 and 12)."""

import logging

from thermoscape.measure.connectivity import mode_connectivity
from thermoscape.data.readers import read_split
from thermoscape.core.io import load_tensors, read_table, save_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.experiment import Cell, cell_data, connect_replicas, load_models, local_metrics, pair_metrics

device = start_job(snakemake)
cell = Cell.from_name(snakemake.wildcards.cell)
data = cell_data(read_split(snakemake.input.dataset), read_table(snakemake.input.labels), cell, device)
stored = load_tensors(snakemake.input.models, device)
models = load_models(stored, device)
params = snakemake.params
local = local_metrics(models, stored, data, params.hessian, params.seed, cell)
logging.info("replicas:\n%s", local.to_string())
write_table(local, snakemake.output.replicas)
pairs = pair_metrics(models, data, params.cka, params.seed, cell)
logging.info("pairs:\n%s", pairs.to_string())
write_table(pairs, snakemake.output.pairs)
bend, errors = connect_replicas(models, stored["arch"], data, params.curve, params.seed, cell)
logging.info("train error along the curve %s: mc = %.3f", errors["train_error"].round(2).tolist(),
             mode_connectivity(errors["train_error"]))
write_table(errors, snakemake.output.curve)
save_tensors({"bend": bend.cpu(), "arch": stored["arch"]}, snakemake.output.bend)
