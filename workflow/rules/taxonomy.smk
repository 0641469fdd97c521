"""Yang et al. taxonomy: dataset -> labels -> SGD replicas per cell -> metrics and curve per cell ->
experiment tables with phases -> phase diagrams and claims."""

from thermoscape.data.readers import FASHION_MNIST_DIR, USER_SUPPLIED, dataset_params, subset_options
from thermoscape.data.readers import training_set_size
from thermoscape.core.grids import Cell, experiment_grid
from thermoscape.core.grids import CELL_PATTERN, DATA_KEY


include: "taxonomy_common.smk"


TAXONOMY = config["taxonomy"]
TX = f"{RESULTS}/taxonomy"

_TAXONOMY_DEFAULTS = {
    "width": TAXONOMY["model"]["width"],
    "subset": 1.0,
    "label_noise": 0.0,
    **{k: TAXONOMY["training"][k] for k in ("batch_size", "lr", "weight_decay", "schedule")},
}
TAXONOMY_DATASETS = TAXONOMY.get("datasets", {})
TAXONOMY_MODELS = TAXONOMY.get("models", {})
_TAXONOMY_N_TRAIN = {key: taxonomy_training_set_size(key) for key in ["", *TAXONOMY_DATASETS]}
# the config's experiments, and Fig. 23's reference (issue 26): the linear_scaling grid at a constant lr (Fig. 2
# cells), aggregated for its claims only (no diagram)
TAXONOMY_EXPERIMENTS = {
    **TAXONOMY["experiments"],
    "linear_scaling_reference": {
        k: v for k, v in TAXONOMY["experiments"]["linear_scaling"].items() if k != "linear_scaling"
    },
}
TAXONOMY_GRIDS = {}
for _name, _experiment in TAXONOMY_EXPERIMENTS.items():
    _data = _experiment.get("settings", {}).get("data", "")
    if _data not in _TAXONOMY_N_TRAIN:
        raise WorkflowError(
            f"taxonomy.experiments.{_name}.settings.data: {_data!r} is not a key of taxonomy.datasets "
            f"({', '.join(TAXONOMY_DATASETS) or 'none'})"
        )
    _model = _experiment.get("settings", {}).get("model", "")
    if _model and _model not in TAXONOMY_MODELS:
        raise WorkflowError(
            f"taxonomy.experiments.{_name}.settings.model: {_model!r} is not a key of taxonomy.models "
            f"({', '.join(TAXONOMY_MODELS) or 'none'})"
        )
    try:
        TAXONOMY_GRIDS[_name] = experiment_grid(_experiment, _TAXONOMY_DEFAULTS, _TAXONOMY_N_TRAIN[_data])
    except ValueError as error:
        raise WorkflowError(f"taxonomy.experiments.{_name}: {error}") from None
TAXONOMY_CELLS = {name: Cell.from_name(name) for grid in TAXONOMY_GRIDS.values() for name in grid["cell"]}
# ResNets are GPU work: ask the cluster for a GPU unless the config pins the CPU
TAXONOMY_GPU = GPU or ({"gpu": 1} if DEVICE == "auto" and TAXONOMY["model"]["name"] == "resnet18" else {})
# what a trained model depends on besides its cell: a param, so a change retrains (a cell with a model setting
# trains taxonomy.models.<key> instead of taxonomy.model: taxonomy_training_study)
TAXONOMY_TRAINING = {k: TAXONOMY[k] for k in ("seed", "model", "replicas", "training")}


wildcard_constraints:
    cell=CELL_PATTERN,
    source=rf"data(/sets/{DATA_KEY})?",
    u=r"[0-9.e+-]+",
    experiment=r"[A-Za-z0-9]+(_[A-Za-z0-9]+)*",
    noise=r"[0-9.e+-]+",


# cells with a learning-rate schedule carry it as a name suffix (_one-decay, issue 26); so do cells on
# another data set (_data-<key>: its tables under data/sets/<key>) and with pixel noise (_u<u>, Fig. 21)
rule taxonomy_dataset:
    input:
        taxonomy_data_source,
    output:
        f"{TX}/{{source}}/dataset.parquet",
    log:
        log_path("taxonomy_dataset", "{source}"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        data=lambda wc: dataset_params(taxonomy_data_block(wc.source)[1]),
    script:
        "../../scripts/taxonomy/dataset.py"


rule taxonomy_labels:
    input:
        rules.taxonomy_dataset.output[0],
    output:
        f"{TX}/{{source}}/labels_noise{{noise}}.parquet",
    log:
        log_path("taxonomy_labels", "{source}/noise{noise}"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        labels=TAXONOMY["labels"],
    script:
        "../../scripts/taxonomy/labels.py"


# Fig. 21 (App. D.6): U[0, u) on every training pixel (0-255 scale), drawn once and shared by the replicas
rule taxonomy_pixel_noise:
    input:
        rules.taxonomy_dataset.output[0],
    output:
        f"{TX}/{{source}}/dataset_u{{u}}.parquet",
    log:
        log_path("taxonomy_pixel_noise", "{source}/u{u}"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        seed=TAXONOMY["pixel_noise"]["seed"],
    script:
        "../../scripts/taxonomy/pixel_noise.py"


# one job per cell trains its replicas and measures them: the two halves cost seconds each, as much as a job's
# start-up (import torch, read the data), so one job halves the start-ups of the grid (issue 22). A change of a
# measurement setting re-runs the job, and its training resumes from the finished checkpoint in scratch/.
rule taxonomy_cell:
    input:
        dataset=taxonomy_cell_dataset,
        labels=taxonomy_labels,
    output:
        models=f"{TX}/cells/{{cell}}/models.pt",
        training=f"{TX}/cells/{{cell}}/training.parquet",
        replicas=f"{TX}/cells/{{cell}}/replicas.parquet",
        pairs=f"{TX}/cells/{{cell}}/pairs.parquet",
        curve=f"{TX}/cells/{{cell}}/curve.parquet",
        bend=f"{TX}/cells/{{cell}}/curve.pt",
    log:
        log_path("taxonomy_cell", "{cell}"),
    benchmark:
        benchmark_path("taxonomy_cell", "{cell}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **TAXONOMY_GPU,
        mem_mb=scaled(3000),
        runtime=scaled(240),
    params:
        study=taxonomy_training_study,
        workdir=lambda wc: f"{TX}/scratch/{wc.cell}",
        hessian=TAXONOMY["hessian"],
        cka=TAXONOMY["cka"],
        curve=TAXONOMY["curve"],
        seed=TAXONOMY["seed"],
        device=DEVICE,
        library=library_version(
            "dynamics.sgd",
            "dynamics.train",
            "studies.taxonomy.experiment",
            "measure.curvature",
            "measure.similarity",
            "measure.connectivity",
            "nets.networks",
            *NETS_LIBRARY,
        ),
    script:
        "../../scripts/taxonomy/cell.py"


rule taxonomy_aggregate:
    input:
        unpack(taxonomy_cell_inputs),
    output:
        cells=f"{TX}/tables/{{experiment}}/cells.parquet",
        curves=f"{TX}/tables/{{experiment}}/curves.parquet",
    log:
        log_path("taxonomy_aggregate", "{experiment}"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        grid=lambda wc: TAXONOMY_GRIDS[wc.experiment].to_dict("records"),
        axes=lambda wc: taxonomy_axes(wc.experiment),
        phases=TAXONOMY["phases"],
        library=library_version("studies.taxonomy.experiment", "measure.connectivity"),
    script:
        "../../scripts/taxonomy/aggregate.py"


# --- metric ablations, Figs. 9-11 (issue 26): the models of taxonomy.ablations.experiment re-measured ---


rule taxonomy_ablation:
    input:
        dataset=taxonomy_cell_dataset,
        labels=taxonomy_labels,
        models=rules.taxonomy_cell.output.models,
    output:
        f"{TX}/cells/{{cell}}/ablations.parquet",
    log:
        log_path("taxonomy_ablation", "{cell}"),
    benchmark:
        benchmark_path("taxonomy_ablation", "{cell}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **TAXONOMY_GPU,
        mem_mb=scaled(3000),
        runtime=scaled(120),
    params:
        ablations=key_sorted(TAXONOMY["ablations"]),
        cka=TAXONOMY["cka"],
        curve=TAXONOMY["curve"],
        seed=TAXONOMY["seed"],
        device=DEVICE,
        library=library_version(
            "studies.taxonomy.experiment",
            "measure.similarity",
            "measure.connectivity",
            "nets.networks",
            *NETS_LIBRARY,
        ),
    script:
        "../../scripts/taxonomy/ablation.py"


rule taxonomy_ablation_table:
    input:
        unpack(taxonomy_ablation_inputs),
    output:
        f"{TX}/tables/{{experiment}}/ablations.parquet",
    log:
        log_path("taxonomy_ablation_table", "{experiment}"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=library_version("studies.taxonomy.experiment"),
    script:
        "../../scripts/taxonomy/ablation_table.py"
