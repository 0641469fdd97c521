"""Yang et al.'s machine-translation claims (App. D.4, Figs. 18-19) for the scoreboard."""

import pandas as pd

from thermoscape.claims import COLUMNS, criteria_from
from thermoscape.core.io import atomic_path, read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.experiment import PhaseRules
from thermoscape.studies.taxonomy.translation import TranslationCriteria, translation_claims

start_job(snakemake)
params = snakemake.params
criteria = criteria_from(TranslationCriteria, params.criteria, "taxonomy.translation.claims")
schedules = read_table(snakemake.input.schedules)
tables = {name: part for name, part in schedules.groupby("schedule_name", sort=False)}
rows = translation_claims(read_table(snakemake.input.cells), tables, PhaseRules(**params.phases), criteria)
table = pd.DataFrame(rows, columns=COLUMNS)
write_table(table, snakemake.output.table)
with atomic_path(snakemake.output.csv) as tmp:
    table.to_csv(tmp, index=False, float_format="%.4g")
