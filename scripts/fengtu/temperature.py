"""Active temperature T_i(dtheta, t) of Eq. 17 for E1 (Fig. 5, brief 3.5), exactly from per-sample
directional derivatives: profiles at the end of training, T_i(0) for every scanned rank, and the profile and
T_i(0) of one direction at every checkpoint (p_i fixed from the exploration-phase PCA, w0 = W2(t))."""

import numpy as np
import pandas as pd
import torch

from thermoscape.data.readers import read_split
from thermoscape.studies.fengtu.experiment import network_landscape, split_tensors
from thermoscape.core.io import load_tensors, read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.fengtu.minibatch_landscape import temperature_profile

device = start_job(snakemake)
settings, run = snakemake.params.temperature, snakemake.params.run
data = split_tensors(read_split(snakemake.input.dataset), device)
saved = load_tensors(snakemake.input.checkpoints, device)
directions = load_tensors(snakemake.input.components, device)["directions"]
widths = read_table(snakemake.input.flatness).set_index("rank")["width"]
final_epoch = int(read_table(snakemake.input.history)["epoch"].max())


def temperatures(kind, landscape, w0, epoch, rank, width, unit):
    offsets = torch.as_tensor(unit * width, dtype=w0.dtype, device=device)
    values = temperature_profile(landscape.per_sample_loss, w0, directions[rank - 1], offsets, run["lr"],
                                 run["batch_size"])
    return pd.DataFrame({"kind": kind, "epoch": epoch, "rank": rank, "width": width,
                         "offset": offsets.cpu().numpy(), "temperature": values.cpu().numpy()})


profile = np.linspace(-1.0, 1.0, settings["points"])
origin = np.zeros(1)
time_rank = settings["time_rank"]
final = network_landscape(data, run["hidden"], saved["theta"], 2)  # built once: the layers before W2 cached
tables = [temperatures("profile", *final, final_epoch, r, float(widths[r]), profile)
          for r in settings["ranks"] if r in widths.index]
tables += [temperatures("rank", *final, final_epoch, r, float(w), origin)
           for r, w in widths.items() if np.isfinite(w)]
tables += [temperatures("time", *network_landscape(data, run["hidden"], theta, 2), epoch, time_rank,
                        float(widths[time_rank]), profile)
           for epoch, theta in sorted(saved["checkpoints"].items())]
write_table(pd.concat(tables, ignore_index=True), snakemake.output[0])
