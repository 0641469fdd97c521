"""Paper-scale CIFAR-10 networks of Bradley et al. (Resnet10, VGG16, VGG9): shapes, counts, init, seeding."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from thermoscape.nets import build
from thermoscape.nets.inits import haiku_default_init_
from thermoscape.nets.networks import count_parameters
from thermoscape.nets.resnet import SameConv2d, haiku_same_padding, option_a_shortcut
from thermoscape.studies.bradley.networks import PAPER_NETWORKS, PARAMETER_COUNTS


@pytest.fixture(scope="module")
def nets() -> dict[str, nn.Module]:
    return {name: build({"name": name}, 0) for name in PAPER_NETWORKS}


def _images(n: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.randn(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


def test_parameter_counts(nets):
    assert count_parameters(nets["resnet10"]) == PARAMETER_COUNTS["resnet10"] == 171_578
    assert count_parameters(nets["vgg16"]) == PARAMETER_COUNTS["vgg16"] == 15_245_130
    assert count_parameters(nets["vgg9"]) == PARAMETER_COUNTS["vgg9"] == 2_789_706
    # the brief's 2,789,194 leaves out the 512 affine parameters of the BatchNorm1d after fc
    bn1d = nets["vgg9"].fc[1]
    assert isinstance(bn1d, nn.BatchNorm1d)
    assert count_parameters(nets["vgg9"]) - count_parameters(bn1d) == 2_789_194


def test_no_batchnorm_in_resnet10_and_vgg16(nets):
    for name in ("resnet10", "vgg16"):
        assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in nets[name].modules())
    assert sum(isinstance(m, nn.BatchNorm2d) for m in nets["vgg9"].modules()) == 7


def test_resnet10_structure(nets):
    model = nets["resnet10"]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 13 and all(c.bias is None for c in convs)  # + logits = 14 weight layers
    assert [c.stride for c in convs if c.stride != (1, 1)] == [(2, 2), (2, 2)]


@pytest.mark.parametrize("name", PAPER_NETWORKS)
def test_output_shape(nets, name):
    model = nets[name]
    out = model(_images())
    assert out.shape == (2, 10) and out.dtype == torch.float32
    assert torch.isfinite(out).all()


def test_resnet10_initial_logits_are_zero(nets):
    model = nets["resnet10"]
    assert torch.equal(model.logits.weight, torch.zeros(10, 64))
    assert torch.equal(model.logits.bias, torch.zeros(10))
    assert torch.equal(model(_images()), torch.zeros(2, 10))


def test_option_a_shortcut_shape_and_zero_padding():
    x = torch.randn(2, 16, 32, 32) + 5.0  # no zeros in x
    y = option_a_shortcut(x, channels=32)
    assert y.shape == (2, 32, 16, 16)
    assert torch.equal(y[:, :8], torch.zeros(2, 8, 16, 16))
    assert torch.equal(y[:, 24:], torch.zeros(2, 8, 16, 16))
    assert torch.equal(y[:, 8:24], x[:, :, ::2, ::2])
    assert option_a_shortcut(torch.randn(1, 32, 16, 16), channels=64).shape == (1, 64, 8, 8)


def test_haiku_same_padding():
    assert haiku_same_padding(32, 3, 1) == (1, 1)
    assert haiku_same_padding(32, 3, 2) == (0, 1)  # Haiku/TF put the odd pad after
    assert haiku_same_padding(33, 3, 2) == (1, 1)
    conv = SameConv2d(1, 1, 3, stride=2, bias=False)
    with torch.no_grad():
        conv.weight.zero_()
        conv.weight[0, 0, 1, 1] = 1.0  # centre tap: picks x[2i + 1, 2j + 1] under (0, 1) padding
    x = torch.arange(64.0).reshape(1, 1, 8, 8)
    assert torch.equal(conv(x), x[:, :, 1::2, 1::2])


def test_same_seed_identical_different_seed_different():
    for name in ("resnet10", "vgg9"):
        a, b, c = (build({"name": name}, s) for s in (3, 3, 4))
        pa, pb, pc = (nn.utils.parameters_to_vector(m.parameters()) for m in (a, b, c))
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc)


def test_builder_leaves_global_rng_untouched():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    build({"name": "resnet10"}, 0)
    assert torch.equal(torch.rand(3), expected)


def test_dtype_casts_float32_draws():
    m32 = build({"name": "resnet10"}, 1)
    m64 = build({"name": "resnet10"}, 1, torch.float64)
    assert all(p.dtype == torch.float64 for p in m64.parameters())
    for p32, p64 in zip(m32.parameters(), m64.parameters()):
        assert torch.equal(p32.double(), p64)
    assert m64(_images().double()).dtype == torch.float64


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match="'resnet16'.*resnet10.*vgg16, vgg9"):
        build({"name": "resnet16"}, 0)


def test_haiku_default_init_statistics():
    w = torch.empty(256, 64, 3, 3)
    torch.manual_seed(0)
    haiku_default_init_(w)
    s = 1.0 / math.sqrt(64 * 9)
    assert w.abs().max() <= 2.0 * s
    # truncation at +-2 sigma without Haiku's VarianceScaling correction: std = 0.8796 / sqrt(fan_in)
    assert w.std().item() == pytest.approx(0.87962566 * s, rel=0.01)


def test_init_conventions(nets):
    resnet, vgg16, vgg9 = nets["resnet10"], nets["vgg16"], nets["vgg9"]
    stem = resnet.initial_conv.weight
    assert stem.abs().max() <= 2.0 / math.sqrt(27)
    for m in vgg16.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            assert torch.equal(m.bias, torch.zeros_like(m.bias))
            assert m.weight.abs().max() <= 2.0 / math.sqrt(m.weight[0].numel())
    linears = [m for m in vgg9.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 2
    for m in linears:
        assert m.weight.std().item() == pytest.approx(1e-3, rel=0.05)
        assert torch.equal(m.bias, torch.zeros_like(m.bias))
    conv = vgg9.features[3]  # 64 -> 64 conv: kaiming fan_in, std sqrt(2 / 576)
    assert conv.weight.std().item() == pytest.approx(math.sqrt(2.0 / 576), rel=0.05)
    for m in vgg9.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            assert torch.equal(m.weight, torch.ones_like(m.weight))
            assert torch.equal(m.bias, torch.zeros_like(m.bias))


def _grads(model: nn.Module) -> dict[str, torch.Tensor]:
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(_images()), torch.tensor([1, 7])).backward()
    return {name: p.grad for name, p in model.named_parameters()}


def test_resnet10_gradients():
    model = build({"name": "resnet10"}, 0)
    grads = _grads(model)
    # zero logits layer: only the head gets gradient at init, the body's gradient is exactly zero
    assert grads["logits.weight"].abs().sum() > 0 and grads["logits.bias"].abs().sum() > 0
    body = {n: g for n, g in grads.items() if not n.startswith("logits.")}
    assert len(body) == 13 and all(torch.equal(g, torch.zeros_like(g)) for g in body.values())
    # with a non-zero head the gradient reaches every parameter (the wiring is complete)
    with torch.no_grad():
        haiku_default_init_(model.logits.weight)
    assert all(g.abs().sum() > 0 for g in _grads(model).values())


@pytest.mark.parametrize("name", ["vgg16", "vgg9"])
def test_vgg_gradients_reach_every_parameter(nets, name):
    grads = _grads(nets[name])
    assert all(g is not None and g.abs().sum() > 0 for g in grads.values())
