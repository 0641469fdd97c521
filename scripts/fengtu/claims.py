"""Feng & Tu's claims table (brief 5.2): spectrum, variance-flatness (MLP-2, MLP-4, Adam, LeNet-CIFAR), MLF theory, temperature, drift,
forgetting and the Langevin control, each with a verdict."""

import pandas as pd

from thermoscape.claims import COLUMNS
from thermoscape.fengtu_claims import (
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
from thermoscape.io import read_table, write_table
from thermoscape.jobs import start_job

start_job(snakemake)
params, inputs = snakemake.params, snakemake.input
criteria = Criteria(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.criteria.items()})
gamma, psi = tuple(params.fits["gamma"]), tuple(params.fits["psi"])
flatness = {name: read_table(path) for name, path in zip(params.runs, inputs.flatness)}
rows = spectrum_claims({name: read_table(path) for name, path in zip(params.runs, inputs.pca)}, gamma, criteria)
rows += flatness_claims(flatness, psi, criteria)
rows += flatness_claims({name: read_table(path) for name, path in zip(params.deep, inputs.deep)}, psi, criteria,
                        figure="Fig. S3, MLP-4", general=True)
adam = inputs.adam if isinstance(inputs.adam, list) else [inputs.adam]
rows += flatness_claims({name: read_table(path) for name, path in zip(params.adam, adam)}, psi, criteria,
                        figure="E6, Adam", general=True)
cifar = inputs.cifar if isinstance(inputs.cifar, list) else [inputs.cifar]
rows += conv_flatness_claims({name: read_table(path) for name, path in zip(params.cifar, cifar)}, psi, criteria)
rows += minibatch_claims(read_table(inputs.minibatch), criteria)
rows += temperature_claims(read_table(inputs.temperature), read_table(inputs.history), criteria)
rows += drift_claims(read_table(inputs.motion), read_table(inputs.margins))
rows += forgetting_claims(pd.concat([read_table(path) for path in inputs.final], ignore_index=True))
rows += control_claims(flatness[params.runs[0]], read_table(inputs.langevin), psi)
write_table(pd.DataFrame(rows, columns=COLUMNS), snakemake.output[0])
