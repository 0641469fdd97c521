"""Full Hessian eigenvalues (float64) at every parameter snapshot of one (eta, T) run (Fig. 3a).

The MLP's Hessian is the exact closed form of thermoscape.measure.mlp_hessian; the quadratic's goes through torch.func.
"""

import logging

import numpy as np
import pandas as pd
import torch

from thermoscape.measure.curvature import landscape_hessian_eigenvalues
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.jules.experiment import build_landscape

device = start_job(snakemake)
landscape = build_landscape(snakemake.params.study, read_table(snakemake.input.dataset), device)
status = read_table(snakemake.input.status)
status = status[status["temperature"] == float(snakemake.wildcards.T)].set_index("chain")
snapshots = read_table(snakemake.input.params, filters=[("chain", "in", status.index.tolist())])
snapshots = snapshots.sort_values(["chain", "step"], ignore_index=True)
thetas = torch.tensor(np.stack(snapshots["theta"].to_numpy()), dtype=torch.float64, device=device)
logging.info("%d Hessians of %d parameters", len(thetas), thetas.shape[1])
eigenvalues = landscape_hessian_eigenvalues(landscape, thetas, chunk_size=1,
                                            compile=snakemake.params.compile).cpu().numpy()
n_points, n_params = eigenvalues.shape
write_table(
    pd.DataFrame({
        "temperature": float(snakemake.wildcards.T),
        "eta": float(snakemake.wildcards.eta),
        "replica": np.repeat(status.loc[snapshots["chain"], "replica"].to_numpy(), n_params),
        "t": np.repeat(snapshots["t"].to_numpy(), n_params),
        "index": np.tile(np.arange(n_params), n_points),
        "eigenvalue": eigenvalues.ravel(),
    }),
    snakemake.output[0],
)
