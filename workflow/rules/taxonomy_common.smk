"""Functions of the taxonomy study's rules (in taxonomy.smk, taxonomy_figures.smk) -- input functions,
resources and file lists. Included at the top of taxonomy.smk; they read the constants the rule files
define when they are called, so a rule file holds only constants and rules (snakemake --lint)."""


def taxonomy_data_block(source):
    """(config key, data block) of a data folder: ``data`` is taxonomy.data, ``data/sets/<key>`` is
    taxonomy.datasets.<key> (Figs. 14, 15: the cells whose ``data`` setting names it)."""
    if source == "data":
        return "taxonomy.data", TAXONOMY["data"]
    key = source.split("/")[-1]
    return f"taxonomy.datasets.{key}", TAXONOMY_DATASETS[key]


def taxonomy_source(cell):
    """The folder of a cell's data tables (dataset, labels, pixel-noised inputs)."""
    return f"data/sets/{cell.data}" if cell.data else "data"


def taxonomy_training_set_size(key):
    """Training images of taxonomy.data ("") or taxonomy.datasets.<key>, or None when unknown before
    loading (CIFAR without a path, a data directory not on this machine: named when a job needs it)."""
    data = TAXONOMY["data"] if key == "" else TAXONOMY["datasets"][key]
    try:
        return training_set_size(data["name"], data.get("path"), **subset_options(data))
    except FileNotFoundError:
        return None


def taxonomy_data_source(wildcards):
    """The user-supplied data directory, if any, as the dataset's input; checked when the DAG is built,
    and only when taxonomy jobs are needed (a paper-scale config without CIFAR-10 still runs Jules et al.)."""
    key, data = taxonomy_data_block(wildcards.source)
    if data["name"] in USER_SUPPLIED and not data.get("path"):
        files = {
            "cifar10": "CIFAR-10 python batches (data_batch_1..5, test_batch)",
            "cifar100": "CIFAR-100 python batches (train, test)",
            "svhn": "SVHN files (train_32x32.mat, test_32x32.mat)",
        }
        raise WorkflowError(
            f"{key}.path: {data['name']} needs the directory of the user-supplied {files[data['name']]}; "
            "nothing is downloaded"
        )
    path = data.get("path") or (FASHION_MNIST_DIR if data["name"] == "idx" else None)
    if path and not Path(path).is_dir():
        hint = " (apt-get install dataset-fashion-mnist)" if path == FASHION_MNIST_DIR else ""
        raise WorkflowError(f"{key}.path: data directory not found: {path}{hint}")
    return [path] if path else []


def taxonomy_cell_dataset(wildcards):
    """The data set table a cell trains on: its data set's, with pixel noise if the cell has some."""
    cell = TAXONOMY_CELLS[wildcards.cell]
    noise = f"_u{wildcard_number(cell.pixel_noise)}" if cell.pixel_noise else ""
    return f"{TX}/{taxonomy_source(cell)}/dataset{noise}.parquet"


def taxonomy_training_study(wildcards):
    """The training params of a cell: taxonomy.model, or the taxonomy.models entry its model setting names
    (Fig. 16), so cells without one keep their params (no rerun)."""
    cell = TAXONOMY_CELLS[wildcards.cell]
    if not cell.model:
        return TAXONOMY_TRAINING
    return {**TAXONOMY_TRAINING, "model": TAXONOMY_MODELS[cell.model]}


def taxonomy_labels(wildcards):
    cell = TAXONOMY_CELLS[wildcards.cell]
    return f"{TX}/{taxonomy_source(cell)}/labels_noise{wildcard_number(cell.label_noise)}.parquet"


def taxonomy_cell_inputs(wildcards):
    """Every per-cell table of one experiment."""
    cells = TAXONOMY_GRIDS[wildcards.experiment]["cell"]
    return {
        name: [f"{TX}/cells/{cell}/{name}.parquet" for cell in cells]
        for name in ("training", "replicas", "pairs", "curve")
    }


def taxonomy_axes(experiment):
    spec = TAXONOMY_EXPERIMENTS[experiment]
    return {role: spec[role]["axis"] for role in ("load", "temperature", "panel") if role in spec}


def taxonomy_tables(*experiments):
    return {
        "cells": [f"{TX}/tables/{e}/cells.parquet" for e in experiments],
        "curves": [f"{TX}/tables/{e}/curves.parquet" for e in experiments],
    }


def taxonomy_ablation_inputs(wildcards):
    """The cells table and every cell's ablation table of one experiment (Figs. 9-11)."""
    return {
        "cells": f"{TX}/tables/{wildcards.experiment}/cells.parquet",
        "ablations": [
            f"{TX}/cells/{cell}/ablations.parquet" for cell in TAXONOMY_GRIDS[wildcards.experiment]["cell"]
        ],
    }


def taxonomy_appendix_outputs(figure):
    """An App. D figure's diagram and claims table (issue 26)."""
    experiment = TAXONOMY_APPENDIX[figure]
    return [
        f"{RESULTS}/figures/taxonomy/{experiment}_diagram.png",
        f"{TX}/tables/{experiment}/claims.parquet",
    ]


def taxonomy_appendix_claim_inputs(experiment):
    """The cells table of an App. D experiment and, where its claims compare with Fig. 2, the reference's."""
    inputs = {"cells": f"{TX}/tables/{experiment}/cells.parquet"}
    if experiment in TAXONOMY_APPENDIX_REFERENCE:
        inputs["reference"] = f"{TX}/tables/{TAXONOMY_APPENDIX_REFERENCE[experiment]}/cells.parquet"
    return inputs
