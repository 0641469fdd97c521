"""Yang et al. claims checked on the width x temperature phase diagram and, for double descent, on the\nnoisy-label one."""

import pandas as pd

from thermoscape.claims import COLUMNS, criteria_from
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.claims import Criteria, double_descent_claim, taxonomy_claims
from thermoscape.studies.taxonomy.experiment import PhaseRules

start_job(snakemake)
criteria = criteria_from(Criteria, snakemake.params.criteria, "taxonomy.claims")
rules = PhaseRules(**snakemake.params.phases)
rows = taxonomy_claims(read_table(snakemake.input.cells), rules, criteria, snakemake.params.temperature_axis)
rows.append(double_descent_claim(read_table(snakemake.input.noise), criteria, rules=rules))
write_table(pd.DataFrame(rows, columns=COLUMNS), snakemake.output[0])
