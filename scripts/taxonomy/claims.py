"""Yang et al. claims checked on the width x temperature phase diagram and, for double descent, on the\nnoisy-label one."""

import pandas as pd

from thermoscape.claims import COLUMNS
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.experiment import PhaseRules, TaxonomyCriteria, double_descent_claim, taxonomy_claims

start_job(snakemake)
criteria, rules = TaxonomyCriteria(**snakemake.params.criteria), PhaseRules(**snakemake.params.phases)
rows = taxonomy_claims(read_table(snakemake.input.cells), rules, criteria, snakemake.params.temperature_axis)
rows.append(double_descent_claim(read_table(snakemake.input.noise), criteria, rules=rules))
write_table(pd.DataFrame(rows, columns=COLUMNS), snakemake.output[0])
