"""Yang et al. taxonomy: dataset -> labels -> SGD replicas per cell -> metrics and curve per cell ->
experiment tables with phases -> phase diagrams and claims."""

from thermoscape.data.readers import FASHION_MNIST_DIR, dataset_params, subset_options, training_set_size
from thermoscape.core.grids import Cell, experiment_grid
from thermoscape.core.grids import CELL_PATTERN


include: "taxonomy_common.smk"


TAXONOMY = config["taxonomy"]
TX = f"{RESULTS}/taxonomy"

_TAXONOMY_DEFAULTS = {
    "width": TAXONOMY["model"]["width"],
    "subset": 1.0,
    "label_noise": 0.0,
    **{k: TAXONOMY["training"][k] for k in ("batch_size", "lr", "weight_decay", "schedule")},
}
_TAXONOMY_N_TRAIN = training_set_size(
    TAXONOMY["data"]["name"], TAXONOMY["data"]["path"], **subset_options(TAXONOMY["data"])
)
TAXONOMY_GRIDS = {}
for _name, _experiment in TAXONOMY["experiments"].items():
    try:
        TAXONOMY_GRIDS[_name] = experiment_grid(_experiment, _TAXONOMY_DEFAULTS, _TAXONOMY_N_TRAIN)
    except ValueError as error:
        raise WorkflowError(f"taxonomy.experiments.{_name}: {error}") from None
TAXONOMY_CELLS = {name: Cell.from_name(name) for grid in TAXONOMY_GRIDS.values() for name in grid["cell"]}
# ResNets are GPU work: ask the cluster for a GPU unless the config pins the CPU
TAXONOMY_GPU = GPU or ({"gpu": 1} if DEVICE == "auto" and TAXONOMY["model"]["name"] == "resnet18" else {})
# what a trained model depends on besides its cell: a param, so a change retrains
TAXONOMY_TRAINING = {k: TAXONOMY[k] for k in ("seed", "model", "replicas", "training")}


wildcard_constraints:
    cell=CELL_PATTERN,
    experiment=r"[A-Za-z0-9]+(_[A-Za-z0-9]+)*",
    noise=r"[0-9.e+-]+",


# cells with a learning-rate schedule carry it as a name suffix (_one-decay, issue 26)
rule taxonomy_dataset:
    input:
        taxonomy_data_source,
    output:
        f"{TX}/data/dataset.parquet",
    log:
        log_path("taxonomy_dataset"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        data=dataset_params(TAXONOMY["data"]),
    script:
        "../../scripts/taxonomy/dataset.py"


rule taxonomy_labels:
    input:
        rules.taxonomy_dataset.output[0],
    output:
        f"{TX}/data/labels_noise{{noise}}.parquet",
    log:
        log_path("taxonomy_labels", "noise{noise}"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        labels=TAXONOMY["labels"],
    script:
        "../../scripts/taxonomy/labels.py"


rule taxonomy_train:
    input:
        dataset=rules.taxonomy_dataset.output[0],
        labels=taxonomy_labels,
    output:
        models=f"{TX}/cells/{{cell}}/models.pt",
        training=f"{TX}/cells/{{cell}}/training.parquet",
    log:
        log_path("taxonomy_train", "{cell}"),
    benchmark:
        benchmark_path("taxonomy_train", "{cell}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **TAXONOMY_GPU,
        mem_mb=scaled(3000),
        runtime=scaled(120),
    params:
        study=TAXONOMY_TRAINING,
        workdir=lambda wc: f"{TX}/scratch/{wc.cell}",
        device=DEVICE,
        library=library_version("dynamics.sgd", "dynamics.train", "nets.networks", *NETS_LIBRARY),
    script:
        "../../scripts/taxonomy/train.py"


rule taxonomy_measure:
    input:
        dataset=rules.taxonomy_dataset.output[0],
        labels=taxonomy_labels,
        models=rules.taxonomy_train.output.models,
    output:
        replicas=f"{TX}/cells/{{cell}}/replicas.parquet",
        pairs=f"{TX}/cells/{{cell}}/pairs.parquet",
        curve=f"{TX}/cells/{{cell}}/curve.parquet",
        bend=f"{TX}/cells/{{cell}}/curve.pt",
    log:
        log_path("taxonomy_measure", "{cell}"),
    benchmark:
        benchmark_path("taxonomy_measure", "{cell}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **TAXONOMY_GPU,
        mem_mb=scaled(3000),
        runtime=scaled(120),
    params:
        hessian=TAXONOMY["hessian"],
        cka=TAXONOMY["cka"],
        curve=TAXONOMY["curve"],
        seed=TAXONOMY["seed"],
        device=DEVICE,
        library=library_version(
            "studies.taxonomy.experiment",
            "measure.curvature",
            "measure.similarity",
            "measure.connectivity",
            "nets.networks",
            *NETS_LIBRARY,
        ),
    script:
        "../../scripts/taxonomy/measure.py"


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
        axes=lambda wc: {
            role: TAXONOMY["experiments"][wc.experiment][role]["axis"]
            for role in ("load", "temperature", "panel")
            if role in TAXONOMY["experiments"][wc.experiment]
        },
        phases=TAXONOMY["phases"],
        library=library_version("studies.taxonomy.experiment", "measure.connectivity"),
    script:
        "../../scripts/taxonomy/aggregate.py"


# --- metric ablations, Figs. 9-11 (issue 26): the models of taxonomy.ablations.experiment re-measured ---


rule taxonomy_ablation:
    input:
        dataset=rules.taxonomy_dataset.output[0],
        labels=taxonomy_labels,
        models=rules.taxonomy_train.output.models,
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
