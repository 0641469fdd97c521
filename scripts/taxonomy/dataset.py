"""The study's data set (offline or user-supplied), subsampled as configured, as one Parquet table: train and
test rows."""

from thermoscape.data.readers import load_split, subset_options, write_split
from thermoscape.core.jobs import start_job

start_job(snakemake)
data = snakemake.params.data
write_split(load_split(data["name"], data["path"], **subset_options(data)), snakemake.output[0])
