"""``thermoscape.chart``: the thermal-noise measurements of Jules et al. on any network, in one call.

``chart`` composes the steps a workflow runs as separate jobs:

1. :func:`prepare` -- load and check the model, weights and data (``inputs``), build the ``torch.func``
   landscape (``nets.module_landscape``; eval mode) and check the memory of one temperature's batch;
2. :func:`thermoscape.studies.chart.sampling.refine_minimum` -- full-batch Adam to the minimum;
3. :func:`thermoscape.studies.chart.sampling.sample_temperature` -- per temperature, all chains batched;
4. :func:`thermoscape.studies.chart.analysis.chain_statistics` per temperature, then
   :func:`~thermoscape.studies.chart.analysis.summarise` and
   :func:`~thermoscape.studies.chart.analysis.temperature_table` -- the table.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import Tensor

from thermoscape.core.device import select_device
from thermoscape.core.seeds import derive_seed
from thermoscape.dynamics.train import Descent
from thermoscape.nets.module_landscape import LOSSES, ModelInputError, ModuleLandscape
from thermoscape.studies.chart.analysis import Analysis, chain_statistics, summarise, temperature_table
from thermoscape.studies.chart.inputs import ModelSource, as_tensors, check_memory, load_model
from thermoscape.studies.chart.sampling import Refine, Sampling, loss_at, refine_minimum, sample_temperature

_log = logging.getLogger(__name__)


@dataclass
class Chart:
    """Everything a :func:`chart` call measured: ``table`` (one row per temperature, what ``chart`` returns),
    ``summary`` (every analysis slice, the primary study's ``fluctuations`` table), ``runs`` (per chain and
    slice), ``curves`` (``chi_L``), ``records`` (the Langevin records by temperature), the refinement
    (``descent``), the minimum ``theta`` and its loss, and the memory estimate."""

    table: pd.DataFrame
    summary: pd.DataFrame
    runs: pd.DataFrame
    curves: pd.DataFrame
    records: dict[float, dict[str, pd.DataFrame]]
    descent: Descent | None
    theta: Tensor
    loss_minimum: float
    memory: dict[str, float]


def _settings(kind: type, given: Mapping[str, Any] | None, reserved: tuple[str, ...] = (), **own: Any) -> Any:
    """``kind(**own, **given)``: a settings dataclass from ``chart``'s own arguments and a mapping of its other
    fields; an unknown field, or one ``chart`` takes as an argument (``reserved``), names the mapping."""
    given = dict(given or {})
    fields = {f.name for f in dataclasses.fields(kind)}
    name = kind.__name__.lower()
    unknown = sorted(set(given) - fields)
    if unknown:
        raise ModelInputError(name, f"unknown settings {', '.join(unknown)}; valid: {', '.join(sorted(fields))}")
    doubled = sorted(set(given) & set(reserved))
    if doubled:
        raise ModelInputError(name, f"give {', '.join(doubled)} as chart's own argument(s), not in {name}")
    return kind(**(own | given))


def prepare(model: ModelSource, x: Any, y: Any, loss: str = "cross_entropy", weights: Any = None,
            device: torch.device | str = "cpu", chunk_size: int | None = None,
            search_path: Sequence[str | os.PathLike] = ()) -> ModuleLandscape:
    """Step 1: the checked landscape of the user's network (every input error raised here, naming its argument;
    ``search_path``: folders to import a ``"module:callable"`` model from, see ``inputs.import_callable``)."""
    if loss not in LOSSES:
        raise ModelInputError("loss", f"must be one of {', '.join(LOSSES)}, got {loss!r}")
    module = load_model(model, weights, device=device, search_path=search_path)
    x_t, y_t = as_tensors(x, y, loss, device=device)
    return ModuleLandscape(module, x_t, y_t, loss, chunk_size)


def check_temperatures(temperatures: Iterable[float]) -> list[float]:
    values = [float(t) for t in temperatures]
    bad = [t for t in values if not (math.isfinite(t) and t > 0)]
    if not values or bad:
        raise ModelInputError("temperatures", f"need at least one positive, finite temperature, got {values}")
    if len(set(values)) != len(values):
        raise ModelInputError("temperatures", f"lists a temperature twice: {values}")
    return values


def chart(
    model: ModelSource,
    x: Any,
    y: Any,
    temperatures: Iterable[float],
    loss: str = "cross_entropy",
    *,
    weights: Mapping[str, Tensor] | str | os.PathLike | None = None,
    chains: int = 8,
    eta: float | None = 1e-2,
    eta_times_T: float | None = None,
    duration: float = 1000.0,
    burn_in: float = 100.0,
    refine: Refine | Mapping[str, Any] | bool = True,
    sampling: Mapping[str, Any] | None = None,
    analysis: Mapping[str, Any] | None = None,
    seed: int = 0,
    device: str = "auto",
    chunk_size: int | None = None,
    memory_available: float | None = None,
    workdir: str | Path | None = None,
    details: bool = False,
) -> pd.DataFrame | Chart:
    """Chart the landscape of ``model`` on ``(x, y)`` with thermal-like noise (Jules et al.): one row per temperature.

    Args:
        model: an ``nn.Module`` (copied, never changed), a callable returning one, or ``"pkg.module:callable"``.
            Evaluated in eval mode (dropout off, batch norm on its stored running statistics); models whose
            buffers change in an eval-mode forward, or whose eval-mode output is random, are refused.
        x, y: the data set (arrays or tensors, first dimension the points), used full batch. ``y``: integer
            labels for ``loss="cross_entropy"``, targets shaped like the outputs for ``"mse"``.
        temperatures: the temperatures ``T`` of Eq. 1 (in units of the loss).
        loss: ``cross_entropy`` (Eq. 5-6) or ``mse`` (``torch.nn.functional.mse_loss``).
        weights: a state dict or a file of one, loaded strictly into the model.
        chains, eta, eta_times_T, duration: one temperature's run (:class:`Sampling`); ``sampling``: a mapping of
            its other fields (``precision``, ``snapshot_interval``, ``noise_block``, ...).
        burn_in: time dropped before the analysis (:class:`Analysis`); ``analysis``: a mapping of its other
            fields (``slice_length``, ``equilibration_factor``, ``baseline``, ``bootstrap``, ...).
        refine: :class:`Refine` settings (or a mapping), ``True`` for the defaults, ``False`` to sample from the
            given weights as they are.
        seed: every chain's noise seed derives from it.
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
        chunk_size: chains per ``vmap`` call (``None``: all chains at once).
        memory_available: bytes to plan with instead of the device's free memory.
        workdir: the engine's chunks and checkpoints per temperature (a killed call resumes); temporary if ``None``.
        details: return the :class:`Chart` with every intermediate table instead of the table.

    Returns: the table of :func:`thermoscape.studies.chart.analysis.temperature_table`: ``temperature, eta``,
    ``n_c`` (= 2 alpha), ``alpha``, ``beta_T``, ``tau_half``, ``mu``, ``sigma``, ``phi`` each with ``_error``,
    ``c_h`` (= mu / T), ``sigma_ratio`` (sigma / sqrt(mu T)), ``length`` (sqrt(T tau_1/2)), the flags
    ``equilibrated`` and ``drifting``, the chain counts, ``rhat``, ``ess_bulk``, ``loss_minimum``, ``baseline``;
    ``attrs``: ``c_h_fit`` (mu = C_h T over the equilibrated temperatures), ``length_squared`` (median T tau_1/2).

    Raises:
        ModelInputError / ModelTypeError (``ValueError`` / ``TypeError``): a bad input, before any sampling,
            its ``argument`` naming it; also a memory estimate above 80 % of what the device has.
        RefinementError: the minimum was not reached within the refinement's budget.
    """
    values = check_temperatures(temperatures)
    own = {"chains": chains, "eta": eta, "eta_times_T": eta_times_T, "duration": duration}
    sampling_settings = _settings(Sampling, sampling, tuple(own), **own)
    analysis_settings = _settings(Analysis, analysis, ("burn_in",), burn_in=burn_in)
    analysis_settings.slices(sampling_settings.duration)  # a burn-in longer than the run fails here
    if isinstance(refine, Refine) or refine is False:
        refine_settings = refine or None
    else:
        refine_settings = _settings(Refine, None if refine is True else refine)
    dev = select_device(device)
    landscape = prepare(model, x, y, loss, weights, dev, chunk_size)
    noise_dtype = torch.float32 if sampling_settings.precision == "mixed" else None
    memory = check_memory(landscape, sampling_settings.chains, sampling_settings.schedule(min(values)), dev,
                          memory_available, noise_dtype=noise_dtype)
    theta = landscape.flat_parameters()
    descent = None
    if refine_settings is not None:
        descent = refine_minimum(landscape, theta, refine_settings)
        theta = descent.theta
    loss_minimum = loss_at(landscape, theta)
    if not math.isfinite(loss_minimum):
        raise ModelInputError("loss", f"is {loss_minimum} at the minimum: the model's outputs are not finite")
    records, runs, curves = {}, [], []
    for temperature in values:
        folder = None if workdir is None else Path(workdir) / f"T{temperature:g}"
        records[temperature] = sample_temperature(landscape, theta, temperature, sampling_settings, seed, folder)
        chain_runs, chain_curves = chain_statistics(records[temperature], analysis_settings, loss, loss_minimum,
                                                    derive_seed(seed, "chart bootstrap", temperature))
        runs.append(chain_runs)
        curves.append(chain_curves)
    all_runs = pd.concat(runs, ignore_index=True)
    summary = summarise(all_runs, analysis_settings)
    table = temperature_table(summary)
    _log.info("charted %d temperatures:\n%s", len(values),
              table[["temperature", "n_c", "c_h", "beta_T", "length", "tau_half", "equilibrated"]].to_string())
    if not details:
        return table
    return Chart(table, summary, all_runs, pd.concat(curves, ignore_index=True), records, descent, theta,
                 loss_minimum, memory)
