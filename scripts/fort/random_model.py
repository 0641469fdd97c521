"""Random model of Fort & Ganguli, base configuration (E1; Figs. 5, 6): one draw, its Eq. 10 / Eq. 16
Hessian spectra, gradient cosines (Eq. 8, sign p - y) and logit-gradient clustering (Eqs. 11-13).

params.model: dict(n_examples, n_classes, dim, sigma_z, sigma_c, sigma_e, accuracy, projections,
    projection_dim); sigma_c and sigma_e are absolute values (e.g. 1/sqrt(D), 0.7/sqrt(D)); projections and
    projection_dim are used by the sweep only.
wildcards.seed: int.
output.spectrum: random_model/spectrum_s{seed}.parquet (seed, rank, eigenvalue, eigenvalue_eq16, cosine,
    cosine_eq16).
output.summary: random_model/summary_s{seed}.parquet (one row; columns of random_model.base_measurements).
"""

import pandas as pd

from thermoscape.studies.fort import random_model
from thermoscape.core.io import write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
model = snakemake.params.model
draw = random_model.draw(int(model["n_examples"]), int(model["n_classes"]), int(model["dim"]),
                         float(model["sigma_z"]), float(model["sigma_c"]), float(model["sigma_e"]),
                         float(model["accuracy"]), int(snakemake.wildcards.seed))
summary, spectrum = random_model.base_measurements(draw)
write_table(spectrum, snakemake.output.spectrum)
write_table(pd.DataFrame([summary]), snakemake.output.summary)
