"""Per-replica loss/accuracy and Hessian (top eigenvalue, trace), per-pair CKA and L2 of one cell."""

from thermoscape.datasets import read_split
from thermoscape.io import load_tensors, read_table, write_table
from thermoscape.jobs import start_job
from thermoscape.taxonomy import Cell, cell_data, load_models, local_metrics, pair_metrics

device = start_job(snakemake)
cell = Cell.from_name(snakemake.wildcards.cell)
data = cell_data(read_split(snakemake.input.dataset), read_table(snakemake.input.labels), cell, device)
stored = load_tensors(snakemake.input.models, device)
models = load_models(stored, device)
params = snakemake.params
write_table(local_metrics(models, stored, data, params.hessian, params.seed, cell), snakemake.output.replicas)
write_table(pair_metrics(models, data, params.cka, params.seed, cell), snakemake.output.pairs)
