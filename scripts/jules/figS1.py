"""Jules et al. Fig. S1 (Langevin from initialisation: loss versus time; late-slice moments versus T)."""

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.jules.experiment import read_trajectories
from thermoscape.plotting import save_figure
from thermoscape.studies.jules.plots import figure_s1

start_job(snakemake)
cfg = snakemake.params.fig
shown = read_trajectories(snakemake.input.trajectories, snakemake.input.statuses)[cfg["shown_temperature"]]
fig = figure_s1(shown.rename(columns={"chain": "replica"}), read_table(snakemake.input.statistics),
                cfg["shown_temperature"], cfg["eta"])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
