"""Catastrophic forgetting, task 2 (Fig. 4): from the task-1 solution w1, SGD on task 2 with the landscape-
dependent constraint (Eq. 15) or EWC, for every (lambda, N_c) of the two sweeps; test errors eps_1, eps_2
over training, the saturated pair, and the displacements q_i = |(w2 - w1) . p_1i| of the shown runs."""

import logging

import pandas as pd

from thermoscape.data.readers import read_split
from thermoscape.studies.fengtu.experiment import network_landscape, split_tensors, task_tensors
from thermoscape.studies.fengtu.forgetting import displacements, ewc_penalty, landscape_penalty, threshold, train_task
from thermoscape.core.io import load_tensors, write_table
from thermoscape.core.jobs import start_job
from thermoscape.core.seeds import derive_seed

device = start_job(snakemake)
settings, hidden, method = snakemake.params.forgetting, snakemake.params.hidden, snakemake.wildcards.method
seed = int(snakemake.wildcards.seed)
data = split_tensors(read_split(snakemake.input.dataset), device)
task1 = load_tensors(snakemake.input.task1, device)
base, w1, directions, widths = task1["base"], task1["w1"], task1["directions"], task1["widths"]
landscape, _ = network_landscape(task_tensors(data, settings["task2"]), hidden, base, 2)
tests = {f"eps{k}": network_landscape(task_tensors(data, settings[f"task{k}"], test=True), hidden, base, 2)[0]
         for k in (1, 2)}


def evaluate(w):
    """eps_k: test error of task k, argmax over all 10 outputs (brief 6.1); eps_k_task: over the task's classes."""
    errors = {name: test.loss_and_error(w)[1] for name, test in tests.items()}
    return errors | {f"{name}_task": test.loss_and_error(w, settings[f"task{name[-1]}"])[1]
                     for name, test in tests.items()}


def penalty(lam, n_constrained):
    if method == "ldc":
        k = min(n_constrained, directions.shape[0])
        return landscape_penalty(w1, directions[:k], widths[:k], lam)
    return ewc_penalty(w1, task1["fisher"], min(n_constrained, w1.numel()), lam)


# the lambda sweep at the shown N_c (LDC) or with every weight constrained (EWC), and the N_c sweep
if method == "ldc":
    lambda_sweep = [(lam, settings["shown_constrained"]) for lam in settings["ldc_lambdas"]]
    # N_c beyond the task-1 PCA rank: every measured direction
    constrained_sweep = list(dict.fromkeys((settings["shown_lambda"], min(n, directions.shape[0]))
                                           for n in settings["constrained"]))
    shown = [(0.0, settings["shown_constrained"]), (settings["shown_lambda"], settings["shown_constrained"])]
else:
    lambda_sweep = [(lam, w1.numel()) for lam in settings["ewc_lambdas"]]
    constrained_sweep = [(settings["ewc_lambda"], n) for n in settings["constrained"] if n <= w1.numel()]
    shown = [(settings["ewc_lambda"], w1.numel())]
curves, finals, moved = [], [], []
for lam, n_constrained in dict.fromkeys(lambda_sweep + constrained_sweep + shown):
    w2, table = train_task(w1, landscape.batch_loss_and_grad, landscape.n_samples, penalty(lam, n_constrained),
                           settings["lr"], settings["batch_size"], settings["task2_epochs"],
                           derive_seed(seed, "task2"), evaluate, implicit_penalty=True)
    keys = {"method": method, "seed": seed, "lam": lam, "n_constrained": n_constrained}
    curves.append(table.assign(**keys))
    last_epoch = table[table["epoch"] > table["epoch"].max() - 1]  # saturated: mean over the last epoch
    finals.append(keys | last_epoch[["eps1", "eps2", "eps1_task", "eps2_task"]].mean().to_dict()
                  | {"eps1_before": task1["task1_test_error"], "diverged": bool(table["diverged"].any()),
                     "lambda_sweep": (lam, n_constrained) in lambda_sweep,
                     "constrained_sweep": (lam, n_constrained) in constrained_sweep})
    if (lam, n_constrained) in shown:
        moved.append(pd.DataFrame(keys | {"rank": range(1, directions.shape[0] + 1),
                                          "q": displacements(w2, w1, directions).cpu().numpy(),
                                          "xi": threshold(widths).cpu().numpy()}))
    logging.info("%s", finals[-1])
write_table(pd.concat(curves, ignore_index=True), snakemake.output.curves)
write_table(pd.DataFrame(finals), snakemake.output.final)
write_table(pd.concat(moved, ignore_index=True), snakemake.output.displacements)
