"""The SGD protocol of the Yang et al. grid: stop rule, batching, schedule, training, resume, divergence."""

import copy
import dataclasses
import math

import pytest
import torch
from torch import nn

from thermoscape.data.batches import epoch_batches
from thermoscape.nets.mlp import MLPSpec, unflatten
from thermoscape.nets import build
from thermoscape.nets.networks import evaluate, flat_parameters
from thermoscape.dynamics.sgd import (
    SGDSettings,
    _mlp_backward,
    _mlp_forward,
    _Progress,
    _sample_major,
    _SimulatedKill,
    early_stop_reached,
    learning_rate,
    mlp_layers,
    train_mlp_replicas,
    train_sgd,
)

ARCH = {"name": "mlp", "in_features": 2, "width": 8, "depth": 1, "n_classes": 2}
FAST = SGDSettings(lr=0.05, batch_size=16, min_epochs=100, max_epochs=12)


def separable(n: int = 64, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.randn(n, 2, generator=g) * 0.5 + (2.0 * y[:, None] - 1.0) * torch.tensor([2.0, 1.0])
    return x, y


def test_early_stop_rule():
    flat = [1.0] * 40
    assert not early_stop_reached(flat[:29])  # fewer than min_epochs, however flat
    assert early_stop_reached(flat[:30])
    # 5 small differences after large ones fire; 4 do not
    losses = [1.0 - 0.01 * i for i in range(30)]
    five = losses + [losses[-1] - 5e-5 * i for i in range(1, 6)]
    assert early_stop_reached(five)
    four = losses + [losses[-1] - 5e-5 * i for i in range(1, 5)]
    assert not early_stop_reached(four)
    assert not early_stop_reached(five[:-1] + [five[-1] - 2e-4])  # last difference too big
    assert not early_stop_reached(flat[:34] + [math.nan])
    assert early_stop_reached([1.0, 1.0, 1.0], min_epochs=3, patience=2, tol=0.0)


def test_epoch_batches_drop_the_incomplete_batch():
    g = torch.Generator().manual_seed(0)
    batches = epoch_batches(10, 3, g)
    assert [len(b) for b in batches] == [3, 3, 3]
    seen = torch.cat(batches)
    assert len(set(seen.tolist())) == 9 and seen.min() >= 0 and seen.max() < 10
    again = epoch_batches(10, 3, torch.Generator().manual_seed(0))
    assert all(torch.equal(a, b) for a, b in zip(batches, again))
    assert not all(torch.equal(a, b) for a, b in zip(batches, epoch_batches(10, 3, g)))  # reshuffled
    assert len(epoch_batches(10, 10, g)) == 1
    with pytest.raises(ValueError):
        epoch_batches(10, 11, g)


def test_learning_rate_schedules():
    constant = SGDSettings()
    assert learning_rate(constant, 0) == learning_rate(constant, 149) == 0.05
    decay = SGDSettings(schedule="one_decay")
    assert learning_rate(decay, 112) == 0.05
    assert learning_rate(decay, 113) == pytest.approx(0.005)
    assert learning_rate(decay, 149) == pytest.approx(0.005)
    short = SGDSettings(schedule="one_decay", max_epochs=8)
    assert [learning_rate(short, e) for e in range(8)] == [0.05] * 6 + [pytest.approx(0.005)] * 2
    with pytest.raises(ValueError, match="schedule"):
        SGDSettings(schedule="cosine")


def _train(seed: int, settings: SGDSettings = FAST, **kwargs):
    x, y = separable()
    model = build(ARCH, seed=0)
    return model, train_sgd(model, x, y, settings, seed=seed, **kwargs)


def test_training_reduces_the_loss_and_is_deterministic():
    model, result = _train(seed=1)
    h = result.history
    assert list(h.columns) == ["epoch", "lr", "loss", "accuracy", "finite"]
    assert result.epochs == len(h) == 12 and h["epoch"].tolist() == list(range(12))
    assert h["loss"].iloc[-1] < 0.5 * h["loss"].iloc[0]
    assert h["accuracy"].iloc[-1] > 95.0 and h["finite"].all()
    assert result.checkpoint == "best_loss" and not result.diverged
    # the model holds the selected state
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in result.state.items())
    x, y = separable()
    loss, acc = evaluate(model, x, y)
    assert loss < h["loss"].iloc[0] and acc > 95.0

    _, same = _train(seed=1)
    assert same.history.equals(h)
    assert all(torch.equal(v, same.state[k]) for k, v in result.state.items())
    _, other = _train(seed=2)
    assert not other.history["loss"].equals(h["loss"])
    assert not all(torch.equal(v, other.state[k]) for k, v in result.state.items())


def test_without_early_stop_the_lowest_loss_epoch_is_returned():
    settings = dataclasses.replace(FAST, lr=0.5)  # the loss reaches 0.0 in float32 and stays there
    _, result = _train(seed=1, settings=settings)
    best = int(result.history["loss"].idxmin())  # the first epoch reaching the minimum
    assert result.checkpoint == "best_loss" and best < result.epochs - 1
    _, prefix = _train(seed=1, settings=dataclasses.replace(settings, max_epochs=best + 1))
    assert all(torch.equal(v, prefix.state[k]) for k, v in result.state.items())


def test_early_stop_returns_the_stopped_model(tmp_path):
    settings = SGDSettings(batch_size=16, min_epochs=3, max_epochs=50, patience=2, tol=10.0)
    path = tmp_path / "ckpt.pt"
    _, result = _train(seed=0, settings=settings, checkpoint_path=str(path))
    assert result.checkpoint == "early_stopped" and result.epochs == 3
    last = torch.load(path, weights_only=True)["model"]  # the model after the last epoch run
    assert all(torch.equal(v, last[k]) for k, v in result.state.items())


def test_kill_and_resume_is_bit_identical(tmp_path):
    _, reference = _train(seed=3)
    path = tmp_path / "ckpt.pt"
    for _ in range(2):  # killed after epochs 5 and 10
        with pytest.raises(_SimulatedKill):
            _train(seed=3, checkpoint_path=str(path), _stop_after=5)
        assert path.exists()
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind
    _, resumed = _train(seed=3, checkpoint_path=str(path))
    assert resumed.history.equals(reference.history)
    assert resumed.checkpoint == reference.checkpoint and resumed.epochs == reference.epochs
    assert all(torch.equal(v, resumed.state[k]) for k, v in reference.state.items())
    _, finished = _train(seed=3, checkpoint_path=str(path))  # a finished run returns its result again
    assert finished.history.equals(reference.history)
    assert all(torch.equal(v, finished.state[k]) for k, v in reference.state.items())
    with pytest.raises(ValueError, match="seed"):
        _train(seed=4, checkpoint_path=str(path))


def test_divergence_is_flagged_and_the_best_finite_state_returned():
    settings = SGDSettings(lr=1e6, batch_size=16, min_epochs=100, max_epochs=10)
    model = build(ARCH, seed=0)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = separable()
    result = train_sgd(model, x, y, settings, seed=0)
    h = result.history
    assert result.diverged and result.checkpoint == "best_loss"
    assert not h["finite"].iloc[-1] and h["finite"].iloc[:-1].all() and result.epochs < 10
    assert all(torch.isfinite(v).all() for v in result.state.values())
    n_finite = int(h["finite"].sum())
    if n_finite == 0:  # diverged in the first epoch: the initial state
        assert all(torch.equal(v, initial[k]) for k, v in result.state.items())
    else:  # the best finite epoch, here the last finite one (the loss explodes)
        _, prefix = _train(seed=0, settings=dataclasses.replace(settings, max_epochs=n_finite))
        assert all(torch.equal(v, prefix.state[k]) for k, v in result.state.items())


def test_batch_larger_than_the_data_is_refused():
    x, y = separable(10)
    with pytest.raises(ValueError, match="batch_size"):
        train_sgd(build(ARCH, seed=0), x, y, SGDSettings(batch_size=11), seed=0)


# --- train_mlp_replicas: the batched fast path ----------------------------------------------------------

DIGITS_ARCH = {"name": "mlp", "in_features": 64, "width": 6, "depth": 2, "n_classes": 10}
SEEDS = [10, 11, 12, 13]
SHORT = SGDSettings(batch_size=16, min_epochs=3, max_epochs=6)
# replica 0 runs to max_epochs, replicas 1 and 2 early-stop after 3 epochs, replica 3 after 2
STAGGERED_STOPS = SGDSettings(batch_size=16, min_epochs=2, max_epochs=8, patience=1, tol=0.04)
# all four diverge, after 5, 4, 3 and 4 epochs
STAGGERED_DIVERGENCE = SGDSettings(lr=300.0, batch_size=16, min_epochs=3, max_epochs=8)


def digits_like(dtype: torch.dtype, n: int = 120) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, 64, generator=g, dtype=torch.float64)  # the same data in both precisions
    return x.to(dtype), torch.randint(0, 10, (n,), generator=g)


def _replicas(dtype: torch.dtype, n: int = 3) -> list[nn.Module]:
    return [build(DIGITS_ARCH, seed=k).to(dtype) for k in range(n)]


def _rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max().clamp_min(1e-30))


def _assert_matches_train_sgd(settings: SGDSettings, dtype: torch.dtype, rtol: float, n: int = 3):
    x, y = digits_like(dtype)
    models = _replicas(dtype, n)
    references = [train_sgd(copy.deepcopy(m), x, y, settings, seed) for m, seed in zip(models, SEEDS)]
    results = train_mlp_replicas(models, x, y, settings, SEEDS[:n])
    for model, ref, fast in zip(models, references, results):
        assert (fast.checkpoint, fast.epochs, fast.diverged) == (ref.checkpoint, ref.epochs, ref.diverged)
        assert fast.history[["epoch", "lr", "finite"]].equals(ref.history[["epoch", "lr", "finite"]])
        finite = ref.history["finite"].to_numpy()
        loss, ref_loss = (torch.tensor(h["loss"].to_numpy()[finite]) for h in (fast.history, ref.history))
        assert ((loss - ref_loss).abs() / ref_loss.abs()).max() <= rtol
        assert fast.history["loss"][~finite].isna().equals(ref.history["loss"][~finite].isna())
        # (a diverged epoch's NaN logits may be argmax-ed differently)
        accuracy_gap = (fast.history["accuracy"] - ref.history["accuracy"])[finite].abs().max()
        assert accuracy_gap <= (0 if dtype == torch.float64 else 5)
        assert fast.state.keys() == ref.state.keys()
        assert all(_rel_diff(fast.state[k], ref.state[k]) <= rtol for k in ref.state)
        assert not model.training
        assert all(torch.equal(v, model.state_dict()[k]) for k, v in fast.state.items())
    return references


def test_flat_layout_and_batched_passes_match_the_modules():
    x, y = digits_like(torch.float64, 24)
    models = _replicas(torch.float64)
    assert [type(m) for m in mlp_layers(models[0])] == [nn.Linear] * 3
    theta = torch.stack([flat_parameters(m) for m in models])  # the MLPSpec layout
    layers = unflatten(theta, MLPSpec((64, 6, 6, 10)))
    xb, yb = x.view(3, 8, 64), y.view(3, 8)  # one batch per replica
    logits, inputs = _mlp_forward(_sample_major(layers), xb)
    grad = torch.full_like(theta, math.nan)
    d_logits = (torch.softmax(logits, -1) - nn.functional.one_hot(yb, 10).double()) / 8
    _mlp_backward(layers, inputs, d_logits, unflatten(grad, MLPSpec((64, 6, 6, 10))))
    for k, model in enumerate(models):  # per replica: autograd on the module
        model.zero_grad()
        reference = model(xb[k])
        torch.testing.assert_close(logits[k], reference, rtol=1e-12, atol=1e-12)
        nn.functional.cross_entropy(reference, yb[k]).backward()
        auto = torch.cat([p.grad.flatten() for p in model.parameters()])
        torch.testing.assert_close(grad[k], auto, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("settings", [SHORT, STAGGERED_STOPS, STAGGERED_DIVERGENCE],
                         ids=["short", "stops", "diverge"])
def test_replicas_equal_train_sgd_in_float64(settings):
    references = _assert_matches_train_sgd(settings, torch.float64, rtol=1e-10, n=4)
    epochs = [r.epochs for r in references]
    if settings is STAGGERED_STOPS:  # frozen replicas while another one goes on, both checkpoint kinds
        assert epochs == [8, 3, 3, 2]
        assert [r.checkpoint for r in references] == ["best_loss"] + ["early_stopped"] * 3
    if settings is STAGGERED_DIVERGENCE:
        assert len(set(epochs)) > 1 and all(r.diverged for r in references)


def test_replicas_equal_train_sgd_in_float32():
    _assert_matches_train_sgd(dataclasses.replace(SHORT, schedule="one_decay"), torch.float32, rtol=1e-4)


def test_replicas_kill_and_resume_is_bit_identical(tmp_path):
    x, y = digits_like(torch.float32)
    settings, seeds = STAGGERED_STOPS, SEEDS
    reference = train_mlp_replicas(_replicas(torch.float32, 4), x, y, settings, seeds)
    path = tmp_path / "replicas.pt"
    with pytest.raises(_SimulatedKill):  # killed before its first checkpoint is due: no file
        train_mlp_replicas(_replicas(torch.float32, 4), x, y, settings, seeds, str(path), _stop_after=1)
    assert not path.exists()
    for _ in range(3):  # killed after epochs 1, 2 (a replica has stopped) and 3 (three have)
        with pytest.raises(_SimulatedKill):
            train_mlp_replicas(_replicas(torch.float32, 4), x, y, settings, seeds, str(path),
                               checkpoint_every=0, _stop_after=1)
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind
    assert [len(h) for h in torch.load(path, weights_only=True)["history"]] == [3, 3, 3, 2]
    for _ in range(2):  # the resumed run, then the finished file returning its result again
        resumed = train_mlp_replicas(_replicas(torch.float32, 4), x, y, settings, seeds, str(path))
        for ref, res in zip(reference, resumed):
            assert res.history.equals(ref.history)
            assert (res.checkpoint, res.epochs, res.diverged) == (ref.checkpoint, ref.epochs, ref.diverged)
            assert all(torch.equal(v, res.state[k]) for k, v in ref.state.items())
    with pytest.raises(ValueError, match="seed"):
        train_mlp_replicas(_replicas(torch.float32, 4), x, y, settings, [1, 2, 3, 4], str(path))
    with pytest.raises(ValueError, match="format"):  # not a train_sgd checkpoint
        train_sgd(_replicas(torch.float32, 1)[0], x, y, settings, 10, str(path))


def test_replicas_refuse_other_networks():
    x, y = digits_like(torch.float32, 32)
    mlp = build(DIGITS_ARCH, 0)
    others = {
        "resnet": build({"name": "resnet18", "width": 1, "in_channels": 1, "n_classes": 10}, 0),
        "tanh": nn.Sequential(nn.Flatten(), nn.Linear(64, 6), nn.Tanh(), nn.Linear(6, 10)),
        "no final layer": nn.Sequential(nn.Linear(64, 6), nn.ReLU()),
        "mixed bias": nn.Sequential(nn.Linear(64, 6), nn.ReLU(), nn.Linear(6, 10, bias=False)),
    }
    frozen = build(DIGITS_ARCH, 1)
    frozen[1].bias.requires_grad_(False)
    others["frozen"] = frozen
    for name, model in others.items():
        assert mlp_layers(model) is None, name
        with pytest.raises(ValueError, match="not a plain ReLU MLP"):
            train_mlp_replicas([mlp, model], x, y, SHORT, [0, 1])
    assert len(mlp_layers(nn.Sequential(nn.Linear(64, 10)))) == 1  # no hidden layer, no Flatten: fine
    wider = build({**DIGITS_ARCH, "width": 7}, 0)
    for other in (wider, build(DIGITS_ARCH, 1).double()):
        with pytest.raises(ValueError, match="one architecture, dtype and device"):
            train_mlp_replicas([mlp, other], x, y, SHORT, [0, 1])
    with pytest.raises(ValueError, match="one seed per model"):
        train_mlp_replicas([mlp], x, y, SHORT, [0, 1])
    with pytest.raises(ValueError, match="float64"):
        train_mlp_replicas([mlp], x.double(), y, SHORT, [0])


def test_epoch_bookkeeping():
    settings = SGDSettings(batch_size=4, min_epochs=3, max_epochs=5, patience=1, tol=0.1)
    run = _Progress()
    assert run.record(0.05, 20.0, 30, 10, settings)  # loss 2.0, accuracy 75 %
    assert run.rows == [[0, 0.05, 2.0, 75.0, True]] and run.best_loss == 2.0 and run.stopped is None
    assert not run.record(0.05, 21.0, 0, 10, settings)  # worse: not the best
    assert run.record(0.05, 10.0, 0, 10, settings) and run.stopped is None  # 3 epochs, change 1.1 > tol
    assert not run.record(0.05, 10.5, 0, 10, settings) and run.stopped == "early_stopped"
    assert run.checkpoint == "early_stopped" and run.result({}).epochs == 4
    run = _Progress()
    for _ in range(4):
        run.record(0.05, 10.0 * (len(run.rows) + 1), 0, 10, settings)
    assert run.stopped is None
    run.record(0.05, 1.0, 0, 10, settings)
    assert run.stopped == "max_epochs" and run.checkpoint == "best_loss" and run.best_loss == 0.1
    run = _Progress()
    run.record(0.05, 1.0, 0, 10, settings)
    assert not run.record(0.05, math.inf, 0, 10, settings) and run.stopped == "diverged"
    assert run.result({}).diverged and run.best_loss == 0.1 and not run.result({}).history["finite"].iloc[-1]
