"""Jules et al. claims (a)-(e) per analysis slice, with measured values and verdicts (brief section 5).

The column ``headline`` marks each claim's row in the headline slice (config ``jules.claims.headline_slice``), or
its only row when it is checked on one slice; the other slices' rows are the detail behind them.
"""

import logging

from thermoscape.claims import criteria_from
from thermoscape.studies.jules.claims import (
    Criteria,
    claims_table,
    curvature_scaling_claim,
    fluctuation_claims,
    free_diffusion_claims,
    hessian_claim,
    init_claims,
    time_step_claims,
)
from thermoscape.measure.fluctuations import correlation_length_squared
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.jules.experiment import read_hessians
from thermoscape.claims.scoreboard import with_headlines

start_job(snakemake)
settings = dict(snakemake.params.criteria)
headline_slice = settings.pop("headline_slice", "all")
settings.pop("min_equilibrated_runs", None)  # applied by jules_aggregate (the summary's equilibrated flag)
criteria = criteria_from(Criteria, settings, "jules.claims")
dataset = snakemake.params.dataset
summary = read_table(snakemake.input.summary)
hessian, n_params = read_hessians(snakemake.input.hessian)
at_fig3_eta = summary[(summary["slice"] == "all") & (summary["eta"] == snakemake.params.fig3_eta)]
length = correlation_length_squared(at_fig3_eta) ** 0.5
rows = (
    fluctuation_claims(summary, criteria, dataset["n_classes"], n_params, dataset["n_samples"],
                       seed=int(getattr(snakemake.params, "seed", 0)))
    + [hessian_claim(hessian, criteria), curvature_scaling_claim(hessian, criteria)]
    + free_diffusion_claims(read_table(snakemake.input.free_diffusion), length, n_params, criteria)
    + time_step_claims(read_table(snakemake.input.time_step_check))
    + init_claims(read_table(snakemake.input.init), criteria)
)
table = with_headlines(claims_table(rows), {"jules": headline_slice})  # the scoreboard's own rule
logging.info("claims:\n%s", table.drop(columns=["paper", "detail"]).to_string(index=False))
write_table(table, snakemake.output[0])
