"""Functions of the taxonomy study's rules (in taxonomy.smk, taxonomy_figures.smk) -- input functions,
resources and file lists. Included at the top of taxonomy.smk; they read the constants the rule files
define when they are called, so a rule file holds only constants and rules (snakemake --lint)."""


def taxonomy_data_source(wildcards):
    """The user-supplied data directory, if any, as the dataset's input; checked when the DAG is built,
    and only when taxonomy jobs are needed (a paper-scale config without CIFAR-10 still runs Jules et al.)."""
    data = TAXONOMY["data"]
    if data["name"] == "cifar10" and not data["path"]:
        raise WorkflowError(
            "taxonomy.data.path: cifar10 needs the directory of the user-supplied CIFAR-10 "
            "python batches (data_batch_1..5, test_batch); nothing is downloaded"
        )
    path = data["path"] or (FASHION_MNIST_DIR if data["name"] == "idx" else None)
    return [path] if path else []


def taxonomy_labels(wildcards):
    return f"{TX}/data/labels_noise{wildcard_number(TAXONOMY_CELLS[wildcards.cell].label_noise)}.parquet"


def taxonomy_cell_inputs(wildcards):
    """Every per-cell table of one experiment."""
    cells = TAXONOMY_GRIDS[wildcards.experiment]["cell"]
    return {
        name: [f"{TX}/cells/{cell}/{name}.parquet" for cell in cells]
        for name in ("training", "replicas", "pairs", "curve")
    }


def taxonomy_axes(experiment):
    spec = TAXONOMY["experiments"][experiment]
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
