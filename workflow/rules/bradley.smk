"""Bradley et al.: synthetic basins (Figs. 4, 6) and their Euler-Maruyama check; shift-curvature between train
and test minima (Figs. 1-3: SGD at T -> a minimum on each set -> the line between them); the temperature sweep
and the shift experiments (Fig. 5)."""

from thermoscape.data.readers import FASHION_MNIST_DIR, dataset_params
from thermoscape.studies.bradley import grid as bradley_grid


include: "bradley_common.smk"


BRADLEY = config["bradley"]
BR = f"{RESULTS}/bradley"
BR_BASINS = BRADLEY["basins"]
BR_NETWORKS = BRADLEY["networks"]
BR_SHIFT = BRADLEY["shift_curvature"]
BR_SWEEP = BRADLEY["sweep"]
BR_TEMPERATURES = [wildcard_number(t) for t in BR_SHIFT["temperatures"]]
BR_SEEDS = list(range(BR_SHIFT["seeds"]))
BR_SWEEP_SEEDS = list(range(BR_SWEEP["seeds"]))
BR_LIBRARY = (
    "studies.bradley.shift_curvature",
    "studies.bradley.networks",
    "data.tensors",
    "nets.networks",
    *NETS_LIBRARY,
    "dynamics.sgd",
    "dynamics.train",
)  # the line adds curvature


try:
    bradley_grid.check(BRADLEY)  # settings the schema cannot check, reported together before any job starts
except ValueError as error:
    raise WorkflowError(str(error)) from None

BR_DATASET = f"{BR}/data/dataset.pt"


wildcard_constraints:
    case="|".join(BR_BASINS["cases"]),
    split="train|test",


rule bradley_dataset:
    input:
        unpack(bradley_data_source),
    output:
        BR_DATASET,
    log:
        log_path("bradley_dataset"),
    benchmark:
        benchmark_path("bradley_dataset")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(30),
    params:
        data=dict(sorted(dataset_params(BR_NETWORKS["data"]).items())),
        library=library_version("studies.fort.experiment", "data.readers"),
    script:
        "../../scripts/bradley/dataset.py"


rule bradley_basins:
    output:
        landscape=f"{BR}/basins/{{case}}/landscape.parquet",
        steady_state=f"{BR}/basins/{{case}}/steady_state.parquet",
        basins=f"{BR}/basins/{{case}}/basins.parquet",
        expectations=f"{BR}/basins/{{case}}/expectations.parquet",
    log:
        log_path("bradley_basins", "{case}"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        case=lambda wc: dict(sorted(BR_BASINS["cases"][wc.case].items())),
        grid={
            key: BR_BASINS[key]
            for key in (
                "c_role",
                "diffusion",
                "theta_range",
                "grid_points",
                "temperatures",
                "plot_temperatures",
            )
        },
        library=library_version("studies.bradley.basins"),
    script:
        "../../scripts/bradley/basins.py"


rule bradley_langevin_check:
    output:
        check=f"{BR}/basins/langevin_check.parquet",
        histogram=f"{BR}/basins/langevin_histogram.parquet",
    log:
        log_path("bradley_langevin_check"),
    benchmark:
        benchmark_path("bradley_langevin_check")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(3000),
        runtime=scaled(30),
    params:
        check=BR_BASINS["langevin_check"],
        grid={key: BR_BASINS[key] for key in ("theta_range", "grid_points")},
        library=library_version(
            "studies.bradley.basins", "studies.bradley.basins_langevin", "dynamics.langevin"
        ),
    script:
        "../../scripts/bradley/langevin_check.py"


rule bradley_sgd:
    input:
        dataset=BR_DATASET,
    output:
        f"{BR}/shift/T{{T}}_s{{seed}}/sgd.pt",
    log:
        log_path("bradley_sgd", "T{T}_s{seed}"),
    benchmark:
        benchmark_path("bradley_sgd", "T{T}_s{seed}")
    wildcard_constraints:
        T="|".join(BR_TEMPERATURES),
        seed=r"\d+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(3000),
        runtime=scaled(120),
    params:
        T=lambda wc: float(wc.T),
        settings=bradley_grid.settings(BR_SHIFT, "sgd"),
        device=DEVICE,
        library=library_version(*BR_LIBRARY),
    script:
        "../../scripts/bradley/sgd.py"


rule bradley_minimum:
    input:
        dataset=BR_DATASET,
        sgd=rules.bradley_sgd.output[0],
    output:
        f"{BR}/shift/T{{T}}_s{{seed}}/minimum_{{split}}.pt",
    log:
        log_path("bradley_minimum", "T{T}_s{seed}_{split}"),
    benchmark:
        benchmark_path("bradley_minimum", "T{T}_s{seed}_{split}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(3000),
        runtime=scaled(240),
    params:
        settings=bradley_grid.settings(BR_SHIFT, "minima"),
        device=DEVICE,
        library=library_version(*BR_LIBRARY),
    script:
        "../../scripts/bradley/minimum.py"


rule bradley_line:
    input:
        dataset=BR_DATASET,
        sgd=rules.bradley_sgd.output[0],
        train=f"{BR}/shift/T{{T}}_s{{seed}}/minimum_train.pt",
        test=f"{BR}/shift/T{{T}}_s{{seed}}/minimum_test.pt",
    output:
        line=f"{BR}/shift/T{{T}}_s{{seed}}/line.parquet",
        summary=f"{BR}/shift/T{{T}}_s{{seed}}/summary.parquet",
    log:
        log_path("bradley_line", "T{T}_s{seed}"),
    benchmark:
        benchmark_path("bradley_line", "T{T}_s{seed}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(3000),
        runtime=scaled(60),
    params:
        settings=bradley_grid.settings(BR_SHIFT, "line", "fit"),
        device=DEVICE,
        library=library_version(*BR_LIBRARY, "measure.curvature"),
    script:
        "../../scripts/bradley/line.py"


rule bradley_stage1:
    input:
        dataset=BR_DATASET,
    output:
        f"{BR}/sweep/stage1_s{{seed}}.pt",
    log:
        log_path("bradley_stage1", "s{seed}"),
    benchmark:
        benchmark_path("bradley_stage1", "s{seed}")
    wildcard_constraints:
        seed=r"\d+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(3000),
        runtime=scaled(120),
    params:
        settings=bradley_grid.settings(BR_SWEEP, "stage1"),
        device=DEVICE,
        library=library_version(*BR_LIBRARY),
    script:
        "../../scripts/bradley/stage1.py"


rule bradley_stage2:
    input:
        dataset=BR_DATASET,
        stage1=rules.bradley_stage1.output[0],
    output:
        f"{BR}/sweep/B{{batch}}_s{{seed}}.parquet",
    log:
        log_path("bradley_stage2", "B{batch}_s{seed}"),
    benchmark:
        benchmark_path("bradley_stage2", "B{batch}_s{seed}")
    wildcard_constraints:
        batch=r"\d+",
        seed=r"\d+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(3000),
        runtime=scaled(240),
    params:
        settings=bradley_grid.settings(BR_SWEEP, "stage2"),
        device=DEVICE,
        library=library_version(*BR_LIBRARY),
    script:
        "../../scripts/bradley/stage2.py"


rule bradley_resampled:
    """Fig. 5 right: the stage-1 procedure on a reshuffled split (shuffle{k}) or a subsample (size{n}_s{seed})."""
    input:
        dataset=BR_DATASET,
    output:
        f"{BR}/resampled/{{kind}}{{index}}_s{{seed}}.parquet",
    log:
        log_path("bradley_resampled", "{kind}{index}_s{seed}"),
    benchmark:
        benchmark_path("bradley_resampled", "{kind}{index}_s{seed}")
    wildcard_constraints:
        kind="shuffle|size",
        index=r"\d+",
        seed=r"\d+",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(3000),
        runtime=scaled(120),
    params:
        settings=bradley_grid.settings(BR_SWEEP, "stage1")
        | {"final_epochs": BR_SWEEP["stage2"]["final_epochs"]},
        device=DEVICE,
        library=library_version(*BR_LIBRARY),
    script:
        "../../scripts/bradley/resampled.py"
