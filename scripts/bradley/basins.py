"""Bradley et al. synthetic basins (rule bradley_basins; Figs. 4, 6): the steady state rho ~ exp(-2 v / T)
(Eq. 5, constant D), basin probabilities exactly and by Laplace (Eq. 6), E[U_train], E[U_test] and Eq. 8.

params.case: dict(minima, weights, sigmas, c, shift); params.grid: dict(c_role, diffusion, theta_range,
    grid_points, temperatures {min, max, points}, plot_temperatures).
Outputs: landscape, steady_state, basins, expectations (thermoscape.studies.bradley.basins.basin_tables), each with a leading
    `case` column.
"""

import numpy as np

from thermoscape.studies.bradley.basins import BasinLoss, basin_tables
from thermoscape.core.io import write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
case, grid = snakemake.params.case, snakemake.params.grid
loss = BasinLoss(tuple(case["minima"]), tuple(case["weights"]), tuple(case["sigmas"]), float(case["c"]),
                 float(case["shift"]), c_role=grid["c_role"], diffusion=float(grid["diffusion"]))
temperatures = np.geomspace(grid["temperatures"]["min"], grid["temperatures"]["max"], grid["temperatures"]["points"])
tables = basin_tables(loss, temperatures, tuple(grid["plot_temperatures"]), tuple(grid["theta_range"]),
                      int(grid["grid_points"]))
for name, table in tables.items():
    table.insert(0, "case", snakemake.wildcards.case)
    write_table(table, snakemake.output[name])
