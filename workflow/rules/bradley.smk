"""Bradley et al.: synthetic basins (Figs. 4, 6) and their Euler-Maruyama check; shift-curvature between train
and test minima (Figs. 1-3: SGD at T -> a minimum on each set -> the line between them); the temperature sweep
and the shift experiments (Fig. 5)."""

from thermoscape.data.readers import FASHION_MNIST_DIR, dataset_params
from thermoscape.core.grids import BUNDLED_SPLITS

BRADLEY = config["bradley"]
BR = f"{RESULTS}/bradley"
BR_BASINS = BRADLEY["basins"]
BR_NETWORKS = BRADLEY["networks"]
BR_SHIFT = BRADLEY["shift_curvature"]
BR_SWEEP = BRADLEY["sweep"]
BR_TEMPERATURES = [wildcard_number(t) for t in BR_SHIFT["temperatures"]]
BR_SEEDS = list(range(BR_SHIFT["seeds"]))
BR_SWEEP_SEEDS = list(range(BR_SWEEP["seeds"]))
BR_LIBRARY = ("studies.bradley.shift_curvature", "studies.bradley.networks", "data.tensors", "nets.small", "nets.networks",
              "dynamics.sgd")  # the line adds curvature


def _settings(block, *keys):
    """What a network job depends on besides the stored data (params: a change reruns it): the block's network
    and ``keys`` of the block; sorted keys keep the repr stable."""
    chosen = {"network": block["network"]} | {key: block[key] for key in keys}
    return {key: dict(sorted(value.items())) if isinstance(value, dict) else value for key, value in chosen.items()}


def _bradley_check():
    """Settings the schema cannot check, reported together before any job starts."""
    problems, basins = [], BR_BASINS
    for name, case in basins["cases"].items():
        if not len(case["minima"]) == len(case["weights"]) == len(case["sigmas"]):
            problems.append(f"bradley.basins.cases.{name}: minima, weights and sigmas differ in length")
        if basins["c_role"] == "diffusion" and case["c"] <= 0:
            problems.append(f"bradley.basins.cases.{name}.c: must be > 0 when c_role is diffusion (c is D)")
    low, high = basins["theta_range"]
    if low >= high:
        problems.append("bradley.basins.theta_range: must be [low, high] with low < high")
    if basins["temperatures"]["min"] >= basins["temperatures"]["max"]:
        problems.append("bradley.basins.temperatures: min must be below max")
    check = basins["langevin_check"]
    if not len(check["loss"]["minima"]) == len(check["loss"]["weights"]) == len(check["loss"]["sigmas"]):
        problems.append("bradley.basins.langevin_check.loss: minima, weights and sigmas differ in length")
    if check["diffusion"]["amplitude"] >= check["diffusion"]["base"]:
        problems.append("bradley.basins.langevin_check.diffusion.amplitude: must be below base (D > 0)")
    data = BR_NETWORKS["data"]
    if data["dataset"] in BUNDLED_SPLITS:
        for key, have in zip(("n_train", "n_test"), BUNDLED_SPLITS[data["dataset"]], strict=True):
            if data[key] > have:
                problems.append(f"bradley.networks.data.{key}: {data[key]} images, but {data['dataset']} has {have}")
    for block in ("shift_curvature", "sweep"):
        arch = BRADLEY[block]["network"]["arch"]
        if arch in ("resnet10", "vgg16", "vgg9") and data["dataset"] != "cifar10":
            problems.append(f"bradley.{block}.network.arch: {arch} needs bradley.networks.data.dataset cifar10")
    for key, size in (("shift_curvature.sgd.batch_size", BR_SHIFT["sgd"]["batch_size"]),
                      ("sweep.stage1.batch_size", BR_SWEEP["stage1"]["batch_size"] or 0),
                      *((f"sweep.stage2.batch_sizes[{k}]", b) for k, b in enumerate(BR_SWEEP["stage2"]["batch_sizes"]))):
        if size > data["n_train"]:
            problems.append(f"bradley.{key}: {size} is larger than bradley.networks.data.n_train")
    for size in BR_SWEEP["sample_sizes"]:
        if size > data["n_train"] + data["n_test"]:
            problems.append(f"bradley.sweep.sample_sizes: {size} is more than n_train + n_test")
    if BR_SWEEP["stage2"]["final_epochs"] > BR_SWEEP["stage2"]["epochs"]:
        problems.append("bradley.sweep.stage2.final_epochs: more than bradley.sweep.stage2.epochs")
    line = BR_SHIFT["line"]
    for anchor in (0.0, 1.0):  # the minima themselves must be line points
        position = (anchor - line["r_min"]) / (line["r_max"] - line["r_min"]) * (line["points"] - 1)
        if abs(position - round(position)) > 1e-9:
            problems.append(f"bradley.shift_curvature.line: {line['points']} points on [r_min, r_max] miss r = {anchor:g}")
    if BR_SHIFT["figure1_seed"] >= BR_SHIFT["seeds"]:
        problems.append("bradley.shift_curvature.figure1_seed: must be below bradley.shift_curvature.seeds")
    if problems:
        raise WorkflowError("invalid bradley settings:\n  " + "\n  ".join(problems))


_bradley_check()


def bradley_data_source(wildcards):
    """The data directory the network jobs read, as an input (see fort_data_source)."""
    dataset, paths = BR_NETWORKS["data"]["dataset"], BR_NETWORKS.get("paths", {})
    if dataset == "fashion_mnist":
        return {"data": paths.get("fashion_mnist") or FASHION_MNIST_DIR}
    if dataset != "cifar10":
        return {}
    if not paths.get("cifar10"):
        raise WorkflowError("bradley.networks.paths.cifar10: the directory of the user-supplied CIFAR-10 python "
                            "batches (data_batch_1..5, test_batch) is needed; nothing is downloaded")
    return {"data": paths["cifar10"]}


BR_DATASET = f"{BR}/data/dataset.pt"


def bradley_point(T, seed):
    return f"{BR}/shift/T{T}_s{seed}"


wildcard_constraints:
    case="|".join(BR_BASINS["cases"]),
    split="train|test",


rule bradley_dataset:
    input:
        unpack(bradley_data_source),
    output:
        BR_DATASET,
    params:
        data=dict(sorted(dataset_params(BR_NETWORKS["data"]).items())),
        library=library_version("studies.fort.experiment", "data.readers"),
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    log:
        log_path("bradley_dataset"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/bradley/dataset.py"


rule bradley_basins:
    output:
        landscape=f"{BR}/basins/{{case}}/landscape.parquet",
        steady_state=f"{BR}/basins/{{case}}/steady_state.parquet",
        basins=f"{BR}/basins/{{case}}/basins.parquet",
        expectations=f"{BR}/basins/{{case}}/expectations.parquet",
    params:
        case=lambda wc: dict(sorted(BR_BASINS["cases"][wc.case].items())),
        grid={key: BR_BASINS[key] for key in ("c_role", "diffusion", "theta_range", "grid_points", "temperatures",
                                               "plot_temperatures")},
        library=library_version("studies.bradley.basins"),
    threads: 1
    resources:
        **SMALL,
    log:
        log_path("bradley_basins", "{case}"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/bradley/basins.py"


rule bradley_langevin_check:
    output:
        check=f"{BR}/basins/langevin_check.parquet",
        histogram=f"{BR}/basins/langevin_histogram.parquet",
    params:
        check=BR_BASINS["langevin_check"],
        grid={key: BR_BASINS[key] for key in ("theta_range", "grid_points")},
        library=library_version("studies.bradley.basins", "studies.bradley.basins_langevin", "dynamics.langevin"),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=30,
    log:
        log_path("bradley_langevin_check"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/bradley/langevin_check.py"


rule bradley_sgd:
    input:
        dataset=BR_DATASET,
    output:
        f"{BR}/shift/T{{T}}_s{{seed}}/sgd.pt",
    params:
        T=lambda wc: float(wc.T),
        settings=_settings(BR_SHIFT, "sgd"),
        device=DEVICE,
        library=library_version(*BR_LIBRARY),
    wildcard_constraints:
        T="|".join(BR_TEMPERATURES),
        seed=r"\d+",
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
        **GPU,
    log:
        log_path("bradley_sgd", "T{T}_s{seed}"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/bradley/sgd.py"


rule bradley_minimum:
    input:
        dataset=BR_DATASET,
        sgd=rules.bradley_sgd.output[0],
    output:
        f"{BR}/shift/T{{T}}_s{{seed}}/minimum_{{split}}.pt",
    params:
        settings=_settings(BR_SHIFT, "minima"),
        device=DEVICE,
        library=library_version(*BR_LIBRARY),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=240,
        **GPU,
    log:
        log_path("bradley_minimum", "T{T}_s{seed}_{split}"),
    conda:
        CONDA_ENV
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
    params:
        settings=_settings(BR_SHIFT, "line", "fit"),
        device=DEVICE,
        library=library_version(*BR_LIBRARY, "measure.curvature"),
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
        **GPU,
    log:
        log_path("bradley_line", "T{T}_s{seed}"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/bradley/line.py"


rule bradley_stage1:
    input:
        dataset=BR_DATASET,
    output:
        f"{BR}/sweep/stage1_s{{seed}}.pt",
    params:
        settings=_settings(BR_SWEEP, "stage1"),
        device=DEVICE,
        library=library_version(*BR_LIBRARY),
    wildcard_constraints:
        seed=r"\d+",
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
        **GPU,
    log:
        log_path("bradley_stage1", "s{seed}"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/bradley/stage1.py"


rule bradley_stage2:
    input:
        dataset=BR_DATASET,
        stage1=rules.bradley_stage1.output[0],
    output:
        f"{BR}/sweep/B{{batch}}_s{{seed}}.parquet",
    params:
        settings=_settings(BR_SWEEP, "stage2"),
        device=DEVICE,
        library=library_version(*BR_LIBRARY),
    wildcard_constraints:
        batch=r"\d+",
        seed=r"\d+",
    threads: 1
    resources:
        mem_mb=3000,
        runtime=240,
        **GPU,
    log:
        log_path("bradley_stage2", "B{batch}_s{seed}"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/bradley/stage2.py"


rule bradley_resampled:
    """Fig. 5 right: the stage-1 procedure on a reshuffled split (shuffle{k}) or a subsample (size{n}_s{seed})."""
    input:
        dataset=BR_DATASET,
    output:
        f"{BR}/resampled/{{kind}}{{index}}_s{{seed}}.parquet",
    params:
        settings=_settings(BR_SWEEP, "stage1") | {"final_epochs": BR_SWEEP["stage2"]["final_epochs"]},
        device=DEVICE,
        library=library_version(*BR_LIBRARY),
    wildcard_constraints:
        kind="shuffle|size",
        index=r"\d+",
        seed=r"\d+",
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
        **GPU,
    log:
        log_path("bradley_resampled", "{kind}{index}_s{seed}"),
    conda:
        CONDA_ENV
    script:
        "../../scripts/bradley/resampled.py"
