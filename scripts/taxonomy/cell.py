"""One cell of a Yang et al. grid: its SGD replicas with the paper's protocol (each resumes from its last saved
epoch), then every measurement of them: per replica loss/accuracy and Hessian (top eigenvalue, trace); per
ordered pair CKA and L2; the Bezier curve between replicas 0 and 1 and the errors along it (Eqs. 3, 4, 12)."""

import logging
from pathlib import Path

from thermoscape.core.io import read_table, save_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.data.readers import read_split
from thermoscape.measure.connectivity import mode_connectivity
from thermoscape.studies.taxonomy.experiment import (Cell, cell_data, connect_replicas, load_models, local_metrics,
                                                     pair_metrics, train_replicas)

device = start_job(snakemake)
params, output = snakemake.params, snakemake.output
cell = Cell.from_name(snakemake.wildcards.cell)
data = cell_data(read_split(snakemake.input.dataset), read_table(snakemake.input.labels), cell, device)
workdir = Path(params.workdir)
workdir.mkdir(parents=True, exist_ok=True)
stored, history = train_replicas(cell, data, params.study, workdir)
logging.info("%s: %s", cell.name, history.groupby("replica").tail(1).to_dict("records"))
write_table(history, output.training)
save_tensors(stored, output.models)

models = load_models(stored, device)
local = local_metrics(models, stored, data, params.hessian, params.seed, cell)
logging.info("replicas:\n%s", local.to_string())
write_table(local, output.replicas)
pairs = pair_metrics(models, data, params.cka, params.seed, cell)
logging.info("pairs:\n%s", pairs.to_string())
write_table(pairs, output.pairs)
bend, errors = connect_replicas(models, stored["arch"], data, params.curve, params.seed, cell)
logging.info("train error along the curve %s: mc = %.3f", errors["train_error"].round(2).tolist(),
             mode_connectivity(errors["train_error"]))
write_table(errors, output.curve)
save_tensors({"bend": bend.cpu(), "arch": stored["arch"]}, output.bend)
