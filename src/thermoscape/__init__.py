"""thermoscape: the physics of neural-network loss landscapes, reproduced.

The library is pure Python/PyTorch (no Snakemake imports); the workflow in ``workflow/`` wires it.
``thermoscape.chart(model, x, y, temperatures=...)`` charts any network (``thermoscape.studies.chart``,
docs/chart.md); it is imported on first use, so ``import thermoscape`` (and the DAG-time ``core``) stays
free of torch.
"""

__version__ = "0.1.0"

_LAZY = {"chart": "thermoscape.studies.chart"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'thermoscape' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
