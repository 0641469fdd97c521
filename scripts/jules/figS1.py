"""Jules et al. Fig. S1 (Langevin from initialisation: loss versus time; late-slice moments versus T)."""

from thermoscape.io import read_table
from thermoscape.jobs import start_job
from thermoscape.jules import read_trajectories
from thermoscape.plots import save_figure
from thermoscape.plots.jules import figure_s1

start_job(snakemake)
cfg = snakemake.params.fig
shown = read_trajectories(snakemake.input.trajectories, snakemake.input.statuses)[cfg["shown_temperature"]]
fig = figure_s1(shown.rename(columns={"chain": "replica"}), read_table(snakemake.input.statistics),
                cfg["shown_temperature"], cfg["eta"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
