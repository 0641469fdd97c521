"""The one-page figure of the charted network (the analogues of Jules et al. Figs. 1-3)."""

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.chart.plots import chart_figure

start_job(snakemake)
chart_figure(read_table(snakemake.input.table), snakemake.output.pdf, snakemake.output.png, snakemake.params.title)
