"""Xavier-normal weights and zero biases (S1c), one draw per replica: the start of Adam and of Fig. S1."""

import torch

from thermoscape.core.io import read_table, save_tensors
from thermoscape.core.jobs import start_job
from thermoscape.studies.jules.experiment import build_landscape
from thermoscape.core.seeds import derive_seed

device = start_job(snakemake)
replica = int(snakemake.wildcards.replica)
landscape = build_landscape(snakemake.params.study, read_table(snakemake.input.dataset), device)
generator = torch.Generator().manual_seed(derive_seed(snakemake.params.seed, "init", replica))
save_tensors({"theta": landscape.initial_parameters(generator).cpu()}, snakemake.output.model)
