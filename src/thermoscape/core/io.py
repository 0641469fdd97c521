"""Atomic, validated reading and writing of tables (Parquet) and tensors (torch files).

Every output is written to a temporary file in the destination folder and renamed into place, so a
killed job never leaves a partial file under the final name. Readers turn a corrupt or truncated file
into an ``InputFileError`` that names the file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    import torch


class InputFileError(RuntimeError):
    """An input file is missing, truncated or not what its reader expects."""


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_table(table: pd.DataFrame, path: str | os.PathLike, schema: pa.Schema | None = None) -> None:
    """Write ``table`` as Parquet; a ``schema`` fixes column types (needed when the table may be empty)."""
    with atomic_path(path) as tmp:
        pq.write_table(pa.Table.from_pandas(table, schema=schema, preserve_index=False), tmp)


def read_table(path: str | os.PathLike, columns: list[str] | None = None, filters=None) -> pd.DataFrame:
    """Read a Parquet table; ``filters`` (pyarrow's, e.g. ``[("chain", "in", [0, 1])]``) select rows
    while reading, so a job holding several temperatures is not loaded whole."""
    try:
        return pq.read_table(path, columns=columns, filters=filters).to_pandas()
    except (OSError, pa.ArrowException) as error:
        raise InputFileError(f"cannot read Parquet table {path}: {error}") from None


# torch is imported where it is used: this module is also read while Snakemake builds the DAG
def save_tensors(tensors: dict[str, Any], path: str | os.PathLike) -> None:
    import torch

    with atomic_path(path) as tmp:
        torch.save(tensors, tmp)


def load_tensors(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a torch file with ``weights_only=True``: tensors and plain containers, never arbitrary pickles."""
    import torch

    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises many types for truncated/corrupt files
        raise InputFileError(f"cannot load torch file {path}: {error}") from None


def concat_parquet(parts: list[Path], path: str | os.PathLike) -> None:
    """Stream Parquet parts with a common schema into one file, one part in memory at a time."""
    with atomic_path(path) as tmp:
        writer = None
        for part in parts:
            table = pq.read_table(part)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema)
            writer.write_table(table)
        if writer is None:
            raise ValueError(f"no parts to concatenate into {path}")
        writer.close()
