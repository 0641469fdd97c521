"""Loss versus distance under free diffusion from each replica's minimum (Eq. 1 without gradient; Fig. 3b)."""

import numpy as np
import pandas as pd
import torch

from thermoscape.core.io import load_tensors, read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.jules.experiment import build_landscape
from thermoscape.dynamics.langevin import free_diffusion
from thermoscape.core.seeds import derive_seed

device = start_job(snakemake)
cfg = snakemake.params.walk
landscape = build_landscape(snakemake.params.study, read_table(snakemake.input.dataset), device)
tables = []
for replica, path in enumerate(snakemake.input.models):
    theta0 = load_tensors(path, device)["theta"]
    # |theta - theta0| ~ sqrt(2 T N t): times that put the walks at log-spaced distances
    distances = np.geomspace(cfg["distance_min"], cfg["distance_max"], cfg["points"])
    times = distances**2 / (2 * cfg["temperature"] * theta0.numel())
    generator = torch.Generator().manual_seed(derive_seed(snakemake.params.seed, "free_diffusion", replica))
    distance, loss = free_diffusion(landscape, theta0, cfg["temperature"], times, cfg["walks"], generator)
    minimum_loss = float(landscape.loss(theta0.unsqueeze(0))[0])
    tables.append(pd.DataFrame({
        "replica": replica,
        "walk": np.repeat(np.arange(cfg["walks"]), len(times)),
        "t": np.tile(times, cfg["walks"]),
        "distance": distance.ravel(),
        "loss": loss.ravel(),
        "minimum_loss": minimum_loss,
        "temperature": cfg["temperature"],
    }))
write_table(pd.concat(tables, ignore_index=True), snakemake.output[0])
