"""Yang et al. Figs. 9-11: the metric ablations of one experiment against its reference diagrams."""

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.plotting import save_figure
from thermoscape.studies.taxonomy.plots import ablations_figure

start_job(snakemake)
axes = snakemake.params.axes
fig = ablations_figure(read_table(snakemake.input[0]), axes["load"], axes["temperature"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
