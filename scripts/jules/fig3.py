"""Jules et al. Fig. 3 (Hessian spectra; loss versus distance, Langevin and free diffusion)."""

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.jules.experiment import read_hessians, read_trajectories
from thermoscape.plotting import save_figure
from thermoscape.studies.jules.plots import figure3

start_job(snakemake)
cfg = snakemake.params.fig
hessian, n_params = read_hessians(snakemake.input.hessian)
trajectories = {
    T: traj[traj["chain"] == cfg["replica"]]
    for T, traj in read_trajectories(snakemake.input.trajectories, snakemake.input.statuses, ("loss", "distance")).items()
}
summary = read_table(snakemake.input.summary)
summary = summary[(summary["slice"] == "all") & (summary["eta"] == cfg["eta"])]
fig = figure3(hessian, read_table(snakemake.input.free_diffusion), trajectories, summary, n_params)
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
