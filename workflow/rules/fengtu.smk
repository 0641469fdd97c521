"""Feng & Tu: dataset -> SGD runs with per-iteration snapshots -> PCA -> flatness (every run and layer:
the hidden-to-hidden matrices of the MLPs, conv1 and conv2 of LeNet-CIFAR on user-supplied CIFAR-10);
for E1 also the minibatch-loss statistics, the active temperature and the drift mode; the Langevin
control; task 1 -> task 2 with landscape-dependent constraints or EWC (catastrophic forgetting)."""

from thermoscape.data.readers import FASHION_MNIST_DIR, dataset_params, subset_options, training_set_size

FENGTU = config["fengtu"]
FT = f"{RESULTS}/fengtu"


def fengtu_run_name(arch, run):
    return f"{arch}_lr{wildcard_number(run['lr'])}_B{run['batch_size']}_s{run['seed']}"


def _fengtu_runs():
    """Every SGD run by name: architecture, hidden widths, schedule and the weight matrices it snapshots."""
    training = FENGTU["training"]
    mlp2 = {"arch": "mlp", "hidden": FENGTU["model"]["hidden"], "epochs": training["epochs"],
            "window": training["window"], "checkpoints": training["checkpoints"]}
    deep = {"arch": "mlp", "hidden": FENGTU["deep"]["hidden"], "epochs": FENGTU["deep"]["epochs"],
            "window": training["window"], "checkpoints": [0, FENGTU["deep"]["epochs"]]}
    lenet = {"arch": "lenet_mnist", "hidden": [], "epochs": FENGTU["lenet"]["epochs"], "window": 0,
             "checkpoints": [0, FENGTU["lenet"]["epochs"]]}
    cifar = FENGTU["lenet_cifar"]  # E5, Figs. S3C-D: SGD with momentum, conv1 and conv2 snapshotted
    lenet_cifar = {"arch": "lenet_cifar", "hidden": [], "epochs": cifar["epochs"], "window": cifar["window"],
                   "checkpoints": [0, cifar["epochs"]], "momentum": cifar["momentum"]}
    runs = {}
    for prefix, base, grid in (("mlp2", mlp2, FENGTU["runs"]), ("mlp4", deep, FENGTU["deep"]["runs"]),
                               ("lenet", lenet, FENGTU["lenet"]["runs"]),
                               ("adam", mlp2 | {"optimizer": "adam"}, FENGTU["adam"]["runs"]),
                               ("cifar", lenet_cifar, cifar["runs"])):
        for run in grid:
            # sorted keys: a param's repr must not depend on the key order of an override file
            settings = dict(sorted(({"optimizer": "sgd", "momentum": 0.0} | base | run).items()))
            hidden = settings["hidden"]
            settings["layers"] = (["conv1", "conv2"] if settings["arch"] == "lenet_cifar"
                                  else [f"W{l}" for l in range(2, len(hidden) + 1)])
            runs[fengtu_run_name(prefix, run)] = settings
    return runs


FENGTU_RUNS = _fengtu_runs()
FENGTU_E1 = fengtu_run_name("mlp2", FENGTU["runs"][0])
FENGTU_MLP2 = [fengtu_run_name("mlp2", run) for run in FENGTU["runs"]]
FENGTU_MLP4 = [fengtu_run_name("mlp4", run) for run in FENGTU["deep"]["runs"]]
FENGTU_LENET = [fengtu_run_name("lenet", run) for run in FENGTU["lenet"]["runs"]]
FENGTU_ADAM = [fengtu_run_name("adam", run) for run in FENGTU["adam"]["runs"]]  # E6
FENGTU_CIFAR = [fengtu_run_name("cifar", run) for run in FENGTU["lenet_cifar"]["runs"]]  # E5, Figs. S3C-D
for _name, _run in FENGTU_RUNS.items():
    if _run["window"] > _run["epochs"]:
        _key = "fengtu.lenet_cifar.window" if _name in FENGTU_CIFAR else "fengtu.training.window"
        raise WorkflowError(f"{_key}: {_run['window']} epochs, longer than run {_name} "
                            f"({_run['epochs']} epochs)")
if max(FENGTU["training"]["checkpoints"]) > FENGTU["training"]["epochs"]:
    raise WorkflowError("fengtu.training.checkpoints: beyond fengtu.training.epochs")
FENGTU_DATA_SIZE = training_set_size(FENGTU["data"]["name"], FENGTU["data"]["path"],
                                     **subset_options(FENGTU["data"]))
if FENGTU_DATA_SIZE is not None:
    for _name, _run in FENGTU_RUNS.items():
        if _name not in FENGTU_CIFAR and _run["batch_size"] > FENGTU_DATA_SIZE:
            raise WorkflowError(f"fengtu: run {_name}: batch_size {_run['batch_size']} exceeds the "
                                f"{FENGTU_DATA_SIZE} training images")
# (run, layer) pairs that get a PCA and a flatness scan: every MLP layer snapshot, and the control
FENGTU_LAYERS = [(name, layer) for name, run in FENGTU_RUNS.items() for layer in run["layers"]]
FENGTU_LANGEVIN = "langevin"
# ranks every flatness scan includes: the paper's (brief 3.2) and those the figures show
FENGTU_SHOWN_RANKS = sorted({1, 2, 10, 20, 30, 49, 50, 100, *FENGTU["flatness"]["profile_ranks"],
                             *FENGTU["temperature"]["ranks"], FENGTU["temperature"]["time_rank"],
                             FENGTU["minibatch"]["shown_rank"]})
# what the data set depends on: a change regenerates everything downstream
FENGTU_DATA = dataset_params(FENGTU["data"])


def fengtu_data_source(wildcards):
    data = FENGTU["data"]
    path = data["path"] or (FASHION_MNIST_DIR if data["name"] == "idx" else None)
    return [path] if path else []


def fengtu_cifar_source(wildcards):
    """The user's CIFAR-10 directory; checked when the DAG is built, and only when a LeNet-CIFAR run is needed
    (a paper-scale config without CIFAR-10 still runs the rest)."""
    path = FENGTU["lenet_cifar"]["path"]
    if not path:
        raise WorkflowError("fengtu.lenet_cifar.path: the LeNet-CIFAR runs (fengtu.lenet_cifar.runs, Figs. S3C-D) "
                            "need the directory of the user-supplied CIFAR-10 python batches (data_batch_1..5, "
                            "test_batch); nothing is downloaded")
    return [path]


FENGTU_CIFAR_DATASET = f"{FT}/data/cifar10.parquet"


def fengtu_dataset_file(wildcards):
    """The data set a run trains and is scanned on: CIFAR-10 for LeNet-CIFAR, the study's data set otherwise."""
    return FENGTU_CIFAR_DATASET if wildcards.ftrun in FENGTU_CIFAR else f"{FT}/data/dataset.parquet"


def fengtu_size(small, large):
    """A resource: ``large`` for the LeNet-CIFAR jobs (50,000 colour images in float64, 10,000 snapshots of
    2,850 conv weights, full-data losses in the flatness scans)."""
    return lambda wildcards: large if wildcards.ftrun in FENGTU_CIFAR else small


def fengtu_run_dir(run):
    return f"{FT}/runs/{run}"


wildcard_constraints:
    ftrun=r"(mlp2|mlp4|lenet|adam|cifar)_lr[^_/]+_B\d+_s\d+|langevin",
    layer=r"W\d+|conv\d+",
    method=r"ldc|ewc",


rule fengtu_dataset:
    input:
        fengtu_data_source,
    output:
        f"{FT}/data/dataset.parquet",
    params:
        data=FENGTU_DATA,
    threads: 1
    resources:
        **SMALL,
    log:
        log_path("fengtu_dataset"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/fengtu/dataset.py"


rule fengtu_cifar_dataset:
    input:
        fengtu_cifar_source,
    output:
        FENGTU_CIFAR_DATASET,
    params:
        data={"name": "cifar10", "path": FENGTU["lenet_cifar"]["path"]},
    threads: 1
    resources:
        mem_mb=6000,
        runtime=15,
    log:
        log_path("fengtu_cifar_dataset"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/fengtu/dataset.py"


rule fengtu_train:
    input:
        dataset=fengtu_dataset_file,
    output:
        history=f"{FT}/runs/{{ftrun}}/history.parquet",
        snapshots=f"{FT}/runs/{{ftrun}}/snapshots.parquet",
        checkpoints=f"{FT}/runs/{{ftrun}}/checkpoints.pt",
    params:
        run=lambda wc: FENGTU_RUNS[wc.ftrun],
        seed=FENGTU["seed"],
        state=lambda wc: f"{FT}/scratch/{wc.ftrun}/state.pt",
        device=DEVICE,
        library=library_version("studies.fengtu.experiment", "nets.mlp", "nets.losses"),
    wildcard_constraints:
        ftrun=r"(mlp2|mlp4|lenet|adam|cifar)_lr[^_/]+_B\d+_s\d+",
    threads: 1
    resources:
        mem_mb=fengtu_size(3000, 8000),
        runtime=fengtu_size(120, 1440),
        **GPU,
    log:
        log_path("fengtu_train", "{ftrun}"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/fengtu/train.py"


rule fengtu_langevin:
    input:
        dataset=rules.fengtu_dataset.output[0],
        checkpoints=f"{FT}/runs/{FENGTU_E1}/checkpoints.pt",
    output:
        history=f"{FT}/runs/{FENGTU_LANGEVIN}/history.parquet",
        snapshots=f"{FT}/runs/{FENGTU_LANGEVIN}/snapshots.parquet",
        checkpoints=f"{FT}/runs/{FENGTU_LANGEVIN}/checkpoints.pt",
    params:
        langevin=FENGTU["langevin"],
        hidden=FENGTU["model"]["hidden"],
        workdir=f"{FT}/scratch/{FENGTU_LANGEVIN}",
        device=DEVICE,
        library=library_version("studies.fengtu.experiment", "dynamics.langevin", "nets.mlp", "nets.losses"),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
        **GPU,
    log:
        log_path("fengtu_langevin"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/fengtu/langevin.py"


rule fengtu_pca:
    input:
        snapshots=f"{FT}/runs/{{ftrun}}/snapshots.parquet",
    output:
        table=f"{FT}/runs/{{ftrun}}/{{layer}}/pca.parquet",
        components=f"{FT}/runs/{{ftrun}}/{{layer}}/pca.pt",
    params:
        fits=FENGTU["fits"],
        library=library_version("measure.pca"),
    threads: 1
    resources:
        mem_mb=fengtu_size(SMALL["mem_mb"], 4000),
        runtime=SMALL["runtime"],
    log:
        log_path("fengtu_pca", "{ftrun}_{layer}"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/fengtu/pca.py"


rule fengtu_flatness:
    input:
        dataset=fengtu_dataset_file,
        checkpoints=f"{FT}/runs/{{ftrun}}/checkpoints.pt",
        pca=f"{FT}/runs/{{ftrun}}/{{layer}}/pca.parquet",
        components=f"{FT}/runs/{{ftrun}}/{{layer}}/pca.pt",
    output:
        table=f"{FT}/runs/{{ftrun}}/{{layer}}/flatness.parquet",
        profiles=f"{FT}/runs/{{ftrun}}/{{layer}}/profiles.parquet",
    params:
        flatness=FENGTU["flatness"],
        ranks=FENGTU_SHOWN_RANKS,
        hidden=lambda wc: FENGTU_RUNS[wc.ftrun]["hidden"] if wc.ftrun in FENGTU_RUNS else FENGTU["model"]["hidden"],
        arch=lambda wc: FENGTU_RUNS[wc.ftrun]["arch"] if wc.ftrun in FENGTU_RUNS else "mlp",
        device=DEVICE,
        library=library_version("measure.flatness", "studies.fengtu.experiment", "nets.mlp", "nets.losses"),
    threads: 1
    resources:
        mem_mb=fengtu_size(3000, 8000),
        runtime=fengtu_size(60, 1440),
        **GPU,
    log:
        log_path("fengtu_flatness", "{ftrun}_{layer}"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/fengtu/flatness.py"


def fengtu_e1_inputs(wildcards=None):
    run = fengtu_run_dir(FENGTU_E1)
    return {"dataset": rules.fengtu_dataset.output[0], "checkpoints": f"{run}/checkpoints.pt",
            "history": f"{run}/history.parquet", "components": f"{run}/W2/pca.pt",
            "flatness": f"{run}/W2/flatness.parquet"}


rule fengtu_minibatch:
    input:
        **fengtu_e1_inputs(),
    output:
        table=f"{FT}/e1/minibatch.parquet",
        profiles=f"{FT}/e1/minibatch_profiles.parquet",
    params:
        minibatch=FENGTU["minibatch"],
        run=FENGTU_RUNS[FENGTU_E1],
        seed=FENGTU["seed"],
        device=DEVICE,
        library=library_version("studies.fengtu.minibatch_landscape", "studies.fengtu.experiment", "nets.mlp", "nets.losses"),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        **GPU,
    log:
        log_path("fengtu_minibatch"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/fengtu/minibatch.py"


rule fengtu_temperature:
    input:
        **fengtu_e1_inputs(),
    output:
        f"{FT}/e1/temperature.parquet",
    params:
        temperature=FENGTU["temperature"],
        run=FENGTU_RUNS[FENGTU_E1],
        device=DEVICE,
        library=library_version("studies.fengtu.minibatch_landscape", "studies.fengtu.experiment", "nets.mlp", "nets.losses"),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        **GPU,
    log:
        log_path("fengtu_temperature"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/fengtu/temperature.py"


rule fengtu_drift:
    input:
        **fengtu_e1_inputs(),
    output:
        margins=f"{FT}/e1/margins.parquet",
        motion=f"{FT}/e1/motion.parquet",
    params:
        drift=FENGTU["drift"],
        run=FENGTU_RUNS[FENGTU_E1],
        device=DEVICE,
        library=library_version("measure.pca", "studies.fengtu.minibatch_landscape", "studies.fengtu.experiment", "nets.mlp", "nets.losses"),
    threads: 1
    resources:
        **SMALL,
        **GPU,
    log:
        log_path("fengtu_drift"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/fengtu/drift.py"


rule fengtu_task1:
    input:
        dataset=rules.fengtu_dataset.output[0],
    output:
        state=f"{FT}/forgetting/task1_s{{seed}}.pt",
        table=f"{FT}/forgetting/task1_s{{seed}}.parquet",
    params:
        forgetting=FENGTU["forgetting"],
        hidden=FENGTU["model"]["hidden"],
        flatness=FENGTU["flatness"],
        workdir=lambda wc: f"{FT}/scratch/task1_s{wc.seed}",
        device=DEVICE,
        library=library_version("studies.fengtu.forgetting", "measure.flatness", "measure.pca", "studies.fengtu.experiment", "nets.mlp", "nets.losses"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        **GPU,
    log:
        log_path("fengtu_task1", "s{seed}"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/fengtu/task1.py"


rule fengtu_task2:
    input:
        dataset=rules.fengtu_dataset.output[0],
        task1=rules.fengtu_task1.output.state,
    output:
        curves=f"{FT}/forgetting/{{method}}_s{{seed}}_curves.parquet",
        final=f"{FT}/forgetting/{{method}}_s{{seed}}_final.parquet",
        displacements=f"{FT}/forgetting/{{method}}_s{{seed}}_displacements.parquet",
    params:
        forgetting=FENGTU["forgetting"],
        hidden=FENGTU["model"]["hidden"],
        device=DEVICE,
        library=library_version("studies.fengtu.forgetting", "studies.fengtu.experiment", "nets.mlp", "nets.losses"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        **GPU,
    log:
        log_path("fengtu_task2", "{method}_s{seed}"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/fengtu/task2.py"
