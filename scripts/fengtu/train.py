"""One SGD run (Eq. 2) with per-iteration snapshots of its analysed layers (an MLP's hidden-to-hidden matrices,
LeNet-CIFAR's conv1 and conv2); resumes after a kill."""

import logging

from thermoscape.data.readers import read_split
from thermoscape.studies.fengtu.experiment import (
             SGDRun,
             build_task,
             evaluator,
             split_tensors,
             train_with_snapshots,
             write_snapshots,
)
from thermoscape.core.io import save_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.core.seeds import derive_seed

device = start_job(snakemake)
settings = snakemake.params.run
data = split_tensors(read_split(snakemake.input.dataset), device)
task, theta0, slices = build_task(settings, data, snakemake.params.seed)
run = SGDRun(settings["lr"], settings["batch_size"], settings["epochs"], settings["window"],
             settings["momentum"], tuple(settings["checkpoints"]), settings["optimizer"])
outcome = train_with_snapshots(theta0, task.batch_loss_and_grad, task.n_samples, run,
                               derive_seed(snakemake.params.seed, "sgd", settings["seed"]), evaluator(task, data), slices,
                               state_path=snakemake.params.state)
logging.info("final: %s%s", outcome.history.iloc[-1].to_dict(), " (diverged)" if outcome.diverged else "")
write_table(outcome.history.assign(lr=run.lr, batch_size=run.batch_size, diverged=outcome.diverged),
            snakemake.output.history)
write_snapshots({name: outcome.snapshots[name] for name in settings["layers"]}, snakemake.output.snapshots)
save_tensors({"theta": outcome.theta.cpu(), "checkpoints": {e: t.cpu() for e, t in outcome.checkpoints.items()},
              "hidden": list(settings["hidden"]), "diverged": outcome.diverged}, snakemake.output.checkpoints)
