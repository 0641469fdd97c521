"""Jules et al. Fig. 2 (sparsity, tau_1/2, autocorrelation and its collapse) from the fluctuation tables."""

import pandas as pd

from thermoscape.io import read_table
from thermoscape.jobs import start_job
from thermoscape.plots import save_figure
from thermoscape.plots.jules import figure2

start_job(snakemake)
cfg = snakemake.params.fig
autocorrelation = pd.concat([read_table(path) for path in snakemake.input.autocorrelation], ignore_index=True)
fig = figure2(read_table(snakemake.input.summary), autocorrelation, cfg["eta"], cfg["slice"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
