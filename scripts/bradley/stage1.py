"""Bradley et al. Fig. 5 stage 1 (rule bradley_stage1): training to convergence with a step-decay schedule
(lr x decay at the decay_at fractions of the epochs; momentum and weight decay as configured).

params.settings: dict(data, network, stage1 {lr, batch_size, epochs, momentum, weight_decay, decay, decay_at});
    wildcards.seed. Output (torch): {"theta", "buffers" (batch-norm statistics), "final_train", "final_test", "finite"} (losses after
    the last epoch).
"""

from thermoscape.studies.bradley import shift_curvature as sc
from thermoscape.studies.bradley.networks import experiment_network, stored_data
from thermoscape.core.io import load_tensors, save_tensors
from thermoscape.core.jobs import start_job

device = start_job(snakemake)
settings, seed = snakemake.params.settings, int(snakemake.wildcards.seed)
data = stored_data(load_tensors(snakemake.input.dataset), device)
model = experiment_network(settings["network"], data, seed)
run = sc.train_stage1(model, data, settings["stage1"], seed)
save_tensors({"theta": run.theta.cpu(), "buffers": sc.model_buffers(model), **sc.final_losses(run, 1, data.n_classes)},
             snakemake.output[0])
