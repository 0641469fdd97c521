"""Yang et al. claims checked on the width x temperature phase diagram."""

import pandas as pd

from thermoscape.claims import COLUMNS
from thermoscape.io import read_table, write_table
from thermoscape.jobs import start_job
from thermoscape.taxonomy import PhaseRules, TaxonomyCriteria, taxonomy_claims

start_job(snakemake)
rows = taxonomy_claims(read_table(snakemake.input.cells), PhaseRules(**snakemake.params.phases),
                       TaxonomyCriteria(**snakemake.params.criteria), snakemake.params.temperature_axis)
write_table(pd.DataFrame(rows, columns=COLUMNS), snakemake.output[0])
