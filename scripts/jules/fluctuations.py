"""Fluctuation statistics per replica and analysis slice for one (eta, T) run (Eqs. 2-4, 8)."""

import pandas as pd

from thermoscape.fluctuations import slice_autocorrelations, slice_statistics
from thermoscape.grids import analysis_slices
from thermoscape.io import read_table, write_table
from thermoscape.jobs import start_job
from thermoscape.stats import sparsity

start_job(snakemake)
cfg = snakemake.params.analysis
status = read_table(snakemake.input.status)
status = status[status["temperature"] == float(snakemake.wildcards.T)]  # a job may hold several T
these_chains = [("chain", "in", status["chain"].tolist())]
trajectory = read_table(snakemake.input.trajectory, filters=these_chains)
samples = read_table(snakemake.input.samples, filters=these_chains)
slices = analysis_slices(snakemake.params.burn_in, snakemake.params.duration, cfg["slice_length"])

tables, curves = [], []
for run in status.itertuples():
    run_info = {"temperature": run.temperature, "eta": run.eta, "time_step": run.time_step, "replica": run.replica,
                "diverged": run.diverged}
    if run.diverged:
        tables.append(pd.DataFrame([{"slice": name, "t_start": a, "t_end": b} for name, a, b in slices]))
    else:
        traj = trajectory[trajectory["chain"] == run.chain].sort_values("step")
        snaps = samples[samples["chain"] == run.chain].pivot(index="t", columns="sample", values="loss")
        curves.append(slice_autocorrelations(traj["t"].to_numpy(), traj["loss"].to_numpy(), slices)
                      .assign(temperature=run.temperature, eta=run.eta, replica=run.replica))
        tables.append(
            slice_statistics(
                traj["t"].to_numpy(), traj["loss"].to_numpy(), snaps.index.to_numpy(),
                sparsity(snaps.to_numpy()), run.temperature, slices, cfg["equilibration_factor"], cfg["drift_sigma"],
            )
        )
    tables[-1] = tables[-1].assign(**run_info)
write_table(pd.concat(tables, ignore_index=True), snakemake.output.statistics)
write_table(pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(), snakemake.output.autocorrelation)
