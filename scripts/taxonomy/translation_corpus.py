"""The machine-translation corpus (Yang et al., App. D.4): the synthetic language or a user-supplied TSV
parallel corpus, split into training and test pairs, as one Parquet table."""

from thermoscape.core.io import write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.translation import load_corpus

start_job(snakemake)
write_table(load_corpus(snakemake.params.data, "taxonomy.translation.data"), snakemake.output[0])
