"""Feng & Tu's claims table (brief 5.2): spectrum, variance-flatness (MLP-2, MLP-4, Adam, LeNet-CIFAR), MLF theory, temperature, drift,
forgetting and the Langevin control, each with a verdict."""

import pandas as pd

from thermoscape.claims import COLUMNS, criteria_from
from thermoscape.studies.fengtu.claims import (
                                       Criteria,
                                       control_claims,
                                       conv_flatness_claims,
                                       drift_claims,
                                       flatness_claims,
                                       forgetting_claims,
                                       minibatch_claims,
                                       spectrum_claims,
                                       temperature_claims,
)
from thermoscape.core.io import read_table, write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
params, inputs = snakemake.params, snakemake.input


def tables(names, files):
    """``{name: table}`` for a named input's files (Snakemake gives a one-file input as a plain string)."""
    return {name: read_table(path) for name, path in zip(names, [files] if isinstance(files, str) else files)}


criteria = criteria_from(Criteria, params.criteria, "fengtu.claims")
gamma, psi = tuple(params.fits["gamma"]), tuple(params.fits["psi"])
flatness = tables(params.runs, inputs.flatness)
final_losses = {name: float(table["loss0"].iloc[0]) for name, table in flatness.items()}  # L(w_0), the regime
rows = spectrum_claims(tables(params.runs, inputs.pca), gamma, criteria, final_losses)
rows += flatness_claims(flatness, psi, criteria)
rows += flatness_claims(tables(params.deep, inputs.deep), psi, criteria, figure="Fig. S3, MLP-4", general=True)
rows += flatness_claims(tables(params.adam, inputs.adam), psi, criteria, figure="E6, Adam", general=True)
rows += conv_flatness_claims(tables(params.cifar, inputs.cifar), psi, criteria)
rows += minibatch_claims(read_table(inputs.minibatch), criteria)
rows += temperature_claims(read_table(inputs.temperature), read_table(inputs.history), criteria)
rows += drift_claims(read_table(inputs.motion), read_table(inputs.margins))
rows += forgetting_claims(pd.concat([read_table(path) for path in inputs.final], ignore_index=True))
rows += control_claims(flatness[params.runs[0]], read_table(inputs.langevin), psi)
write_table(pd.DataFrame(rows, columns=COLUMNS), snakemake.output[0])
