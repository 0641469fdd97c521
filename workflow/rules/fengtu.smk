"""Feng & Tu: dataset -> SGD runs with per-iteration snapshots -> PCA -> flatness (every run and layer:
the hidden-to-hidden matrices of the MLPs, conv1 and conv2 of LeNet-CIFAR on user-supplied CIFAR-10);
for E1 also the minibatch-loss statistics, the active temperature and the drift mode; the Langevin
control; task 1 -> task 2 with landscape-dependent constraints or EWC (catastrophic forgetting)."""

from thermoscape.data.readers import FASHION_MNIST_DIR, dataset_params, subset_options, training_set_size
from thermoscape.studies.fengtu import grid as fengtu_grid


include: "fengtu_common.smk"


FENGTU = config["fengtu"]
FT = f"{RESULTS}/fengtu"

FENGTU_DATA_SIZE = training_set_size(
    FENGTU["data"]["name"], FENGTU["data"]["path"], **subset_options(FENGTU["data"])
)
try:
    FENGTU_RUNS = fengtu_grid.runs(FENGTU)  # every SGD run by name: architecture, widths, schedule, layers
    fengtu_grid.check_runs(FENGTU, FENGTU_RUNS, FENGTU_DATA_SIZE)
except ValueError as error:
    raise WorkflowError(str(error)) from None
FENGTU_E1 = fengtu_grid.run_name("mlp2", FENGTU["runs"][0])
FENGTU_MLP2 = fengtu_grid.run_names(FENGTU, "mlp2")
FENGTU_MLP4 = fengtu_grid.run_names(FENGTU, "mlp4")
FENGTU_LENET = fengtu_grid.run_names(FENGTU, "lenet")
FENGTU_ADAM = fengtu_grid.run_names(FENGTU, "adam")  # E6
FENGTU_CIFAR = fengtu_grid.run_names(FENGTU, "cifar")  # E5, Figs. S3C-D
# (run, layer) pairs that get a PCA and a flatness scan: every MLP layer snapshot, and the control
FENGTU_LAYERS = fengtu_grid.layers(FENGTU_RUNS)
FENGTU_LANGEVIN = "langevin"
# ranks every flatness scan includes: the paper's (brief 3.2) and those the figures show
FENGTU_SHOWN_RANKS = fengtu_grid.shown_ranks(FENGTU)
# what the data set depends on: a change regenerates everything downstream
FENGTU_DATA = dataset_params(FENGTU["data"])

FENGTU_CIFAR_DATASET = f"{FT}/data/cifar10.parquet"


wildcard_constraints:
    ftrun=r"(mlp2|mlp4|lenet|adam|cifar)_lr[^_/]+_B\d+_s\d+|langevin",
    layer=r"W\d+|conv\d+",
    method=r"ldc|ewc",


rule fengtu_dataset:
    input:
        fengtu_data_source,
    output:
        f"{FT}/data/dataset.parquet",
    log:
        log_path("fengtu_dataset"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        data=FENGTU_DATA,
    script:
        "../../scripts/fengtu/dataset.py"


rule fengtu_cifar_dataset:
    input:
        fengtu_cifar_source,
    output:
        FENGTU_CIFAR_DATASET,
    log:
        log_path("fengtu_cifar_dataset"),
    benchmark:
        benchmark_path("fengtu_cifar_dataset")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(6000),
        runtime=scaled(15),
    params:
        data={"name": "cifar10", "path": FENGTU["lenet_cifar"]["path"]},
    script:
        "../../scripts/fengtu/dataset.py"


rule fengtu_train:
    input:
        dataset=fengtu_dataset_file,
    output:
        history=f"{FT}/runs/{{ftrun}}/history.parquet",
        snapshots=f"{FT}/runs/{{ftrun}}/snapshots.parquet",
        checkpoints=f"{FT}/runs/{{ftrun}}/checkpoints.pt",
    log:
        log_path("fengtu_train", "{ftrun}"),
    benchmark:
        benchmark_path("fengtu_train", "{ftrun}")
    wildcard_constraints:
        ftrun=r"(mlp2|mlp4|lenet|adam|cifar)_lr[^_/]+_B\d+_s\d+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(fengtu_size(3000, 8000)),
        runtime=scaled(fengtu_size(120, 1440)),
    params:
        run=lambda wc: FENGTU_RUNS[wc.ftrun],
        seed=FENGTU["seed"],
        state=lambda wc: f"{FT}/scratch/{wc.ftrun}/state.pt",
        device=DEVICE,
        library=library_version("studies.fengtu.experiment", *NETS_LIBRARY, "nets.mlp", "nets.losses"),
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
    log:
        log_path("fengtu_langevin"),
    benchmark:
        benchmark_path("fengtu_langevin")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(3000),
        runtime=scaled(120),
    params:
        langevin=FENGTU["langevin"],
        hidden=FENGTU["model"]["hidden"],
        workdir=f"{FT}/scratch/{FENGTU_LANGEVIN}",
        device=DEVICE,
        library=library_version(
            "studies.fengtu.experiment", *NETS_LIBRARY, "dynamics.langevin", "nets.mlp", "nets.losses"
        ),
    script:
        "../../scripts/fengtu/langevin.py"


rule fengtu_pca:
    input:
        snapshots=f"{FT}/runs/{{ftrun}}/snapshots.parquet",
    output:
        table=f"{FT}/runs/{{ftrun}}/{{layer}}/pca.parquet",
        components=f"{FT}/runs/{{ftrun}}/{{layer}}/pca.pt",
    log:
        log_path("fengtu_pca", "{ftrun}_{layer}"),
    benchmark:
        benchmark_path("fengtu_pca", "{ftrun}_{layer}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(fengtu_size(SMALL["mem_mb"], 4000)),
        runtime=scaled(SMALL["runtime"]),
    params:
        fits=FENGTU["fits"],
        library=library_version("measure.pca"),
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
    log:
        log_path("fengtu_flatness", "{ftrun}_{layer}"),
    benchmark:
        benchmark_path("fengtu_flatness", "{ftrun}_{layer}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(fengtu_size(3000, 8000)),
        runtime=scaled(fengtu_size(60, 1440)),
    params:
        flatness=FENGTU["flatness"],
        ranks=FENGTU_SHOWN_RANKS,
        hidden=lambda wc: (
            FENGTU_RUNS[wc.ftrun]["hidden"] if wc.ftrun in FENGTU_RUNS else FENGTU["model"]["hidden"]
        ),
        arch=lambda wc: FENGTU_RUNS[wc.ftrun]["arch"] if wc.ftrun in FENGTU_RUNS else "mlp",
        device=DEVICE,
        library=library_version(
            "measure.flatness", "studies.fengtu.experiment", *NETS_LIBRARY, "nets.mlp", "nets.losses"
        ),
    script:
        "../../scripts/fengtu/flatness.py"


rule fengtu_minibatch:
    input:
        **fengtu_e1_inputs(),
    output:
        table=f"{FT}/e1/minibatch.parquet",
        profiles=f"{FT}/e1/minibatch_profiles.parquet",
    log:
        log_path("fengtu_minibatch"),
    benchmark:
        benchmark_path("fengtu_minibatch")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(3000),
        runtime=scaled(60),
    params:
        minibatch=FENGTU["minibatch"],
        run=FENGTU_RUNS[FENGTU_E1],
        seed=FENGTU["seed"],
        device=DEVICE,
        library=library_version(
            "studies.fengtu.minibatch_landscape",
            "studies.fengtu.experiment",
            *NETS_LIBRARY,
            "nets.mlp",
            "nets.losses",
        ),
    script:
        "../../scripts/fengtu/minibatch.py"


rule fengtu_temperature:
    input:
        **fengtu_e1_inputs(),
    output:
        f"{FT}/e1/temperature.parquet",
    log:
        log_path("fengtu_temperature"),
    benchmark:
        benchmark_path("fengtu_temperature")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(3000),
        runtime=scaled(60),
    params:
        temperature=FENGTU["temperature"],
        run=FENGTU_RUNS[FENGTU_E1],
        device=DEVICE,
        library=library_version(
            "studies.fengtu.minibatch_landscape",
            "studies.fengtu.experiment",
            *NETS_LIBRARY,
            "nets.mlp",
            "nets.losses",
        ),
    script:
        "../../scripts/fengtu/temperature.py"


rule fengtu_drift:
    input:
        **fengtu_e1_inputs(),
    output:
        margins=f"{FT}/e1/margins.parquet",
        motion=f"{FT}/e1/motion.parquet",
    log:
        log_path("fengtu_drift"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
        **GPU,
    params:
        drift=FENGTU["drift"],
        run=FENGTU_RUNS[FENGTU_E1],
        device=DEVICE,
        library=library_version(
            "measure.pca",
            "studies.fengtu.minibatch_landscape",
            "studies.fengtu.experiment",
            *NETS_LIBRARY,
            "nets.mlp",
            "nets.losses",
        ),
    script:
        "../../scripts/fengtu/drift.py"


rule fengtu_task1:
    input:
        dataset=rules.fengtu_dataset.output[0],
    output:
        state=f"{FT}/forgetting/task1_s{{seed}}.pt",
        table=f"{FT}/forgetting/task1_s{{seed}}.parquet",
    log:
        log_path("fengtu_task1", "s{seed}"),
    benchmark:
        benchmark_path("fengtu_task1", "s{seed}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(4000),
        runtime=scaled(60),
    params:
        forgetting=FENGTU["forgetting"],
        hidden=FENGTU["model"]["hidden"],
        flatness=FENGTU["flatness"],
        workdir=lambda wc: f"{FT}/scratch/task1_s{wc.seed}",
        device=DEVICE,
        library=library_version(
            "studies.fengtu.forgetting",
            "measure.flatness",
            "measure.pca",
            "studies.fengtu.experiment",
            *NETS_LIBRARY,
            "nets.mlp",
            "nets.losses",
        ),
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
    log:
        log_path("fengtu_task2", "{method}_s{seed}"),
    benchmark:
        benchmark_path("fengtu_task2", "{method}_s{seed}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(4000),
        runtime=scaled(60),
    params:
        forgetting=FENGTU["forgetting"],
        hidden=FENGTU["model"]["hidden"],
        device=DEVICE,
        library=library_version(
            "studies.fengtu.forgetting",
            "studies.fengtu.experiment",
            *NETS_LIBRARY,
            "nets.mlp",
            "nets.losses",
        ),
    script:
        "../../scripts/fengtu/task2.py"
