"""Fluctuation statistics per replica and analysis slice for one (eta, T) run (Eqs. 2-4, 8), with block-bootstrap
errors per run and R-hat / bulk ESS across the replicas of each time step."""

import numpy as np
import pandas as pd

from thermoscape.measure.fluctuations import Bootstrap, replica_diagnostics, slice_autocorrelations, slice_statistics
from thermoscape.core.grids import analysis_slices
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.measure.stats import sparsity

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

tables, curves, series = [], [], {}
for run in status.itertuples():
    run_info = {"temperature": run.temperature, "eta": run.eta, "time_step": run.time_step, "replica": run.replica,
                "diverged": run.diverged}
    if run.diverged:
        tables.append(pd.DataFrame([{"slice": name, "t_start": a, "t_end": b} for name, a, b in slices]))
    else:
        traj = trajectory[trajectory["chain"] == run.chain].sort_values("step")
        t, loss = traj["t"].to_numpy(), traj["loss"].to_numpy()
        series.setdefault(run.time_step, []).append((t, loss))
        snaps = samples[samples["chain"] == run.chain].pivot(index="t", columns="sample", values="loss")
        curves.append(slice_autocorrelations(t, loss, slices)
                      .assign(temperature=run.temperature, eta=run.eta, replica=run.replica))
        tables.append(
            slice_statistics(
                t, loss, snaps.index.to_numpy(), sparsity(snaps.to_numpy()), run.temperature, slices,
                cfg["equilibration_factor"], cfg["drift_sigma"], bootstrap, np.random.default_rng([seed, run.chain]),
            )
        )
    tables[-1] = tables[-1].assign(**run_info)
runs = pd.concat(tables, ignore_index=True)
diagnostics = pd.concat([replica_diagnostics(chains, slices).assign(time_step=time_step)
                         for time_step, chains in series.items()] or [pd.DataFrame(columns=["slice", "time_step"])])
runs = runs.merge(diagnostics, on=["slice", "time_step"], how="left")
write_table(runs, snakemake.output.statistics)
write_table(pd.concat(curves, ignore_index=True) if curves else pd.DataFrame(), snakemake.output.autocorrelation)
