"""Config validation and the helpers every rule file shares (run grids, paths, resources)."""

import hashlib
import importlib.util
from pathlib import Path

import yaml
from snakemake.utils import update_config


from thermoscape.core.config import ConfigError, config_hash, validate_config
from thermoscape.core.io import mark_results_scale, results_scale_problem, set_provenance, writable_problem
from thermoscape.core.sizes import check_sizes
from thermoscape.data.checks import check_data_settings

# The thermoscape checkout this file lies in (workflow/rules/..): workflow.basedir is the main workflow's folder,
# another one when thermoscape runs as a module of another workflow (README, "Using thermoscape as a module").
WORKFLOW_ROOT = os.path.normpath(
    os.path.join(workflow.current_basedir.get_path_or_uri(secret_free=True), "..", "..")
)

# The default config lies under the given one: a no-op for a plain run (Snakefile's configfile), and what a
# module's `config:` (which replaces the configfile) is merged over, key by key as --configfile would.
_defaults = yaml.safe_load(Path(WORKFLOW_ROOT, "config", "config.yaml").read_text())
update_config(_defaults, config)
config.clear()
config.update(_defaults)

try:
    _validated = validate_config(
        config, os.path.join(WORKFLOW_ROOT, "workflow", "schemas", "config.schema.yaml")
    )
    check_sizes(_validated)  # work and memory the DAG implies, before building it (config key limits)
    check_data_settings(_validated)  # data paths, class subsets, sizes: label files and headers only
except ConfigError as error:
    raise WorkflowError(str(error)) from None
config.clear()
config.update(_validated)

RESULTS = config["results"]
if writable_problem(RESULTS):  # a read-only or full results folder, named before any job (not a traceback)
    raise WorkflowError(writable_problem(RESULTS))
if results_scale_problem(RESULTS, config["scale"]):  # e.g. the default config pointed at results/smoke
    raise WorkflowError(results_scale_problem(RESULTS, config["scale"]))


DEVICE = config["device"]

# Software (README, "Software environments and clusters"): every rule with a script names CONDA_ENV (used with
# `--sdm conda`; relative to workflow/rules/, where every rule file lies) and runs in the config's Apptainer
# image with `--sdm apptainer`. Both hold only the dependencies; the scripts import thermoscape from this
# workflow's src/, also when it runs as a module of another workflow.
CONDA_ENV = "../envs/thermoscape.yaml"
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        dict.fromkeys(p for p in (os.path.join(WORKFLOW_ROOT, "src"), os.environ.get("PYTHONPATH")) if p)
    )
)


container: config["container"]


def wildcard_number(value):
    """The canonical, round-trip exact spelling of a grid value inside a file name."""
    return repr(float(value))


def log_path(rule_name, pattern=""):
    return f"{RESULTS}/logs/{rule_name}/{pattern or 'job'}.log"


# Rules that can use an accelerator ask the cluster for one when the config selects CUDA.
GPU = {"gpu": 1} if DEVICE == "cuda" else {}
# Small bookkeeping jobs (tables, figures): one thread, little memory, minutes.
SMALL = {"mem_mb": 2000, "runtime": 15}


def benchmark_path(rule_name, pattern=""):
    """Where Snakemake's ``benchmark:`` of a heavy rule's job goes (wall seconds, peak RSS ``max_rss`` in MB,
    CPU time: one row per job), beside its log: <results>/benchmarks/<rule>/<wildcards>.tsv."""
    return f"{RESULTS}/benchmarks/{rule_name}/{pattern or 'job'}.tsv"


def scaled(base):
    """A resource (mem_mb, runtime in minutes) that doubles with every attempt: ``base`` on the first, 2x on the
    first retry, 4x on the second (the profiles' ``retries``). ``base``: a number or a function of the wildcards.
    """

    def on_attempt(wildcards, attempt):
        return (base(wildcards) if callable(base) else base) * 2 ** (attempt - 1)

    return on_attempt


def key_sorted(value):
    """``value`` with every mapping's keys sorted: a param whose repr does not depend on the key order of an
    override file (Snakemake's params trigger compares reprs)."""
    if isinstance(value, dict):
        return {key: key_sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [key_sorted(item) for item in value]
    return value


# the one network builder and every architecture it builds: a rule that builds a network lists them
NETS_LIBRARY = ("nets.registry", "nets.small", "nets.resnet", "nets.vgg", "nets.lenet", "nets.inits")


def library_version(*modules):
    """Hash of the ``thermoscape`` modules a rule runs. As a param it makes an edit of a measurement's
    library code re-run the rules that use it (Snakemake's params trigger), and only those."""
    digest = hashlib.sha256()
    for name in modules:
        digest.update(library_file(name).read_bytes())
    return digest.hexdigest()[:16]


def library_file(name):
    """The source file of ``thermoscape.<name>``, found without importing it or its parent packages
    (``importlib.util.find_spec`` of ``thermoscape.nets.x`` would import ``thermoscape.nets``, and with it torch,
    while the DAG is built)."""
    package = Path(importlib.util.find_spec("thermoscape").origin).parent
    path = package.joinpath(*name.split("."))
    source = path.with_suffix(".py") if path.with_suffix(".py").is_file() else path / "__init__.py"
    if not source.is_file():
        raise WorkflowError(f"library_version: no module thermoscape.{name} ({source})")
    return source


def config_files():
    """The config files of this run, relative to the workflow where they lie inside it (provenance)."""
    base = Path(workflow.basedir).resolve()
    paths = (Path(name).resolve() for name in workflow.configfiles)
    return list(dict.fromkeys(str(p.relative_to(base)) if p.is_relative_to(base) else str(p) for p in paths))


def settings_check(problems, rule):
    """An input function (it adds no files) that fails the DAG when ``rule`` is in it and ``problems[rule]``
    lists problems of the settings it needs: a target without that rule is not refused for them."""

    def check(wildcards):
        if problems.get(rule):
            message = f"{rule} (a step the requested targets need) has invalid settings -\n  "
            message += "\n  ".join(problems[rule])
            others = [f"{p} (rule {r})" for r, listed in problems.items() if r != rule for p in listed]
            if others:
                message += "\nalso invalid, for targets not checked yet:\n  " + "\n  ".join(others)
            raise WorkflowError(message)
        return []

    return check


# Provenance of every table and figure the jobs write (thermoscape.core.io): the main config's hash and scale
set_provenance({"config_hash": config_hash(config), "scale": config["scale"]})
