"""Fort & Ganguli: the Goldilocks zone of one run's initialisation (rule fort_radius): logit variance and
Tr(H)/||H|| as the initial weights are scaled by s (Fig. 4 BR, Sec. 4 (4)), and training restricted to
random affine hyperplanes through the scaled initialisation (refs. [16, 17]).

params.run, params.networks (as fort_train), params.goldilocks: the config's fort.networks.goldilocks block
(scales, n_examples, probes, projection_dim, projections, hyperplane: dims, draws, steps, lr).
Outputs: radius and hyperplane, Parquet.
"""

import dataclasses

import pandas as pd
import torch

from thermoscape.studies.fort import experiment as fort
from thermoscape.core.io import write_table
from thermoscape.core.jobs import start_job
from thermoscape.nets.networks import flat_parameters, functional_logits
from thermoscape.core.seeds import derive_seed

start_job(snakemake)
run, networks, settings = dict(snakemake.params.run), snakemake.params.networks, snakemake.params.goldilocks
data = fort.run_data(run, networks, snakemake.input.get("data") or None)
model = fort.run_network(run, networks, data)
logits_fn, initial = functional_logits(model), flat_parameters(model).detach()
n, plane = settings["n_examples"], settings["hyperplane"]
subset = dataclasses.replace(data, x_train=data.x_train[:n], y_train=data.y_train[:n])
radius, hyperplane = [], []
for scale in settings["scales"]:
    anchor = scale * initial
    generator = torch.Generator().manual_seed(derive_seed(run["seed"], "radius", scale))
    radius.append({"scale": scale, **fort.init_radius_row(logits_fn, anchor, subset.x_train, subset.y_train,
                                                          settings["probes"], settings["projection_dim"],
                                                          settings["projections"], generator)})
    for dim in plane["dims"]:
        for draw in range(plane["draws"]):
            generator = torch.Generator().manual_seed(derive_seed(run["seed"], "hyperplane", scale, dim, draw))
            row = fort.hyperplane_row(logits_fn, anchor, subset, dim, plane["steps"], plane["lr"], generator)
            hyperplane.append({"scale": scale, "radius": float(anchor.norm()), "dim": dim, "draw": draw, **row})
write_table(fort.with_run(pd.DataFrame(radius), run), snakemake.output.radius)
write_table(fort.with_run(pd.DataFrame(hyperplane), run), snakemake.output.hyperplane)
