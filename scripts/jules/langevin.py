"""One Langevin job: every (temperature, replica) of a batch as a chain, in chunks, resumable (Eq. 7)."""

import logging
import shutil
import sys
import time

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from thermoscape.measure.fluctuations import StopRule
from thermoscape.core.io import concat_parquet, load_tensors, read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.jules.experiment import build_landscape, equilibration_stop, langevin_chains, langevin_schedule
from thermoscape.dynamics.langevin import compiled, run_chunked
from thermoscape.nets.losses import mixed_precision
from thermoscape.core.seeds import derive_seed

device = start_job(snakemake)
params = snakemake.params
landscape = build_landscape(params.study, read_table(snakemake.input.dataset), device)
minima = torch.stack([load_tensors(path, device)["theta"] for path in snakemake.input.models])
# runs per temperature: each replica minimum with `realizations` independent noises; run r starts from
# minimum r % len(minima) and keeps the seed of replica r, so realization 0 is the same chain as without them
runs = len(minima) * params.realizations
theta0 = minima.repeat(len(params.temperatures) * params.realizations, 1)  # chain = i_T * runs + run
# adaptive length (a sweep with max_duration): at least `duration`, then until every chain passes S3
rule = params.stop_rule and dict(params.stop_rule)
check_interval = rule.pop("check_interval", None) if rule else None
schedule = langevin_schedule(params.langevin, params.eta, params.duration, max_duration=params.max_duration,
                             check_interval=check_interval)
stop = equilibration_stop(StopRule(**rule), params.eta) if schedule.adaptive else None
# runs from initialisation (Fig. S1) draw noise independent of the grid's runs at the same (eta, T)
seed = params.seed if params.start == "minimum" else derive_seed(params.seed, params.start)
chains = [
    chain
    for temperature in params.temperatures
    for chain in langevin_chains(seed, runs, temperature, params.eta, schedule, params.burn_in,
                                 params.langevin["param_snapshots"])
]
if params.langevin["precision"] == "mixed":
    landscape = mixed_precision(landscape)
if params.langevin["compile"]:
    landscape = compiled(landscape, theta0)

started = time.perf_counter()
with tqdm(total=schedule.n_steps, desc=f"{snakemake.wildcards.batch} x{len(chains)} chains", file=sys.stderr,
          mininterval=10, unit="step") as bar:
    state, parts = run_chunked(landscape, theta0, chains, schedule, params.workdir, progress=bar.update,
                               stop_rule=stop)
elapsed = time.perf_counter() - started
logging.info("%d chains x %d steps in %.0f s (stopped: %s): %.0f chain-steps/s", len(chains), state.step, elapsed,
             state.stop_reason, len(chains) * state.step / max(elapsed, 1e-9))

for name in ("trajectory", "samples", "params"):
    concat_parquet(parts[name], snakemake.output[name])
status = pd.DataFrame(
    {
        "chain": np.arange(len(chains)),
        "replica": np.arange(len(chains)) % runs,
        "minimum": np.arange(len(chains)) % runs % len(minima),
        "temperature": [c.temperature for c in chains],
        "eta": [c.eta for c in chains],
        "time_step": params.time_step,
        "seed": [c.seed for c in chains],
        "n_steps": state.step,
        # as run: an adaptive run's length is where it stopped
        "duration": state.step * params.eta if schedule.adaptive else params.duration,
        "min_duration": params.duration,
        "max_duration": params.max_duration if schedule.adaptive else params.duration,
        "stop_reason": state.stop_reason,
        "diverged": [d is not None for d in state.diverged_step],
        "diverged_step": [np.nan if d is None else d for d in state.diverged_step],
        "diverged_t": [np.nan if d is None else d * params.eta for d in state.diverged_step],
        "wall_seconds_last_session": elapsed,
    }
)
for row in status.itertuples():
    if row.diverged:
        logging.warning("T = %g, replica %d diverged at step %d (t = %g)", row.temperature, row.replica,
                        row.diverged_step, row.diverged_t)
write_table(status, snakemake.output.status)
shutil.rmtree(params.workdir)
