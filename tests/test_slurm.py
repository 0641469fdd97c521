"""Snakemake on a real SLURM cluster (profiles/slurm): jobs go through sbatch, outputs equal a local run's.

Needs a cluster that answers `sinfo` on this machine and shares its file system (CI starts a single-node
one with scripts/ci/start-local-slurm.sh). Skipped, saying why, where there is none; with
THERMOSCAPE_REQUIRE_SLURM=1 (set by .ci/run once the cluster is up) the skip becomes a failure.

The smoke config with one replica, restricted to the fluctuation table of one temperature of its first
fixed-eta sweep and everything upstream (dataset, initialisation, training, refinement, Langevin), keeps the
test to minutes: every SLURM job starts Snakemake twice (the job and its srun step), seconds each on a small machine.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import ROOT, SMOKE, SMOKE_RESULTS, smoke_results

pytestmark = [pytest.mark.slurm, pytest.mark.workflow]

PROFILE = ROOT / "profiles" / "slurm"
REQUIRE = "THERMOSCAPE_REQUIRE_SLURM"
START_HINT = "to start a single-node one here, run scripts/ci/start-local-slurm.sh as root"
TIMEOUT_S = 900
# Columns that measure the run, not its result (wall-clock time of a Langevin session).
RUN_DEPENDENT = re.compile(r"^wall_")


def cluster_problem() -> str | None:
    """Why the SLURM test cannot run here, or None."""
    for tool in ("sbatch", "srun", "squeue", "sinfo"):
        if shutil.which(tool) is None:
            return f"no SLURM here: `{tool}` is not on PATH; {START_HINT}"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install -e '.[test]', Python >= 3.11)"
    try:
        sinfo = subprocess.run(["sinfo", "-h", "-N", "-o", "%N %t"], check=False, capture_output=True,
                               text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return f"no SLURM controller answers: `sinfo` timed out; {START_HINT}"
    if sinfo.returncode != 0:
        return f"no SLURM controller answers: `sinfo` failed ({sinfo.stderr.strip()}); {START_HINT}"
    nodes = dict(line.split()[:2] for line in sinfo.stdout.splitlines() if len(line.split()) >= 2)
    if not any(state.rstrip("*~#!%$@^-") in ("idle", "mix") for state in nodes.values()):
        return f"no SLURM node is idle (sinfo: {nodes or 'no nodes'}); {START_HINT}"
    return None


def smoke_targets() -> list[str]:
    """The fluctuation table of the first temperature of the smoke config's first fixed-eta sweep: every
    stage from the dataset to the analysis, kept to one temperature for the suite's time budget."""
    sweeps = yaml.safe_load(SMOKE.read_text())["jules"]["langevin"]["sweeps"]
    sweep = next(s for s in sweeps if "eta" in s)
    return [f"{SMOKE_RESULTS}/jules/fluctuations/eta{float(sweep['eta'])!r}_T{float(t)!r}.parquet"
            for t in sweep["temperatures"][:1]]


def snakemake_command(workdir: Path, *args: str) -> list[str]:
    """The smoke config with one replica (every stage once: six jobs, each a SLURM job of its own)."""
    override = workdir / "one_replica.yaml"
    override.write_text(yaml.safe_dump({"jules": {"replicas": 1}}))
    return [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
            "--configfile", str(SMOKE), str(override), *args]


def start(workdir: Path, *args: str) -> subprocess.Popen:
    """Snakemake with ``workdir`` as cwd (the plugin submits with ``sbatch -D <cwd>``), output to a file."""
    with (workdir / "snakemake.out").open("w") as out:
        return subprocess.Popen(snakemake_command(workdir, *args), cwd=workdir, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def finish(process: subprocess.Popen, workdir: Path, deadline: float) -> str:
    """Wait for ``process``; past the deadline interrupt it (Snakemake then scancels its SLURM jobs)."""
    try:
        process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        raise AssertionError(f"snakemake in {workdir} ran over {TIMEOUT_S} s:\n{tail(workdir)}") from None
    if process.returncode != 0:
        raise AssertionError(f"snakemake in {workdir} failed ({process.returncode}):\n{tail(workdir)}")
    return (workdir / "snakemake.out").read_text()


def tail(workdir: Path, n: int = 6000) -> str:
    text = (workdir / "snakemake.out").read_text()[-n:]
    for log in sorted((workdir / ".snakemake" / "slurm_logs").rglob("*.log"))[-3:]:
        text += f"\n--- {log}:\n{log.read_text()[-2000:]}"
    return text


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """The same targets built locally and on SLURM (profiles/slurm), side by side."""
    problem = cluster_problem()
    if problem:
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{REQUIRE}=1 but {problem}")
        pytest.skip(problem)
    local, cluster = tmp_path_factory.mktemp("local"), tmp_path_factory.mktemp("slurm")
    targets = smoke_targets()
    began = time.monotonic()
    deadline = began + TIMEOUT_S
    # Both at once: the SLURM run mostly waits (job start-up, status checks 10 s and more apart). One core
    # keeps the local run (done long before the other) from slowing the SLURM jobs down on a small machine.
    local_run = start(local, "--cores", "1", *targets)
    cluster_run = start(
        cluster, "--profile", str(PROFILE), "--slurm-status-command", "squeue",
        "--slurm-keep-successful-logs", "--slurm-init-seconds-before-status-checks", "10", "--retries", "0",
        *targets,
    )
    try:
        cluster_out = finish(cluster_run, cluster, deadline)
    except BaseException:
        os.killpg(local_run.pid, signal.SIGTERM)
        local_run.wait()
        raise
    local_out = finish(local_run, local, deadline)
    return {"local": local, "cluster": cluster, "local_out": local_out, "cluster_out": cluster_out,
            "seconds": time.monotonic() - began}


def test_every_job_went_through_sbatch(runs):
    local_jobs = Counter(re.findall(r"^localrule (\w+):", runs["local_out"], flags=re.MULTILINE))
    assert local_jobs["jules_langevin"] >= 1, runs["local_out"][-3000:]

    # the plugin's log of every job: .snakemake/slurm_logs/rule_<rule>/[<wildcards>/]<slurm job id>.log
    logs = sorted((runs["cluster"] / ".snakemake" / "slurm_logs").glob("rule_*/**/*.log"))
    per_rule = Counter(log.relative_to(runs["cluster"] / ".snakemake" / "slurm_logs").parts[0][len("rule_"):]
                       for log in logs)
    assert per_rule == local_jobs
    submitted = dict(re.findall(r"submitted with SLURM jobid (\d+) \(log: (\S+)\)\.", runs["cluster_out"]))
    assert sorted(Path(path).resolve() for path in submitted.values()) == [log.resolve() for log in logs]
    for log in logs:
        rule = log.relative_to(runs["cluster"] / ".snakemake" / "slurm_logs").parts[0][len("rule_"):]
        text = log.read_text()
        ran = re.search(rf"^rule {rule}:", text, flags=re.MULTILINE) and "Finished jobid" in text
        assert ran, f"{log}:\n{text[-2000:]}"

    # SLURM's own record (MinJobAge keeps finished jobs in squeue): the run's jobs, all completed
    run_id = re.search(r"SLURM run ID: (\S+)", runs["cluster_out"]).group(1)
    squeue = subprocess.run(["squeue", "-h", "--states=all", "--name", run_id, "-o", "%i %T"],
                            capture_output=True, text=True, check=True, timeout=60)
    states = dict(line.split() for line in squeue.stdout.splitlines())
    assert states and set(states) <= set(submitted), (states, submitted)
    assert set(states.values()) == {"COMPLETED"}, states


def test_outputs_equal_those_of_a_local_run(runs):
    local, cluster = smoke_results(runs["local"]), smoke_results(runs["cluster"])
    tables = sorted(p.relative_to(local) for p in local.rglob("*.parquet"))
    assert sorted(p.relative_to(cluster) for p in cluster.rglob("*.parquet")) == tables
    assert any(p.parts[:2] == ("jules", "langevin") for p in tables) and any(p.parts[1] == "fluctuations"
                                                                             for p in tables)
    for table in tables:
        expected, got = pd.read_parquet(local / table), pd.read_parquet(cluster / table)
        run_dependent = [c for c in expected.columns if RUN_DEPENDENT.match(str(c))]
        pd.testing.assert_frame_equal(got.drop(columns=run_dependent), expected.drop(columns=run_dependent),
                                      check_exact=True, obj=str(table))


# --- job arrays (profiles/slurm: slurm-array-jobs) ---------------------------------------------------------------


def grid_langevin_batches() -> list[str]:
    """The smoke config's Langevin jobs of the fluctuation grid (its fixed-eta and eta x T sweeps), by name."""
    from snakemake.utils import update_config

    from thermoscape.core.config import validate_config
    from thermoscape.core.grids import langevin_batches

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    update_config(config, yaml.safe_load(SMOKE.read_text()))  # merged key by key, as --configfile does
    jules = validate_config(config, str(ROOT / "workflow" / "schemas" / "config.schema.yaml"))["jules"]
    return [b.name for b in langevin_batches(jules["langevin"]["sweeps"], jules["analysis"]["burn_in"],
                                             jules["langevin"]["temperatures_per_job"])]


@pytest.fixture(scope="module")
def array_run(runs, tmp_path_factory) -> dict:
    """The smoke config's other Langevin jobs, on top of the SLURM run above (its refined minimum reused): one
    fan-out of jules_langevin, which the profile submits as a SLURM job array."""
    workdir = tmp_path_factory.mktemp("array")
    for part in ("results", ".snakemake/metadata"):
        shutil.copytree(runs["cluster"] / part, workdir / part)
    done = {p.parent.name for p in (smoke_results(workdir) / "jules" / "langevin").glob("*/status.parquet")}
    batches = [name for name in grid_langevin_batches() if name not in done]
    assert len(batches) >= 2, (batches, done)
    targets = [f"{SMOKE_RESULTS}/jules/langevin/{name}/status.parquet" for name in batches]
    process = start(workdir, "--profile", str(PROFILE), "--slurm-status-command", "squeue",
                    "--slurm-keep-successful-logs", "--slurm-init-seconds-before-status-checks", "10",
                    "--retries", "0", *targets)
    out = finish(process, workdir, time.monotonic() + TIMEOUT_S)
    return {"workdir": workdir, "out": out, "batches": batches}


def test_a_fan_out_goes_through_one_job_array(array_run):
    out, batches, workdir = array_run["out"], array_run["batches"], array_run["workdir"]
    ran = Counter(re.findall(r"^rule (\w+):", out, flags=re.MULTILINE))
    assert ran == {"jules_langevin": len(batches)}, ran  # nothing upstream re-ran
    # the plugin's record: one array submission holding every Langevin job, no single-job submission
    arrays = re.findall(r"Submitted array job with Snakemake IDs ([\d,]+) and SLURM job ID (\d+)\. "
                        r"The individual task IDs are (\d+)-(\d+)\.", out)
    assert len(arrays) == 1, out[-3000:]
    snakemake_ids, array_id, first, last = arrays[0]
    assert len(snakemake_ids.split(",")) == len(batches) and (int(first), int(last)) == (1, len(batches))
    assert "submitted with SLURM jobid" not in out
    # SLURM's: the tasks <array id>_<k> of the run, all completed, each with its log
    run_id = re.search(r"SLURM run ID: (\S+)", out).group(1)
    squeue = subprocess.run(["squeue", "-h", "--states=all", "--name", run_id, "-o", "%i %T"],
                            capture_output=True, text=True, check=True, timeout=60)
    states = dict(line.split() for line in squeue.stdout.splitlines())
    assert states == {f"{array_id}_{k}": "COMPLETED" for k in range(1, len(batches) + 1)}, states
    logs = sorted((workdir / ".snakemake" / "slurm_logs" / "rule_jules_langevin").glob(f"{array_id}_*.log"))
    assert len(logs) == len(batches)
    for name in batches:
        assert (smoke_results(workdir) / "jules" / "langevin" / name / "status.parquet").exists()
        # and each job's benchmark: seconds and peak memory (issue 22)
        benchmark = pd.read_csv(smoke_results(workdir) / "benchmarks" / "jules_langevin" / f"{name}.tsv",
                                sep="\t")
        assert benchmark["s"].iloc[0] > 0 and benchmark["max_rss"].iloc[0] > 0
