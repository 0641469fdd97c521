"""Transformer replicas of one machine-translation cell (Adam, warm-up, label smoothing, a fixed number of
updates; test loss and BLEU recorded during training); each replica resumes from its last saved epoch."""

import logging
from pathlib import Path

from thermoscape.core.grids import Cell
from thermoscape.core.io import read_table, save_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.translation import train_translation_replicas, translation_data

device = start_job(snakemake)
cell = Cell.from_name(snakemake.wildcards.cell)
data = translation_data(read_table(snakemake.input.corpus), cell, device)
workdir = Path(snakemake.params.workdir)
workdir.mkdir(parents=True, exist_ok=True)
models, history = train_translation_replicas(cell, data, snakemake.params.study, workdir)
logging.info("%s: %s", cell.name, history.groupby("replica").tail(1).to_dict("records"))
write_table(history, snakemake.output.training)
save_tensors(models, snakemake.output.models)
