"""Every metric of one experiment: the seven-panel phase diagram (Yang et al., Fig. 2 layout), or one
column per panel value when the experiment has a third axis (Fig. 7 layout)."""

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.plotting import save_figure
from thermoscape.studies.taxonomy.plots import METRICS, data_amount_figure, phase_diagram

start_job(snakemake)
axes = snakemake.params.axes
cells = read_table(snakemake.input.cells)
title = f"Yang et al. phase diagram: experiment {snakemake.wildcards.experiment}"
if "panel" in axes:
    fig = data_amount_figure(cells, tuple(METRICS), axes["load"], axes["temperature"], title=title)
else:
    fig = phase_diagram(cells, axes["load"], axes["temperature"], title=title)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
