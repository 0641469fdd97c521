"""SGD replicas of one cell with the paper's protocol; each replica resumes from its last saved epoch."""

import logging
from pathlib import Path

from thermoscape.data.readers import read_split
from thermoscape.core.io import read_table, save_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.experiment import Cell, cell_data, train_replicas

device = start_job(snakemake)
cell = Cell.from_name(snakemake.wildcards.cell)
data = cell_data(read_split(snakemake.input.dataset), read_table(snakemake.input.labels), cell, device)
workdir = Path(snakemake.params.workdir)
workdir.mkdir(parents=True, exist_ok=True)
models, history = train_replicas(cell, data, snakemake.params.study, workdir)
logging.info("%s: %s", cell.name, history.groupby("replica").tail(1).to_dict("records"))
write_table(history, snakemake.output.training)
save_tensors(models, snakemake.output.models)
