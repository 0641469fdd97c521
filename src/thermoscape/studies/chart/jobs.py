"""The ``chart`` workflow's jobs (workflow/rules/chart.smk), one function each, driven by the config's ``chart:``.

``minimum_job`` loads and checks the model, weights and data, checks the memory and refines the minimum (every
input error fails here, before any sampling, naming its ``chart.*`` key: :class:`ChartConfigError`);
``langevin_job`` samples one temperature (all chains batched); ``analysis_job`` writes the tables of
:mod:`thermoscape.studies.chart.analysis`. The same steps as :func:`thermoscape.studies.chart.api.chart`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from thermoscape.core.jobs import ProgressLog
from thermoscape.core.io import load_tensors, read_table, save_tensors, write_table
from thermoscape.core.seeds import derive_seed
from thermoscape.nets.module_landscape import ModelInputError, ModuleLandscape
from thermoscape.studies.chart.analysis import Analysis, chain_statistics, summarise, temperature_table
from thermoscape.studies.chart.api import _settings, prepare
from thermoscape.studies.chart.inputs import check_memory
from thermoscape.studies.chart.sampling import Refine, Sampling, loss_at, refine_minimum, sample_temperature

RECORDS = ("trajectory", "samples", "status")
# the library's argument -> the config key that sets it
_KEYS = {"x": "chart.data", "y": "chart.data", "precision": "chart.sampling.precision", "sampling": "chart.sampling",
         "analysis": "chart.analysis", "refine": "chart.refine", "baseline": "chart.analysis.baseline"}

_log = logging.getLogger(__name__)


class ChartConfigError(ValueError):
    """A ``chart:`` setting that cannot be charted; the message starts with the config key (``chart.weights``)."""


def config_key(argument: str) -> str:
    """The ``chart.*`` config key of a library argument (``ModelInputError.argument``)."""
    return _KEYS.get(argument, f"chart.{argument}")


def naming_keys(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with each ``ModelInputError`` re-raised as a :class:`ChartConfigError` naming the config key."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except ModelInputError as error:
            detail = str(error).removeprefix(f"{error.argument}: ")
            raise ChartConfigError(f"{config_key(error.argument)}: {detail}") from error

    wrapped.__doc__, wrapped.__name__ = function.__doc__, function.__name__
    return wrapped


def load_data(data: Mapping[str, Any]) -> tuple[np.ndarray | torch.Tensor, np.ndarray | torch.Tensor]:
    """The training inputs and labels ``chart.data`` names: a project reader (``name``: digits, idx,
    fashion_mnist, ... with its ``path``, ``n_train``, ``seed``; ``data.readers.load_split``) or a file of
    tensors (``path`` ending ``.pt``: ``{"x": ..., "y": ...}``; ``.parquet``: a split of ``write_split``)."""
    from thermoscape.data.readers import load_split, read_split

    options = {k: data[k] for k in ("n_train", "seed", "classes") if data.get(k) is not None}
    if data.get("name"):
        try:
            split = load_split(data["name"], data.get("path"), **options)
        except (OSError, ValueError) as error:
            raise ChartConfigError(f"chart.data: cannot read {data['name']!r} ({error})") from error
        return split.x_train, split.y_train
    path = Path(data["path"])
    if path.suffix == ".pt":
        tensors = load_tensors(path)
        if not isinstance(tensors, Mapping) or not {"x", "y"} <= set(tensors):
            raise ChartConfigError(f"chart.data.path: {path} must hold a dict with tensors 'x' and 'y'")
        x, y = tensors["x"], tensors["y"]
    else:
        split = read_split(path)
        x, y = split.x_train, split.y_train
    n = data.get("n_train")
    return (x, y) if n is None else (x[:n], y[:n])


def settings(chart: Mapping[str, Any]) -> tuple[Sampling, Analysis, Refine | None]:
    """The sampling, analysis and refinement settings of ``chart:`` (the library's dataclasses)."""
    own = {k: chart[k] for k in ("chains", "eta", "eta_times_T", "duration") if k in chart}
    if own.get("eta") is None:
        own["eta"] = None if own.get("eta_times_T") is not None else 1e-2  # the paper's eta
    sampling = _settings(Sampling, chart.get("sampling"), tuple(own), **own)
    analysis = _settings(Analysis, chart.get("analysis"), ("burn_in",), burn_in=chart.get("burn_in", 100.0))
    analysis.slices(sampling.duration)
    refine = chart.get("refine", {})
    return sampling, analysis, (None if refine.get("enabled") is False else
                                _settings(Refine, {k: v for k, v in refine.items() if k != "enabled"}))


def landscape(chart: Mapping[str, Any], device: torch.device | str,
              model_path: Sequence[str] = ()) -> ModuleLandscape:
    """The checked landscape of ``chart:``; ``chart.model`` is imported from ``model_path`` (the working
    directory and the config files' folders, chart.smk), the current directory or ``sys.path``."""
    x, y = load_data(chart["data"])
    return prepare(chart["model"], x, y, chart.get("loss", "cross_entropy"), chart.get("weights"), device,
                   chart.get("chunk_size"), model_path)


@naming_keys
def minimum_job(chart: Mapping[str, Any], device: torch.device | str, minimum: str | Path, curve: str | Path,
                model_path: Sequence[str] = ()) -> None:
    """Load, check (every input, the memory of the largest temperature's batch) and refine the minimum: ``minimum``
    (``theta``, ``loss``, the sizes ``n_samples`` and ``n_outputs``), ``curve`` (the refinement's loss and
    gradient norm; empty without refinement)."""
    sampling, _, refine = settings(chart)
    land = landscape(chart, device, model_path)
    noise_dtype = torch.float32 if sampling.precision == "mixed" else None
    check_memory(land, sampling.chains, sampling.schedule(min(chart["temperatures"])), device,
                 chart.get("memory_available"), noise_dtype=noise_dtype)
    theta = land.flat_parameters()
    table = pd.DataFrame({"step": [], "loss": [], "grad_norm": []})
    if refine is not None:
        descent = refine_minimum(land, theta, refine, progress=ProgressLog(refine.max_steps, "refinement"))
        theta, table = descent.theta, descent.curve
    value = loss_at(land, theta)
    if not math.isfinite(value):
        raise ModelInputError("loss", f"is {value} at the minimum: the model's outputs are not finite")
    save_tensors({"theta": theta.detach().cpu(), "loss": torch.tensor(value), "n_samples": torch.tensor(len(land.x)),
                  "n_outputs": torch.tensor(land.n_outputs)}, minimum)
    write_table(table, curve)


@naming_keys
def langevin_job(chart: Mapping[str, Any], device: torch.device | str, minimum: str | Path, temperature: float,
                 outputs: Mapping[str, str | Path], workdir: str | Path, model_path: Sequence[str] = ()) -> None:
    """One temperature's chains from the minimum (``sample_temperature``, resumable from ``workdir``): the
    ``trajectory``, ``samples`` (per-sample losses) and ``status`` tables."""
    sampling, _, _ = settings(chart)
    land = landscape(chart, device, model_path)
    theta = load_tensors(minimum, device)["theta"].to(device)
    progress = ProgressLog(sampling.schedule(temperature).n_steps, f"T = {temperature:g} Langevin")
    records = sample_temperature(land, theta, temperature, sampling, chart.get("seed", 0), workdir, progress)
    for name in RECORDS:
        write_table(records[name], outputs[name])


def analysis_job(chart: Mapping[str, Any], minimum: str | Path, records: Mapping[float, Mapping[str, str | Path]],
                 outputs: Mapping[str, str | Path]) -> pd.DataFrame:
    """The primary study's statistics on every temperature's chains: ``runs`` (per chain and slice),
    ``curves`` (chi_L), ``summary`` (every slice; the columns of ``tables/fluctuations.parquet``) and ``table``
    (one row per temperature; ``temperature_table.attrs`` as constant columns: ``c_h_fit``, ``length_squared``,
    ``fit_temperatures``, ``fit_equilibrated_only``; and the sizes ``n_params``, ``n_outputs``, ``n_samples``)."""
    _, analysis, _ = settings(chart)
    loss = chart.get("loss", "cross_entropy")
    point = load_tensors(minimum)
    loss_minimum = float(point["loss"])
    runs, curves = [], []
    for temperature, paths in sorted(records.items()):
        tables = {name: read_table(paths[name]) for name in RECORDS}
        seed = derive_seed(chart.get("seed", 0), "chart bootstrap", temperature)
        chain_runs, chain_curves = chain_statistics(tables, analysis, loss, loss_minimum, seed)
        runs.append(chain_runs)
        curves.append(chain_curves)
    all_runs = pd.concat(runs, ignore_index=True)
    summary = summarise(all_runs, analysis)
    table = temperature_table(summary)
    table = table.assign(**table.attrs)  # c_h_fit, length_squared, fit_temperatures, fit_equilibrated_only
    # the sizes claim (b) compares N_c with: C (outputs), N (parameters), D (points)
    table = table.assign(n_params=int(point["theta"].numel()), n_outputs=int(point["n_outputs"]),
                         n_samples=int(point["n_samples"]))
    table.attrs = {}
    _log.info("charted:\n%s", table[["temperature", "n_c", "n_c_error", "c_h", "beta_T", "length", "tau_half",
                                     "equilibrated"]].to_string(index=False))
    for name, frame in (("runs", all_runs), ("curves", pd.concat(curves, ignore_index=True)), ("summary", summary),
                        ("table", table)):
        write_table(frame, outputs[name])
    return table
