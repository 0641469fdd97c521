"""Fort & Ganguli real network (rule fort_train): SGD with per-epoch logit statistics (Fig. 4), at every stage
epoch the logit-gradient clustering (Fig. 1, Eqs. 11-13) and, for 3-class runs, the softmax outputs on
held-out data (Fig. 3a); the logit variance of the initialisation scaled by s (Fig. 4 BR).

params.run: dict(dataset, arch, activation, preprocess, seed, classes (list or None), hessian (bool: track
    lambda_max every epoch)); params.networks: the config's fort.networks block without runs, hessian and
    goldilocks; params.keep: further epochs whose parameters are saved (the Hessian epochs); params.scales:
    the init scales s. input.data: optional data directory.
Outputs (Parquet): history (a row per epoch), clustering (a row per stage), simplex (a row per held-out
    example and stage; empty unless 3 classes), radius (a row per scale); checkpoints (torch:
    {"epochs": [...], "thetas": (K, D)}).
"""

import pandas as pd
import torch

from thermoscape.studies.fort import experiment as fort
from thermoscape.core.io import save_tensors, write_table
from thermoscape.core.jobs import ProgressLog, start_job
from thermoscape.nets.networks import flat_parameters, functional_logits

start_job(snakemake)
run, networks = dict(snakemake.params.run), snakemake.params.networks
data = fort.run_data(run, networks, snakemake.input.get("data") or None)
model = fort.run_network(run, networks, data)
logits_fn = functional_logits(model)
radius = fort.logit_radius(logits_fn, flat_parameters(model).detach(), data.x_train[: networks["n_stats"]],
                           snakemake.params.scales)
stages = {epoch: stage for stage, epoch in networks["stages"].items()}
history, kept = fort.train(model, data, fort.Training(**networks["training"]), run["seed"],
                           sorted(set(stages) | set(snakemake.params.keep)), n_stats=networks["n_stats"],
                           track_lambda_max=bool(run.get("hessian")),
                           progress=ProgressLog(networks["training"]["epochs"], "SGD", "epochs"))

clustering, simplex = [], []
n = networks["n_clustering"]
for epoch, stage in sorted(stages.items()):
    if epoch not in kept:  # training diverged before this stage: the history row says so
        continue
    geometry = fort.logit_geometry(model, kept[epoch], data.x_train[:n], data.y_train[:n])
    clustering.append({"epoch": float(epoch), "stage": stage, **geometry.clustering,
                       "n_examples": min(n, len(data.y_train))})
    if data.n_classes == 3:
        with torch.no_grad():
            p = torch.softmax(logits_fn(kept[epoch], data.x_test), dim=1).numpy()
        simplex.append(pd.DataFrame({"epoch": float(epoch), "stage": stage, "example": range(len(p)),
                                     "label": data.y_test.numpy(), "p1": p[:, 0], "p2": p[:, 1], "p3": p[:, 2]}))
simplex_table = pd.concat(simplex, ignore_index=True) if simplex else pd.DataFrame(
    columns=["epoch", "stage", "example", "label", "p1", "p2", "p3"])

for table, path in ((history, snakemake.output.history), (pd.DataFrame(clustering), snakemake.output.clustering),
                    (simplex_table, snakemake.output.simplex), (radius, snakemake.output.radius)):
    write_table(fort.with_run(table, run), path)
epochs = sorted(kept)
save_tensors({"epochs": epochs, "thetas": torch.stack([kept[e] for e in epochs])}, snakemake.output.checkpoints)
