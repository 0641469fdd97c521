"""Flatness F_i along the PCA directions around w0 = the last snapshot (brief 3.2): the e L_0 crossings, the
loss profiles L_i(dtheta) on [-F_i, F_i] and the Eq. 7 quadratic fit of ln L_i on [-F_i/2, F_i/2]."""

import logging

import numpy as np
import pandas as pd
import torch

from thermoscape.data.readers import read_split
from thermoscape.studies.fengtu.experiment import run_landscape, split_tensors
from thermoscape.measure.flatness import crossing_widths, quadratic_log_fit, scan_ranks
from thermoscape.core.io import load_tensors, read_table, write_table
from thermoscape.core.jobs import start_job

device = start_job(snakemake)
settings = snakemake.params.flatness
data = split_tensors(read_split(snakemake.input.dataset), device)
theta = load_tensors(snakemake.input.checkpoints, device)["theta"]
landscape, w0 = run_landscape(snakemake.params.arch, snakemake.params.hidden, data, theta, snakemake.wildcards.layer)
components = load_tensors(snakemake.input.components, device)
variances = read_table(snakemake.input.pca)["variance"].to_numpy()
n_available = int(np.sum(variances > 0))
ranks = scan_ranks(n_available, settings["directions"], high=settings["max_rank"],
                   always=snakemake.params.ranks)
directions = components["directions"][torch.as_tensor(ranks - 1)]
d_plus, d_minus, loss0 = crossing_widths(landscape.loss, w0, directions, h0=settings["h0"],
                                         rel_tol=settings["rel_tol"])
widths = (d_plus + d_minus).cpu().numpy()
logging.info("L0 = %.4g; F from %.3g (rank %d) to %.3g", loss0, widths[0], ranks[0], np.nanmax(widths[np.isfinite(widths)]))

# profiles on [-F, F]: the middle points span [-F/2, F/2], the fit range of Eq. 7
n_fit = settings["profile_points"]
unit = np.linspace(-1.0, 1.0, 2 * n_fit - 1)
rows, fits = [], []
for rank, direction, width in zip(ranks, directions, widths):
    span = width if np.isfinite(width) else 1.0
    offsets = torch.as_tensor(unit * span, dtype=w0.dtype, device=w0.device)
    with torch.no_grad():
        losses = landscape.loss(w0 + offsets[:, None] * direction).cpu().numpy()
    inner = np.abs(unit) <= 0.5 + 1e-12
    fit = quadratic_log_fit(offsets.cpu().numpy()[inner], losses[inner])
    fits.append({"c0": fit.c0, "c1": fit.c1, "c2": fit.c2, "r2": fit.r2, "width_fit": fit.width_fit})
    rows.append(pd.DataFrame({"rank": rank, "offset": offsets.cpu().numpy(), "loss": losses}))
table = pd.DataFrame({"rank": ranks, "variance": variances[ranks - 1], "width": widths,
                      "d_plus": d_plus.cpu().numpy(), "d_minus": d_minus.cpu().numpy(), "loss0": loss0})
write_table(pd.concat([table, pd.DataFrame(fits)], axis=1), snakemake.output.table)
write_table(pd.concat(rows, ignore_index=True), snakemake.output.profiles)
