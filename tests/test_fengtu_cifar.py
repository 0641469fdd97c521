"""Feng & Tu Figs. S3C-D (E5): the loss as a function of one LeNet parameter tensor against the whole network,
its flatness on an analytic case, the conv-layer claims, and the LeNet-CIFAR chain through Snakemake on a
fake CIFAR-10 directory (the real one cannot be downloaded)."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import F64, SMOKE_RESULTS, smoke_results
from test_workflow import SMOKE, planned_jobs, snakemake, write_override
from torch import nn
from torch.nn import functional as F

from thermoscape.nets import build
from thermoscape.studies.fengtu.experiment import (
    ModuleLayerLandscape,
    ModuleTask,
    Tensors,
    lenet_landscape,
    lenet_layers,
    parameter_slices,
    run_landscape,
)
from thermoscape.studies.fengtu.claims import Criteria, conv_flatness_claims
from thermoscape.measure.flatness import crossing_widths, flatness
from thermoscape.core.io import load_tensors
from thermoscape.nets.networks import flat_parameters


def _lenet(seed):
    return build({"name": "lenet", "variant": "cifar"}, seed, torch.float64)


def cifar_like(n: int = 24, seed: int = 0) -> Tensors:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3 * 32 * 32, generator=g, dtype=F64)
    y = torch.randint(10, (n,), generator=g)
    return Tensors(x, y, x[:4], y[:4], 10)


def test_lenet_cifar_layers_are_the_two_convolutions():
    model = _lenet(0)
    layers = lenet_layers(model)
    assert layers == {"conv1": "features.0.weight", "conv2": "features.3.weight"}
    slices = parameter_slices(model)
    assert [slices[name].stop - slices[name].start for name in layers.values()] == [450, 2400]


@pytest.mark.parametrize("layer", ["conv1", "conv2"])
def test_module_landscape_is_the_network_loss_with_that_parameter_replaced(layer):
    data = cifar_like()
    model = _lenet(3)
    theta = flat_parameters(model).double()
    landscape, w0 = run_landscape("lenet_cifar", [], data, theta, layer)
    assert isinstance(landscape, ModuleLayerLandscape) and landscape.n_params == w0.numel()
    landscape.chunk, landscape.sample_chunk = 2, 7  # uneven chunks of points and samples
    g = torch.Generator().manual_seed(1)
    points = w0 + 0.05 * torch.randn(5, w0.numel(), generator=g, dtype=F64)
    where = parameter_slices(model)[lenet_layers(model)[layer]]
    task = ModuleTask(model, data.x, data.y)
    direct, grads = [], []
    for point in points:
        full = theta.clone()
        full[where] = point
        full.requires_grad_(True)
        loss = F.cross_entropy(task._logits(full, data.x), data.y)
        direct.append(loss.detach())
        grads.append(torch.autograd.grad(loss, full)[0][where])
    torch.testing.assert_close(landscape.loss(points), torch.stack(direct), rtol=1e-12, atol=1e-14)
    loss, grad = landscape.loss_and_grad(points)
    torch.testing.assert_close(loss, torch.stack(direct), rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(grad, torch.stack(grads), rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(landscape.loss(w0[None])[0], F.cross_entropy(task.logits(theta), data.y))
    index = torch.tensor([0, 5, 9])
    batch_loss, _ = landscape.batch_loss_and_grad(points[0], index)
    full = theta.clone()
    full[where] = points[0]
    torch.testing.assert_close(batch_loss, F.cross_entropy(task.logits(full, data.x[index]), data.y[index]))


def test_module_landscape_flatness_of_an_analytic_loss():
    """A linear model with zero weights: every logit is 0, so L_0 = ln C. Along the unit direction that moves
    W[0, 0] by d, with x_0 = 1 for every sample, z_0 = d and the other logits stay 0; half the samples are of
    class 0 and half of class 1, so L(d) = ln(C - 1 + e^d) - d / 2, which rises on both sides. The e L_0
    crossings are the roots of L(d) - e L_0 (bisected here to machine precision) and F is their distance."""
    n_classes, n = 4, 6
    model = nn.Linear(3, n_classes, bias=False).double()
    nn.init.zeros_(model.weight)
    x = torch.zeros(n, 3, dtype=F64)
    x[:, 0] = 1.0
    labels = torch.tensor([0, 1] * (n // 2))
    landscape = ModuleLayerLandscape(model, "weight", x, labels)
    w0 = torch.zeros(n_classes * 3, dtype=F64)
    direction = torch.zeros(1, n_classes * 3, dtype=F64)
    direction[0, 0] = 1.0
    d_plus, d_minus, loss0 = crossing_widths(landscape.loss, w0, direction, rel_tol=1e-9)
    assert loss0 == pytest.approx(math.log(n_classes), rel=1e-12)

    def excess(d: float) -> float:
        return math.log(n_classes - 1 + math.exp(d)) - d / 2 - math.e * loss0

    def root(below: float, above: float) -> float:  # excess(below) < 0 <= excess(above)
        for _ in range(200):
            mid = 0.5 * (below + above)
            below, above = (mid, above) if excess(mid) < 0 else (below, mid)
        return 0.5 * (below + above)

    upper, lower = root(0.0, 60.0), root(0.0, -60.0)
    assert float(d_plus[0]) == pytest.approx(upper, rel=1e-8)
    assert float(d_minus[0]) == pytest.approx(-lower, rel=1e-8)
    assert float(flatness(landscape.loss, w0, direction, rel_tol=1e-9)[0]) == pytest.approx(upper - lower, rel=1e-8)


def test_lenet_landscape_rejects_unknown_layers():
    data = cifar_like(4)
    theta = flat_parameters(_lenet(0)).double()
    with pytest.raises(ValueError, match="valid: conv1, conv2"):
        lenet_landscape("cifar", data, theta, "conv3")
    with pytest.raises(ValueError, match="no parameter 'missing'"):
        ModuleLayerLandscape(_lenet(0), "missing", data.x, data.y)


def conv_table(exponent: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ranks = np.arange(1, 60)
    width = 0.1 * ranks**0.5 * np.exp(0.02 * rng.standard_normal(ranks.size))
    return pd.DataFrame({"rank": ranks, "variance": width**-exponent, "width": width})


def test_conv_flatness_claims_per_layer_and_spread_within_a_layer_only():
    tables = {"cifar_a conv1": conv_table(2.0, 0), "cifar_a conv2": conv_table(-1.0, 1),
              "cifar_b conv1": conv_table(2.5, 2)}
    rows = conv_flatness_claims(tables, (2, 500), Criteria())
    psi = {r["slice"]: r for r in rows if r["quantity"] == "psi"}
    assert psi["cifar_a conv1"]["verdict"] == "holds" and psi["cifar_b conv1"]["verdict"] == "holds"
    assert psi["cifar_a conv2"]["verdict"] == "fails"  # variance growing with F: no inverse relation
    assert {r["claim"] for r in psi.values()} == {"inverse variance-flatness relation (Fig. S3D, LeNet-CIFAR, Eq. 8)"}
    spread = [r for r in rows if r["quantity"] == "max psi - min psi"]
    assert [r["slice"] for r in spread] == ["all runs, conv1"]  # conv2 has one run; conv1 never vs conv2
    assert conv_flatness_claims({}, (2, 500), Criteria()) == []


# -- the LeNet-CIFAR chain through the workflow -------------------------------------------------------------


def fake_cifar(directory: Path, per_batch: int = 12, seed: int = 0) -> Path:
    """CIFAR-10 "python version" batches of random images: data_batch_1..5 and test_batch."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, size=per_batch).tolist()}
        with (directory / name).open("wb") as handle:
            pickle.dump(batch, handle)
    return directory


def tiny_config(path: Path | None) -> dict:
    """Smoke's Feng & Tu, shortened further, plus one LeNet-CIFAR run on 60 images."""
    return {"fengtu": {
        "training": {"epochs": 2, "window": 1, "checkpoints": [0, 2]},
        "deep": {"hidden": [50, 50, 50], "epochs": 2, "runs": [{"lr": 0.1, "batch_size": 50, "seed": 0}]},
        # few ranks, a coarse bisection from h = 1: the LeNet losses on random images are very flat (F ~ 10-100)
        "flatness": {"directions": 4, "max_rank": 300, "h0": 1.0, "rel_tol": 1.0e-2, "profile_points": 5,
                     "profile_ranks": [1, 2, 10]},
        "lenet_cifar": {"path": None if path is None else str(path), "epochs": 4, "window": 3,
                        "runs": [{"lr": 0.01, "batch_size": 10, "seed": 0}]},
    }}


@pytest.mark.workflow
def test_lenet_cifar_chain_builds_conv_tables(tmp_path):
    """Data set -> training -> PCA -> flatness of conv1 and conv2 (Fig. S3D's tables; the panels are drawn
    in test_plots_fengtu, and the figure's wiring is checked by the dry run below)."""
    cifar = fake_cifar(tmp_path / "cifar")
    config = write_override(tmp_path / "cifar.yaml", tiny_config(cifar))
    workdir = tmp_path / "work"
    run = smoke_results(workdir) / "fengtu" / "runs" / "cifar_lr0.01_B10_s0"
    snakemake(workdir, *(str(run.relative_to(workdir) / layer / "flatness.parquet") for layer in ("conv1", "conv2")),
              "--configfile", str(SMOKE), str(config))
    history = pd.read_parquet(run / "history.parquet")
    assert len(history) == 5 and history["finite"].all()
    snapshots = 3 * (60 // 10)  # one per SGD step of the 3-epoch window
    for layer, n in (("conv1", 450), ("conv2", 2400)):
        pca = pd.read_parquet(run / layer / "pca.parquet")
        assert len(pca) == snapshots - 1 and (pca["variance"] > 0).all()
        components = load_tensors(run / layer / "pca.pt")
        assert tuple(components["directions"].shape) == (snapshots - 1, n)
        assert tuple(components["mean"].shape) == (n,)
        scan = pd.read_parquet(run / layer / "flatness.parquet")
        assert {1, 2, 10}.issubset(scan["rank"]) and (scan["width"] > 0).all()
        assert scan["loss0"].nunique() == 1 and np.isfinite(scan["loss0"]).all()


@pytest.mark.workflow
def test_lenet_cifar_run_without_a_path_fails_naming_the_key_and_with_one_feeds_the_claims(tmp_path):
    config = write_override(tmp_path / "cifar.yaml", tiny_config(None))
    result = snakemake(tmp_path, "fengtu", "-n", "--configfile", str(SMOKE), str(config), check=False)
    assert result.returncode != 0 and "fengtu.lenet_cifar.path" in result.stderr + result.stdout
    assert not (tmp_path / "results").exists()
    # with a directory (a dry run reads nothing), the claims table needs both conv layers' flatness scans
    config = write_override(tmp_path / "cifar.yaml", tiny_config(tmp_path / "cifar"))
    (tmp_path / "cifar").mkdir()
    jobs = planned_jobs(tmp_path, f"{SMOKE_RESULTS}/fengtu/tables/claims.parquet",
                        "--configfile", str(SMOKE), str(config))
    conv = sorted(w for rule, w in jobs if rule == "fengtu_flatness" and "cifar" in w)
    assert conv == ["ftrun=cifar_lr0.01_B10_s0, layer=conv1", "ftrun=cifar_lr0.01_B10_s0, layer=conv2"]
    assert ("fengtu_cifar_dataset", "") in jobs
    figure = planned_jobs(tmp_path, f"{SMOKE_RESULTS}/figures/fengtu/figS3.png",
                          "--configfile", str(SMOKE), str(config))
    assert sorted(w for rule, w in figure if rule == "fengtu_flatness" and "cifar" in w) == conv
