"""The training labels with a fraction changed (fixed once, shared by every replica; Yang et al. B.1)."""

from thermoscape.data.readers import read_split
from thermoscape.core.io import write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.experiment import label_table

start_job(snakemake)
labels = snakemake.params.labels
table = label_table(read_split(snakemake.input[0]), float(snakemake.wildcards.noise), labels["rule"], labels["seed"])
write_table(table, snakemake.output[0])
