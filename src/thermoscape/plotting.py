"""Figures, one function each, drawn from the workflow's tables (no recomputation of measurements).

One module per study (``plots.jules``, ...); this package holds what they share.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import NullFormatter

from thermoscape.core.io import PROVENANCE_KEY, atomic_path, provenance


def save_figure(fig: plt.Figure, pdf: str | Path, png: str | Path) -> None:
    """Write a figure as PDF and PNG, each atomically, with the workflow's provenance (config hash and scale)
    in the PNG's text chunk ``thermoscape`` and the PDF's Subject and Keywords."""
    info = provenance()
    text = json.dumps(info, sort_keys=True)
    pdf_meta = {"Subject": f"thermoscape config {info.get('config_hash')}, scale {info.get('scale')}",
                "Keywords": text} if info else {}
    png_meta = {PROVENANCE_KEY: text} if info else {}
    for path, kwargs in ((pdf, {"format": "pdf", "metadata": pdf_meta}),
                         (png, {"format": "png", "dpi": 150, "metadata": png_meta})):
        with atomic_path(path) as tmp:
            fig.savefig(tmp, bbox_inches="tight", **kwargs)
    plt.close(fig)


def require_columns(table: pd.DataFrame | None, columns: Sequence[str], name: str) -> pd.DataFrame:
    """``table`` if it has rows and every column, else a ValueError naming the table (``name``)."""
    if table is None or len(table) == 0:
        raise ValueError(f"table {name!r} is empty")
    missing = [c for c in columns if c not in table]
    if missing:
        raise ValueError(f"table {name!r} lacks the columns {missing}")
    return table


def thin(table: pd.DataFrame, n: int = 3000) -> pd.DataFrame:
    return table.iloc[:: max(1, len(table) // n)]


def temperature_colors(temperatures) -> dict[float, tuple]:
    temperatures = sorted(temperatures)
    cmap = plt.get_cmap("viridis")
    return {T: cmap(i / max(1, len(temperatures) - 1)) for i, T in enumerate(temperatures)}


def plain_log_ticks(ax: plt.Axes, axis: str = "x") -> None:
    """Label only the decades of log axes (minor labels collide over a short range); axis x, y or both."""
    for name in ("x", "y") if axis == "both" else (axis,):
        getattr(ax, f"{name}axis").set_minor_formatter(NullFormatter())


def spearman(x, y) -> float:
    """Spearman rank correlation of the finite pairs (NaN with fewer than 3 or a constant series), for
    annotations; scipy is not imported by the figure jobs for this."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(x) & np.isfinite(y)
    if keep.sum() < 3:
        return float("nan")
    rx, ry = (pd.Series(v[keep]).rank().to_numpy() for v in (x, y))
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])
