"""Jules et al. Fig. 4: the exponential-wall toy model, from the toy-model tables."""

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.plotting import save_figure
from thermoscape.studies.jules.toy_model_plots import figure4

start_job(snakemake)
fig = figure4(read_table(snakemake.input.table), read_table(snakemake.input.density), snakemake.params.model)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
