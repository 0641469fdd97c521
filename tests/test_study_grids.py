"""The torch-free DAG-time grids of the studies (studies/<study>/grid.py): what the rule files build their job
lists from. Each raises ValueError naming the config key, which the rule file turns into a WorkflowError."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from thermoscape.core.config import validate_config
from thermoscape.studies.bradley import grid as bradley_grid
from thermoscape.studies.fengtu import grid as fengtu_grid
from thermoscape.studies.fort import grid as fort_grid

ROOT = Path(__file__).resolve().parents[1]
# the default config as the rule files see it: validated, with the schema's defaults filled in
DEFAULT = validate_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()),
                          str(ROOT / "workflow" / "schemas" / "config.schema.yaml"))


def section(name: str) -> dict:
    return copy.deepcopy(DEFAULT[name])


def test_grid_modules_load_neither_torch_nor_scipy():
    code = ("import sys; import thermoscape.studies.fengtu.grid, thermoscape.studies.bradley.grid, "
            "thermoscape.studies.fort.grid; print(sorted(m for m in ('torch', 'scipy') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_fengtu_runs_are_named_by_grid_with_their_layers():
    fengtu = section("fengtu")
    runs = fengtu_grid.runs(fengtu)
    first = fengtu["runs"][0]
    name = f"mlp2_lr{float(first['lr'])!r}_B{first['batch_size']}_s{first['seed']}"
    assert fengtu_grid.run_name("mlp2", first) == name and name in runs
    assert runs[name]["optimizer"] == "sgd" and runs[name]["epochs"] == fengtu["training"]["epochs"]
    assert runs[name]["layers"] == [f"W{k}" for k in range(2, len(fengtu["model"]["hidden"]) + 1)]
    # sorted keys (a stable param repr), then the layers it snapshots
    assert list(runs[name]) == [*sorted(set(runs[name]) - {"layers"}), "layers"]
    for prefix in fengtu_grid.GRIDS:
        assert set(fengtu_grid.run_names(fengtu, prefix)) <= set(runs)
    assert sum(len(fengtu_grid.run_names(fengtu, p)) for p in fengtu_grid.GRIDS) == len(runs)
    assert all(runs[n]["optimizer"] == "adam" for n in fengtu_grid.run_names(fengtu, "adam"))
    assert all(runs[n]["layers"] == ["conv1", "conv2"] for n in fengtu_grid.run_names(fengtu, "cifar"))
    assert fengtu_grid.layers(runs) == [(n, layer) for n, r in runs.items() for layer in r["layers"]]
    assert {1, 2, 10, 100, fengtu["minibatch"]["shown_rank"]} <= set(fengtu_grid.shown_ranks(fengtu))
    fengtu_grid.check_runs(fengtu, runs, data_size=10**6)


@pytest.mark.parametrize("change, key", [
    (lambda f: f["training"].update(window=10**6), "fengtu.training.window"),
    (lambda f: f["training"].update(checkpoints=[0, 10**6]), "fengtu.training.checkpoints"),
])
def test_fengtu_bad_settings_name_the_key(change, key):
    fengtu = section("fengtu")
    change(fengtu)
    with pytest.raises(ValueError, match=key.replace(".", r"\.")):
        fengtu_grid.check_runs(fengtu, fengtu_grid.runs(fengtu))


def test_fengtu_batch_larger_than_the_data_names_the_run():
    fengtu = section("fengtu")
    runs = fengtu_grid.runs(fengtu)
    with pytest.raises(ValueError, match=r"fengtu: run mlp2_.*batch_size"):
        fengtu_grid.check_runs(fengtu, runs, data_size=1)


def test_bradley_check_names_every_key_at_fault():
    bradley = section("bradley")
    bradley_grid.check(bradley)
    bradley["basins"]["theta_range"] = [1.0, 0.0]
    bradley["sweep"]["stage2"]["final_epochs"] = bradley["sweep"]["stage2"]["epochs"] + 1
    with pytest.raises(ValueError) as error:
        bradley_grid.check(bradley)
    assert "bradley.basins.theta_range" in str(error.value)
    assert "bradley.sweep.stage2.final_epochs" in str(error.value)


def test_bradley_settings_are_sorted_and_pick_the_keys():
    block = {"network": {"b": 1, "a": 2}, "sgd": {"z": 0, "y": 1}, "other": 3}
    chosen = bradley_grid.settings(block, "sgd")
    assert list(chosen) == ["network", "sgd"] and list(chosen["network"]) == ["a", "b"]


def test_fort_check_names_the_key():
    fort = section("fort")
    fort_grid.check(fort)
    fort["sweep"]["default_exponent"] = -12345.0
    with pytest.raises(ValueError, match=r"fort\.sweep\.default_exponent"):
        fort_grid.check(fort)
