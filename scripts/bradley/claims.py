"""Bradley et al.'s claims table (brief Sec. 5): synthetic basins (Figs. 4, 6), the Euler-Maruyama check of
Eq. 5, shift-curvature (Figs. 1-3) and the temperature sweep (Fig. 5), each with a verdict
(thermoscape.bradley_claims).

Inputs: the aggregated tables basins, expectations, langevin_check, shift_curvature, sweep, shuffle, sample_size
(results/bradley/tables/*.parquet). params.criteria: overrides of thermoscape.bradley_claims.Criteria.
Output: output[0], the claims table (thermoscape.claims.COLUMNS).
"""

from thermoscape.bradley_claims import bradley_claims
from thermoscape.io import read_table, write_table
from thermoscape.jobs import start_job

start_job(snakemake)
NAMES = ("basins", "expectations", "langevin_check", "shift_curvature", "sweep", "shuffle", "sample_size")
claims = bradley_claims(**{name: read_table(getattr(snakemake.input, name)) for name in NAMES},
                        criteria=dict(snakemake.params.criteria or {}))
write_table(claims, snakemake.output[0])
