"""Jules et al. Fig. 1 (panels a-d) from the fluctuation tables, training curves and trajectories."""

import pandas as pd

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.jules.experiment import read_trajectories
from thermoscape.plotting import save_figure
from thermoscape.studies.jules.plots import figure1

start_job(snakemake)
cfg = snakemake.params.fig
train, refine = read_table(snakemake.input.train_curve), read_table(snakemake.input.refine_curve)
adam = pd.concat([train, refine.assign(step=refine["step"] + train["step"].max())], ignore_index=True)
trajectories = read_trajectories(snakemake.input.trajectories, snakemake.input.statuses)
summary = read_table(snakemake.input.summary)
runs = read_table(snakemake.input.runs)
fig = figure1(summary, runs, adam, trajectories, cfg["eta"], cfg["slice"], cfg["replica"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
