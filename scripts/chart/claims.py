"""The scoreboard section "your network": Jules et al.'s claims (a)-(c) judged on the chart's tables."""

from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.chart.claims import chart_claims

start_job(snakemake)
table = chart_claims(read_table(snakemake.input.summary), read_table(snakemake.input.table),
                     snakemake.params.criteria, snakemake.params.seed)
write_table(table, snakemake.output[0])
