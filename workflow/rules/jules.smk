"""Jules et al.: dataset -> Adam -> refined minimum -> Langevin sweep -> fluctuations -> figures."""

from thermoscape.core.grids import langevin_batches
from thermoscape.studies.jules.settings import figure_problems


include: "jules_common.smk"


JULES = config["jules"]
J = f"{RESULTS}/jules"

try:
    JULES_GRID = langevin_batches(
        JULES["langevin"]["sweeps"], JULES["analysis"]["burn_in"], JULES["langevin"]["temperatures_per_job"]
    )
    JULES_BATCHES = {b.name: b for b in JULES_GRID + _jules_extra_batches()}
except ValueError as error:
    raise WorkflowError(str(error)) from None
# (eta, T) of the fluctuation grid as spelled in file names -> the Langevin job that runs it
JULES_RUNS = {(wildcard_number(b.eta), wildcard_number(T)): b for b in JULES_GRID for T in b.temperatures}
JULES_INIT_BATCHES = [b for b in JULES_BATCHES.values() if b.start == "init"]


# figure settings that name runs of the grid: raised, all at once, when a rule that needs them is in the DAG
JULES_FIGURE_PROBLEMS = figure_problems(JULES, JULES_GRID)

# what defines the landscape: every rule that builds it takes this as a param (rerun trigger)
JULES_STUDY = {k: JULES[k] for k in ("model", "quadratic", "dataset")}


wildcard_constraints:
    batch=r"([A-Za-z0-9]+_)?eta[0-9.e+-]+_T[0-9.e+-]+(_to_[0-9.e+-]+)?",
    eta=r"[0-9.e+-]+",
    T=r"[0-9.e+-]+",
    replica=r"\d+",


rule jules_dataset:
    output:
        f"{J}/data/dataset.parquet",
    log:
        log_path("jules_dataset"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        dataset=JULES["dataset"],
        seed=JULES["seed"],
    script:
        "../../scripts/jules/dataset.py"


rule jules_init:
    input:
        dataset=rules.jules_dataset.output[0],
    output:
        model=f"{J}/models/r{{replica}}/init.pt",
    log:
        log_path("jules_init", "r{replica}"),
    benchmark:
        benchmark_path("jules_init", "r{replica}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(1000),
        runtime=scaled(10),
    params:
        study=JULES_STUDY,
        seed=JULES["seed"],
    script:
        "../../scripts/jules/init.py"


rule jules_train:
    input:
        dataset=rules.jules_dataset.output[0],
        model=rules.jules_init.output.model,
    output:
        model=f"{J}/models/r{{replica}}/trained.pt",
        curve=f"{J}/models/r{{replica}}/train_curve.parquet",
    log:
        log_path("jules_train", "r{replica}"),
    benchmark:
        benchmark_path("jules_train", "r{replica}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(2000),
        runtime=scaled(60),
    params:
        study=JULES_STUDY,
        train=JULES["train"],
        device=DEVICE,
    script:
        "../../scripts/jules/train.py"


rule jules_refine:
    input:
        dataset=rules.jules_dataset.output[0],
        model=rules.jules_train.output.model,
    output:
        model=f"{J}/models/r{{replica}}/refined.pt",
        curve=f"{J}/models/r{{replica}}/refine_curve.parquet",
    log:
        log_path("jules_refine", "r{replica}"),
    benchmark:
        benchmark_path("jules_refine", "r{replica}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(2000),
        runtime=scaled(60),
    params:
        study=JULES_STUDY,
        refine=JULES["refine"],
        device=DEVICE,
    script:
        "../../scripts/jules/refine.py"


rule jules_langevin:
    input:
        dataset=rules.jules_dataset.output[0],
        models=lambda wc: expand(
            f"{J}/models/r{{replica}}/{{start}}.pt",
            replica=range(JULES["replicas"]),
            start="init" if jules_batch(wc).start == "init" else "refined",
        ),
    output:
        trajectory=f"{J}/langevin/{{batch}}/trajectory.parquet",
        samples=f"{J}/langevin/{{batch}}/samples.parquet",
        params=f"{J}/langevin/{{batch}}/params.parquet",
        status=f"{J}/langevin/{{batch}}/status.parquet",
    log:
        log_path("jules_langevin", "{batch}"),
    benchmark:
        benchmark_path("jules_langevin", "{batch}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(4000),
        runtime=scaled(jules_langevin_minutes),
    params:
        study=JULES_STUDY,
        langevin={
            k: v
            for k, v in JULES["langevin"].items()
            if k not in ("sweeps", "temperatures_per_job", "adaptive")
        },
        eta=lambda wc: jules_batch(wc).eta,
        temperatures=lambda wc: list(jules_batch(wc).temperatures),
        duration=lambda wc: jules_batch(wc).duration,
        max_duration=lambda wc: jules_batch(wc).max_duration,
        stop_rule=lambda wc: jules_stop_rule(jules_batch(wc)),
        burn_in=lambda wc: jules_batch(wc).burn_in,
        time_step=lambda wc: jules_batch(wc).time_step,
        start=lambda wc: jules_batch(wc).start,
        realizations=lambda wc: jules_batch(wc).realizations,
        seed=JULES["seed"],
        device=DEVICE,
        workdir=lambda wc: f"{J}/scratch/langevin/{wc.batch}",
    script:
        "../../scripts/jules/langevin.py"


rule jules_fluctuations:
    input:
        unpack(jules_langevin_files),
    output:
        statistics=f"{J}/fluctuations/eta{{eta}}_T{{T}}.parquet",
        autocorrelation=f"{J}/autocorrelation/eta{{eta}}_T{{T}}.parquet",
    log:
        log_path("jules_fluctuations", "eta{eta}_T{T}"),
    benchmark:
        benchmark_path("jules_fluctuations", "eta{eta}_T{T}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(30),
    params:
        library=library_version("measure.fluctuations", "measure.stats"),
        # the aggregation's keys stay out: changing how runs are combined re-runs no fluctuation job
        analysis={
            k: v
            for k, v in JULES["analysis"].items()
            if k not in ("burn_in", "equilibration", "exclude_drifting_runs")
        },
        seed=JULES["seed"],
        duration=lambda wc: jules_run(wc).duration,
        burn_in=lambda wc: jules_run(wc).burn_in,
    script:
        "../../scripts/jules/fluctuations.py"


rule jules_aggregate:
    input:
        jules_run_files(f"{J}/fluctuations/eta{{eta}}_T{{T}}.parquet"),
    output:
        runs=f"{J}/tables/fluctuations_runs.parquet",
        summary=f"{J}/tables/fluctuations.parquet",
    log:
        log_path("jules_aggregate"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=library_version("measure.fluctuations"),
        equilibration={
            "equilibration": JULES["analysis"]["equilibration"],
            "exclude_drifting": JULES["analysis"]["exclude_drifting_runs"],
            "min_equilibrated_runs": JULES["claims"]["min_equilibrated_runs"],
        },
    script:
        "../../scripts/jules/aggregate.py"


rule jules_time_step_check:
    input:
        runs=rules.jules_aggregate.output.runs,
    output:
        f"{J}/tables/time_step_check.parquet",
    log:
        log_path("jules_time_step_check"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=library_version("measure.fluctuations"),
        quantities=["mu", "sigma", "alpha", "beta_T", "tau_half"],
    script:
        "../../scripts/jules/time_step_check.py"


rule jules_hessian:
    input:
        unpack(jules_langevin_files),
        dataset=rules.jules_dataset.output[0],
    output:
        f"{J}/hessian/eta{{eta}}_T{{T}}.parquet",
    log:
        log_path("jules_hessian", "eta{eta}_T{T}"),
    benchmark:
        benchmark_path("jules_hessian", "eta{eta}_T{T}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(4000),
        runtime=scaled(lambda wc: max(10, JULES["langevin"]["param_snapshots"] * JULES["replicas"] // 60)),
    params:
        library=library_version("measure.curvature", "nets.losses", "nets.mlp", "measure.mlp_hessian"),
        study=JULES_STUDY,
        compile=JULES["langevin"]["compile"],
        device=DEVICE,
    script:
        "../../scripts/jules/hessian.py"


rule jules_free_diffusion:
    input:
        dataset=rules.jules_dataset.output[0],
        models=expand(f"{J}/models/r{{replica}}/refined.pt", replica=range(JULES["replicas"])),
    output:
        f"{J}/tables/free_diffusion.parquet",
    log:
        log_path("jules_free_diffusion"),
    benchmark:
        benchmark_path("jules_free_diffusion")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(2000),
        runtime=scaled(10),
    params:
        library=library_version("dynamics.langevin", "nets.losses", "nets.mlp"),
        study=JULES_STUDY,
        walk=JULES["fig3"]["free_diffusion"],
        seed=JULES["seed"],
        device=DEVICE,
    script:
        "../../scripts/jules/free_diffusion.py"


rule jules_init_statistics:
    input:
        settings=settings_check(JULES_FIGURE_PROBLEMS, "jules_init_statistics"),
        trajectories=[f"{J}/langevin/{b.name}/trajectory.parquet" for b in JULES_INIT_BATCHES],
        statuses=[f"{J}/langevin/{b.name}/status.parquet" for b in JULES_INIT_BATCHES],
    output:
        f"{J}/tables/init_langevin.parquet",
    log:
        log_path("jules_init_statistics"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=library_version("measure.fluctuations", "measure.stats"),
        late_slice=JULES["init_langevin"]["late_slice"],
    script:
        "../../scripts/jules/init_statistics.py"
