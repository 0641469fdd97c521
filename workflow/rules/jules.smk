"""Jules et al.: dataset -> Adam -> refined minimum -> Langevin sweep -> fluctuations -> figures."""

from thermoscape.jules import langevin_batches

JULES = config["jules"]
J = f"{RESULTS}/jules"


try:
    JULES_BATCHES = {
        b.name: b
        for b in langevin_batches(JULES["langevin"]["sweeps"], JULES["analysis"]["burn_in"],
                                  JULES["langevin"]["temperatures_per_job"])
    }
except ValueError as error:
    raise WorkflowError(str(error)) from None
# (eta, T) as spelled in file names -> the Langevin job that runs it
JULES_RUNS = {
    (wildcard_number(b.eta), wildcard_number(T)): b for b in JULES_BATCHES.values() for T in b.temperatures
}


if not any(e == wildcard_number(JULES["fig1"]["eta"]) for e, _ in JULES_RUNS):
    raise WorkflowError(f"jules.fig1.eta: no sweep runs at eta = {JULES['fig1']['eta']} (panels a and b)")
if JULES["fig1"]["replica"] >= JULES["replicas"]:
    raise WorkflowError(f"jules.fig1.replica: {JULES['fig1']['replica']} but jules.replicas is {JULES['replicas']}")

# what defines the landscape: every rule that builds it takes this as a param (rerun trigger)
JULES_STUDY = {k: JULES[k] for k in ("model", "quadratic", "dataset")}


def jules_batch(wildcards):
    """The Langevin job named by the {batch} wildcard."""
    return JULES_BATCHES[wildcards.batch]


def jules_run(wildcards):
    """The Langevin job that ran the {eta}, {T} wildcards."""
    return JULES_RUNS[(wildcards.eta, wildcards.T)]


def jules_run_files(pattern):
    return [pattern.format(eta=eta, T=T) for eta, T in JULES_RUNS]


def jules_langevin_files(wildcards):
    """The Langevin outputs of the job that ran (eta, T)."""
    folder = f"{J}/langevin/{jules_run(wildcards).name}"
    return {name: f"{folder}/{name}.parquet" for name in ("trajectory", "samples", "status")}


wildcard_constraints:
    batch=r"eta[0-9.e+-]+_T[0-9.e+-]+(_to_[0-9.e+-]+)?",
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
        study=JULES_STUDY,
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
        study=JULES_STUDY,
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
        trajectory=f"{J}/langevin/{{batch}}/trajectory.parquet",
        samples=f"{J}/langevin/{{batch}}/samples.parquet",
        params=f"{J}/langevin/{{batch}}/params.parquet",
        status=f"{J}/langevin/{{batch}}/status.parquet",
    params:
        study=JULES_STUDY,
        langevin={k: v for k, v in JULES["langevin"].items() if k not in ("sweeps", "temperatures_per_job")},
        eta=lambda wc: jules_batch(wc).eta,
        temperatures=lambda wc: list(jules_batch(wc).temperatures),
        duration=lambda wc: jules_batch(wc).duration,
        burn_in=lambda wc: jules_batch(wc).burn_in,
        time_step=lambda wc: jules_batch(wc).time_step,
        seed=JULES["seed"],
        device=DEVICE,
        workdir=lambda wc: f"{J}/scratch/langevin/{wc.batch}",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=lambda wc: max(10, int(len(jules_batch(wc).temperatures) * jules_batch(wc).duration
                                       / jules_batch(wc).eta / 1e5)),
    log:
        log_path("jules_langevin", "{batch}"),
    script:
        "../../scripts/jules/langevin.py"


rule jules_fluctuations:
    input:
        unpack(jules_langevin_files),
    output:
        f"{J}/fluctuations/eta{{eta}}_T{{T}}.parquet",
    params:
        analysis={k: v for k, v in JULES["analysis"].items() if k != "burn_in"},
        duration=lambda wc: jules_run(wc).duration,
        burn_in=lambda wc: jules_run(wc).burn_in,
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


rule jules_time_step_check:
    input:
        summary=rules.jules_aggregate.output.summary,
    output:
        f"{J}/tables/time_step_check.parquet",
    params:
        quantities=["mu", "sigma", "alpha", "beta_T", "tau_half"],
    log:
        log_path("jules_time_step_check"),
    script:
        "../../scripts/jules/time_step_check.py"


def jules_fig1_runs(wildcards):
    """Trajectories and status of every Langevin job at the time step of panels a and b."""
    eta = wildcard_number(JULES["fig1"]["eta"])
    names = sorted({b.name for (e, _), b in JULES_RUNS.items() if e == eta})
    return {
        "trajectories": [f"{J}/langevin/{name}/trajectory.parquet" for name in names],
        "statuses": [f"{J}/langevin/{name}/status.parquet" for name in names],
    }


rule jules_fig1:
    input:
        unpack(jules_fig1_runs),
        summary=rules.jules_aggregate.output.summary,
        runs=rules.jules_aggregate.output.runs,
        train_curve=f"{J}/models/r{JULES['fig1']['replica']}/train_curve.parquet",
        refine_curve=f"{J}/models/r{JULES['fig1']['replica']}/refine_curve.parquet",
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
