"""Functions of the chart rules (chart.smk): the cheap checks of `chart:` when the DAG is built, and the input
functions. Included at the top of chart.smk; they read the constants it defines when they are called."""

import importlib
import sys


def chart_model_path():
    """The folders `chart.model` is imported from before sys.path: the working directory (where the jobs run)
    and the folders of the config files, so that a `my_module.py` next to either imports."""
    folders = [os.getcwd(), *(os.path.dirname(os.path.abspath(f)) for f in workflow.configfiles)]
    return list(dict.fromkeys(folders))


def chart_problems(chart, model_path):
    """What is wrong with `chart:` that can be seen without running a model: the model callable does not
    import (looked for in `model_path`, then sys.path), or a file it names is missing. Each problem names its
    config key."""
    problems = []
    module_name, _, attribute = chart["model"].partition(":")
    sys.path[:0] = [folder for folder in model_path if folder not in sys.path]
    try:
        target = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
        if not callable(target):
            problems.append(f"chart.model: {chart['model']!r} is not callable")
    except ImportError as error:
        problems.append(f"chart.model: cannot import {module_name!r} ({error})")
    except AttributeError:
        problems.append(f"chart.model: {module_name!r} has no attribute {attribute!r}")
    if chart["weights"] is not None and not os.path.isfile(chart["weights"]):
        problems.append(f"chart.weights: no such file {chart['weights']!r}")
    path = chart["data"].get("path")
    if not chart["data"].get("name") and path is None:
        problems.append("chart.data: give name (a project reader) or path (a .pt or .parquet tensor file)")
    if path is not None and not os.path.exists(path):
        problems.append(f"chart.data.path: no such file or directory {path!r}")
    if path is not None and not chart["data"].get("name") and not path.endswith((".pt", ".parquet")):
        problems.append(
            f"chart.data.path: {path!r} must be a .pt or .parquet tensor file (or give chart.data.name)"
        )
    return problems


def chart_required(wildcards):
    """The chart target's inputs; without `chart:` in the config, a clear error naming the key."""
    if CHART is None:
        raise WorkflowError(
            "config key `chart` is missing: the chart target charts your own network (docs/chart.md); add a "
            "`chart:` section (model, data, temperatures), e.g. --configfile config/examples/chart_digits_mlp.yaml"
        )
    return [CHART_TABLE, CHART_PNG, CHART_PDF, CHART_CLAIMS, *CHART_SCOREBOARD.values()]


def chart_records(wildcards):
    """Every temperature's Langevin tables, as the analysis job's input."""
    return {
        f"{name}_{number}": f"{CH}/langevin/T{number}/{name}.parquet"
        for number in CHART_TEMPERATURES
        for name in ("trajectory", "samples", "status")
    }
