"""The claims of one Yang et al. App. D figure (Figs. 14, 15, 17, 21, 22, 23; issue 26) from its experiment's
cells, against the constant-lr width x batch diagram (Fig. 2) where the paper compares with it."""

import pandas as pd

from thermoscape.claims import COLUMNS, criteria_from
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.taxonomy.claims import Criteria, appendix_claims
from thermoscape.studies.taxonomy.experiment import PhaseRules

start_job(snakemake)
params = snakemake.params
reference = read_table(snakemake.input.reference) if "reference" in snakemake.input.keys() else None
rows = appendix_claims(snakemake.wildcards.experiment, read_table(snakemake.input.cells),
                       PhaseRules(**params.phases), criteria_from(Criteria, params.criteria, "taxonomy.claims"),
                       params.axes["temperature"], reference, params.reference_batch)
write_table(pd.DataFrame(rows, columns=COLUMNS), snakemake.output[0])
