"""The study's data set (offline or user-supplied) as one Parquet table: train and test rows."""

from thermoscape.datasets import load_split, write_split
from thermoscape.jobs import start_job

start_job(snakemake)
data = snakemake.params.data
options = {"n_train": data["n_train"]} if data["name"] == "digits" else {}
write_split(load_split(data["name"], data["path"], **options), snakemake.output[0])
