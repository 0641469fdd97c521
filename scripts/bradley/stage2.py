"""Bradley et al. Fig. 5 stage 2 (rule bradley_stage2): from the stage-1 weights, SGD at constant lr = T B,
no momentum, the same number of epochs for every B; final loss = median of the last final_epochs
full-dataset evaluations. One job per (batch size, seed), every temperature.

params.settings: dict(data, network, stage2 {batch_sizes, temperatures, epochs, weight_decay, final_epochs});
    wildcards.batch, wildcards.seed. input.stage1: stage 1's torch file.
Output: a row per temperature (thermoscape.studies.bradley.shift_curvature.SWEEP_COLUMNS).
"""

import pandas as pd

from thermoscape.studies.bradley import shift_curvature as sc
from thermoscape.studies.bradley.networks import experiment_network, stored_data
from thermoscape.core.io import load_tensors, write_table
from thermoscape.core.jobs import start_job

device = start_job(snakemake)
settings, seed, batch = snakemake.params.settings, int(snakemake.wildcards.seed), int(snakemake.wildcards.batch)
stage = settings["stage2"]
data = stored_data(load_tensors(snakemake.input.dataset), device)
model = experiment_network(settings["network"], data, seed)
stage1 = load_tensors(snakemake.input.stage1, device)
start = stage1["theta"].to(data.x_train.dtype)
rows = [sc.sweep_row(model, data, start, float(T), batch, stage["epochs"], stage["weight_decay"],
                     stage["final_epochs"], seed, stage1["buffers"]) for T in stage["temperatures"]]
write_table(pd.DataFrame(rows, columns=sc.SWEEP_COLUMNS), snakemake.output[0])
