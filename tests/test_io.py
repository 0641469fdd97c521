"""Inputs that are corrupt or truncated fail naming the file; outputs appear whole or not at all."""

import pandas as pd
import pytest
import torch

from thermoscape.core.io import InputFileError, load_tensors, read_table, save_tensors, write_table


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
