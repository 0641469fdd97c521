"""The drift mode of E1 (Figs. 1C-D, S2; brief 3.6-3.7): margins Delta Y_k along p_1 per digit and their
per-sample slopes beta_k (Eq. S3), and the velocity autocorrelation and mean squared displacement of theta_i."""

import numpy as np
import pandas as pd
import torch

from thermoscape.data.readers import read_split
from thermoscape.studies.fengtu.experiment import network_landscape, split_tensors
from thermoscape.core.io import load_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.fengtu.minibatch_landscape import margin_fit, margins
from thermoscape.measure.pca import mean_squared_displacement, velocity_autocorrelation

MODES = (1, 2, 10, 49, 50)

device = start_job(snakemake)
settings, run = snakemake.params.drift, snakemake.params.run
data = split_tensors(read_split(snakemake.input.dataset), device)
landscape, w0 = network_landscape(data, run["hidden"], load_tensors(snakemake.input.checkpoints, device)["theta"], 2)
components = load_tensors(snakemake.input.components)
theta = components["theta"].numpy()

# Fig. S2A: theta_1 over the span the window travelled, centred on w0 (the window's last point)
travel = abs(theta[-1, 0] - theta[0, 0])
offsets = torch.linspace(-travel, travel, settings["points"], dtype=w0.dtype, device=device)
with torch.no_grad():
    margin = margins(landscape.logits(w0 + offsets[:, None] * components["directions"][0].to(device)),
                     landscape.labels).cpu().numpy()  # (G, M)
labels = landscape.labels.cpu().numpy()
fit = margin_fit(offsets.cpu().numpy(), margin)
shown = np.concatenate([np.flatnonzero(labels == d)[: settings["samples_per_digit"]] for d in np.unique(labels)])
per_digit = pd.DataFrame({"digit": np.repeat(labels[shown][None], len(offsets), 0).ravel(),
                          "offset": np.repeat(offsets.cpu().numpy(), len(shown)),
                          "margin": margin[:, shown].ravel()}).groupby(["digit", "offset"], as_index=False).mean()
slopes = pd.DataFrame({"sample": np.arange(len(labels)), "label": labels, "beta": fit.slope, "r2": fit.r2})
write_table(per_digit.merge(slopes.groupby("label", as_index=False)["beta"].mean()
                            .rename(columns={"label": "digit", "beta": "digit_beta"}), on="digit"),
            snakemake.output.margins)

# Figs. 1C-D: persistence of the drift mode against the diffusive ones
steps_per_epoch = theta.shape[0] // run["window"]
max_lag = min(int(settings["max_lag_epochs"] * steps_per_epoch), theta.shape[0] - 3)
lags = np.arange(1, max_lag + 1)
motion = [pd.DataFrame({"mode": mode, "lag": lags, "lag_epochs": lags / steps_per_epoch,
                        "velocity_autocorrelation": velocity_autocorrelation(theta[:, mode - 1], max_lag)[1:],
                        "msd": mean_squared_displacement(theta[:, mode - 1], lags),
                        "beta": float(np.mean(fit.slope)) if mode == 1 else np.nan})
          for mode in MODES if mode <= theta.shape[1]]
write_table(pd.concat(motion, ignore_index=True), snakemake.output.motion)
