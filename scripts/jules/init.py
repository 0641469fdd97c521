"""Xavier-normal weights and zero biases (S1c), one draw per replica: the start of Adam and of Fig. S1."""

import torch

from thermoscape.io import read_table, save_tensors
from thermoscape.jobs import start_job
from thermoscape.jules import build_landscape
from thermoscape.seeds import derive_seed

device = start_job(snakemake)
replica = int(snakemake.wildcards.replica)
landscape = build_landscape(snakemake.params.study, read_table(snakemake.input.dataset), device)
generator = torch.Generator().manual_seed(derive_seed(snakemake.params.seed, "init", replica))
save_tensors({"theta": landscape.initial_parameters(generator).cpu()}, snakemake.output.model)
