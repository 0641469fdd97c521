"""Fort & Ganguli's claims table (brief sections 5 and 8): random model (Figs. 3b, 5-8), real networks
(Figs. 1, 4) and the four properties (X1-X4), each with a verdict (thermoscape.studies.fort.claims).

Inputs (named lists of Parquet paths; a missing name or an empty list leaves out the claims on it):
    summary          random_model/summary_s{seed}.parquet
    sweep            random_model/sweep_s{seed}.parquet (every exponent)
    entropy          freezing/entropy.parquet
    clustering       runs/{run}/clustering.parquet
    history          runs/{run}/history.parquet
    hessian_summary  runs/{run}/hessian_summary.parquet
    radius           goldilocks/radius_{run}.parquet
    hyperplane       goldilocks/hyperplane_{run}.parquet
Params:
    criteria               dict, overrides of thermoscape.studies.fort.claims.Criteria (config ``fort.claims``)
    nonmonotone_exponents  list of the sigma_c exponents a whose lambda_max(sigma_z) must peak (Fig. 7)
    n_classes              int, C for tables without an n_classes column
Output:
    output[0]              the claims table (thermoscape.claims.COLUMNS)
"""

from thermoscape.studies.fort.claims import fort_claims
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
params = snakemake.params
NAMES = ("summary", "sweep", "entropy", "clustering", "history", "hessian_summary", "radius", "hyperplane")


def tables(name: str) -> list:
    paths = getattr(snakemake.input, name, [])
    return [read_table(path) for path in ([paths] if isinstance(paths, str) else paths)]


claims = fort_claims(**{name: tables(name) for name in NAMES}, n_classes=params.n_classes,
                     nonmonotone_exponents=list(params.nonmonotone_exponents), criteria=dict(params.criteria or {}))
write_table(claims, snakemake.output[0])
