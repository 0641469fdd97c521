"""Jules et al. Fig. 1 (panels a-d) from the fluctuation tables, training curves and trajectories."""

import pandas as pd

from thermoscape.io import read_table
from thermoscape.jobs import start_job
from thermoscape.plots import save_figure
from thermoscape.plots.jules import figure1

start_job(snakemake)
cfg = snakemake.params.fig
train, refine = read_table(snakemake.input.train_curve), read_table(snakemake.input.refine_curve)
adam = pd.concat([train, refine.assign(step=refine["step"] + train["step"].max())], ignore_index=True)
trajectories = {}  # T -> (chain = replica, t, loss)
for trajectory_path, status_path in zip(snakemake.input.trajectories, snakemake.input.statuses):
    table = read_table(trajectory_path, columns=["chain", "t", "loss"])
    status = read_table(status_path).set_index("chain")
    for temperature, chains in status.groupby("temperature"):
        rows = table[table["chain"].isin(chains.index)]
        trajectories[temperature] = rows.assign(chain=chains["replica"].reindex(rows["chain"]).to_numpy())
summary = read_table(snakemake.input.summary)
runs = read_table(snakemake.input.runs)
fig = figure1(summary, runs, adam, trajectories, cfg["eta"], cfg["slice"], cfg["replica"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
