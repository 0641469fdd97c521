"""The engine's generic path: any nn.Module through torch.func (``nets.module_landscape``)."""

import pytest
import torch
from conftest import PAPER_SPEC, assert_resume_is_bitwise, gen
from torch import nn

from thermoscape.dynamics.langevin import Chain, Schedule, advance, start_state
from thermoscape.nets.losses import MixedPrecision, mixed_precision
from thermoscape.nets.module_landscape import ModelInputError, ModelTypeError, ModuleLandscape


def paper_module() -> nn.Sequential:
    """The project's 10-20-20-10-3 ReLU MLP as an nn.Module: ``parameters_to_vector`` has the layout of
    ``nets.mlp`` (weight row-major, then bias, layer by layer)."""
    layers: list[nn.Module] = []
    sizes = PAPER_SPEC.layer_sizes()
    for index, (n_in, n_out) in enumerate(sizes):
        layers.append(nn.Linear(n_in, n_out, dtype=torch.float64))
        if index < len(sizes) - 1:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


@pytest.fixture(scope="module")
def generic(paper_landscape) -> ModuleLandscape:
    return ModuleLandscape(paper_module(), paper_landscape.x, paper_landscape.labels)


def test_generic_path_follows_the_fast_path_on_the_paper_mlp(paper_landscape, generic):
    """Same chains, same noise, float64: the torch.func path and the hand-fused MLP give the same trajectory,
    the same recorded losses and the same per-sample snapshots (phi's input), to rounding."""
    theta = torch.stack([paper_landscape.initial_parameters(gen(i)) for i in range(3)])
    chains = [Chain(10.0 ** -(4 + i), 1e-2, 7 + i, param_snapshot_steps=(150,)) for i in range(3)]
    schedule = Schedule(n_steps=300, snapshot_every=100, chunk_steps=300, noise_block=64)
    fast, slow = start_state(theta, chains), start_state(theta, chains)
    a = advance(paper_landscape, fast, chains, schedule, 300)
    b = advance(generic, slow, chains, schedule, 300)
    torch.testing.assert_close(slow.theta, fast.theta, rtol=0, atol=1e-11)
    for name in ("trajectory", "samples"):
        assert a[name][["chain", "step"]].equals(b[name][["chain", "step"]])
        torch.testing.assert_close(torch.tensor(b[name]["loss"].to_numpy()), torch.tensor(a[name]["loss"].to_numpy()),
                                   rtol=1e-9, atol=1e-13)
    assert (fast.theta - theta).abs().max() > 1e-3  # the chains did move


def test_generic_path_resumes_bitwise(tmp_path, generic, paper_landscape):
    theta = paper_landscape.initial_parameters(gen(0)).unsqueeze(0)
    assert_resume_is_bitwise(generic, theta, tmp_path)


def test_mixed_precision_of_a_module_stays_near_float64(paper_landscape, generic):
    mixed = mixed_precision(generic)
    assert isinstance(mixed, MixedPrecision) and mixed.fast.x.dtype == torch.float32
    theta = torch.stack([paper_landscape.initial_parameters(gen(i)) for i in range(2)])
    loss, grad = mixed.loss_and_grad(theta)
    exact_loss, exact_grad = generic.loss_and_grad(theta)
    assert grad.dtype == torch.float64
    torch.testing.assert_close(loss, exact_loss, rtol=1e-5, atol=0)
    torch.testing.assert_close(grad, exact_grad, rtol=1e-4, atol=1e-6)


def small_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 3, 3), nn.BatchNorm2d(3), nn.ReLU(), nn.Dropout(0.5), nn.Flatten(),
                         nn.Linear(3 * 6 * 6, 3)).double()


def test_a_cnn_with_batch_norm_and_dropout_runs_in_eval_mode():
    torch.manual_seed(0)
    model = small_cnn()
    model[1].running_mean.fill_(0.1)  # stored statistics, used as constants
    x, y = torch.randn(12, 1, 8, 8, dtype=torch.float64), torch.randint(0, 3, (12,))
    landscape = ModuleLandscape(model, x, y)
    assert not model.training
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    chains = [Chain(1e-3, 1e-2, seed) for seed in range(2)]
    state = start_state(landscape.flat_parameters().repeat(2, 1), chains)
    records = advance(landscape, state, chains, Schedule(n_steps=40, snapshot_every=20, chunk_steps=40), 40)
    assert records["trajectory"]["loss"].notna().all() and len(records["samples"]) == 2 * 2 * 12
    assert all(torch.equal(buffers[name], b) for name, b in model.named_buffers())
    # eval mode: the landscape's loss is the module's eval-mode loss, deterministic despite the dropout
    with torch.no_grad():
        expected = nn.functional.cross_entropy(model(x), y)
    torch.testing.assert_close(landscape.loss(landscape.flat_parameters().unsqueeze(0))[0], expected)


class Counter(nn.Module):
    """Updates a buffer in every forward, whatever the mode: its landscape would change while sampled."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x):
        self.calls += 1
        return self.linear(x)


class Noisy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)

    def forward(self, x):
        return self.linear(x) + torch.rand(1)


@pytest.mark.parametrize("model, argument, words", [
    (Counter(), "model", "changed the buffers calls"),
    (Noisy(), "model", "differ"),
    (nn.Linear(5, 2), "x", "do not fit the model"),
    (nn.Linear(4, 7), "y", "labels must lie in [0, 7)"),
], ids=["buffer-in-eval", "random-in-eval", "x-shape", "labels"])
def test_refusals_name_the_input(model, argument, words):
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 7, 1, 0, 1])
    if argument != "y":
        y = y.clamp(max=1)
    with pytest.raises(ModelInputError) as error:
        ModuleLandscape(model.double(), x, y)
    assert error.value.argument == argument and words in str(error.value)


def test_other_refusals():
    x, y = torch.randn(6, 4), torch.zeros(6, dtype=torch.int64)
    frozen = nn.Linear(4, 2).requires_grad_(False)
    with pytest.raises(ModelInputError, match="no trainable parameters"):
        ModuleLandscape(frozen, x, y)
    with pytest.raises(ModelInputError, match="loss: must be one of cross_entropy, mse"):
        ModuleLandscape(nn.Linear(4, 2), x, y, "hinge")
    with pytest.raises(ModelTypeError, match="model: must be a torch.nn.Module"):
        ModuleLandscape(lambda v: v, x, y)
    with pytest.raises(ModelInputError, match=r"y: mse needs targets shaped like the outputs.*\(2,\).*\(3,\)"):
        ModuleLandscape(nn.Linear(4, 2), x, torch.zeros(6, 3), "mse")


class Branching(nn.Module):
    """A data-dependent Python branch: fine eagerly, not under vmap."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)

    def forward(self, x):
        out = self.linear(x)
        return out if out.sum().item() > -1e9 else -out


def test_a_model_torch_func_cannot_transform_is_refused_before_sampling():
    with pytest.raises(ModelInputError, match="model: its loss cannot be differentiated under torch.func.vmap"):
        ModuleLandscape(Branching().double(), torch.randn(6, 4), torch.zeros(6, dtype=torch.int64))
