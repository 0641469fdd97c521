"""Chart your own network: Jules et al.'s thermal-noise measurements on any ``torch.nn.Module`` and data set.

A "study" of the user's network: it imports the shared roles only. ``chart`` (also ``thermoscape.chart``)
composes the steps a workflow runs as separate jobs: ``prepare`` (load and check; ``inputs``),
``refine_minimum`` and ``sample_temperature`` (``sampling``), ``chain_statistics``, ``summarise`` and
``temperature_table`` (``analysis``). See docs/chart.md.
"""

from thermoscape.nets.module_landscape import ModelInputError, ModelTypeError, ModuleLandscape
from thermoscape.studies.chart.analysis import Analysis, chain_statistics, summarise, temperature_table
from thermoscape.studies.chart.api import Chart, chart, check_temperatures, prepare
from thermoscape.studies.chart.inputs import as_tensors, check_memory, load_model, load_weights, memory_estimate
from thermoscape.studies.chart.sampling import RefinementError, Refine, Sampling, refine_minimum, sample_temperature

__all__ = [
    "Analysis", "Chart", "ModelInputError", "ModelTypeError", "ModuleLandscape", "Refine", "RefinementError",
    "Sampling", "as_tensors", "chain_statistics", "chart", "check_memory", "check_temperatures", "load_model",
    "load_weights", "memory_estimate", "prepare", "refine_minimum", "sample_temperature", "summarise",
    "temperature_table",
]
