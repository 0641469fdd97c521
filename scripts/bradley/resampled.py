"""Bradley et al. Fig. 5 right (rule bradley_resampled): the stage-1 procedure on a reshuffled train/test
split (kind shuffle, index k: the permutation seed) or on a subsample of index samples split proportionally
(kind size); final losses = median of the last final_epochs evaluations.

params.settings: dict(data, network, stage1, final_epochs); wildcards.kind, wildcards.index, wildcards.seed.
Output: one row (shuffle: shuffle, final_train, final_test, finite; size: sample_size, seed, ...).
"""

import pandas as pd

from thermoscape.studies.bradley import shift_curvature as sc
from thermoscape.studies.bradley.networks import experiment_network, stored_data
from thermoscape.core.io import load_tensors, write_table
from thermoscape.core.jobs import start_job

device = start_job(snakemake)
settings, wildcards = snakemake.params.settings, snakemake.wildcards
seed, index = int(wildcards.seed), int(wildcards.index)
data = stored_data(load_tensors(snakemake.input.dataset), device)
if wildcards.kind == "shuffle":
    data, key = sc.shuffled_split(data, index), {"shuffle": index}
else:
    data, key = sc.subsampled_split(data, index, seed), {"sample_size": index, "seed": seed}
model = experiment_network(settings["network"], data, seed)
run = sc.train_stage1(model, data, settings["stage1"], seed)
write_table(pd.DataFrame([key | sc.final_losses(run, settings["final_epochs"], data.n_classes)]), snakemake.output[0])
