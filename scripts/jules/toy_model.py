"""Exponential-wall toy model (Sec. IV, S5): closed forms, asymptotics, quadrature and 1-D Langevin
per temperature, and the curves of Fig. 4."""

import logging
import time

import numpy as np

from thermoscape.studies.jules import toy_model as tm
from thermoscape.core.io import write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
log = logging.getLogger("thermoscape.studies.jules.toy_model")
model, fig, regime = snakemake.params.model, snakemake.params.figure, snakemake.params.regime
a, B, theta_star, theta0, loss = model["a"], model["B"], model["theta_star"], model["theta0"], model["loss"]
settings = tm.LangevinSettings(**snakemake.params.langevin, loss=loss)
relaxation = (a * theta_star / np.pi) ** 2  # slowest mode of the flat region, in units of 1 / (a^2 T)
if settings.burn_in < 3 * relaxation:
    log.warning("burn_in %.0f is short of 3 x (a theta_* / pi)^2 = %.0f: the walkers may not have "
                "spread over the flat region (watch the KS p-values)", settings.burn_in, 3 * relaxation)

samples = {}
for T in sorted({float(t) for t in snakemake.params.temperatures} | {float(t) for t in fig["temperatures"]}):
    start = time.perf_counter()
    samples[T] = tm.sample_langevin(T, a, B, theta_star, settings, tm.langevin_seed(snakemake.params.seed, T))
    log.info("Langevin T = %g: %d steps x %d walkers (eta = %.3g) in %.1f s", T, samples[T].n_steps,
             settings.walkers, samples[T].eta, time.perf_counter() - start)

table = tm.summary_table(
    snakemake.params.temperatures, a, B, theta_star, theta0, samples, loss,
    regime["max_wall_parameter"], regime["max_temperature"],
)
with_columns = ["temperature", "wall_parameter", "mu_closed", "dev_closed_quadrature", "dev_asymptotic_closed",
                "dev_asymptotic_softplus", "in_regime", "dev_langevin", "z_mu_langevin", "ks_pvalue"]
log.info("toy model:\n%s", table[with_columns].to_string(index=False))
write_table(table, snakemake.output.table)

density = tm.density_table(
    fig["temperatures"], fig["quadratic_temperature"], a, B, theta_star, samples, loss, fig["bins"],
    fig["linear_term"],
)
write_table(density, snakemake.output.density)
