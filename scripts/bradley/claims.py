"""Bradley et al.'s claims table (brief Sec. 5): synthetic basins (Figs. 4, 6), the Euler-Maruyama check of
Eq. 5, shift-curvature (Figs. 1-3) and the temperature sweep (Fig. 5), each with a verdict
(thermoscape.studies.bradley.claims).

Inputs: the aggregated tables basins, expectations, langevin_check, shift_curvature, sweep, shuffle, sample_size
(results/bradley/tables/*.parquet); stage1, the Fig. 5 stage-1 torch files (their final train loss: the regime
of Fig. 5). params.criteria: overrides of thermoscape.studies.bradley.claims.Criteria; params.restricted_range: the
restricted reflected fit's range (fraction of |s|).
Output: output[0], the claims table (thermoscape.claims.COLUMNS).
"""

import pandas as pd

from thermoscape.studies.bradley.claims import bradley_claims
from thermoscape.core.io import load_tensors, read_table, write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
NAMES = ("basins", "expectations", "langevin_check", "shift_curvature", "sweep", "shuffle", "sample_size")
stage1 = pd.DataFrame({"final_train": [float(load_tensors(path)["final_train"])
                                       for path in snakemake.input.stage1]})
claims = bradley_claims(**{name: read_table(getattr(snakemake.input, name)) for name in NAMES},
                        criteria=dict(snakemake.params.criteria or {}), stage1=stage1,
                        restricted_range=float(snakemake.params.restricted_range))
write_table(claims, snakemake.output[0])
