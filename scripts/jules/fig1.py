"""Jules et al. Fig. 1 (panels a-d) from the fluctuation tables, training curves and trajectories."""

import pandas as pd

from thermoscape.io import read_table
from thermoscape.jobs import start_job
from thermoscape.plots import figure1, save_figure

start_job(snakemake)
cfg = snakemake.params.fig
train, refine = read_table(snakemake.input.train_curve), read_table(snakemake.input.refine_curve)
adam = pd.concat([train, refine.assign(step=refine["step"] + train["step"].max())], ignore_index=True)
trajectories = {}
for path in snakemake.input.trajectories:
    table = read_table(path, columns=["chain", "t", "loss"])
    temperature = float(path.split("_T")[-1].split("/")[0])
    trajectories[temperature] = table
summary = read_table(snakemake.input.summary)
runs = read_table(snakemake.input.runs)
fig = figure1(summary, runs, adam, trajectories, cfg["eta"], cfg["slice"], cfg["replica"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
