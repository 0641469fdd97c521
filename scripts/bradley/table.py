"""One aggregated Bradley table (rule bradley_table): the per-job tables of input, concatenated in order."""

import pandas as pd

from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
write_table(pd.concat([read_table(path) for path in snakemake.input], ignore_index=True), snakemake.output[0])
