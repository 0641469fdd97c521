"""One experiment's metric ablations (Figs. 9-11) next to its reference CKA and mc, one row per (cell, setting)."""


from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.experiment import ablation_table

start_job(snakemake)
tables = [read_table(path) for path in snakemake.input.ablations]
write_table(ablation_table(read_table(snakemake.input.cells), tables), snakemake.output[0])
