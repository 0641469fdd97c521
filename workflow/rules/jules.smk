"""Jules et al.: dataset -> Adam -> refined minimum -> Langevin sweep -> fluctuations -> figures."""

JULES = config["jules"]
J = f"{RESULTS}/jules"


def jules_runs():
    """Every (eta, T) of the sweeps with its duration and burn-in; one Langevin job each (replicas batched)."""
    runs = {}
    for index, sweep in enumerate(JULES["langevin"]["sweeps"]):
        window = {"duration": sweep["duration"], "burn_in": sweep.get("burn_in", JULES["analysis"]["burn_in"])}
        if window["burn_in"] >= window["duration"]:
            raise WorkflowError(
                f"jules.langevin.sweeps[{index}]: burn-in {window['burn_in']} (sweep burn_in or "
                f"jules.analysis.burn_in) must be shorter than its duration {window['duration']}"
            )
        for temperature in sweep["temperatures"]:
            key = (wildcard_number(sweep["eta"]), wildcard_number(temperature))
            if key in runs and runs[key] != window:
                raise ValueError(f"jules.langevin.sweeps: (eta, T) = {key} appears twice with different windows")
            runs[key] = window
    return runs


JULES_RUNS = jules_runs()


def jules_duration(wildcards):
    return JULES_RUNS[(wildcards.eta, wildcards.T)]["duration"]


def jules_burn_in(wildcards):
    return JULES_RUNS[(wildcards.eta, wildcards.T)]["burn_in"]


def jules_run_files(pattern):
    return [pattern.format(eta=eta, T=T) for eta, T in JULES_RUNS]


wildcard_constraints:
    eta=r"[0-9.e+-]+",
    T=r"[0-9.e+-]+",
    replica=r"\d+",


rule jules_dataset:
    output:
        f"{J}/data/dataset.parquet",
    params:
        dataset=JULES["dataset"],
        seed=JULES["seed"],
    log:
        log_path("jules_dataset"),
    script:
        "../../scripts/jules/dataset.py"


rule jules_train:
    input:
        dataset=rules.jules_dataset.output[0],
    output:
        model=f"{J}/models/r{{replica}}/trained.pt",
        curve=f"{J}/models/r{{replica}}/train_curve.parquet",
    params:
        study=lambda wc: {k: JULES[k] for k in ("model", "quadratic", "dataset")},
        train=JULES["train"],
        seed=JULES["seed"],
        device=DEVICE,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    log:
        log_path("jules_train", "r{replica}"),
    script:
        "../../scripts/jules/train.py"


rule jules_refine:
    input:
        dataset=rules.jules_dataset.output[0],
        model=rules.jules_train.output.model,
    output:
        model=f"{J}/models/r{{replica}}/refined.pt",
        curve=f"{J}/models/r{{replica}}/refine_curve.parquet",
    params:
        study=lambda wc: {k: JULES[k] for k in ("model", "quadratic", "dataset")},
        refine=JULES["refine"],
        device=DEVICE,
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    log:
        log_path("jules_refine", "r{replica}"),
    script:
        "../../scripts/jules/refine.py"


rule jules_langevin:
    input:
        dataset=rules.jules_dataset.output[0],
        models=expand(f"{J}/models/r{{replica}}/refined.pt", replica=range(JULES["replicas"])),
    output:
        trajectory=f"{J}/langevin/eta{{eta}}_T{{T}}/trajectory.parquet",
        samples=f"{J}/langevin/eta{{eta}}_T{{T}}/samples.parquet",
        params=f"{J}/langevin/eta{{eta}}_T{{T}}/params.parquet",
        status=f"{J}/langevin/eta{{eta}}_T{{T}}/status.parquet",
    params:
        study=lambda wc: {k: JULES[k] for k in ("model", "quadratic", "dataset")},
        langevin=lambda wc: {k: v for k, v in JULES["langevin"].items() if k != "sweeps"},
        duration=jules_duration,
        burn_in=jules_burn_in,
        seed=JULES["seed"],
        device=DEVICE,
        workdir=lambda wc: f"{J}/scratch/langevin/eta{wc.eta}_T{wc.T}",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=lambda wc: max(10, int(jules_duration(wc) / float(wc.eta) / 1e5)),
    log:
        log_path("jules_langevin", "eta{eta}_T{T}"),
    script:
        "../../scripts/jules/langevin.py"


rule jules_fluctuations:
    input:
        trajectory=rules.jules_langevin.output.trajectory,
        samples=rules.jules_langevin.output.samples,
        status=rules.jules_langevin.output.status,
    output:
        f"{J}/fluctuations/eta{{eta}}_T{{T}}.parquet",
    params:
        analysis={k: v for k, v in JULES["analysis"].items() if k != "burn_in"},
        duration=jules_duration,
        burn_in=jules_burn_in,
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    log:
        log_path("jules_fluctuations", "eta{eta}_T{T}"),
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
    script:
        "../../scripts/jules/aggregate.py"


def jules_fig1_trajectories(wildcards):
    eta = wildcard_number(JULES["fig1"]["eta"])
    return [f"{J}/langevin/eta{e}_T{T}/trajectory.parquet" for e, T in JULES_RUNS if e == eta]


rule jules_fig1:
    input:
        summary=rules.jules_aggregate.output.summary,
        runs=rules.jules_aggregate.output.runs,
        train_curve=f"{J}/models/r{JULES['fig1']['replica']}/train_curve.parquet",
        refine_curve=f"{J}/models/r{JULES['fig1']['replica']}/refine_curve.parquet",
        trajectories=jules_fig1_trajectories,
    output:
        pdf=report(f"{RESULTS}/figures/jules/fig1.pdf", caption="../report/jules_fig1.rst", category="Jules et al."),
        png=f"{RESULTS}/figures/jules/fig1.png",
    params:
        fig=JULES["fig1"],
    log:
        log_path("jules_fig1"),
    script:
        "../../scripts/jules/fig1.py"


rule fig1:
    input:
        rules.jules_fig1.output,
