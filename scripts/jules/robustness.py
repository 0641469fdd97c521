"""Jules et al. claims judged on every data draw (jules.seed and jules.draws) and pooled."""

import logging

from thermoscape.claims import pool_draws
from thermoscape.core.io import atomic_path, read_table, write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
tables = {seed: read_table(path) for seed, path in zip(snakemake.params.seeds, snakemake.input)}
pooled = pool_draws(tables)
write_table(pooled, snakemake.output.table)
with atomic_path(snakemake.output.csv) as tmp:
    pooled.to_csv(tmp, index=False, float_format="%.4g")
heads = pooled[pooled["headline"]] if "headline" in pooled else pooled
logging.info("headline rows: verdicts agree with the first draw in %.0f %% of draw pairs",
             100 * heads["agreement"].mean())
