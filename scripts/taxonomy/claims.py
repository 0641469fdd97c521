"""Yang et al. claims checked on the width x temperature phase diagram and, for double descent, on the\nnoisy-label one."""

import pandas as pd

from thermoscape.claims import COLUMNS, criteria_from
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.claims import (
    Criteria,
    ablation_claims,
    double_descent_claim,
    label_noise_claims,
    lr_decay_claims,
    phase_iv_split_claims,
    taxonomy_claims,
)
from thermoscape.studies.taxonomy.experiment import PhaseRules

start_job(snakemake)
criteria = criteria_from(Criteria, snakemake.params.criteria, "taxonomy.claims")
rules = PhaseRules(**snakemake.params.phases)
rows = taxonomy_claims(read_table(snakemake.input.cells), rules, criteria, snakemake.params.temperature_axis)
rows.append(double_descent_claim(read_table(snakemake.input.noise), criteria, rules=rules))
rows += phase_iv_split_claims(read_table(snakemake.input.cells), rules, snakemake.params.temperature_axis)
rows += phase_iv_split_claims(read_table(snakemake.input.lr_decay), rules, "batch_size", experiment="lr_decay")
rows += label_noise_claims(read_table(snakemake.input.label_noise), criteria)
rows += lr_decay_claims(read_table(snakemake.input.cells), read_table(snakemake.input.lr_decay), criteria, rules)
rows += ablation_claims(read_table(snakemake.input.ablations), criteria)
write_table(pd.DataFrame(rows, columns=COLUMNS), snakemake.output[0])
