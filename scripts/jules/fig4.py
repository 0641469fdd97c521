"""Jules et al. Fig. 4: the exponential-wall toy model, from the toy-model tables."""

from thermoscape.io import read_table
from thermoscape.jobs import start_job
from thermoscape.plots import save_figure
from thermoscape.plots.toy_model import figure4

start_job(snakemake)
fig = figure4(read_table(snakemake.input.table), read_table(snakemake.input.density), snakemake.params.model)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
