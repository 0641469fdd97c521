"""thermoscape.studies.fengtu.experiment: the bias-free MLP against an nn.Module with autograd, the landscape of one weight
matrix against the whole network, SGD with snapshots (exact resume after a kill, divergence recorded),
snapshot files, LeNet."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from thermoscape.nets import build
from thermoscape.studies.fengtu.experiment import (
    MLPTask,
    ModuleTask,
    SGDRun,
    Tensors,
    epoch_order,
    layer_landscape,
    layer_slices,
    lenet_variant,
    mlp_spec,
    read_snapshots,
    task_tensors,
    train_with_snapshots,
    uniform_init,
    write_snapshots,
)

F64 = torch.float64


def toy_data(n=120, d=12, classes=4, seed=0) -> Tensors:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, d, generator=g, dtype=F64)
    y = torch.randint(classes, (n,), generator=g)
    return Tensors(x, y, x[:30], y[:30], classes)


def as_module(spec, theta) -> nn.Sequential:
    """The same network as ``theta`` as an nn.Sequential of bias-free Linear layers (reference for autograd)."""
    layers = []
    for (n_in, n_out), s in zip(spec.layer_sizes(), layer_slices(spec)):
        linear = nn.Linear(n_in, n_out, bias=False).double()
        linear.weight.data = theta[s].view(n_out, n_in).clone()
        layers += [linear, nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def test_mlp_task_gradient_equals_autograd_of_the_module():
    data = toy_data()
    spec = mlp_spec(12, [8, 6, 5], 4)
    theta = uniform_init(spec, 3)
    index = torch.arange(7, 57)
    loss, grad = MLPTask(spec, data.x, data.y).batch_loss_and_grad(theta, index)
    module = as_module(spec, theta)
    reference = F.cross_entropy(module(data.x[index]), data.y[index])
    reference.backward()
    expected = torch.cat([m.weight.grad.reshape(-1) for m in module if isinstance(m, nn.Linear)])
    assert float(loss) == pytest.approx(float(reference.detach()), rel=1e-13)
    torch.testing.assert_close(grad, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("layer", [1, 2, 3, 4])
def test_layer_landscape_is_the_network_as_a_function_of_one_matrix(layer):
    data = toy_data()
    spec = mlp_spec(12, [8, 6, 5], 4)
    theta = uniform_init(spec, 4)
    task = MLPTask(spec, data.x, data.y)
    landscape = layer_landscape(spec, theta, layer, data.x, data.y)
    s = layer_slices(spec)[layer - 1]
    g = torch.Generator().manual_seed(5)
    points = theta[s] + 0.3 * torch.randn(3, s.stop - s.start, generator=g, dtype=F64)
    for point in points:
        moved = theta.clone()
        moved[s] = point
        full = F.cross_entropy(task.logits(moved), data.y)
        assert float(landscape.loss(point[None])[0]) == pytest.approx(float(full), rel=1e-13)
        index = torch.arange(10, 60)
        _, grad = landscape.batch_loss_and_grad(point, index)
        torch.testing.assert_close(grad, task.batch_loss_and_grad(moved, index)[1][s], rtol=1e-12, atol=1e-14)
    # full-batch gradient for the Langevin engine, and the per-sample losses differentiate through torch.func
    loss, grad = landscape.loss_and_grad(points)
    direction = torch.randn(points.shape[1], generator=g, dtype=F64)
    _, jvp = torch.func.jvp(lambda p: landscape.per_sample_loss(p).mean(dim=1), (points,),
                            (direction.expand_as(points).contiguous(),))
    torch.testing.assert_close(jvp, grad @ direction, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(loss, landscape.loss(points))


def test_layer_landscape_rejects_biases_and_bad_layers():
    data = toy_data()
    with pytest.raises(ValueError, match="bias-free"):
        layer_landscape(mlp_spec(12, [8], 4).__class__((12, 8, 4), bias=True), torch.zeros(140, dtype=F64), 1,
                        data.x, data.y)
    spec = mlp_spec(12, [8, 6], 4)
    with pytest.raises(ValueError, match="layer"):
        layer_landscape(spec, uniform_init(spec, 0), 4, data.x, data.y)


def test_uniform_init_is_pytorch_default_range_and_deterministic():
    spec = mlp_spec(784, [50, 50], 10)
    theta = uniform_init(spec, 1)
    assert theta.numel() == 42_200  # 39,200 + 2,500 + 500 weights, no biases (brief 2.1)
    for (n_in, _), s in zip(spec.layer_sizes(), layer_slices(spec)):
        bound = 1 / math.sqrt(n_in)
        assert float(theta[s].abs().max()) <= bound
        assert float(theta[s].std()) == pytest.approx(bound / math.sqrt(3), rel=0.05)  # U(-b, b)
    torch.testing.assert_close(theta, uniform_init(spec, 1), rtol=0, atol=0)


def test_epoch_order_is_a_permutation_without_the_partial_batch():
    order = epoch_order(103, 10, seed=4, epoch=2)
    assert order.shape == (10, 10) and len(set(order.flatten().tolist())) == 100
    assert not torch.equal(order, epoch_order(103, 10, seed=4, epoch=3))
    torch.testing.assert_close(order, epoch_order(103, 10, seed=4, epoch=2), rtol=0, atol=0)
    with pytest.raises(ValueError, match="batch_size"):
        epoch_order(5, 10, 0, 0)



def _lenet(variant, seed):
    return build({"name": "lenet", "variant": variant}, seed, torch.float64)


def _sgd(data, run, state_path=None, stop=None):
    spec = mlp_spec(12, [8, 6], 4)
    task = MLPTask(spec, data.x, data.y)
    evaluate = lambda theta: (float(F.cross_entropy(task.logits(theta), data.y)), 0.0, 0.0)
    return train_with_snapshots(uniform_init(spec, 2), task.batch_loss_and_grad, task.n_samples, run, 9, evaluate,
                                {"W2": layer_slices(spec)[1]}, state_path=state_path, save_every_s=0,
                                _stop_after_epochs=stop)  # a state after every epoch: the kill tests resume from one


def test_sgd_snapshots_every_iteration_of_the_window():
    data = toy_data()
    run = SGDRun(lr=0.2, batch_size=20, epochs=5, window=2, checkpoint_epochs=(0, 3, 5))
    outcome = _sgd(data, run)
    assert outcome.snapshots["W2"].shape == (2 * (120 // 20), 48)
    np.testing.assert_array_equal(outcome.snapshots["W2"][-1], outcome.theta[layer_slices(mlp_spec(12, [8, 6], 4))[1]])
    assert sorted(outcome.checkpoints) == [0, 3, 5]
    torch.testing.assert_close(outcome.checkpoints[5], outcome.theta)
    assert list(outcome.history["epoch"]) == list(range(6)) and not outcome.diverged
    assert outcome.history["loss"].iloc[-1] < outcome.history["loss"].iloc[0]


def test_sgd_killed_run_resumes_to_identical_results(tmp_path):
    data = toy_data()
    run = SGDRun(lr=0.2, batch_size=20, epochs=6, window=4, checkpoint_epochs=(1, 6))
    whole = _sgd(data, run)
    with pytest.raises(KeyboardInterrupt):
        _sgd(data, run, tmp_path / "state.pt", stop=3)  # killed inside the window
    resumed = _sgd(data, run, tmp_path / "state.pt")
    torch.testing.assert_close(resumed.theta, whole.theta, rtol=0, atol=0)
    np.testing.assert_array_equal(resumed.snapshots["W2"], whole.snapshots["W2"])
    assert resumed.history.equals(whole.history)
    torch.testing.assert_close(resumed.checkpoints[1], whole.checkpoints[1], rtol=0, atol=0)
    # a state written by another run is not resumed
    other = _sgd(data, SGDRun(lr=0.1, batch_size=20, epochs=6, window=4), tmp_path / "state.pt")
    assert not torch.equal(other.theta, whole.theta)


def test_adam_matches_torch_optim_adam_and_resumes_after_a_kill(tmp_path):
    """E6: the trainer's Adam step equals torch.optim.Adam (default betas and eps) on the same minibatches,
    and a killed Adam run resumes with its moments to the same result."""
    data = toy_data()
    run = SGDRun(lr=1e-2, batch_size=20, epochs=3, window=1, optimizer="adam")
    outcome = _sgd(data, run)
    spec = mlp_spec(12, [8, 6], 4)
    task = MLPTask(spec, data.x, data.y)
    theta = uniform_init(spec, 2).clone().requires_grad_(True)
    optimizer = torch.optim.Adam([theta], lr=1e-2)
    for epoch in range(3):
        for index in epoch_order(task.n_samples, 20, 9, epoch):
            optimizer.zero_grad()
            theta.grad = task.batch_loss_and_grad(theta.detach(), index)[1]
            optimizer.step()
    torch.testing.assert_close(outcome.theta, theta.detach(), rtol=1e-12, atol=1e-14)
    assert not torch.allclose(outcome.theta, _sgd(data, SGDRun(lr=1e-2, batch_size=20, epochs=3, window=1)).theta)
    with pytest.raises(KeyboardInterrupt):
        _sgd(data, run, tmp_path / "state.pt", stop=2)
    torch.testing.assert_close(_sgd(data, run, tmp_path / "state.pt").theta, outcome.theta, rtol=0, atol=0)
    with pytest.raises(ValueError, match="optimizer"):
        SGDRun(lr=1e-2, batch_size=20, epochs=3, window=1, optimizer="rmsprop")


def test_sgd_divergence_is_recorded_not_raised():
    data = toy_data()
    spec = mlp_spec(12, [8, 6], 4)
    task = MLPTask(spec, data.x, data.y)

    def exploding(theta, index):
        loss, grad = task.batch_loss_and_grad(theta, index)
        return (loss * math.inf if float(theta.abs().max()) > 5 else loss), grad * 50

    outcome = train_with_snapshots(uniform_init(spec, 2), exploding, task.n_samples,
                                   SGDRun(lr=1.0, batch_size=20, epochs=20, window=20), 9,
                                   lambda theta: (1.0, 0.0, 0.0), {"W2": layer_slices(spec)[1]})
    assert outcome.diverged
    assert not outcome.history["finite"].iloc[-1] and len(outcome.history) < 21
    assert torch.isfinite(outcome.theta).all()


def test_snapshot_files_round_trip(tmp_path):
    g = np.random.default_rng(0)
    snapshots = {"W2": g.normal(size=(7, 9)), "W3": g.normal(size=(4, 5))}
    write_snapshots(snapshots, tmp_path / "s.parquet")
    for name, rows in snapshots.items():
        np.testing.assert_array_equal(read_snapshots(tmp_path / "s.parquet", name), rows)
    assert read_snapshots(tmp_path / "s.parquet", "W9").shape == (0, 0)


def test_task_tensors_keep_the_task_classes_and_the_output_size():
    data = toy_data()
    task = task_tensors(data, [1, 3])
    assert set(task.y.tolist()) <= {1, 3} and len(task.y) == int(torch.isin(data.y, torch.tensor([1, 3])).sum())
    assert task.n_classes == 4
    assert set(task_tensors(data, [0], test=True).y.tolist()) == {0}


def test_lenet_has_the_papers_shape_and_trains_through_its_flat_parameters():
    model = _lenet("mnist", 0)
    assert sum(p.numel() for n, p in model.named_parameters() if "weight" in n) == 28_624  # brief 2.1
    g = torch.Generator().manual_seed(1)
    x = torch.rand(40, 784, generator=g, dtype=F64)
    y = torch.randint(10, (40,), generator=g)
    task = ModuleTask(model, x, y)
    theta = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    _, grad = task.batch_loss_and_grad(theta, torch.arange(20))
    model.zero_grad()
    F.cross_entropy(model(x[:20]), y[:20]).backward()
    torch.testing.assert_close(grad, torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    assert task.logits(theta).shape == (40, 10)
    assert _lenet("cifar", 0)(torch.zeros(2, 3 * 32 * 32, dtype=F64)).shape == (2, 10)


def test_architecture_names_dispatch_or_fail_naming_the_valid_ones():
    assert lenet_variant("mlp") is None
    assert lenet_variant("lenet_cifar") == "cifar"
    with pytest.raises(ValueError, match="unknown architecture 'resnet'; valid: mlp, lenet_mnist, lenet_cifar"):
        lenet_variant("resnet")
