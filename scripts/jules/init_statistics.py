"""Fig. S1b: loss moments in a late slice of the runs started at initialisation, the power-law fit
mu = A T^a and the equilibrium prediction sigma = sqrt(a A T^(a+1)) (Eq. S2)."""

import pandas as pd

from thermoscape.measure.fluctuations import init_langevin_statistics
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
trajectories = pd.concat(
    [read_table(path, columns=["chain", "t", "loss"]).merge(read_table(status)[["chain", "temperature", "replica",
                                                                               "diverged"]], on="chain")
     for path, status in zip(snakemake.input.trajectories, snakemake.input.statuses)],
    ignore_index=True,
)
write_table(init_langevin_statistics(trajectories, *snakemake.params.late_slice), snakemake.output[0])
