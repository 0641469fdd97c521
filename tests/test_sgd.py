"""The SGD protocol of the Yang et al. grid: stop rule, batching, schedule, training, resume, divergence."""

import dataclasses
import math

import pytest
import torch

from thermoscape.networks import build_network, evaluate
from thermoscape.sgd import (
    SGDSettings,
    _SimulatedKill,
    early_stop_reached,
    epoch_batches,
    learning_rate,
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
    model = build_network(ARCH, seed=0)
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
    model = build_network(ARCH, seed=0)
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
        train_sgd(build_network(ARCH, seed=0), x, y, SGDSettings(batch_size=11), seed=0)
