"""Jules et al. Fig. S2 (high temperature: catapults at eta = 1e-2, drift at eta = 1e-3)."""

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.plotting import save_figure
from thermoscape.studies.jules.plots import figure_s2

start_job(snakemake)
cfg = snakemake.params.fig
labels = tuple(f"eta = {cfg[side]['eta']:g}, T = {cfg[side]['temperature']:g}" for side in ("catapult", "drift"))
fig = figure_s2(read_table(snakemake.input.catapult), read_table(snakemake.input.drift), labels, cfg["window"],
                snakemake.params.replica)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
