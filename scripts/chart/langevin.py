"""One temperature's Langevin chains from the refined minimum, all batched (Jules et al. Eq. 7)."""

from thermoscape.core.jobs import start_job
from thermoscape.studies.chart.jobs import RECORDS, langevin_job

device = start_job(snakemake)
outputs = {name: snakemake.output[name] for name in RECORDS}
langevin_job(snakemake.params.chart, device, snakemake.input.minimum, float(snakemake.wildcards.temperature),
             outputs, snakemake.params.workdir, snakemake.params.model_path)
