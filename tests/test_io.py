"""Inputs that are corrupt or truncated fail naming the file; outputs appear whole or not at all."""

import pandas as pd
import pytest
import torch

from thermoscape.core.io import (
    InputFileError,
    load_tensors,
    mark_results_scale,
    read_table,
    results_scale_problem,
    save_tensors,
    write_table,
)


@pytest.fixture
def table_file(tmp_path):
    path = tmp_path / "table.parquet"
    write_table(pd.DataFrame({"t": [0.0, 1.0, 2.0], "loss": [1e-6, 2e-6, 3e-6]}), path)
    return path


def test_tables_round_trip(table_file):
    pd.testing.assert_frame_equal(read_table(table_file), pd.DataFrame({"t": [0.0, 1.0, 2.0],
                                                                       "loss": [1e-6, 2e-6, 3e-6]}))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "missing"])
def test_damaged_table_names_the_file(table_file, damage):
    if damage == "truncate":
        table_file.write_bytes(table_file.read_bytes()[: table_file.stat().st_size // 2])
    elif damage == "garbage":
        table_file.write_bytes(b"not a parquet file at all")
    else:
        table_file.unlink()
    with pytest.raises(InputFileError, match=f"cannot read Parquet table {table_file}"):
        read_table(table_file)


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_model_names_the_file(tmp_path, damage):
    path = tmp_path / "refined.pt"
    save_tensors({"theta": torch.arange(883, dtype=torch.float64)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if damage == "truncate" else b"\x00garbage")
    with pytest.raises(InputFileError, match=f"cannot load torch file {path}"):
        load_tensors(path)


def test_failed_write_leaves_neither_partial_file_nor_temporary(tmp_path):
    path = tmp_path / "out.parquet"
    with pytest.raises(Exception):  # noqa: B017 - any failure inside the writer
        write_table(pd.DataFrame({"x": [object()]}), path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("folder, found, scale, suggested", [
    ("results", "default", "smoke", "results/smoke"),
    ("results/smoke", "smoke", "default", "results/default"),
    ("out/paper", "smoke", "paper", "out/paper/paper"),
])
def test_a_results_folder_refuses_another_scale_naming_the_key(tmp_path, monkeypatch, folder, found, scale,
                                                               suggested):
    """Issue 24: the folder remembers the first scale written to it; the same scale passes, another is
    refused naming the config key ``results``, the marker and a folder of its own."""
    monkeypatch.chdir(tmp_path)
    assert results_scale_problem(folder, scale) is None  # nothing there yet
    mark_results_scale(folder, found)
    mark_results_scale(folder, scale)  # the first mark stays
    assert results_scale_problem(folder, found) is None
    problem = results_scale_problem(folder, scale)
    assert problem.startswith(f"results: {folder} holds the outputs of scale {found!r} ({folder}/.thermoscape-scale)")
    assert f"a config of scale {scale!r} would mix with them" in problem
    assert f"(e.g. results: {suggested})" in problem
