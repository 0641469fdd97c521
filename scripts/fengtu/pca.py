"""PCA of one layer's snapshots over the window (Eq. 5): variances and the cumulative variance (Fig. 1A-B),
directions p_i (p_1 along the drift) and the projections theta_i(t)."""

import numpy as np
import pandas as pd
import torch

from thermoscape.studies.fengtu.experiment import read_snapshots
from thermoscape.core.io import InputFileError, save_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.measure.pca import cumulative_variance, principal_components

start_job(snakemake)
layer = snakemake.wildcards.layer
snapshots = read_snapshots(snakemake.input.snapshots, layer)
if len(snapshots) < 3:
    raise InputFileError(f"{snakemake.input.snapshots}: {len(snapshots)} snapshots of {layer}; the PCA needs >= 3 "
                         "(did the run diverge? see its history.parquet)")
pca = principal_components(snapshots)
_, cumulative = cumulative_variance(pca.variances)
write_table(pd.DataFrame({"rank": np.arange(1, pca.variances.size + 1), "variance": pca.variances,
                          "cumulative": np.concatenate([[np.nan], cumulative])}), snakemake.output.table)
save_tensors({name: torch.from_numpy(np.ascontiguousarray(getattr(pca, name)))
              for name in ("mean", "variances", "directions", "theta")}, snakemake.output.components)
