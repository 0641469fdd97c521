"""Bradley et al. shift-curvature (rule bradley_line; Figs. 1-3, Eq. 3, Eq. 31, App. F): the line
Theta(r) = theta_tr + r s/|s| between the minima, the reflected quadratic fits, u^T H u by HVP and the summary.

params.settings: dict(data, network, line {r_min, r_max, points}, fit {offset, restricted_range});
    wildcards.T, wildcards.seed. input.sgd, input.train, input.test: the stage A and stage B torch files.
Outputs: line (T, seed, r, train_loss, test_loss, train_accuracy, test_accuracy), summary (one row:
    thermoscape.shift_curvature.SUMMARY_COLUMNS; finite False and NaNs if a stage diverged).
"""

import pandas as pd

from thermoscape import shift_curvature as sc
from thermoscape.bradley_networks import experiment_network, stored_data
from thermoscape.io import load_tensors, write_table
from thermoscape.jobs import start_job

device = start_job(snakemake)
settings, T, seed = snakemake.params.settings, float(snakemake.wildcards.T), int(snakemake.wildcards.seed)
data = stored_data(load_tensors(snakemake.input.dataset), device)
model = experiment_network(settings["network"], data, seed)
sgd, train, test = (load_tensors(path, device) for path in (snakemake.input.sgd, snakemake.input.train,
                                                             snakemake.input.test))
keys = {"T": T, "seed": seed, "lr": sgd["lr"], "batch": sgd["batch"], "epochs": sgd["epochs"],
        "sgd_train_loss": sgd["train_loss"], "sgd_test_loss": sgd["test_loss"]}
line = pd.DataFrame(columns=sc.LINE_COLUMNS)
if train["finite"] and test["finite"]:
    sc.load_buffers(model, train["buffers"])  # with batch norm, the train minimum's statistics along the line
    theta_tr, theta_test = train["theta"].to(data.x_train.dtype), test["theta"].to(data.x_train.dtype)
    shape, fit = settings["line"], settings["fit"]
    line = sc.line_losses(model, data, theta_tr, theta_test,
                          sc.line_fractions(shape["r_min"], shape["r_max"], shape["points"]))
    shift = theta_test - theta_tr
    row = sc.shift_row(
        **keys, line=line, shift_norm=float(shift.norm()),
        hvp_train=sc.directional_curvature(model, theta_tr, data.x_train, data.y_train, shift),
        hvp_test=sc.directional_curvature(model, theta_test, data.x_test, data.y_test, shift),
        grad_norm_train=train["grad_norm"], grad_norm_test=test["grad_norm"], offset=fit["offset"],
        half=fit["restricted_range"])
else:
    row = sc.shift_row(**keys, line=None, finite=False)
line.insert(0, "seed", seed)
line.insert(0, "T", T)
write_table(line, snakemake.output.line)
write_table(pd.DataFrame([row], columns=sc.SUMMARY_COLUMNS), snakemake.output.summary)
