"""Fort & Ganguli: the random model (one draw per seed, the sigma_z sweep per exponent and seed, probability
freezing) and real networks (SGD runs with logit statistics and clustering -> the four properties at the
Hessian epochs; the Goldilocks radius sweep and hyperplane training)."""

import math

from thermoscape.data.readers import FASHION_MNIST_DIR
from thermoscape.core.grids import run_name
from thermoscape.studies.fort import grid as fort_grid


include: "fort_common.smk"


FORT = config["fort"]
FG = f"{RESULTS}/fort"
FORT_NETWORKS = FORT["networks"]
_model = FORT["random_model"]
# absolute scales from the config's sqrt(D)-normalised ones (Sec. 4: sigma_c = 1/sqrt(D), sigma_E = 0.7/sqrt(D))
FORT_MODEL = {
    key: _model[key]
    for key in ("n_examples", "n_classes", "dim", "sigma_z", "accuracy", "projections", "projection_dim")
} | {
    "sigma_c": _model["sigma_c_sqrt_dim"] / math.sqrt(_model["dim"]),
    "sigma_e": _model["sigma_e_sqrt_dim"] / math.sqrt(_model["dim"]),
}
FORT_SEEDS = list(range(_model["seeds"]))
FORT_SWEEP_SEEDS = list(range(FORT["sweep"]["seeds"]))
FORT_RUNS = {
    run_name(run): dict(sorted(run.items()))
    for entry in FORT_NETWORKS["runs"]
    for run in [entry | {"seed": seed, "classes": entry.get("classes")} for seed in FORT_NETWORKS["seeds"]]
}
FORT_HESSIAN_RUNS = [name for name, run in FORT_RUNS.items() if run["hessian"]]
FORT_GOLDILOCKS_RUNS = [name for name, run in FORT_RUNS.items() if run["goldilocks"]]
FORT_SIMPLEX_RUNS = [name for name, run in FORT_RUNS.items() if run["classes"] and len(run["classes"]) == 3]
# networks settings a run depends on (params: a change retrains); sorted keys keep the repr stable
FORT_TRAINING = {
    key: FORT_NETWORKS[key]
    for key in sorted(FORT_NETWORKS)
    if key not in ("runs", "hessian", "goldilocks", "seeds")
}


try:
    fort_grid.check(FORT)  # settings the schema cannot check, reported together before any job starts
except ValueError as error:
    raise WorkflowError(str(error)) from None


wildcard_constraints:
    run="|".join(FORT_RUNS),


rule fort_random_model:
    output:
        spectrum=f"{FG}/random_model/spectrum_s{{seed}}.parquet",
        summary=f"{FG}/random_model/summary_s{{seed}}.parquet",
    log:
        log_path("fort_random_model", "s{seed}"),
    wildcard_constraints:
        seed=r"\d+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        model=FORT_MODEL,
        library=library_version("studies.fort.random_model", "measure.spectrum", "measure.similarity"),
    script:
        "../../scripts/fort/random_model.py"


rule fort_random_model_sweep:
    output:
        f"{FG}/random_model/sweep_s{{seed}}.parquet",
    log:
        log_path("fort_random_model_sweep", "s{seed}"),
    wildcard_constraints:
        seed=r"\d+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        model=FORT_MODEL,
        exponents=FORT["sweep"]["exponents"],
        sweep={
            key: FORT["sweep"][key] for key in ("sigma_z_min", "sigma_z_max", "points", "reference_sigma_z")
        },
        library=library_version("studies.fort.random_model", "measure.spectrum", "measure.similarity"),
    script:
        "../../scripts/fort/random_model_sweep.py"


rule fort_freezing:
    output:
        simplex=f"{FG}/freezing/simplex.parquet",
        entropy=f"{FG}/freezing/entropy.parquet",
    log:
        log_path("fort_freezing"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        freezing=FORT["freezing"],
        library=library_version("studies.fort.random_model"),
    script:
        "../../scripts/fort/freezing.py"


rule fort_train:
    input:
        unpack(fort_data_source),
    output:
        history=f"{FG}/runs/{{run}}/history.parquet",
        clustering=f"{FG}/runs/{{run}}/clustering.parquet",
        simplex=f"{FG}/runs/{{run}}/simplex.parquet",
        radius=f"{FG}/runs/{{run}}/radius.parquet",
        checkpoints=f"{FG}/runs/{{run}}/checkpoints.pt",
    log:
        log_path("fort_train", "{run}"),
    benchmark:
        benchmark_path("fort_train", "{run}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(3000),
        runtime=scaled(60),
    params:
        run=lambda wc: FORT_RUNS[wc.run],
        networks=FORT_TRAINING,
        keep=lambda wc: FORT_NETWORKS["hessian"]["epochs"] if FORT_RUNS[wc.run]["hessian"] else [],
        scales=FORT_NETWORKS["goldilocks"]["scales"],
        library=library_version(
            "studies.fort.experiment", *NETS_LIBRARY, "measure.similarity", "measure.curvature", "core.grids"
        ),
    script:
        "../../scripts/fort/train.py"


rule fort_hessian:
    input:
        unpack(fort_data_source),
        checkpoints=rules.fort_train.output.checkpoints,
    output:
        hessian=f"{FG}/runs/{{run}}/hessian.parquet",
        summary=f"{FG}/runs/{{run}}/hessian_summary.parquet",
    log:
        log_path("fort_hessian", "{run}"),
    benchmark:
        benchmark_path("fort_hessian", "{run}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(60),
    params:
        run=lambda wc: FORT_RUNS[wc.run],
        networks=FORT_TRAINING,
        hessian=FORT_NETWORKS["hessian"],
        library=library_version(
            "studies.fort.experiment", *NETS_LIBRARY, "measure.spectrum", "measure.curvature"
        ),
    script:
        "../../scripts/fort/hessian.py"


rule fort_radius:
    input:
        unpack(fort_data_source),
    output:
        radius=f"{FG}/goldilocks/radius_{{run}}.parquet",
        hyperplane=f"{FG}/goldilocks/hyperplane_{{run}}.parquet",
    log:
        log_path("fort_radius", "{run}"),
    benchmark:
        benchmark_path("fort_radius", "{run}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(3000),
        runtime=scaled(60),
    params:
        run=lambda wc: FORT_RUNS[wc.run],
        networks=FORT_TRAINING,
        goldilocks=FORT_NETWORKS["goldilocks"],
        library=library_version(
            "studies.fort.experiment", *NETS_LIBRARY, "measure.spectrum", "measure.curvature"
        ),
    script:
        "../../scripts/fort/radius.py"
