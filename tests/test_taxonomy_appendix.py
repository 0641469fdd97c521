"""Yang et al. App. D figures (issue 26): Figs. 14, 15 (other data sets), 17 (noisy labels, lr as temperature), 21
(pixel noise as the load), 22 (large batches), 23 (linear scaling rule) as experiments of the grid machinery: the
new cell settings, the input noise, the SVHN reader, the claims on synthetic diagrams with known answers, and the
targets at smoke scale."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from thermoscape.claims import HOLDS
from thermoscape.core.grids import CELL_PATTERN, TAXONOMY_APPENDIX, Cell, experiment_grid
from thermoscape.data.noise import add_pixel_noise
from thermoscape.data.readers import FASHION_MNIST_DIR, Split, load_split, training_set_size
from thermoscape.studies.taxonomy.claims import (
    Criteria,
    appendix_claims,
    large_batch_claim,
    linear_scaling_claims,
    pixel_noise_claims,
    zero_loss_claim,
)
from thermoscape.studies.taxonomy.experiment import PhaseRules, label_phases

DEFAULTS = {"width": 64, "batch_size": 128, "lr": 0.05, "weight_decay": 5e-4, "subset": 1.0, "label_noise": 0.0,
            "schedule": "constant"}
FIGURES = tuple(TAXONOMY_APPENDIX)


def test_pixel_noise_and_data_set_are_cell_settings_with_their_own_names():
    plain = Cell(16, 32, 0.05, 5e-4)
    assert plain.name == "w16_b32_lr0.05_wd0.0005_s1.0_n0.0"  # existing names unchanged
    both = Cell(16, 32, 0.05, 5e-4, schedule="one_decay", pixel_noise=20.0, data="mnist5k")
    assert both.name == "w16_b32_lr0.05_wd0.0005_s1.0_n0.0_one-decay_u20.0_data-mnist5k"
    for cell in (plain, both, Cell(4, 8, 1e-05, 0.0, pixel_noise=5.0), Cell(4, 8, 0.1, 0.0, data="fashion")):
        assert Cell.from_name(cell.name) == cell and re.fullmatch(CELL_PATTERN, cell.name)
    with pytest.raises(ValueError, match="letters and digits"):
        Cell(4, 8, 0.1, 0.0, data="fashion_mnist")
    grid = experiment_grid({"settings": {"data": "mnist5k"}, "load": {"axis": "pixel_noise", "values": [0, 40]},
                            "temperature": {"axis": "batch_size", "values": [32]}}, DEFAULTS)
    assert grid["cell"].tolist() == ["w64_b32_lr0.05_wd0.0005_s1.0_n0.0_data-mnist5k",
                                     "w64_b32_lr0.05_wd0.0005_s1.0_n0.0_u40.0_data-mnist5k"]
    with pytest.raises(ValueError, match="pixel_noise must lie in"):
        experiment_grid({"load": {"axis": "pixel_noise", "values": [300]},
                         "temperature": {"axis": "batch_size", "values": [32]}}, DEFAULTS)


def test_vgg11_k_has_the_papers_stage_widths_and_takes_flat_fashion_images():
    """Fig. 16's VGG11-k (App. D.2: stage widths {k, 2k, 4k, 4k, 8k, 8k, 8k, 8k}): the parameter count from the
    stage list (conv 3x3 with bias + BatchNorm per stage, one linear layer on 8k features), the standard VGG11 at
    k = 64, and 28x28 one-channel images, flat as the IDX reader stores them, reach a 1x1 map."""
    import torch

    from thermoscape.nets import build

    def expected(k, c_in, n_classes=10):
        total = 0
        for c_out in (k * m for m in (1, 2, 4, 4, 8, 8, 8, 8)):
            total += c_in * c_out * 9 + c_out + 2 * c_out
            c_in = c_out
        return total + 8 * k * n_classes + n_classes

    standard = build({"name": "vgg11", "width": 64}, 0)
    assert sum(p.numel() for p in standard.parameters()) == expected(64, 3) == 9_231_114
    small = build({"name": "vgg11", "width": 2, "in_channels": 1}, 0).eval()
    assert sum(p.numel() for p in small.parameters()) == expected(2, 1)
    flat = torch.rand(3, 784)
    assert small.features(flat.view(3, 1, 28, 28)).shape == (3, 16, 1, 1)
    assert torch.equal(small(flat), small(flat.view(3, 1, 28, 28)))
    with pytest.raises(ValueError, match="square images"):
        small(torch.rand(2, 780))


def test_model_is_a_cell_setting_and_trains_its_network():
    from thermoscape.data.readers import Split
    from thermoscape.studies.taxonomy.experiment import cell_data, train_replicas

    cell = Cell(2, 16, 0.05, 5e-4, data="fashion", model="vgg11")
    assert cell.name == "w2_b16_lr0.05_wd0.0005_s1.0_n0.0_data-fashion_model-vgg11"
    assert Cell.from_name(cell.name) == cell and re.fullmatch(CELL_PATTERN, cell.name)
    assert Cell(2, 16, 0.05, 5e-4).name == "w2_b16_lr0.05_wd0.0005_s1.0_n0.0"  # names without it unchanged
    rng = np.random.default_rng(0)
    split = Split(rng.random((32, 784), dtype=np.float32), rng.integers(0, 10, 32), rng.random((8, 784), dtype=np.float32),
                  rng.integers(0, 10, 8), 10)
    data = cell_data(split, pd.DataFrame({"label": split.y_train}), cell)
    training = {"lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4, "batch_size": 16, "schedule": "constant",
                "min_epochs": 1, "max_epochs": 2, "patience": 5, "tol": 1e-4}
    stored, history = train_replicas(cell, data, {"seed": 0, "model": {"name": "vgg11"}, "replicas": 2,
                                                  "training": training})
    assert stored["arch"] == {"name": "vgg11", "width": 2, "n_classes": 10, "in_channels": 1}
    assert len(stored["states"]) == 2 and history.groupby("replica")["epoch"].size().tolist() == [2, 2]


def test_linear_scaling_sets_the_learning_rate_from_the_batch_size():
    grid = experiment_grid({"linear_scaling": 128, "load": {"axis": "width", "values": [4]},
                            "temperature": {"axis": "batch_size", "values": [16, 32, 128, 1024]}}, DEFAULTS)
    assert grid["lr"].tolist() == [0.00625, 0.0125, 0.05, 0.4]  # 0.05 k at batch 128 k (App. D.7.2)
    # the reference batch keeps the Fig. 2 cell, shared with the phase diagram
    assert grid["cell"].iloc[2] == Cell(4, 128, 0.05, 5e-4).name
    with pytest.raises(ValueError, match="lr cannot be an axis"):
        experiment_grid({"linear_scaling": 128, "load": {"axis": "width", "values": [4]},
                         "temperature": {"axis": "lr", "values": [0.1]}}, DEFAULTS)


def split_of(x_train: np.ndarray) -> Split:
    n = len(x_train)
    return Split(x_train.astype(np.float32), np.arange(n) % 2, x_train[:3].astype(np.float32), np.arange(3) % 2, 2)


def test_pixel_noise_is_one_field_scaled_by_u_within_each_features_range():
    rng = np.random.default_rng(1)
    x = np.stack([rng.uniform(-1, 1, 500), rng.uniform(0, 10, 500), np.full(500, 3.0)], 1)
    split = split_of(x)
    assert add_pixel_noise(split, 0.0) is split
    small, large = add_pixel_noise(split, 20.0), add_pixel_noise(split, 40.0)
    low, high = x.min(0), x.max(0)
    for noisy in (small, large):
        assert (noisy.x_train >= x - 1e-6).all() and (noisy.x_train <= high + 1e-6).all()
        np.testing.assert_array_equal(noisy.x_test, split.x_test)
        np.testing.assert_array_equal(noisy.y_train, split.y_train)
    shift_small, shift_large = small.x_train - x, large.x_train - x
    unclipped = (large.x_train < high - 1e-6).all(axis=1)
    # the same U[0, 1) field: twice the magnitude, twice the shift (where neither clips)
    np.testing.assert_allclose(shift_large[unclipped], 2 * shift_small[unclipped], rtol=1e-4, atol=1e-6)
    # U[0, u / 255) of the feature's range: mean u / 510 x range away from the clip; constant feature untouched
    inner = x[:, 1] < high[1] - 40 / 255 * (high[1] - low[1])
    assert shift_large[inner, 1].mean() == pytest.approx(20 / 255 * (high[1] - low[1]), rel=0.1)
    assert (shift_large[:, 2] == 0).all()
    np.testing.assert_array_equal(add_pixel_noise(split, 40.0).x_train, large.x_train)  # seeded
    assert not np.array_equal(add_pixel_noise(split, 40.0, seed=1).x_train, large.x_train)
    with pytest.raises(ValueError):
        add_pixel_noise(split, 300.0)


def write_svhn(directory: Path, n_train: int = 30, n_test: int = 12) -> None:
    """SVHN format 2 (``X``: 32 x 32 x 3 x n uint8, ``y``: n x 1 with digit 0 stored as 10)."""
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    directory.mkdir()
    for name, n in (("train_32x32.mat", n_train), ("test_32x32.mat", n_test)):
        labels = (np.arange(n) % 10 + 1).reshape(n, 1)  # 1..10
        images = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
        images[0, 0, 0, :] = labels[:, 0]  # a pixel that names the label, to check the layout
        savemat(directory / name, {"X": images, "y": labels})


def test_svhn_reader_maps_label_10_to_0_and_normalises_per_channel(tmp_path):
    write_svhn(tmp_path / "svhn")
    split = load_split("svhn", tmp_path / "svhn")
    assert split.x_train.shape == (30, 3, 32, 32) and split.x_test.shape == (12, 3, 32, 32)
    assert split.n_classes == 10 and split.y_train[:10].tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]
    raw = (np.arange(30) % 10 + 1).astype(np.float32) / 255  # pixel (0, 0) of channel 0
    order = np.argsort(raw)
    assert (np.diff(split.x_train[order, 0, 0, 0]) >= 0).all()  # same image order and layout (n, c, h, w)
    assert np.abs(split.x_train.mean(axis=(0, 2, 3))).max() < 1e-4
    assert split.x_train.std(axis=(0, 2, 3)) == pytest.approx(np.ones(3), rel=1e-3)
    assert training_set_size("svhn", tmp_path / "svhn", n_train=20) == 20 and training_set_size("svhn") is None
    assert load_split("svhn", tmp_path / "svhn", n_train=5, classes=[0, 1]).n_classes == 2
    with pytest.raises(ValueError, match="needs path"):
        load_split("svhn")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "train_32x32.mat").write_bytes(b"not a mat file")
    (tmp_path / "broken" / "test_32x32.mat").write_bytes(b"not a mat file")
    with pytest.raises(ValueError, match="not a readable SVHN"):
        load_split("svhn", tmp_path / "broken")


def test_data_checks_name_the_dataset_key_and_defer_absent_directories(tmp_path):
    from test_config import SCHEMA, merge
    from test_datasets import write_idx_dir

    from thermoscape.core.config import validate_config
    from thermoscape.data.checks import data_problems

    default = yaml.safe_load((Path(__file__).resolve().parents[1] / "config" / "config.yaml").read_text())
    write_idx_dir(tmp_path / "idx", n_train=40, n_test=20)
    too_many = {"taxonomy": {"datasets": {"fashion": {"name": "idx", "path": str(tmp_path / "idx")}}}}
    problems = data_problems(validate_config(merge(default, too_many), SCHEMA))
    assert any(p.startswith("taxonomy.datasets.fashion.n_train: 1400 is larger than the 40") for p in problems)
    absent = {"taxonomy": {"datasets": {"fashion": {"name": "idx", "path": str(tmp_path / "none")},
                                        "cifar100": {"name": "cifar100"}}}}
    problems = data_problems(validate_config(merge(default, absent), SCHEMA))
    assert not [p for p in problems if "taxonomy.datasets" in p]  # named by the rule when a job needs them


def diagram(mc, train_accuracy, accuracy, cka=None, widths=(4, 16, 64), rows=(16, 64, 256), axis="batch_size"):
    """A width x temperature diagram from per-cell functions ``f(width, row)``."""
    records = []
    for width in widths:
        for temperature in rows:
            records.append({"width": width, axis: temperature, "load": width, "temperature": temperature,
                            "mc": mc(width, temperature), "train_accuracy": train_accuracy(width, temperature),
                            "test_accuracy": accuracy(width, temperature), "test_accuracy_std": 0.1,
                            "n_replicas": 3, "cka": 0.5 if cka is None else cka(width, temperature)})
    cells = pd.DataFrame(records)
    cells["phase"] = label_phases(cells, PhaseRules())
    return cells


def test_zero_loss_claim_finds_a_column_whose_best_cell_is_rough():
    # width 16: memorises (III) at cold rows, under-fits at the hot row 16 (mc < -1: Phase I), which is best
    cells = diagram(lambda w, t: -5.0 if w < 64 else 0.0, lambda w, t: 100.0 if (w > 4 and t > 16) else 90.0,
                    lambda w, t: 80.0 + (5.0 if (w == 16 and t == 16) else 0.0) + 0.01 * w)
    row = zero_loss_claim(cells, "noise_lr", "batch_size")
    assert row["verdict"] == HOLDS and row["value"] == 1 and row["n"] == 1
    assert "width 16: +5.00 +- 0.08 pp" in row["detail"]
    flat_best = cells.assign(test_accuracy=lambda c: 80 + 5.0 * (c["phase"] == "III"))
    assert zero_loss_claim(flat_best)["verdict"] == "fails"
    no_phase_iii = cells.assign(train_accuracy=90.0, phase=lambda c: label_phases(c, PhaseRules()))
    assert zero_loss_claim(no_phase_iii)["verdict"] == "undetermined"


def pixel_cells(mc_slope: float, cka_slope: float) -> pd.DataFrame:
    """Width 64, u 0-80 x batch 16-128: mc = 3 at the hot row 16 (II), else ``mc_slope`` x u; CKA 0.9 +
    ``cka_slope`` x u."""
    records = []
    for u in (0.0, 20.0, 80.0):
        for batch in (16, 32, 64, 128):
            records.append({"width": 64, "batch_size": batch, "pixel_noise": u, "load": u, "temperature": batch,
                            "test_accuracy": 90.0, "mc": 3.0 if batch == 16 else mc_slope * u,
                            "cka": 0.9 + cka_slope * u + 0.001 * batch})
    return pd.DataFrame(records)


def test_pixel_noise_claims_have_known_answers():
    rows = {r["claim"]: r for r in pixel_noise_claims(pixel_cells(-0.005, -0.002), PhaseRules())}
    mc, cka = rows["mc flat in pixel noise"], rows["cka falls with pixel noise"]
    # rows 32-128 are connected at u = 0 (the hot row 16 is not): |mc| at u = 80 is 0.4 <= 1
    assert mc["verdict"] == HOLDS and mc["value"] == pytest.approx(0.4) and mc["n"] == 3
    assert mc["uncertainty"] == pytest.approx(0.0) and "16:" not in mc["detail"]
    assert cka["verdict"] == HOLDS and cka["value"] == pytest.approx(-1.0)
    assert "batch_size 64-128" in cka["fit_range"]  # the colder half of the rows
    rows = {r["claim"]: r["verdict"] for r in pixel_noise_claims(pixel_cells(-0.05, 0.001), PhaseRules())}
    assert rows == {"mc flat in pixel noise": "fails", "cka falls with pixel noise": "fails"}
    hot = pixel_cells(-0.05, 0.001).assign(mc=5.0)
    assert pixel_noise_claims(hot, PhaseRules())[0]["verdict"] == "undetermined"


def test_large_batch_claim_compares_the_largest_row_with_the_phase_grids_largest():
    cells = diagram(lambda w, t: 0.0, lambda w, t: 100.0, lambda w, t: 90.0, widths=(16, 64),
                    rows=(64, 256, 1024)).assign(hessian_top=lambda c: np.where(c["batch_size"] == 1024,
                                                                              c["width"] * 3.0, c["width"] * 1.0))
    row = large_batch_claim(cells, 256, Criteria())
    assert row["verdict"] == HOLDS and row["value"] == pytest.approx(np.log(3.0))
    assert row["uncertainty"] == pytest.approx(0.0) and row["n"] == 2
    assert large_batch_claim(cells, 256, Criteria(large_batch_hessian=4.0))["verdict"] == "fails"
    assert large_batch_claim(cells, 1024, Criteria())["verdict"] == "undetermined"  # nothing beyond
    assert large_batch_claim(cells, 128, Criteria())["verdict"] == "undetermined"  # no reference row


def test_linear_scaling_claims_compare_spreads_along_batch_size():
    def cells(slope: float) -> pd.DataFrame:
        table = diagram(lambda w, t: slope * np.log2(t), lambda w, t: 100.0, lambda w, t: 90.0 - slope * np.log2(t))
        return table.assign(hessian_top=lambda c: np.exp(slope * np.log2(c["batch_size"])))

    rows = linear_scaling_claims(cells(0.1), cells(1.0), Criteria())
    assert [r["verdict"] for r in rows] == ["holds"] * 3
    assert [r["value"] for r in rows] == pytest.approx([0.1] * 3)
    assert rows[0]["uncertainty"] == pytest.approx(0.0, abs=1e-12) and "3 widths" in rows[0]["fit_range"]
    assert [r["verdict"] for r in linear_scaling_claims(cells(0.8), cells(1.0), Criteria())] == ["fails"] * 3
    one_row = cells(1.0)[cells(1.0)["batch_size"] == 64]
    assert {r["verdict"] for r in linear_scaling_claims(one_row, one_row, Criteria())} == {"undetermined"}


def test_appendix_claims_dispatch_by_experiment():
    cells = diagram(lambda w, t: -5.0 if w == 4 else 0.0, lambda w, t: 90.0 if w == 4 else 100.0,
                    lambda w, t: 70.0 + w / 4).assign(hessian_top=1.0, hessian_trace=10.0, train_loss=0.1)
    names = {e: [r["claim"] for r in appendix_claims(e, cells, PhaseRules(), Criteria(), reference=cells,
                                                     reference_batch=64)]
             for e in ("fig14_data", "large_batch", "noise_lr", "linear_scaling")}
    assert names["fig14_data"] == ["best accuracy", "mc small width", "mc hot wide", "loss drop", "cka ordering"]
    assert names["large_batch"] == names["fig14_data"] + ["hessian at large batch"]
    assert names["noise_lr"] == ["double descent", "zero loss hurts"] and len(names["linear_scaling"]) == 3
    with pytest.raises(ValueError, match="no App. D claims"):
        appendix_claims("phase", cells, PhaseRules(), Criteria())


def test_appendix_figure_list_is_one_list_with_the_schema_enum_and_the_config_experiments():
    from conftest import ROOT
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    taxonomy = schema["properties"]["taxonomy"]["properties"]
    assert taxonomy["appendix_in_all"]["items"]["enum"] == list(TAXONOMY_APPENDIX)
    for name in ("config", "smoke", "paper"):
        experiments = yaml.safe_load((ROOT / "config" / f"{name}.yaml").read_text())["taxonomy"]["experiments"]
        assert set(TAXONOMY_APPENDIX.values()) <= set(experiments), name


@pytest.mark.workflow
def test_appendix_targets_dry_run_plan_their_cells_and_stay_out_of_all(tmp_path):
    from test_workflow import SMOKE, planned_jobs, write_override

    targets = [f"taxonomy_{f}" for f in FIGURES if f not in ("fig15", "fig16") or Path(FASHION_MNIST_DIR).is_dir()]
    jobs = planned_jobs(tmp_path, *targets, "--configfile", str(SMOKE))
    trained = {w.removeprefix("cell=") for rule, w in jobs if rule == "taxonomy_cell"}
    assert "w32_b128_lr0.05_wd0.0005_s1.0_n0.0_u40.0" in trained  # Fig. 21
    assert "w32_b32_lr0.0125_wd0.0005_s1.0_n0.0" in trained  # Fig. 23: lr 0.05 x 32 / 128
    assert "w4_b128_lr0.05_wd0.0005_s1.0_n0.0_data-mnist5k" in trained  # Fig. 14
    if Path(FASHION_MNIST_DIR).is_dir():
        assert "w2_b128_lr0.05_wd0.0005_s1.0_n0.0_data-fashion_model-vgg11" in trained  # Fig. 16
    assert ("taxonomy_pixel_noise", "source=data, u=40.0") in jobs
    assert ("taxonomy_dataset", "source=data/sets/mnist5k") in jobs
    claims = {w for rule, w in jobs if rule == "taxonomy_appendix_claims"}
    assert {"experiment=pixel_noise", "experiment=linear_scaling", "experiment=large_batch"} <= claims
    assert ("taxonomy_aggregate", "experiment=linear_scaling_reference") in jobs
    assert not [w for rule, w in jobs if rule == "taxonomy_diagram" and "reference" in w]
    everything = planned_jobs(tmp_path, "--configfile", str(SMOKE))
    assert not [w for rule, w in everything if rule == "taxonomy_appendix_claims" or "u40" in w or "data-" in w]
    # listed in appendix_in_all: built by `all` and scored
    in_all = write_override(tmp_path / "in_all.yaml", {"taxonomy": {"appendix_in_all": ["fig21"]}})
    everything = planned_jobs(tmp_path, "--configfile", str(SMOKE), str(in_all))
    assert ("taxonomy_appendix_claims", "experiment=pixel_noise") in everything
    assert ("taxonomy_diagram", "experiment=pixel_noise") in everything


@pytest.mark.workflow
@pytest.mark.parametrize(
    "override, target, named",
    [
        ({"experiments": {"fig14_data": {"settings": {"data": "svhn"}}}}, "taxonomy_fig14",
         "taxonomy.experiments.fig14_data.settings.data: 'svhn' is not a key of taxonomy.datasets"),
        ({"datasets": {"mnist5k": {"name": "cifar100"}}}, "taxonomy_fig14", "taxonomy.datasets.mnist5k.path: cifar100"),
        ({"experiments": {"fig16_vgg": {"settings": {"model": "vgg16"}}}}, "taxonomy_fig16",
         "taxonomy.experiments.fig16_vgg.settings.model: 'vgg16' is not a key of taxonomy.models"),
    ],
    ids=["unknown-key", "cifar100-path", "unknown-model"],
)
def test_bad_appendix_config_fails_naming_the_key(tmp_path, override, target, named):
    from test_workflow import SMOKE, snakemake, write_override

    bad = write_override(tmp_path / "bad.yaml", {"taxonomy": override})
    result = snakemake(tmp_path, target, "-n", "--configfile", str(SMOKE), str(bad), check=False)
    assert result.returncode != 0 and named in result.stderr + result.stdout


@pytest.mark.workflow
def test_fig21_target_builds_its_diagram_and_claims(tmp_path):
    """One cheap real run at smoke scale: the pixel-noise data set, 2 cells, the diagram and the claims."""
    from conftest import smoke_results
    from test_workflow import SMOKE, assert_figures_written, snakemake

    snakemake(tmp_path, "taxonomy_fig21", "--configfile", str(SMOKE))
    results = smoke_results(tmp_path)
    assert_figures_written(results, "taxonomy", ["pixel_noise_diagram"])
    cells = pd.read_parquet(results / "taxonomy" / "tables" / "pixel_noise" / "cells.parquet")
    assert cells["pixel_noise"].tolist() == [0.0, 40.0] and np.isfinite(cells["mc"]).all()
    clean = pd.read_parquet(results / "taxonomy" / "data" / "dataset.parquet")
    noisy = pd.read_parquet(results / "taxonomy" / "data" / "dataset_u40.0.parquet")
    train = (clean["split"] == "train").to_numpy()
    x_clean, x_noisy = np.stack(clean["x"]), np.stack(noisy["x"])
    assert (x_noisy[train] >= x_clean[train] - 1e-6).all() and (x_noisy[train] != x_clean[train]).any()
    np.testing.assert_array_equal(x_noisy[~train], x_clean[~train])
    claims = pd.read_parquet(results / "taxonomy" / "tables" / "pixel_noise" / "claims.parquet")
    assert claims["claim"].tolist() == ["mc flat in pixel noise", "cka falls with pixel noise"]
    assert set(claims["verdict"]) <= {"holds", "fails", "undetermined"} and (claims["slice"] == "pixel_noise").all()
