"""Freezing of class probabilities in the random model (E3; Fig. 3b): softmax of i.i.d. N(0, sigma_z^2) logits
on the 3-class simplex for several sigma_z, and the mean entropy in bits against sigma_z.

params.freezing: dict(sigma_z: list of floats (simplex panel), examples: int (points per sigma_z, also the
    examples averaged for the entropy), entropy_classes: list of ints (e.g. [3, 10]),
    entropy_sigma_z: dict(min, max, points) (log grid), seed: int).
output.simplex: freezing/simplex.parquet (sigma_z, example, p1, p2, p3).
output.entropy: freezing/entropy.parquet (n_classes, sigma_z, entropy_bits, entropy_sd).
"""

import numpy as np

from thermoscape.studies.fort import random_model
from thermoscape.core.io import write_table
from thermoscape.core.jobs import start_job

start_job(snakemake)
settings = snakemake.params.freezing
grid = settings["entropy_sigma_z"]
examples, seed = int(settings["examples"]), int(settings["seed"])
write_table(random_model.freezing_simplex([float(s) for s in settings["sigma_z"]], examples, seed),
            snakemake.output.simplex)
write_table(random_model.entropy_curve([int(c) for c in settings["entropy_classes"]],
                                       np.geomspace(float(grid["min"]), float(grid["max"]), int(grid["points"])),
                                       examples, seed),
            snakemake.output.entropy)
