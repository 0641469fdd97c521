"""Control C1 (brief 2): overdamped Langevin dynamics of constant temperature on W2 from the E1 minimum
(W1, W3 fixed), with the snapshots of the window as an SGD run's; Eq. 16 predicts sigma_i^2 ~ T F_i^2."""

import numpy as np
import pandas as pd

from thermoscape.data.readers import read_split
from thermoscape.studies.fengtu.experiment import network_landscape, split_tensors, write_snapshots
from thermoscape.core.io import load_tensors, read_table, save_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.dynamics.langevin import Chain, Schedule, run_chunked
from thermoscape.core.seeds import derive_seed

device = start_job(snakemake)
settings = snakemake.params.langevin
data = split_tensors(read_split(snakemake.input.dataset), device)
theta = load_tensors(snakemake.input.checkpoints, device)["theta"]
landscape, w0 = network_landscape(data, snakemake.params.hidden, theta, 2)
window = range(settings["burn_in"], settings["burn_in"] + settings["steps"] * settings["snapshot_every"],
               settings["snapshot_every"])
chain = Chain(settings["temperature"], settings["eta"], derive_seed(settings["seed"], "langevin_control"),
              tuple(window))
schedule = Schedule(n_steps=window.stop, record_every=10, snapshot_every=window.stop + 1, chunk_steps=5000)
state, parts = run_chunked(landscape, w0[None].clone(), [chain], schedule, snakemake.params.workdir)
trajectory = pd.concat([read_table(p) for p in parts["trajectory"]], ignore_index=True)
params = pd.concat([read_table(p) for p in parts["params"]], ignore_index=True).sort_values("step")
diverged = state.diverged_step[0] is not None
write_table(pd.DataFrame({"step": trajectory["step"], "loss": trajectory["loss"],
                          "temperature": settings["temperature"], "diverged": diverged}), snakemake.output.history)
write_snapshots({"W2": np.stack(params["theta"].to_numpy())}, snakemake.output.snapshots)
w0.copy_(state.theta[0])  # w0 is a view of theta: the network with the final W2
save_tensors({"theta": theta.cpu(), "checkpoints": {}, "hidden": list(snakemake.params.hidden), "diverged": diverged},
             snakemake.output.checkpoints)
