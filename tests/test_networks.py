"""Networks of the Yang et al. grid: construction, flat parameter view, functional loss, BN recomputation."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import grad, jvp

from thermoscape.nets import build
from thermoscape.nets.networks import (
    evaluate,
    flat_parameters,
    has_batchnorm,
    outputs,
    parameter_loss,
    recompute_batchnorm,
    set_flat_parameters,
)

MLP = {"name": "mlp", "in_features": 64, "width": 16, "depth": 3, "n_classes": 10}
RESNET = {"name": "resnet18", "width": 2, "in_channels": 3, "n_classes": 10}


def test_mlp_parameter_count_and_shape():
    model = build(MLP, seed=0)
    d, w, depth, c = 64, 16, 3, 10
    expected = (d * w + w) + (depth - 1) * (w * w + w) + (w * c + c)
    assert flat_parameters(model).numel() == expected == 1_754
    assert not has_batchnorm(model)
    assert model(torch.randn(5, 64)).shape == (5, 10)
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_resnet18_forward_shape_batchnorm_and_parameter_count():
    model = build(RESNET, seed=0)
    assert has_batchnorm(model)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    k = 2
    convs = 3 * k * 9  # stem
    bns = 2 * k
    in_planes = k
    for m in (1, 2, 4, 8):
        p = m * k
        for block in range(2):
            cin = in_planes if block == 0 else p
            convs += cin * p * 9 + p * p * 9
            bns += 2 * 2 * p
            if block == 0 and cin != p:
                convs += cin * p
                bns += 2 * p
        in_planes = p
    assert flat_parameters(model).numel() == convs + bns + 8 * k * 10 + 10


def test_build_is_deterministic_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, b, c = (flat_parameters(build(MLP, seed=s)) for s in (7, 7, 8))
    assert torch.equal(torch.random.get_rng_state(), before)
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)
    r1, r2 = (flat_parameters(build(RESNET, seed=s)) for s in (1, 2))
    assert not torch.allclose(r1, r2)
    assert torch.equal(r1, flat_parameters(build(RESNET, seed=1)))


def test_flat_round_trip_copies_values():
    model = build(RESNET, seed=0)
    theta = torch.randn(flat_parameters(model).numel(), generator=torch.Generator().manual_seed(0))
    set_flat_parameters(model, theta)
    assert torch.equal(flat_parameters(model), theta)
    theta.zero_()  # the model must not alias theta
    assert flat_parameters(model).abs().sum() > 0
    with pytest.raises(ValueError, match="shape"):
        set_flat_parameters(model, torch.zeros(3))


def _bn_model_with_stats(seed: int = 0) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    model = build(RESNET, seed=seed)
    x = torch.randn(6, 3, 8, 8, generator=g)
    y = torch.randint(0, 10, (6,), generator=g)
    recompute_batchnorm(model, x * 2 + 1, batch_size=4)  # non-trivial running statistics
    return model, x, y


def test_parameter_loss_matches_eval_forward_and_autograd_gradient():
    model, x, y = _bn_model_with_stats()
    model.train()  # parameter_loss must use eval mode regardless, and restore the mode
    f = parameter_loss(model, x, y)
    theta = flat_parameters(model)
    value = f(theta)
    assert model.training
    model.eval()
    reference = F.cross_entropy(model(x), y)
    assert torch.allclose(value, reference, rtol=1e-6, atol=1e-7)
    model.zero_grad()
    reference.backward()
    autograd = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    assert torch.allclose(grad(f)(theta), autograd, rtol=1e-4, atol=1e-6)
    # the loss depends on theta, not on the model's current parameters
    set_flat_parameters(model, torch.zeros_like(theta))
    assert torch.allclose(f(theta), reference.detach(), rtol=1e-6, atol=1e-7)


def test_parameter_loss_hvp_matches_double_backward():
    model = build(MLP, seed=3)
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(20, 64, generator=g), torch.randint(0, 10, (20,), generator=g)
    f = parameter_loss(model, x, y)
    theta = flat_parameters(model)
    v = torch.randn(theta.shape, generator=g)
    hv = jvp(grad(f), (theta,), (v,))[1]
    t = theta.clone().requires_grad_(True)
    (gr,) = torch.autograd.grad(f(t), t, create_graph=True)
    (reference,) = torch.autograd.grad(gr @ v, t)
    assert torch.allclose(hv, reference, rtol=1e-4, atol=1e-6)


def test_recompute_batchnorm_gives_the_data_mean():
    g = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.BatchNorm1d(3), nn.Linear(3, 2))
    x = torch.randn(50, 3, generator=g) * torch.tensor([1.0, 2.0, 3.0]) + torch.tensor([5.0, -1.0, 0.5])
    recompute_batchnorm(model, x, batch_size=16)  # batches 16, 16, 16, 2: unequal
    bn = model[0]
    assert torch.allclose(bn.running_mean, x.mean(0), atol=1e-5)
    assert bn.momentum == 0.1 and not model.training
    recompute_batchnorm(model, x, batch_size=100)  # one batch: unbiased variance exactly
    assert torch.allclose(bn.running_var, x.var(0, unbiased=True), rtol=1e-5)


def test_recompute_batchnorm_on_resnet_stem():
    model = build(RESNET, seed=0)
    x = torch.randn(10, 3, 8, 8, generator=torch.Generator().manual_seed(2)) + 0.7
    recompute_batchnorm(model, x, batch_size=4)  # batches 4, 4, 2
    with torch.no_grad():
        stem = model.conv1(x)
    assert torch.allclose(model.bn1.running_mean, stem.mean(dim=(0, 2, 3)), atol=1e-5)
    assert not model.training


def test_evaluate_and_outputs():
    model, x, y = _bn_model_with_stats()
    model.train()
    logits = outputs(model, x, batch_size=4)
    assert model.training
    model.eval()
    with torch.no_grad():
        reference = model(x)
    assert torch.allclose(logits, reference, atol=1e-6)
    loss, acc = evaluate(model, x, y, batch_size=4)
    assert loss == pytest.approx(float(F.cross_entropy(reference, y)), rel=1e-5)
    assert acc == pytest.approx(100.0 * float((reference.argmax(1) == y).float().mean()))


def test_unknown_or_malformed_architecture():
    with pytest.raises(ValueError, match="'vgg'.*mlp.*resnet18"):
        build({"name": "vgg", "width": 4}, seed=0)
    with pytest.raises(ValueError, match="missing"):
        build({"name": "mlp", "width": 4}, seed=0)
    with pytest.raises(ValueError, match="positive integer"):
        build({**MLP, "width": 0}, seed=0)


def test_one_builder_names_every_network():
    from thermoscape.nets import architectures, register
    from thermoscape.nets.small import small_spec

    assert architectures() == ("cnn", "lenet", "mlp", "resnet10", "resnet18", "transformer", "vgg11", "vgg16", "vgg9")
    # Yang's width x depth form and Fort's widths form are one network: the same draws
    uniform = build(MLP, seed=4)
    listed = build({"name": "mlp", "in_features": 64, "widths": [16, 16, 16], "n_classes": 10}, seed=4)
    assert repr(uniform) == repr(listed)
    assert all(torch.equal(a, b) for a, b in zip(uniform.parameters(), listed.parameters()))
    fort = build(small_spec("mlp", "relu", (64,), 10, [16, 16, 16], [8]), 4, torch.float64)
    assert all(torch.equal(a.double(), b) for a, b in zip(uniform.parameters(), fort.parameters()))
    with pytest.raises(ValueError, match="widths, or width and depth"):
        build({**MLP, "widths": [3]}, seed=0)
    with pytest.raises(ValueError, match="unknown: \\['colour'\\]"):
        build({**RESNET, "colour": 1}, seed=0)
    with pytest.raises(ValueError, match="positive integer"):
        build({**RESNET, "width": True}, seed=0)
    with pytest.raises(ValueError, match="registered already"):
        register("mlp", nn.Linear)
