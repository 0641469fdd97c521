"""thermoscape: the physics of neural-network loss landscapes, reproduced.

The library is pure Python/PyTorch (no Snakemake imports); the workflow in ``workflow/`` wires it.
"""

__version__ = "0.1.0"
