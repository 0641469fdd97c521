"""Bradley et al. Eq. 5 with a non-constant D (rule bradley_langevin_check): Euler-Maruyama of Eq. 11 with the
project's Langevin engine against the steady state rho ~ exp(-2 v / T), a KS test per temperature.

params.check: dict(loss {minima, weights, sigmas, c, shift}, diffusion {base, amplitude}, temperatures,
    particles, steps, eta, seed); params.grid: dict(theta_range, grid_points).
Outputs: check (case, T, eta, steps, particles, ks_statistic, ks_pvalue), histogram (case, T, theta, simulated,
    theory).
"""

import logging
import time

import pandas as pd

from thermoscape.studies.bradley.basins import BasinLoss, Diffusion
from thermoscape.studies.bradley.basins_langevin import langevin_check
from thermoscape.core.io import write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
check, grid = snakemake.params.check, snakemake.params.grid
spec = check["loss"]
loss = BasinLoss(tuple(spec["minima"]), tuple(spec["weights"]), tuple(spec["sigmas"]), float(spec["c"]),
                 float(spec["shift"]))
diffusion = Diffusion(float(check["diffusion"]["base"]), float(check["diffusion"]["amplitude"]))
case = f"double well, D = {diffusion.base:g} + {diffusion.amplitude:g} tanh(theta)"
steps, snapshots = int(check["steps"]), 4
rows, histograms = [], []
for T in check["temperatures"]:
    start = time.perf_counter()
    statistic, pvalue, histogram = langevin_check(
        loss, diffusion, float(T), eta=float(check["eta"]), steps=steps, particles=int(check["particles"]),
        seed=int(check["seed"]), snapshots=snapshots, spacing=steps // (2 * snapshots),
        theta_range=tuple(grid["theta_range"]), points=int(grid["grid_points"]))
    logging.info("T = %g: KS %.4f (p = %.3g) in %.1f s", T, statistic, pvalue, time.perf_counter() - start)
    rows.append({"case": case, "T": float(T), "eta": float(check["eta"]), "steps": steps,
                 "particles": int(check["particles"]), "ks_statistic": statistic, "ks_pvalue": pvalue})
    histograms.append(histogram.assign(case=case, T=float(T))[["case", "T", "theta", "simulated", "theory"]])
write_table(pd.DataFrame(rows), snakemake.output.check)
write_table(pd.concat(histograms, ignore_index=True), snakemake.output.histogram)
