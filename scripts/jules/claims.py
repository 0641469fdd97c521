"""Jules et al. claims (a)-(e) per analysis slice, with measured values and verdicts (brief section 5)."""

import logging

from thermoscape.claims import (
    Criteria,
    claims_table,
    curvature_scaling_claim,
    fluctuation_claims,
    free_diffusion_claims,
    hessian_claim,
    init_claims,
    time_step_claims,
)
from thermoscape.fluctuations import correlation_length_squared
from thermoscape.io import read_table, write_table
from thermoscape.jobs import start_job
from thermoscape.jules import read_hessians

start_job(snakemake)
criteria = Criteria(**snakemake.params.criteria)
dataset = snakemake.params.dataset
summary = read_table(snakemake.input.summary)
hessian, n_params = read_hessians(snakemake.input.hessian)
at_fig3_eta = summary[(summary["slice"] == "all") & (summary["eta"] == snakemake.params.fig3_eta)]
length = correlation_length_squared(at_fig3_eta) ** 0.5
rows = (
    fluctuation_claims(summary, criteria, dataset["n_classes"], n_params, dataset["n_samples"])
    + [hessian_claim(hessian, criteria), curvature_scaling_claim(hessian, criteria)]
    + free_diffusion_claims(read_table(snakemake.input.free_diffusion), length, n_params, criteria)
    + time_step_claims(read_table(snakemake.input.time_step_check))
    + init_claims(read_table(snakemake.input.init), criteria)
)
table = claims_table(rows)
logging.info("claims:\n%s", table.drop(columns=["paper", "detail"]).to_string(index=False))
write_table(table, snakemake.output[0])
