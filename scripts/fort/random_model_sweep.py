"""Random model sigma_z sweep (E2; Figs. 7, 8): lambda_max, Tr(H)/||H||_F and its d-dim projection, mean max p
and entropy at each sigma_z of a log grid, with sigma_c growing as a power of sigma_z and sigma_E / sigma_c
fixed at its base value.

params.model: dict(n_examples, n_classes, dim, sigma_z, sigma_c, sigma_e, accuracy, projections,
    projection_dim) as for random_model.py; sigma_c, sigma_e are the base values at reference_sigma_z.
params.sweep: dict(sigma_z_min, sigma_z_max, points, reference_sigma_z): the grid is
    geomspace(sigma_z_min, sigma_z_max, points); sigma_c = sigma_c_schedule(sigma_z, a, reference_sigma_z,
    model sigma_c), sigma_e = sigma_c * model sigma_e / model sigma_c.
params.exponents: the schedule exponents a (every one from the same points, see sigma_z_sweep).
wildcards.seed: int.
output[0]: random_model/sweep_s{seed}.parquet (columns of random_model.sigma_z_sweep).
"""

import numpy as np

from thermoscape.studies.fort import random_model
from thermoscape.core.io import write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
model, sweep = snakemake.params.model, snakemake.params.sweep
sigma_zs = np.geomspace(float(sweep["sigma_z_min"]), float(sweep["sigma_z_max"]), int(sweep["points"]))
table = random_model.sigma_z_sweep(
    int(model["n_examples"]), int(model["n_classes"]), int(model["dim"]), sigma_zs,
    [float(a) for a in snakemake.params.exponents], float(model["sigma_c"]), float(model["sigma_e"]),
    float(model["accuracy"]), int(snakemake.wildcards.seed), int(model["projections"]),
    int(model["projection_dim"]), reference_sigma_z=float(sweep["reference_sigma_z"]))
write_table(table, snakemake.output[0])
