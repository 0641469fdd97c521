"""Do the statistics of a temperature depend on the time step? (fixed eta versus eta = c / T, paired by replica)."""

import logging

from thermoscape.measure.fluctuations import compare_time_steps
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
table = compare_time_steps(read_table(snakemake.input.runs), tuple(snakemake.params.quantities))
if table.empty:
    logging.warning("no temperature was run with two time steps on a common window: nothing to compare")
else:
    logging.info("time-step comparison:\n%s", table.to_string(index=False))
write_table(table, snakemake.output[0])
