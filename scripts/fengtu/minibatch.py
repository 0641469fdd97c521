"""Minibatch-loss (MLF) ensemble along PCA directions of E1 (Fig. 3, brief 3.4): per-batch quadratic fits of
ln L^mu on [-F_i/2, F_i/2] give M^mu_ii and the minimum theta~^mu_i; their statistics per direction."""

import numpy as np
import pandas as pd
import torch

from thermoscape.data.readers import read_split
from thermoscape.studies.fengtu.experiment import network_landscape, split_tensors
from thermoscape.core.io import load_tensors, read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.fengtu.minibatch_landscape import (
    minibatch_curvatures,
    minibatch_profiles,
    minibatch_statistics,
    random_batches,
)
from thermoscape.core.seeds import derive_seed

device = start_job(snakemake)
settings, run = snakemake.params.minibatch, snakemake.params.run
data = split_tensors(read_split(snakemake.input.dataset), device)
landscape, w0 = network_landscape(data, run["hidden"], load_tensors(snakemake.input.checkpoints, device)["theta"], 2)
directions = load_tensors(snakemake.input.components, device)["directions"]
flat = read_table(snakemake.input.flatness)
flat = flat[(flat["rank"] >= 2) & np.isfinite(flat["width"])].head(settings["directions"])
generator = torch.Generator().manual_seed(derive_seed(snakemake.params.seed, "minibatch_ensemble"))
batches = random_batches(landscape.n_samples, run["batch_size"], settings["batches"], generator)

rows = []
for rank, width in zip(flat["rank"], flat["width"]):
    offsets = torch.linspace(-width / 2, width / 2, settings["points"], dtype=w0.dtype, device=device)
    fit = minibatch_curvatures(offsets, minibatch_profiles(landscape.per_sample_loss, w0, directions[rank - 1],
                                                           offsets, batches))
    rows.append({"rank": rank, "width": width, **minibatch_statistics(fit)})
write_table(pd.DataFrame(rows), snakemake.output.table)

# Fig. 3A: ln L_i and a few ln L_i^mu of the shown direction on [-F_i, F_i]
shown = settings["shown_rank"]
width = float(flat.set_index("rank")["width"].get(shown, flat["width"].iloc[0]))
offsets = torch.linspace(-width, width, 2 * settings["points"] - 1, dtype=w0.dtype, device=device)
direction = directions[shown - 1]
log_batches = minibatch_profiles(landscape.per_sample_loss, w0, direction, offsets, batches[:10])
with torch.no_grad():
    log_full = torch.log(landscape.loss(w0 + offsets[:, None] * direction))
curves = [("full", -1, log_full)] + [("batch", k, log_batches[k]) for k in range(log_batches.shape[0])]
write_table(pd.concat([pd.DataFrame({"rank": shown, "kind": kind, "batch": k, "offset": offsets.cpu().numpy(),
                                     "log_loss": values.cpu().numpy()}) for kind, k, values in curves],
                      ignore_index=True), snakemake.output.profiles)
