"""Every measurement of one machine-translation cell's replicas: per replica token loss/accuracy, BLEU and
the Hessian (top eigenvalue, trace); per ordered pair CKA of the per-token softmax outputs and L2; the Bezier
curve between replicas 0 and 1 and the training loss along it (Yang et al., Eqs. 3, 4 and 12; App. D.4)."""

import logging

from thermoscape.core.grids import Cell
from thermoscape.core.io import load_tensors, read_table, save_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.measure.connectivity import mode_connectivity
from thermoscape.studies.taxonomy.experiment import connect_replicas, load_models, local_metrics
from thermoscape.studies.taxonomy.translation import replica_bleu, token_cka_pairs, translation_data

device = start_job(snakemake)
cell = Cell.from_name(snakemake.wildcards.cell)
data = translation_data(read_table(snakemake.input.corpus), cell, device)
stored = load_tensors(snakemake.input.models, device)
models = load_models(stored, device)
params = snakemake.params
local = local_metrics(models, stored, data, params.hessian, params.seed, cell).assign(bleu=replica_bleu(models, data))
logging.info("replicas:\n%s", local.to_string())
write_table(local, snakemake.output.replicas)
pairs = token_cka_pairs(models, data, params.cka, params.seed, cell)
logging.info("pairs:\n%s", pairs.to_string())
write_table(pairs, snakemake.output.pairs)
bend, errors = connect_replicas(models, stored["arch"], data, params.curve, params.seed, cell)
logging.info("training loss along the curve %s: mc = %.3f", errors["train_loss"].round(3).tolist(),
             mode_connectivity(errors["train_loss"]))
write_table(errors, snakemake.output.curve)
save_tensors({"bend": bend.cpu(), "arch": stored["arch"]}, snakemake.output.bend)
