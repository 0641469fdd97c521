"""Load and check the user's model, weights and data (each error names its chart.* key), then refine the minimum."""

from thermoscape.core.jobs import start_job
from thermoscape.studies.chart.jobs import minimum_job

device = start_job(snakemake)
minimum_job(snakemake.params.chart, device, snakemake.output.minimum, snakemake.output.curve,
            snakemake.params.model_path)
