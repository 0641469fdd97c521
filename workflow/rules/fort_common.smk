"""Functions of Fort & Ganguli's rules (in fort.smk, fort_figures.smk) -- input functions, resources and
file lists. Included at the top of fort.smk; they read the constants the rule files define when they are
called, so a rule file holds only constants and rules (snakemake --lint)."""


def fort_data_source(wildcards):
    """The data directory a run reads, as an input (Fashion-MNIST: Debian's IDX files unless configured;
    CIFAR-10: the user's batches)."""
    dataset, paths = FORT_RUNS[wildcards.run]["dataset"], FORT_NETWORKS["paths"]
    if dataset == "fashion_mnist":
        return {"data": paths["fashion_mnist"] or FASHION_MNIST_DIR}
    if dataset != "cifar10":
        return {}
    if not paths["cifar10"]:  # checked when the DAG is built, and only when a CIFAR run is needed
        raise WorkflowError(
            f"fort.networks.paths.cifar10: run {wildcards.run} needs the directory of the "
            "user-supplied CIFAR-10 python batches (data_batch_1..5, test_batch); nothing is downloaded"
        )
    return {"data": paths["cifar10"]}


def fort_run_dir(name):
    return f"{FG}/runs/{name}"


def _fort_files(runs, table):
    return [f"{fort_run_dir(name)}/{table}.parquet" for name in runs]
