"""Adam from the Xavier initialisation to a near-zero loss (Jules et al., Sec. II; Fig. 1a's black line)."""

import logging

from thermoscape.core.io import load_tensors, read_table, save_tensors, write_table
from thermoscape.core.jobs import ProgressLog, start_job
from thermoscape.studies.jules.experiment import build_landscape
from thermoscape.dynamics.train import adam_descent

device = start_job(snakemake)
replica = int(snakemake.wildcards.replica)
landscape = build_landscape(snakemake.params.study, read_table(snakemake.input.dataset), device)
cfg = snakemake.params.train
result = adam_descent(
    landscape,
    load_tensors(snakemake.input.model, device)["theta"],
    lr=cfg["lr"],
    max_steps=cfg["max_steps"],
    target_loss=cfg["target_loss"],
    record_every=cfg["record_every"],
    progress=ProgressLog(cfg["max_steps"], f"replica {replica} Adam"),
)
final = result.curve.iloc[-1]
logging.info("replica %d: loss %.3e after %d Adam steps (target reached: %s)",
             replica, final.loss, final.step, result.converged)
write_table(result.curve.assign(replica=replica, converged=result.converged), snakemake.output.curve)
save_tensors({"theta": result.theta.cpu()}, snakemake.output.model)
