"""Fort & Ganguli real network (rule fort_train): SGD with per-epoch logit statistics (Fig. 4), and at every
stage epoch the logit-gradient clustering (Fig. 1, Eqs. 11-13) and, for 3-class runs, the softmax outputs on
held-out data (Fig. 3a).

params.run: dict(dataset, arch, activation, preprocess, seed, classes (list or None), hessian (bool: track
    lambda_max every epoch)); params.networks: the config's fort.networks block; params.keep: epochs whose
    parameters are saved (stage epochs and the Hessian epochs). input.data: optional data directory.
Outputs: history, clustering, simplex (Parquet), checkpoints (torch: {"epochs": [...], "thetas": (K, D)}).
"""

import pandas as pd
import torch

from thermoscape import fort
from thermoscape.io import save_tensors, write_table
from thermoscape.jobs import start_job
from thermoscape.networks import functional_logits

start_job(snakemake)
run, networks = dict(snakemake.params.run), snakemake.params.networks
data = fort.run_data(run, networks, snakemake.input.get("data") or None)
model = fort.run_network(run, networks, data)
stages = {epoch: stage for stage, epoch in networks["stages"].items()}
training = fort.Training(**networks["training"])
history, kept = fort.train(model, data, training, run["seed"], sorted(set(stages) | set(snakemake.params.keep)),
                           n_stats=networks["n_stats"], track_lambda_max=bool(run.get("hessian")))

logits_fn = functional_logits(model)
clustering, simplex = [], []
n = networks["n_clustering"]
for epoch, stage in sorted(stages.items()):
    if epoch not in kept:  # training diverged before this stage: the history row says so
        continue
    geometry = fort.logit_geometry(logits_fn, kept[epoch], data.x_train[:n], data.y_train[:n])
    clustering.append({"epoch": float(epoch), "stage": stage, **geometry.clustering, "n_examples": min(n, len(data.y_train))})
    if data.n_classes == 3:
        with torch.no_grad():
            p = torch.softmax(logits_fn(kept[epoch], data.x_test), dim=1).numpy()
        simplex.append(pd.DataFrame({"epoch": float(epoch), "stage": stage, "example": range(len(p)),
                                     "label": data.y_test.numpy(), "p1": p[:, 0], "p2": p[:, 1], "p3": p[:, 2]}))

write_table(fort.with_run(history, run), snakemake.output.history)
write_table(fort.with_run(pd.DataFrame(clustering), run), snakemake.output.clustering)
simplex_table = pd.concat(simplex, ignore_index=True) if simplex else pd.DataFrame(
    columns=["epoch", "stage", "example", "label", "p1", "p2", "p3"])
write_table(fort.with_run(simplex_table, run), snakemake.output.simplex)
epochs = sorted(kept)
save_tensors({"epochs": epochs, "thetas": torch.stack([kept[e] for e in epochs])}, snakemake.output.checkpoints)
