"""All runs' slice statistics in one table, and their statistics over the replicas that pass S3."""

import pandas as pd

from thermoscape.measure.fluctuations import aggregate_runs
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
# getattr: a workflow started before this setting existed may still run this script
rule = getattr(snakemake.params, "equilibration", {})
runs = pd.concat([read_table(path) for path in snakemake.input], ignore_index=True)
write_table(runs, snakemake.output.runs)
write_table(aggregate_runs(runs, **rule), snakemake.output.summary)
