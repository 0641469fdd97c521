"""The primary study's fluctuation statistics on every temperature's chains: the chart table."""

from thermoscape.core.jobs import start_job
from thermoscape.studies.chart.jobs import RECORDS, analysis_job

start_job(snakemake)
records = {float(number): {name: snakemake.input[f"{name}_{number}"] for name in RECORDS}
           for number in snakemake.params.temperatures}
outputs = {name: snakemake.output[name] for name in ("table", "summary", "runs", "curves")}
analysis_job(snakemake.params.chart, snakemake.input.minimum, records, outputs)
