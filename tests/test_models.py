import torch
from conftest import PAPER_SPEC
from torch import nn

from thermoscape.nets.losses import cross_entropy_per_sample
from thermoscape.nets.mlp import MLPSpec, mlp_forward, xavier_normal_init


def test_paper_network_has_883_parameters():
    assert PAPER_SPEC.n_params == 883
    assert MLPSpec((10, 20, 20, 10, 3), bias=False).n_params == 883 - 53


def test_flat_layout_matches_torch_linear_layers():
    spec = MLPSpec((4, 5, 3))
    net = nn.Sequential(nn.Linear(4, 5), nn.ReLU(), nn.Linear(5, 3)).double()
    theta = nn.utils.parameters_to_vector(net.parameters()).detach()
    x = torch.randn(7, 4, dtype=torch.float64)
    logits, _ = mlp_forward(theta.unsqueeze(0), x, spec)
    torch.testing.assert_close(logits[0], net(x), rtol=1e-12, atol=1e-12)


def test_hand_derived_gradient_equals_autograd(paper_landscape):
    g = torch.Generator().manual_seed(1)
    theta = torch.stack([paper_landscape.initial_parameters(g) + 0.1 * torch.randn(883, generator=g,
                         dtype=torch.float64) for _ in range(3)])
    loss, grad = paper_landscape.loss_and_grad(theta)
    leaf = theta.clone().requires_grad_(True)
    reference = paper_landscape.loss(leaf)
    (auto_grad,) = torch.autograd.grad(reference.sum(), leaf)
    torch.testing.assert_close(loss, reference.detach(), rtol=1e-13, atol=0)
    assert ((grad - auto_grad).norm(dim=1) / auto_grad.norm(dim=1)).max() < 1e-12


def test_gradient_stays_exact_deep_in_the_minimum(paper_landscape):
    """Near a minimum per-sample losses are far below 1e-16; the gradient must not round to zero."""
    logits = torch.tensor([[[40.0, 0.0, -3.0]]], dtype=torch.float64)
    losses, d_logits = cross_entropy_per_sample(logits, torch.tensor([0]))
    expected = torch.log1p(torch.exp(torch.tensor(-40.0, dtype=torch.float64)) + torch.exp(
        torch.tensor(-43.0, dtype=torch.float64)))
    torch.testing.assert_close(losses[0, 0], expected, rtol=1e-14, atol=0)
    assert losses[0, 0] > 0
    torch.testing.assert_close(d_logits[0, 0, 1], torch.exp(torch.tensor(-40.0, dtype=torch.float64)),
                               rtol=1e-12, atol=0)
    assert d_logits[0, 0, 0] < 0  # p_y - 1, not rounded to zero
    torch.testing.assert_close(d_logits.sum(), torch.tensor(0.0, dtype=torch.float64), rtol=0, atol=1e-30)


def test_stable_loss_matches_torch_cross_entropy_for_moderate_logits():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 50, 4, generator=g, dtype=torch.float64) * 3
    labels = torch.randint(0, 4, (50,), generator=g)
    losses, d_logits = cross_entropy_per_sample(logits, labels)
    reference = torch.stack([nn.functional.cross_entropy(z, labels, reduction="none") for z in logits])
    torch.testing.assert_close(losses, reference, rtol=1e-12, atol=1e-14)
    onehot = nn.functional.one_hot(labels, 4).double()
    torch.testing.assert_close(d_logits, torch.softmax(logits, -1) - onehot, rtol=1e-10, atol=1e-14)


def test_xavier_normal_statistics():
    spec = MLPSpec((300, 200, 10))
    theta = xavier_normal_init(spec, torch.Generator().manual_seed(3))
    weights = theta[: 300 * 200]
    assert abs(weights.std().item() / (2 / 500) ** 0.5 - 1) < 0.02
    assert torch.count_nonzero(theta[300 * 200 : 300 * 200 + 200]) == 0  # zero biases
