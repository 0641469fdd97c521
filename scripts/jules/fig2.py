"""Jules et al. Fig. 2 (sparsity, tau_1/2, autocorrelation and its collapse) from the fluctuation tables."""

import pandas as pd

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.plotting import save_figure
from thermoscape.studies.jules.plots import figure2

start_job(snakemake)
cfg = snakemake.params.fig
autocorrelation = pd.concat([read_table(path) for path in snakemake.input.autocorrelation], ignore_index=True)
fig = figure2(read_table(snakemake.input.summary), autocorrelation, cfg["eta"], cfg["slice"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
