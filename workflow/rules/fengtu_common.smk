"""Functions of Feng & Tu's rules (in fengtu.smk, fengtu_figures.smk) -- input functions, resources and
file lists. Included at the top of fengtu.smk; they read the constants the rule files define when they
are called, so a rule file holds only constants and rules (snakemake --lint)."""


def fengtu_data_source(wildcards):
    data = FENGTU["data"]
    path = data["path"] or (FASHION_MNIST_DIR if data["name"] == "idx" else None)
    return [path] if path else []


def fengtu_cifar_source(wildcards):
    """The user's CIFAR-10 directory; checked when the DAG is built, and only when a LeNet-CIFAR run is needed
    (a paper-scale config without CIFAR-10 still runs the rest)."""
    path = FENGTU["lenet_cifar"]["path"]
    if not path:
        raise WorkflowError(
            "fengtu.lenet_cifar.path: the LeNet-CIFAR runs (fengtu.lenet_cifar.runs, Figs. S3C-D) "
            "need the directory of the user-supplied CIFAR-10 python batches (data_batch_1..5, "
            "test_batch); nothing is downloaded"
        )
    return [path]


def fengtu_dataset_file(wildcards):
    """The data set a run trains and is scanned on: CIFAR-10 for LeNet-CIFAR, the study's data set otherwise."""
    return FENGTU_CIFAR_DATASET if wildcards.ftrun in FENGTU_CIFAR else f"{FT}/data/dataset.parquet"


def fengtu_size(small, large):
    """A resource: ``large`` for the LeNet-CIFAR jobs (50,000 colour images in float64, 10,000 snapshots of
    2,850 conv weights, full-data losses in the flatness scans)."""
    return lambda wildcards: large if wildcards.ftrun in FENGTU_CIFAR else small


def fengtu_run_dir(run):
    return f"{FT}/runs/{run}"


def fengtu_e1_inputs(wildcards=None):
    run = fengtu_run_dir(FENGTU_E1)
    return {
        "dataset": rules.fengtu_dataset.output[0],
        "checkpoints": f"{run}/checkpoints.pt",
        "history": f"{run}/history.parquet",
        "components": f"{run}/W2/pca.pt",
        "flatness": f"{run}/W2/flatness.parquet",
    }


def _fengtu_label(name):
    run = FENGTU_RUNS[name]
    return f"alpha={run['lr']:g}, B={run['batch_size']}, seed {run['seed']}"


def _fengtu_layer_file(name, layer, table):
    return f"{fengtu_run_dir(name)}/{layer}/{table}.parquet"
