"""Atomic, validated reading and writing of tables (Parquet) and tensors (torch files).

Every output is written to a temporary file in the destination folder and renamed into place, so a
killed job never leaves a partial file under the final name. Readers turn a corrupt or truncated file
into an ``InputFileError`` that names the file.
"""

from __future__ import annotations

import errno
import hashlib
import json
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


class OutputFileError(OSError):
    """An output could not be written (disk full, read-only or not writable folder): names the file and
    the remedy. The errno of the cause is kept, so callers can still tell the cases apart."""


# what to do about each write failure; the job's finished chunks are kept, so the same command resumes
_REMEDIES = {
    errno.ENOSPC: "the disk is full: free space on the device holding it (df -h {folder}) or point the config "
                  "key results at another disk, then rerun the same command (finished chunks are kept)",
    errno.EDQUOT: "the disk quota is exceeded: free space (quota -s) or point the config key results at another "
                  "disk, then rerun the same command (finished chunks are kept)",
    errno.EROFS: "the file system is read-only: remount it writable or point the config key results at a writable "
                 "folder, then rerun the same command",
    errno.EACCES: "the folder is not writable: make it writable (chmod -R u+w {folder}) or point the config key "
                  "results at a writable folder, then rerun the same command",
    errno.EPERM: "the folder is not writable: make it writable (chmod -R u+w {folder}) or point the config key "
                 "results at a writable folder, then rerun the same command",
}


def output_error(error: OSError, target: Path) -> OSError:
    """``error`` as an OutputFileError naming ``target`` and the remedy (other errors unchanged)."""
    if isinstance(error, OutputFileError) or error.errno not in _REMEDIES:
        return error
    remedy = _REMEDIES[error.errno].format(folder=target.parent)
    return OutputFileError(error.errno, f"cannot write {target}: {os.strerror(error.errno)}; {remedy}")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds.

    A full disk or a read-only folder raises :class:`OutputFileError` naming ``path`` and the remedy."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
    except OSError as error:
        raise output_error(error, target) from error
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except OSError as error:
        raise output_error(error, target) from error
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_path(path: str | os.PathLike) -> Path:
    return Path(f"{path}.sha256")


def verify_checksum(path: str | os.PathLike) -> None:
    """Raise InputFileError unless ``path`` matches the SHA-256 written beside it (``<path>.sha256``)."""
    sidecar = checksum_path(path)
    try:
        expected = sidecar.read_text().split()[0]
    except (OSError, IndexError):
        raise InputFileError(f"{path}: its checksum file {sidecar} is missing or empty") from None
    try:
        actual = file_sha256(path)
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error}") from None
    if actual != expected:
        raise InputFileError(f"{path}: checksum mismatch (truncated or corrupt; {sidecar} says {expected[:12]}..., "
                             f"the file has {actual[:12]}...)")


# Which config made an output: the workflow (common.smk) sets this to {"config_hash": ..., "scale": ...} and
# every table (Parquet key-value metadata) and figure (PNG text, PDF Subject/Keywords) written carries it.
PROVENANCE_ENV = "THERMOSCAPE_PROVENANCE"
PROVENANCE_KEY = "thermoscape"


_provenance_set = False


def set_provenance(info: dict) -> None:
    """Set this process's provenance (and its jobs', through the environment), once: the workflow's
    common.smk is read again for every module (the Jules draws), whose config must not replace the main one."""
    global _provenance_set
    if not _provenance_set:
        os.environ[PROVENANCE_ENV] = json.dumps(info)
        _provenance_set = True


def provenance() -> dict:
    """The provenance of this process's outputs ({} outside the workflow)."""
    try:
        return json.loads(os.environ.get(PROVENANCE_ENV) or "{}")
    except ValueError:
        return {}


def _with_provenance(schema: pa.Schema) -> pa.Schema:
    info = provenance()
    if not info:
        return schema
    return schema.with_metadata({**(schema.metadata or {}), PROVENANCE_KEY.encode(): json.dumps(info).encode()})


def read_provenance(path: str | os.PathLike) -> dict:
    """The provenance a table was written with ({} when none)."""
    metadata = pq.read_schema(path).metadata or {}
    return json.loads(metadata.get(PROVENANCE_KEY.encode(), b"{}"))


def write_table(table: pd.DataFrame, path: str | os.PathLike, schema: pa.Schema | None = None) -> None:
    """Write ``table`` as Parquet; a ``schema`` fixes column types (needed when the table may be empty)."""
    with atomic_path(path) as tmp:
        arrow = pa.Table.from_pandas(table, schema=schema, preserve_index=False)
        pq.write_table(arrow.replace_schema_metadata(_with_provenance(arrow.schema).metadata), tmp)


def read_table(path: str | os.PathLike, columns: list[str] | None = None, filters=None) -> pd.DataFrame:
    """Read a Parquet table; ``filters`` (pyarrow's, e.g. ``[("chain", "in", [0, 1])]``) select rows
    while reading, so a job holding several temperatures is not loaded whole."""
    try:
        return pq.read_table(path, columns=columns, filters=filters).to_pandas()
    except (OSError, pa.ArrowException) as error:
        raise InputFileError(f"cannot read Parquet table {path}: {error}") from None


# torch is imported where it is used: this module is also read while Snakemake builds the DAG
def save_tensors(tensors: dict[str, Any], path: str | os.PathLike, checksum: bool = False) -> None:
    """Save atomically; with ``checksum`` also write ``<path>.sha256`` (after the file), which
    :func:`load_tensors` with ``verify`` checks."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(tensors, tmp)
        digest = file_sha256(tmp) if checksum else None
    if checksum:
        with atomic_path(checksum_path(path)) as tmp:
            tmp.write_text(f"{digest}  {Path(path).name}\n")


def load_tensors(path: str | os.PathLike, device: str | torch.device = "cpu", verify: bool = False) -> dict[str, Any]:
    """Load a torch file with ``weights_only=True``: tensors and plain containers, never arbitrary pickles.
    ``verify``: check it against its ``<path>.sha256`` first (InputFileError on a mismatch)."""
    import torch

    if verify:
        verify_checksum(path)
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
                writer = pq.ParquetWriter(tmp, _with_provenance(table.schema))
            writer.write_table(table)
        if writer is None:
            raise ValueError(f"no parts to concatenate into {path}")
        writer.close()


def writable_problem(folder: str | os.PathLike, key: str = "results") -> str | None:
    """Why ``folder`` (or, while it does not exist, the folder it would be made in) cannot take outputs, or
    None: a temporary file is created and removed there, so read-only mounts and permissions both show."""
    path = Path(folder).absolute()
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=".thermoscape-write-test.", dir=probe)
        os.close(fd)
        os.remove(tmp)
    except OSError as error:
        remedy = _REMEDIES.get(error.errno, "make it writable or point the config key results elsewhere")
        return (f"{key}: cannot write outputs to {path}" + (f" (nor create it in {probe})" if probe != path else "")
                + f": {os.strerror(error.errno) if error.errno else error}; " + remedy.format(folder=probe))
    return None


SCALE_MARKER = ".thermoscape-scale"


def results_scale_problem(folder: str | os.PathLike, scale: str) -> str | None:
    """Why a run at ``scale`` must not write into ``folder`` (it holds another scale's outputs), or None.
    The workflow marks a results folder with its scale when a run starts (:func:`mark_results_scale`)."""
    marker = Path(folder) / SCALE_MARKER
    try:
        found = marker.read_text().strip()
    except OSError:
        return None
    if found and found != scale:
        return (f"results: {folder} holds the outputs of scale {found!r} ({marker}); a config of scale {scale!r} "
                f"would mix with them. Give it its own folder (e.g. results: {own_folder(folder, scale)}), or "
                f"delete {marker} if {folder} is meant to be overwritten")
    return None


def own_folder(folder: str | os.PathLike, scale: str) -> Path:
    """A results folder to suggest for ``scale`` when ``folder`` holds another scale's outputs, laid out as the
    shipped configs are (``results``, ``results/smoke``, ``results/paper``): ``<folder>/<scale>`` for a
    top-level folder, else the sibling ``<parent>/<scale>`` (not a folder inside another scale's)."""
    folder = Path(folder)
    sibling = folder.parent / scale
    return sibling if folder.parent != Path(".") and sibling != folder else folder / scale


def mark_results_scale(folder: str | os.PathLike, scale: str) -> None:
    marker = Path(folder) / SCALE_MARKER
    if not marker.exists():
        with atomic_path(marker) as tmp:
            tmp.write_text(f"{scale}\n")
