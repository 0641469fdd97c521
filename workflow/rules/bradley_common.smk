"""Functions of Bradley et al.'s rules (in bradley.smk, bradley_figures.smk) -- input functions, resources
and file lists. Included at the top of bradley.smk; they read the constants the rule files define when
they are called, so a rule file holds only constants and rules (snakemake --lint)."""


def bradley_data_source(wildcards):
    """The data directory the network jobs read, as an input (see fort_data_source)."""
    dataset, paths = BR_NETWORKS["data"]["dataset"], BR_NETWORKS.get("paths", {})
    if dataset == "fashion_mnist":
        return {"data": paths.get("fashion_mnist") or FASHION_MNIST_DIR}
    if dataset != "cifar10":
        return {}
    if not paths.get("cifar10"):
        raise WorkflowError(
            "bradley.networks.paths.cifar10: the directory of the user-supplied CIFAR-10 python "
            "batches (data_batch_1..5, test_batch) is needed; nothing is downloaded"
        )
    return {"data": paths["cifar10"]}


def bradley_point(T, seed):
    return f"{BR}/shift/T{T}_s{seed}"


def _basin_files(table):
    return [f"{BR}/basins/{case}/{table}.parquet" for case in BR_BASINS["cases"]]


def _shift_files(table):
    return [f"{bradley_point(T, seed)}/{table}.parquet" for T in BR_TEMPERATURES for seed in BR_SEEDS]
