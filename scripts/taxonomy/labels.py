"""The training labels with a fraction changed (fixed once, shared by every replica; Yang et al. B.1)."""

from thermoscape.datasets import read_split
from thermoscape.io import write_table
from thermoscape.jobs import start_job
from thermoscape.taxonomy import label_table

start_job(snakemake)
labels = snakemake.params.labels
table = label_table(read_split(snakemake.input[0]), float(snakemake.wildcards.noise), labels["rule"], labels["seed"])
write_table(table, snakemake.output[0])
