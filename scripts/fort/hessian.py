"""Fort & Ganguli: the four properties at the Hessian epochs of one run (rule fort_hessian): top eigenvalues
of H, its G-term and H-term (Eq. 9), gradient confinement, lambda_max and Tr(H)/||H||.

params.run, params.networks (as fort_train), params.hessian: the config's fort.networks.hessian block
(epochs, n_examples, max_rank, probes, projection_dim, projections). input.checkpoints from fort_train.
Outputs: hessian (rank table) and summary (a row per epoch), Parquet.
"""

import pandas as pd
import torch

from thermoscape.studies.fort import experiment as fort
from thermoscape.core.io import load_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.nets.networks import functional_logits
from thermoscape.core.seeds import derive_seed

start_job(snakemake)
run, networks, settings = dict(snakemake.params.run), snakemake.params.networks, snakemake.params.hessian
data = fort.run_data(run, networks, snakemake.input.get("data") or None)
logits_fn = functional_logits(fort.run_network(run, networks, data))
saved = load_tensors(snakemake.input.checkpoints)
thetas = dict(zip(saved["epochs"], saved["thetas"], strict=True))
stages = {epoch: stage for stage, epoch in networks["stages"].items()}
n = settings["n_examples"]
tables, summaries = [], []
for epoch in settings["epochs"]:
    if epoch not in thetas:  # the run diverged earlier
        continue
    generator = torch.Generator().manual_seed(derive_seed(run["seed"], "hessian", epoch))
    table, summary = fort.hessian_structure(logits_fn, thetas[epoch], data.x_train[:n], data.y_train[:n],
                                            settings["max_rank"], settings["probes"], settings["projection_dim"],
                                            settings["projections"], generator)
    marks = {"epoch": float(epoch), "stage": stages.get(epoch, "")}
    tables.append(table.assign(**marks))
    summaries.append({**marks, **summary})
write_table(fort.with_run(pd.concat(tables, ignore_index=True), run), snakemake.output.hessian)
write_table(fort.with_run(pd.DataFrame(summaries), run), snakemake.output.summary)
