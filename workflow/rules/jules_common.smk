"""Functions of Jules et al.'s rules (in jules.smk, jules_figures.smk) -- input functions, resources and
file lists. Included at the top of jules.smk; they read the constants the rule files define when they
are called, so a rule file holds only constants and rules (snakemake --lint)."""


def _jules_extra_batches():
    """Langevin jobs outside the fluctuation grid: Fig. S1 (from initialisation) and Fig. S2."""
    init = JULES["init_langevin"]
    init_sweep = {k: init[k] for k in ("eta", "temperatures", "duration")} | {
        "burn_in": init["late_slice"][0]
    }
    # one job: a figure-only run, so rerun granularity matters less than batching all its chains
    batches = langevin_batches(
        [init_sweep], 0.0, len(init["temperatures"]), start="init", prefix="init_", key="jules.init_langevin"
    )
    for side in ("catapult", "drift"):
        run = JULES["figS2"][side]
        sweep = {
            "eta": run["eta"],
            "temperatures": [run["temperature"]],
            "duration": run["duration"],
            "burn_in": 0.0,
        }
        batches += langevin_batches([sweep], 0.0, 1, prefix=f"figS2{side}_", key=f"jules.figS2.{side}")
    return batches


def jules_batch(wildcards):
    """The Langevin job named by the {batch} wildcard."""
    return JULES_BATCHES[wildcards.batch]


def jules_langevin_minutes(wildcards):
    """The runtime a Langevin job asks for: its chains (temperatures x realizations) times its longest run in
    steps, at ~1e5 steps a minute; at least 10 minutes."""
    batch = jules_batch(wildcards)
    return max(10, int(len(batch.temperatures) * batch.realizations * batch.longest / batch.eta / 1e5))


def jules_stop_rule(batch):
    """The adaptive length's settings of a batch with a max_duration (None: a fixed duration)."""
    if batch.max_duration is None:
        return None
    analysis = JULES["analysis"]
    return {
        "burn_in": batch.burn_in,
        "slice_length": analysis["slice_length"],
        "equilibration_factor": analysis["equilibration_factor"],
        "drift_sigma": analysis["drift_sigma"],
        **JULES["langevin"]["adaptive"],
    }


def jules_run(wildcards):
    """The Langevin job that ran the {eta}, {T} wildcards."""
    return JULES_RUNS[(wildcards.eta, wildcards.T)]


def jules_run_files(pattern, eta=None):
    """``pattern`` for every (eta, T) of the grid, or only for those at time step ``eta``."""
    return [pattern.format(eta=e, T=T) for e, T in JULES_RUNS if eta is None or e == wildcard_number(eta)]


def jules_langevin_files(wildcards):
    """The Langevin outputs of the job that ran (eta, T)."""
    folder = f"{J}/langevin/{jules_run(wildcards).name}"
    return {name: f"{folder}/{name}.parquet" for name in ("trajectory", "samples", "params", "status")}


def jules_runs_at(eta, batches=None):
    """Trajectories and status of the grid's Langevin jobs at time step ``eta`` (or of ``batches``)."""
    if batches is None:
        batches = [b for (e, _), b in JULES_RUNS.items() if e == wildcard_number(eta)]
    names = sorted({b.name for b in batches})
    return {
        "trajectories": [f"{J}/langevin/{name}/trajectory.parquet" for name in names],
        "statuses": [f"{J}/langevin/{name}/status.parquet" for name in names],
    }
