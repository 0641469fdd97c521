"""Fluctuation statistics per replica and analysis slice for one (eta, T) run (Eqs. 2-4, 8), with block-bootstrap
errors per run and R-hat / bulk ESS across the replicas of each time step."""

from thermoscape.measure.fluctuations import Bootstrap, run_statistics
from thermoscape.core.grids import analysis_slices
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
cfg = snakemake.params.analysis
# .get: a workflow started before these settings existed may still run this script
bootstrap = Bootstrap(**cfg.get("bootstrap", {}))
seed = int(getattr(snakemake.params, "seed", 0))
status = read_table(snakemake.input.status)
status = status[status["temperature"] == float(snakemake.wildcards.T)]  # a job may hold several T
these_chains = [("chain", "in", status["chain"].tolist())]
trajectory = read_table(snakemake.input.trajectory, filters=these_chains)
samples = read_table(snakemake.input.samples, filters=these_chains)
# the run's own length: an adaptive run (max_duration) may have gone on past the configured duration
duration = float(status["duration"].max()) if "duration" in status else snakemake.params.duration
slices = analysis_slices(snakemake.params.burn_in, duration, cfg["slice_length"])
runs, curves = run_statistics(status, trajectory, samples, slices, cfg["equilibration_factor"], cfg["drift_sigma"],
                              bootstrap, seed)
write_table(runs, snakemake.output.statistics)
write_table(curves, snakemake.output.autocorrelation)
