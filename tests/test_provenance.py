"""Provenance (issue 24, item 6): tables and figures carry the config hash and scale of the workflow run."""

import json

import matplotlib.pyplot as plt
import pandas as pd
from PIL import Image

from thermoscape.core.io import PROVENANCE_ENV, concat_parquet, read_provenance, write_table
from thermoscape.plotting import save_figure


def test_tables_and_figures_carry_the_provenance(tmp_path, monkeypatch):
    info = {"config_hash": "0123456789ab", "scale": "smoke"}
    monkeypatch.setenv(PROVENANCE_ENV, json.dumps(info))
    write_table(pd.DataFrame({"a": [1.0, 2.0]}), tmp_path / "a.parquet")
    assert read_provenance(tmp_path / "a.parquet") == info
    assert pd.read_parquet(tmp_path / "a.parquet")["a"].tolist() == [1.0, 2.0]
    concat_parquet([tmp_path / "a.parquet"] * 2, tmp_path / "b.parquet")
    assert read_provenance(tmp_path / "b.parquet") == info
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    save_figure(fig, tmp_path / "f.pdf", tmp_path / "f.png")
    assert json.loads(Image.open(tmp_path / "f.png").text["thermoscape"]) == info
    assert b"thermoscape config 0123456789ab, scale smoke" in (tmp_path / "f.pdf").read_bytes()


def test_outside_the_workflow_nothing_is_added(tmp_path, monkeypatch):
    monkeypatch.delenv(PROVENANCE_ENV, raising=False)
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "a.parquet")
    assert read_provenance(tmp_path / "a.parquet") == {}
