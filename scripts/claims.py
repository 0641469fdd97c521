"""Every study's claims table in one CSV with the run's provenance, and the scoreboard page."""

from pathlib import Path

from thermoscape.claims import scoreboard
from thermoscape.core.io import atomic_path, read_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
params = snakemake.params
info = scoreboard.provenance(params.config_hash, params.config_files, params.scale, params.device, params.workflow_dir)
table = scoreboard.combine([read_table(snakemake.input[study]) for study in params.studies])
table = table.assign(**{column: info[column] for column in scoreboard.PROVENANCE_COLUMNS})
with atomic_path(snakemake.output.csv) as tmp:
    table.to_csv(tmp, index=False, float_format="%.4g")
# the figures folder, linked relative to the page (the chart's own page lies one folder down: ../figures)
figures = Path(snakemake.output.html).parent / params.figures_href
with atomic_path(snakemake.output.html) as tmp:
    tmp.write_text(scoreboard.render(table, info, figures, params.figures_href))
