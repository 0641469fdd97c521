"""The one trainer (dynamics.train) and the minibatch orders (data.batches): each converted loop against a
copy of its old implementation, kept here, on a small fixed case (bitwise where the arithmetic is unchanged,
rtol 1e-10 where a hand-written step gave way to torch.optim), and the trainer's own contract."""

import math

import pandas as pd
import pytest
import torch
from conftest import quadratic

from thermoscape.core.seeds import derive_seed
from thermoscape.data.batches import BatchOrder, cyclic_batches, epoch_batches
from thermoscape.dynamics.train import Checkpoint, Optimizer, SimulatedKill, adam_descent, train


def _equal(a, b):
    return torch.equal(a, b)


# --- minibatch orders ---------------------------------------------------------------------------------


def _old_epoch_batches(n, batch_size, generator):
    order = torch.randperm(n, generator=generator)
    n_batches = n // batch_size
    return list(order[: n_batches * batch_size].split(batch_size))


def test_the_three_seed_conventions_reproduce_the_old_streams():
    n, b, seed = 37, 5, 11
    stream, old = BatchOrder(n, b, seed, "stream"), torch.Generator().manual_seed(seed)
    for epoch in range(3):
        assert all(map(_equal, stream(epoch), _old_epoch_batches(n, b, old)))
    derived = BatchOrder(n, b, seed, "derived")  # fengtu.epoch_order
    for epoch in range(3):
        gen = torch.Generator().manual_seed(derive_seed(seed, "epoch", epoch))
        assert all(map(_equal, derived(epoch), _old_epoch_batches(n, b, gen)))
    affine = BatchOrder(n, b, seed, "affine")  # fort.train, bradley.sgd
    for epoch in range(1, 4):
        gen = torch.Generator().manual_seed(seed * 100_003 + epoch)
        assert all(map(_equal, affine(epoch), _old_epoch_batches(n, b, gen)))
    kept = BatchOrder(n, b, seed, "affine", drop_last=False)(2)  # bradley: shuffled, partial batch kept
    gen = torch.Generator().manual_seed(seed * 100_003 + 2)
    assert all(map(_equal, kept, list(torch.randperm(n, generator=gen).split(b))))
    assert BatchOrder(n, b, seed, shuffle=False, drop_last=False)(0) == cyclic_batches(n, b, False)
    assert cyclic_batches(n, b)[-1] == slice(30, 35) and cyclic_batches(n, b, False)[-1] == slice(35, 37)
    assert BatchOrder(n, None)(0) == [slice(None)] == BatchOrder(n, n)(0)
    with pytest.raises(ValueError, match="seeding"):
        BatchOrder(n, b, seed, "epochwise")
    with pytest.raises(ValueError, match="batch_size"):
        epoch_batches(n, n + 1, torch.Generator())


def test_the_stream_state_resumes_the_stream():
    order = BatchOrder(20, 3, 5, "stream")
    order(0)
    state = order.state_dict()
    expected = order(1)
    again = BatchOrder(20, 3, 5, "stream")
    again.load_state_dict(state)
    assert all(map(_equal, again(1), expected))


# --- the trainer ----------------------------------------------------------------------------------------


def _least_squares(seed=0, n=40, d=5):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = x @ torch.randn(d, generator=g, dtype=torch.float64)
    return x, y


@pytest.mark.parametrize("spec", [Optimizer("sgd", lr=0.05), Optimizer("sgd", lr=0.05, momentum=0.9),
                                  Optimizer("adam", lr=0.01, weight_decay=1e-3),
                                  Optimizer("sgd", lr=0.05, momentum=0.9, weight_decay=5e-4)])
def test_train_is_torch_optim_on_the_batches(spec):
    x, y = _least_squares()
    order = BatchOrder(40, 8, 3, "derived")
    w = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    run = train([w], lambda i: ((x[i] @ w - y[i]) ** 2).mean().backward() or ((x[i] @ w - y[i]) ** 2).mean(),
                spec, 4, batches=order, lr=lambda e: spec.lr / (1 + e))
    ref = torch.zeros(5, dtype=torch.float64, requires_grad=True)
    opt = spec.build([ref])
    for epoch in range(4):
        for group in opt.param_groups:
            group["lr"] = spec.lr / (1 + epoch)
        for i in order(epoch):
            opt.zero_grad()
            ((x[i] @ ref - y[i]) ** 2).mean().backward()
            opt.step()
    assert torch.equal(w.detach(), ref.detach())
    assert run.stopped == "epochs" and run.epochs_run == 4 and run.steps == 20 and len(run.epoch_losses) == 4


def test_checkpoint_resume_is_bitwise_and_checks_its_fingerprint(tmp_path):
    x, y = _least_squares()

    def fit(path=None, stop=None, fingerprint="a"):
        w = torch.zeros(5, dtype=torch.float64, requires_grad=True)
        history = []

        def step(i):
            loss = ((x[i] @ w - y[i]) ** 2).mean()
            loss.backward()
            return loss

        ckpt = None if path is None else Checkpoint(path, fingerprint, lambda: {"history": history},
                                                    lambda s: history.extend(s["history"]))
        run = train([w], step, Optimizer("adam", lr=0.01), 6, batches=BatchOrder(40, 8, 3, "stream"),
                    on_epoch_end=lambda e, r: history.append(r.epoch_losses[-1]), checkpoint=ckpt,
                    _stop_after=stop)
        return w.detach(), run, history

    whole = fit()
    path = tmp_path / "state.pt"
    with pytest.raises(SimulatedKill):
        fit(path, stop=2)
    with pytest.raises(SimulatedKill):
        fit(path, stop=2)
    resumed = fit(path)
    assert torch.equal(resumed[0], whole[0]) and resumed[2] == whole[2]
    assert resumed[1].epoch_losses == whole[1].epoch_losses and resumed[1].steps == whole[1].steps
    assert list(tmp_path.iterdir()) == [path]
    with pytest.raises(ValueError, match="checkpoint"):
        fit(path, fingerprint="b")


def test_divergence_step_stops_before_the_update_and_epoch_after_it():
    w = torch.ones(1, dtype=torch.float64, requires_grad=True)

    def step(_):
        loss = (w * w).sum() * (math.inf if float(w.detach()) > 2 else 1.0)
        w.grad = torch.full_like(w, -1.0)
        return loss

    run = train([w], step, Optimizer(lr=1.0), 10)
    assert run.diverged and run.steps == 2 and float(w) == 3.0 and math.isinf(run.last_loss)
    w.data.fill_(1.0)
    run = train([w], step, Optimizer(lr=1.0), 10, divergence="epoch")
    assert run.diverged and run.steps == 3 and float(w) == 4.0
    w.data.fill_(1.0)
    run = train([w], step, Optimizer(lr=1.0), 10, on_epoch_end=lambda e, r: "enough" if e == 0 else None)
    assert run.stopped == "enough" and run.epochs_run == 1


# --- adam_descent (Jules) -------------------------------------------------------------------------------


def _old_adam_descent(landscape, theta, lr, max_steps, target_loss, grad_norm_tol=float("inf"),
                      record_every=10):
    param = theta.detach().clone().unsqueeze(0).requires_grad_(True)
    optimizer = torch.optim.Adam([param], lr=lr)
    rows = []
    converged = False
    for step in range(max_steps + 1):
        with torch.no_grad():
            loss, grad = landscape.loss_and_grad(param)
        if step % record_every == 0 or step == max_steps:
            loss_value, grad_norm = float(loss[0]), float(torch.linalg.vector_norm(grad))
            rows.append((step, loss_value, grad_norm))
            if not torch.isfinite(loss).all():
                break
            if loss_value <= target_loss and grad_norm <= grad_norm_tol:
                converged = True
                break
        if step == max_steps:
            break
        param.grad = grad
        optimizer.step()
    return param.detach()[0], pd.DataFrame(rows, columns=["step", "loss", "grad_norm"]), converged


@pytest.mark.parametrize("max_steps, target, tol", [(2000, 1e-6, 1e-3), (57, 1e-8, math.inf), (0, 1.0, 1.0)])
def test_adam_descent_is_bitwise_the_old_loop(max_steps, target, tol):
    landscape = quadratic(6, [0.5, 1.0, 2.0])
    start = torch.linspace(-1, 1.5, 6, dtype=torch.float64)
    new = adam_descent(landscape, start, 1e-2, max_steps, target, tol, record_every=7)
    theta, curve, converged = _old_adam_descent(landscape, start, 1e-2, max_steps, target, tol, record_every=7)
    assert torch.equal(new.theta, theta) and new.curve.equals(curve) and new.converged == converged
