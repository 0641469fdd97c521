"""Refine the minimum in float64 to the configured depth L0 (brief section 7); fail clearly otherwise."""

import logging

from thermoscape.core.io import load_tensors, read_table, save_tensors, write_table
from thermoscape.core.jobs import ProgressLog, start_job
from thermoscape.studies.jules.experiment import build_landscape
from thermoscape.dynamics.train import adam_descent

device = start_job(snakemake)
replica = int(snakemake.wildcards.replica)
landscape = build_landscape(snakemake.params.study, read_table(snakemake.input.dataset), device)
theta = load_tensors(snakemake.input.model, device)["theta"]
cfg = snakemake.params.refine
result = adam_descent(
    landscape,
    theta,
    lr=cfg["lr"],
    max_steps=cfg["max_steps"],
    target_loss=cfg["target_loss"],
    grad_norm_tol=cfg["grad_norm_tol"],
    record_every=cfg["record_every"],
    progress=ProgressLog(cfg["max_steps"], f"replica {replica} refinement"),
)
final = result.curve.iloc[-1]
if not result.converged:
    raise RuntimeError(
        f"refine (replica {replica}): after {int(final.step)} steps the loss is {final.loss:.3e} and |grad L| is "
        f"{final.grad_norm:.3e}, short of jules.refine.target_loss = {cfg['target_loss']:.3e} and "
        f"jules.refine.grad_norm_tol = {cfg['grad_norm_tol']:.3e}; raise jules.refine.max_steps or lr, "
        "or choose a shallower target"
    )
logging.info("replica %d refined: loss %.3e, |grad L| %.3e after %d steps",
             replica, final.loss, final.grad_norm, final.step)
write_table(result.curve.assign(replica=replica), snakemake.output.curve)
save_tensors({"theta": result.theta.cpu()}, snakemake.output.model)
