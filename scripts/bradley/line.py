"""Bradley et al. shift-curvature (rule bradley_line; Figs. 1-3, Eq. 3, Eq. 31, App. F): the line
Theta(r) = theta_tr + r s/|s| between the minima, the reflected quadratic fits, u^T H u by HVP and the summary.

params.settings: dict(data, network, line {r_min, r_max, points}, fit {offset, restricted_range});
    wildcards.T, wildcards.seed. input.sgd, input.train, input.test: the stage A and stage B torch files.
Outputs: line (T, seed, r, train_loss, test_loss, train_accuracy, test_accuracy), summary (one row:
    thermoscape.studies.bradley.shift_curvature.SUMMARY_COLUMNS; finite False and NaNs if a stage diverged).
"""

import pandas as pd

from thermoscape.studies.bradley import shift_curvature as sc
from thermoscape.studies.bradley.networks import experiment_network, stored_data
from thermoscape.core.io import load_tensors, write_table
from thermoscape.core.jobs import start_job

device = start_job(snakemake)
settings, T, seed = snakemake.params.settings, float(snakemake.wildcards.T), int(snakemake.wildcards.seed)
data = stored_data(load_tensors(snakemake.input.dataset), device)
model = experiment_network(settings["network"], data, seed)
shape, fit = settings["line"], settings["fit"]
row, line = sc.line_summary(model, data, T, seed, *(load_tensors(path) for path in (
    snakemake.input.sgd, snakemake.input.train, snakemake.input.test)),
    sc.line_fractions(shape["r_min"], shape["r_max"], shape["points"]), fit["offset"], fit["restricted_range"])
line.insert(0, "seed", seed)
line.insert(0, "T", T)
write_table(line, snakemake.output.line)
write_table(pd.DataFrame([row], columns=sc.SUMMARY_COLUMNS), snakemake.output.summary)
