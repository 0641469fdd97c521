"""The one trainer (dynamics.train) and the minibatch orders (data.batches): each converted loop against a
copy of its old implementation, kept here, on a small fixed case (bitwise where the arithmetic is unchanged,
rtol 1e-10 where a hand-written step gave way to torch.optim), and the trainer's own contract."""

import math

import pandas as pd
import pytest
import torch
from conftest import quadratic

from thermoscape.core.seeds import derive_seed
from thermoscape.data.batches import BatchOrder, ReplicaBatchOrder, cyclic_batches, epoch_batches
from thermoscape.dynamics.train import Checkpoint, Optimizer, SimulatedKill, adam_descent, train
from thermoscape.nets import build
from thermoscape.nets.small import small_spec


def _equal(a, b):
    return torch.equal(a, b)


def _small_mlp(activation, channels):
    """Fort & Ganguli's 16-5-3 MLP (``channels``: the config's, unused by an MLP), float64, seed 0."""
    return build(small_spec("mlp", activation, (16,), 3, [5], channels), 0, torch.float64)


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
    assert BatchOrder(n, None)(0) == [slice(None)] and BatchOrder(n, n)(0)[0].shape == (n,)
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
    assert run.diverged and run.steps == 2 and float(w.detach()) == 3.0 and math.isinf(run.last_loss)
    w.data.fill_(1.0)
    run = train([w], step, Optimizer(lr=1.0), 10, divergence="epoch")
    assert run.diverged and run.steps == 3 and float(w.detach()) == 4.0
    w.data.fill_(1.0)
    run = train([w], step, Optimizer(lr=1.0), 10, on_epoch_end=lambda e, r: "enough" if e == 0 else None)
    assert run.stopped == "enough" and run.epochs_run == 1


# --- replica mode: R runs batched into one ----------------------------------------------------------------

REPLICA_SEEDS = [3, 4, 5]
REPLICA_STOPS = [10, 2, 3]  # replica 0 runs the 6-epoch budget, replicas 1 and 2 are stopped by the hook


def _replica_start():
    return torch.stack([torch.linspace(-1, 1, 5, dtype=torch.float64) * (k + 1) for k in range(3)])


def _separate_run(k, spec, path=None):
    """Replica ``k`` as a plain trainer run: its own order, its own stop."""
    x, y = _least_squares()
    w = _replica_start()[k].clone().requires_grad_(True)

    def step(i):
        loss = ((x[i] * w).sum(-1) - y[i]).square().mean()
        loss.backward()
        return loss

    run = train([w], step, spec, 6, batches=BatchOrder(40, 8, REPLICA_SEEDS[k], "stream"),
                lr=lambda e: spec.lr / (1 + e), divergence="epoch",
                on_epoch_end=lambda e, r: "enough" if r.epochs_run >= REPLICA_STOPS[k] else None)
    return w.detach(), run


def _replica_run(spec, path=None, stop=None):
    x, y = _least_squares()
    w = _replica_start().requires_grad_(True)

    def step(batch, live):  # batch (K, B): each running replica's own samples
        loss = ((x[batch] * live[0][:, None, :]).sum(-1) - y[batch]).square().mean(1)
        loss.sum().backward()
        return loss.detach()

    def end(epoch, run):
        return {k: "enough" for k in run.ran if run.epochs_run >= REPLICA_STOPS[k]}

    ckpt = None if path is None else Checkpoint(path, "replicas")
    orders = ReplicaBatchOrder([BatchOrder(40, 8, s, "stream") for s in REPLICA_SEEDS])
    run = train([w], step, spec, 6, batches=orders,
                lr=lambda e: spec.lr / (1 + e), on_epoch_end=end, divergence="epoch", checkpoint=ckpt,
                replicas=3, _stop_after=stop)
    return w.detach(), run


@pytest.mark.parametrize("spec", [Optimizer("sgd", lr=0.05, momentum=0.9, weight_decay=5e-4),
                                  Optimizer("adam", lr=0.01, weight_decay=1e-3)], ids=["sgd", "adam"])
def test_replica_mode_equals_separate_trainer_runs(spec):
    """The batched replicas are R separate runs: parameters, epoch losses, stops (frozen replicas neither step
    nor draw, their optimizer state rows stay as they were)."""
    w, run = _replica_run(spec)
    assert run.replicas == ["epochs", "enough", "enough"] and run.stopped == "epochs" and run.epochs_run == 6
    for k in range(3):
        w_k, run_k = _separate_run(k, spec)
        assert run_k.epochs_run == min(REPLICA_STOPS[k], 6)
        torch.testing.assert_close(w[k], w_k, rtol=1e-12, atol=0)
        losses = [e[k] for e in run.epoch_losses]
        torch.testing.assert_close(torch.tensor(losses[: run_k.epochs_run]), torch.tensor(run_k.epoch_losses),
                                   rtol=1e-12, atol=0)
        assert all(math.isnan(v) for v in losses[run_k.epochs_run:])


def test_replica_mode_resumes_bitwise(tmp_path):
    spec = Optimizer("adam", lr=0.01)
    whole = _replica_run(spec)
    path = tmp_path / "replicas.pt"
    for _ in range(3):  # killed after epochs 1, 2 (replica 1 stopped) and 3 (replica 2 too): narrowed state saved
        with pytest.raises(SimulatedKill):
            _replica_run(spec, path, stop=1)
    resumed = _replica_run(spec, path)
    assert torch.equal(resumed[0], whole[0])
    torch.testing.assert_close(torch.tensor(resumed[1].epoch_losses), torch.tensor(whole[1].epoch_losses),
                               rtol=0, atol=0, equal_nan=True)
    assert (resumed[1].replicas, resumed[1].steps) == (whole[1].replicas, whole[1].steps)
    assert list(tmp_path.iterdir()) == [path]


def test_replica_mode_refusals():
    w = torch.zeros(3, 2, requires_grad=True)
    with pytest.raises(ValueError, match="'epoch' or 'never'"):
        train([w], lambda b, live: None, Optimizer(), 1, replicas=3)
    with pytest.raises(ValueError, match="first axis of 4 replicas"):
        train([w], lambda b, live: None, Optimizer(), 1, replicas=4, divergence="never")
    with pytest.raises(ValueError, match="track_loss"):
        train([w], lambda b: None, Optimizer(), 1, divergence="epoch", track_loss=False)


# --- sgd.train_mlp_replicas (Yang et al.): its own batched loop gave way to the trainer's replica mode -------


def _old_train_mlp_replicas(models, x, y, settings, seeds):
    """The batched loop as it was (hand-written SGD update, a frozen replica's rows copied out and back)."""
    import torch.nn.functional as F

    from thermoscape.dynamics.sgd import (_clone_state, _mlp_backward, _mlp_forward, _mlp_spec, _Progress,
                                          _sample_major, learning_rate)
    from thermoscape.nets.mlp import unflatten
    from thermoscape.nets.networks import flat_parameters, set_flat_parameters

    spec, x = _mlp_spec(models), x.flatten(1)
    theta = torch.stack([flat_parameters(m) for m in models])
    best, momentum = theta.clone(), None
    generators, runs = [torch.Generator().manual_seed(s) for s in seeds], [_Progress() for _ in models]
    with torch.no_grad():
        while any(run.stopped is None for run in runs):
            active = [k for k, run in enumerate(runs) if run.stopped is None]
            lr = learning_rate(settings, len(runs[active[0]].rows))
            order = torch.stack([torch.stack(_old_epoch_batches(x.shape[0], settings.batch_size, generators[k]))
                                 for k in active], dim=1)
            rows = torch.tensor(active)
            th, buf = theta[rows], None if momentum is None else momentum[rows]
            n_steps, n_replicas, batch = order.shape
            xe, ye = x[order], y[order]
            onehot = F.one_hot(ye, spec.widths[-1]).to(th.dtype).mul_(1.0 / batch)
            label_log_p, predictions = torch.empty(n_steps, n_replicas, dtype=th.dtype), torch.empty_like(ye)
            grad = torch.empty_like(th)
            layers, grads = unflatten(th, spec), unflatten(grad, spec)
            for s in range(n_steps):
                logits, inputs = _mlp_forward(_sample_major(layers), xe[s])
                log_p = torch.log_softmax(logits, dim=2)
                _mlp_backward(layers, inputs, torch.exp(log_p).mul_(1.0 / batch).sub_(onehot[s]), grads)
                grad.add_(th, alpha=settings.weight_decay)
                if settings.momentum:
                    buf = grad.clone() if buf is None else buf.mul_(settings.momentum).add_(grad)
                th.add_(buf if settings.momentum else grad, alpha=-lr)
                label_log_p[s] = log_p.gather(2, ye[s].unsqueeze(2)).sum(dim=(1, 2))
                predictions[s] = logits.argmax(dim=2)
            theta[rows] = th
            if buf is not None:
                momentum = buf if momentum is None else momentum.index_put_((rows,), buf)
            loss_sums = (-label_log_p / batch).double().cumsum(dim=0)[-1]
            correct = (predictions == ye).sum(dim=(0, 2))
            for k, loss_sum, right in zip(active, loss_sums.tolist(), correct.tolist()):
                if runs[k].record(lr, loss_sum, right, n_steps, settings):
                    best[k] = theta[k]
    results = []
    for model, run, last, best_k in zip(models, runs, theta, best):
        set_flat_parameters(model, last if run.checkpoint == "early_stopped" else best_k)
        results.append(run.result(_clone_state(model)))
    return results


@pytest.mark.parametrize("case", ["stops", "diverge", "decay", "no_momentum"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_train_mlp_replicas_is_bitwise_the_old_loop(case, dtype):
    import dataclasses

    from test_sgd import SEEDS, SHORT, STAGGERED_DIVERGENCE, STAGGERED_STOPS, _replicas, digits_like

    from thermoscape.dynamics.sgd import train_mlp_replicas

    settings = {"stops": STAGGERED_STOPS, "diverge": STAGGERED_DIVERGENCE,
                "decay": dataclasses.replace(SHORT, schedule="one_decay", batch_size=10),
                "no_momentum": dataclasses.replace(STAGGERED_STOPS, momentum=0.0, weight_decay=0.0)}[case]
    x, y = digits_like(dtype)
    new = train_mlp_replicas(_replicas(dtype, 4), x, y, settings, SEEDS)
    old = _old_train_mlp_replicas(_replicas(dtype, 4), x, y, settings, SEEDS)
    if case == "stops":
        assert len({r.epochs for r in new}) > 1  # frozen replicas while others go on
    for a, b in zip(new, old):
        assert a.history.equals(b.history)
        assert (a.checkpoint, a.epochs, a.diverged) == (b.checkpoint, b.epochs, b.diverged)
        assert all(torch.equal(a.state[k], b.state[k]) for k in a.state)


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


# --- fort.train, fort.hyperplane_training (Fort & Ganguli) ----------------------------------------------


def _fort_data(n=40, seed=0):
    from thermoscape.studies.fort import experiment as fort

    g = torch.Generator().manual_seed(seed)
    x, xt = torch.rand(n, 16, generator=g, dtype=torch.float64), torch.rand(20, 16, generator=g, dtype=torch.float64)
    return fort.Data(x, torch.arange(n) % 3, xt, torch.arange(20) % 3, 3, "unit")


def _old_fort_train(model, data, training, seed, checkpoints, n_stats=200):
    import torch.nn.functional as F

    from thermoscape.studies.fort import experiment as fort
    from thermoscape.nets.networks import flat_parameters

    optimizer = torch.optim.SGD(model.parameters(), lr=training.lr, momentum=training.momentum)
    rows, kept = [], {}

    def record(epoch):
        theta = flat_parameters(model).detach().clone()
        row = {"epoch": float(epoch), **fort._epoch_row(model, theta, data, n_stats, False, seed + epoch)}
        row["finite"] = math.isfinite(row["loss"]) and math.isfinite(row["weight_norm"])
        rows.append(row)
        if epoch in checkpoints:
            kept[epoch] = theta
        return row["finite"]

    finite = record(0)
    for epoch in range(1, training.epochs + 1):
        if not finite:
            break
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        model.train()
        for index in _old_epoch_batches(data.x_train.shape[0], training.batch_size, generator):
            optimizer.zero_grad(set_to_none=True)
            F.cross_entropy(model(data.x_train[index]), data.y_train[index]).backward()
            optimizer.step()
        finite = record(epoch)
    return pd.DataFrame(rows), kept


@pytest.mark.parametrize("lr, momentum", [(0.5, 0.0), (0.2, 0.9), (1e300, 0.0)])
def test_fort_train_is_bitwise_the_old_loop(lr, momentum):
    from thermoscape.studies.fort import experiment as fort

    data, training = _fort_data(), fort.Training(lr, 10, 3, momentum)
    new = fort.train(_small_mlp("tanh", [2]), data, training, 4, [0, 2], 8)
    old = _old_fort_train(_small_mlp("tanh", [2]), data, training, 4, [0, 2], 8)
    pd.testing.assert_frame_equal(new[0], old[0], check_exact=True)
    assert sorted(new[1]) == sorted(old[1]) and all(torch.equal(new[1][k], old[1][k]) for k in old[1])


def test_fort_hyperplane_training_is_bitwise_the_old_loop():
    import torch.nn.functional as F

    from thermoscape.measure.spectrum import random_orthonormal
    from thermoscape.nets.networks import flat_parameters, functional_logits
    from thermoscape.studies.fort import experiment as fort

    data, model = _fort_data(30), _small_mlp("relu", [2, 3])
    logits_fn, anchor = functional_logits(model), flat_parameters(model).detach()
    basis = random_orthonormal(anchor.numel(), 4, torch.Generator().manual_seed(1))
    theta_d = torch.zeros(4, dtype=anchor.dtype, requires_grad=True)
    optimizer = torch.optim.Adam([theta_d], lr=0.05)
    for _ in range(40):
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(logits_fn(anchor + basis @ theta_d, data.x_train), data.y_train).backward()
        optimizer.step()
    with torch.no_grad():
        loss = float(F.cross_entropy(logits_fn(anchor + basis @ theta_d, data.x_train), data.y_train))
    assert fort.hyperplane_training(logits_fn, anchor, basis, data, 40, 0.05)["loss"] == loss


# --- bradley.sgd (Bradley et al.) -----------------------------------------------------------------------


def _old_bradley_sgd(model, x, y, lr, batch_size, epochs, weight_decay=0.0, seed=0, shuffle=True,
                     drop_last=True, momentum=0.0, milestones=(), decay=0.1, eval_fn=None):
    import torch.nn.functional as F

    from thermoscape.nets.networks import flat_parameters
    from thermoscape.studies.bradley import shift_curvature as sc

    def batches_of(n, batch_size, shuffle, drop_last, generator):
        if shuffle and drop_last:
            return _old_epoch_batches(n, batch_size, generator)
        if shuffle:
            return list(torch.randperm(n, generator=generator).split(batch_size))
        stop = n - n % batch_size if drop_last else n
        return [slice(start, min(start + batch_size, stop)) for start in range(0, stop, batch_size)]

    n = x.shape[0]
    batch_size = n if batch_size is None else min(int(batch_size), n)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    rows, finite, epoch = [], True, 0
    model.train()
    for epoch in range(1, epochs + 1):
        epoch_lr = sc.step_decay_lr(lr, epoch - 1, epochs, milestones, decay)
        for group in optimizer.param_groups:
            group["lr"] = epoch_lr
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        batches = [slice(None)] if batch_size == n else batches_of(n, batch_size, shuffle, drop_last, generator)
        total = torch.zeros((), dtype=torch.float64, device=x.device)
        for index in batches:
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x[index]), y[index])
            loss.backward()
            optimizer.step()
            total += loss.detach()
        theta = flat_parameters(model)
        mean_loss = float(total) / len(batches) + 0.5 * weight_decay * float(theta.square().sum())
        finite = math.isfinite(mean_loss) and bool(torch.isfinite(theta).all())
        row = {"epoch": epoch, "lr": epoch_lr, "loss": mean_loss}
        if eval_fn is not None and finite:
            row.update(eval_fn(model))
        rows.append(row)
        if not finite:
            break
    return flat_parameters(model).clone(), epoch if finite else epoch - 1, finite, pd.DataFrame(rows)


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.1, batch_size=5, epochs=4, weight_decay=1e-3, seed=2, milestones=(0.5,), momentum=0.9),
    dict(lr=0.2, batch_size=10, epochs=2, shuffle=False, drop_last=False),
    dict(lr=0.2, batch_size=7, epochs=3, drop_last=False, seed=1),
    dict(lr=0.3, batch_size=None, epochs=3, weight_decay=0.1),
    dict(lr=0.1, batch_size=24, epochs=2, shuffle=False),
    dict(lr=1e150, batch_size=4, epochs=5),
    dict(lr=0.1, batch_size=4, epochs=0),
])
def test_bradley_sgd_is_bitwise_the_old_loop(kwargs):
    from thermoscape.studies.bradley import shift_curvature as sc

    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(24, 16, generator=g, dtype=torch.float64), torch.arange(24) % 3
    xt, yt = torch.rand(12, 16, generator=g, dtype=torch.float64), torch.arange(12) % 3
    eval_fn = sc.loss_evaluator(sc.Data(x, y, xt, yt, 3, "unit"))
    new = sc.sgd(_small_mlp("relu", []), x, y, eval_fn=eval_fn, **kwargs)
    theta, epochs, finite, history = _old_bradley_sgd(_small_mlp("relu", []), x, y,
                                                      eval_fn=eval_fn, **kwargs)
    assert torch.equal(new.theta, theta) or (not finite and torch.equal(new.theta.isnan(), theta.isnan()))
    assert (new.epochs, new.finite) == (epochs, finite)
    pd.testing.assert_frame_equal(new.history, history, check_exact=True)


# --- connectivity.train_bezier_curve (Yang et al.) ------------------------------------------------------


def _old_train_bezier_curve(loss_of_params, theta0, theta1, make_batches, epochs, lr, momentum, weight_decay,
                            schedule, generator):
    from thermoscape.measure.connectivity import bezier_point, init_bend

    bend = init_bend(theta0, theta1).detach().clone().requires_grad_(True)
    optimizer = torch.optim.SGD([bend], lr=lr, momentum=momentum, weight_decay=0.0)
    epoch_losses = []
    for epoch in range(epochs):
        for group in optimizer.param_groups:
            group["lr"] = lr * schedule(epoch + 1, epochs)
        total, count = 0.0, 0
        for batch in make_batches(epoch):
            t = torch.rand((), generator=generator, dtype=theta0.dtype).to(theta0.device)
            point = bezier_point(theta0, bend, theta1, t)
            loss = loss_of_params(point, batch) + 0.5 * weight_decay * point.square().sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total, count = total + float(loss.detach()), count + 1
        epoch_losses.append(total / max(count, 1))
    return bend.detach(), epoch_losses


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_bezier_curve_training_is_bitwise_the_old_loop(dtype):
    from thermoscape.measure.connectivity import garipov_lr_factor, train_bezier_curve

    x, y = _least_squares(1, 30, 6)
    x, y = x.to(dtype), y.to(dtype)
    theta0, theta1 = torch.zeros(6, dtype=dtype), torch.ones(6, dtype=dtype)
    loss = lambda theta, i: ((x[i] @ theta - y[i]) ** 2).mean() + torch.cos(3 * theta).sum()
    order = BatchOrder(30, 7, 5, "derived")
    args = (loss, theta0, theta1, order, 6, 0.05, 0.9, 5e-4, garipov_lr_factor)
    new = train_bezier_curve(*args, generator=torch.Generator().manual_seed(3))
    old = _old_train_bezier_curve(*args, generator=torch.Generator().manual_seed(3))
    assert torch.equal(new[0], old[0]) and new[1] == old[1]


# --- forgetting.train_task (Feng & Tu, Sec. V): a hand-written SGD step gave way to torch.optim.SGD -------


def _old_train_task(w_start, batch_loss_and_grad, n_samples, penalty, lr, batch_size, epochs, seed, evaluate,
                    evaluations_per_epoch=10, first_epoch=0, implicit_penalty=False):
    import numpy as np

    from thermoscape.studies.fengtu.experiment import epoch_order
    from thermoscape.studies.fengtu.forgetting import _evaluation_steps

    n_batches = n_samples // batch_size
    w = w_start.detach().clone()
    rows = []

    def record(step, batch_loss, metrics, diverged=False):
        rows.append({"epoch": step / n_batches, "step": step, "batch_loss": batch_loss,
                     "penalty": math.nan if diverged else (0.0 if penalty is None else float(penalty.value(w))),
                     "diverged": diverged, **metrics})

    first = evaluate(w)
    keys = list(first)
    record(first_epoch * n_batches, math.nan, first)
    eval_at = set(_evaluation_steps(n_batches, min(evaluations_per_epoch, n_batches)))
    losses = []
    for epoch in range(first_epoch, first_epoch + epochs):
        order = epoch_order(n_samples, batch_size, seed, epoch)
        for b in range(n_batches):
            step = epoch * n_batches + b + 1
            loss, grad = batch_loss_and_grad(w, order[b])
            loss_value = float(loss.detach())
            explicit = penalty is not None and not implicit_penalty
            direction = grad.detach() + penalty.gradient(w) if explicit else grad.detach()
            if not (math.isfinite(loss_value) and bool(torch.isfinite(direction).all())):
                losses.append(loss_value)
                record(step, float(np.mean(losses)), {k: math.nan for k in keys}, diverged=True)
                return w, pd.DataFrame(rows)
            w = w - lr * direction
            if penalty is not None and implicit_penalty:
                w = penalty.implicit_step(w, lr)
            losses.append(loss_value)
            if b + 1 in eval_at:
                record(step, float(np.mean(losses)), evaluate(w))
                losses = []
    return w, pd.DataFrame(rows)


def _softmax_task(d=5, c=3, m=60):
    import torch.nn.functional as F

    g = torch.Generator().manual_seed(0)
    x = torch.randn(m, d, generator=g, dtype=torch.float64)
    y = (x @ torch.randn(d, c, generator=g, dtype=torch.float64)).argmax(dim=1)

    def batch_loss_and_grad(w, index):
        w = w.detach().requires_grad_(True)
        loss = F.cross_entropy(x[index] @ w.view(d, c), y[index])
        (g_,) = torch.autograd.grad(loss, w)
        return loss.detach(), g_

    def evaluate(w):
        logits = x @ w.view(d, c)
        return {"loss": float(F.cross_entropy(logits, y)), "error": float((logits.argmax(1) != y).double().mean())}

    return batch_loss_and_grad, evaluate


@pytest.mark.parametrize("case", ["plain", "ldc", "implicit", "diverged", "resumed"])
def test_train_task_equals_the_old_loop_to_rtol_1e_10(case):
    from thermoscape.studies.fengtu.forgetting import landscape_penalty, train_task

    batch_loss_and_grad, evaluate = _softmax_task()
    q, _ = torch.linalg.qr(torch.randn(15, 4, generator=torch.Generator().manual_seed(2), dtype=torch.float64))
    w1 = torch.randn(15, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    penalty = None if case == "plain" else landscape_penalty(w1, q.T.contiguous(),
                                                              torch.tensor([0.5, 1.0, 2.0, 4.0], dtype=torch.float64),
                                                              1e30 if case == "diverged" else 0.3)
    args = (torch.zeros(15, dtype=torch.float64), batch_loss_and_grad, 60, penalty,
            0.5 if case != "diverged" else 2.0, 8, 3, 7, evaluate)
    kwargs = dict(evaluations_per_epoch=4, implicit_penalty=case == "implicit",
                  first_epoch=2 if case == "resumed" else 0)
    w_new, table_new = train_task(*args, **kwargs)
    w_old, table_old = _old_train_task(*args, **kwargs)
    assert table_new["diverged"].iloc[-1] == (case == "diverged")
    torch.testing.assert_close(w_new, w_old, rtol=1e-10, atol=0)
    assert list(table_new.columns) == list(table_old.columns) and table_new["step"].equals(table_old["step"])
    pd.testing.assert_frame_equal(table_new, table_old, check_exact=False, rtol=1e-10, atol=0)


# --- sgd.train_sgd (Yang et al., App. A) ----------------------------------------------------------------


def _old_train_sgd(model, x, y, settings, seed):
    import torch.nn.functional as F

    from thermoscape.dynamics.sgd import _clone_state, _Progress, learning_rate

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=settings.lr, momentum=settings.momentum,
                                weight_decay=settings.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    run = _Progress()
    best_state = _clone_state(model)
    while run.stopped is None:
        lr = learning_rate(settings, len(run.rows))
        for group in optimizer.param_groups:
            group["lr"] = lr
        model.train()
        loss_sum = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        batches = _old_epoch_batches(x.shape[0], settings.batch_size, generator)
        for index in batches:
            xb, yb = x.index_select(0, index), y.index_select(0, index)
            optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach().double()
            correct += (logits.detach().argmax(dim=1) == yb).sum()
        if run.record(lr, float(loss_sum), int(correct), len(batches), settings):
            best_state = _clone_state(model)
    state = _clone_state(model) if run.checkpoint == "early_stopped" else best_state
    model.load_state_dict(state)
    return run.result(state)


@pytest.mark.parametrize("kwargs", [dict(batch_size=16, max_epochs=6, min_epochs=3, schedule="one_decay"),
                                    dict(batch_size=10, max_epochs=30, min_epochs=3, tol=1e-2),
                                    dict(lr=1e6, batch_size=16, max_epochs=10, min_epochs=100)])
def test_train_sgd_is_bitwise_the_old_loop(kwargs):
    from thermoscape.dynamics.sgd import SGDSettings, train_sgd

    arch = {"name": "mlp", "in_features": 2, "width": 8, "depth": 1, "n_classes": 2}
    g = torch.Generator().manual_seed(0)
    x = torch.randn(64, 2, generator=g)
    y = (x[:, 0] + 0.3 * x[:, 1] > 0).long()
    settings = SGDSettings(**kwargs)
    new = train_sgd(build(arch, seed=1), x, y, settings, seed=5)
    old = _old_train_sgd(build(arch, seed=1), x, y, settings, seed=5)
    assert new.history.equals(old.history) and (new.checkpoint, new.epochs, new.diverged) == (
        old.checkpoint, old.epochs, old.diverged)
    assert all(torch.equal(v, old.state[k]) for k, v in new.state.items())


# --- fengtu.train_with_snapshots (Feng & Tu, Eq. 2; E6): hand-written SGD/Adam gave way to torch.optim ---


@pytest.mark.parametrize("optimizer, momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0)])
def test_train_with_snapshots_equals_the_old_steps_to_rtol_1e_10(optimizer, momentum):
    from thermoscape.studies.fengtu.experiment import (ADAM_BETAS, ADAM_EPS, MLPTask, SGDRun, epoch_order,
                                                       layer_slices, mlp_spec, train_with_snapshots, uniform_init)

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(60, 12, generator=g, dtype=torch.float64), torch.arange(60) % 4
    spec = mlp_spec(12, [8, 6], 4)
    task, s = MLPTask(spec, x, y), layer_slices(spec)[1]
    lr = 1e-2 if optimizer == "adam" else 0.1
    run = SGDRun(lr=lr, batch_size=20, epochs=4, window=2, momentum=momentum, optimizer=optimizer)
    new = train_with_snapshots(uniform_init(spec, 2), task.batch_loss_and_grad, 60, run, 9,
                               lambda t: (0.0, 0.0, 0.0), {"W2": s})
    theta, v, m2, steps, snaps = uniform_init(spec, 2).clone(), 0, 0, 0, []  # the old loop, as it was
    v, m2 = torch.zeros_like(theta), torch.zeros_like(theta)
    for epoch in range(4):
        for index in epoch_order(60, 20, 9, epoch):
            grad = task.batch_loss_and_grad(theta, index)[1]
            steps += 1
            if optimizer == "adam":
                (b1, b2), t = ADAM_BETAS, steps
                v.mul_(b1).add_(grad, alpha=1 - b1)
                m2.mul_(b2).addcmul_(grad, grad, value=1 - b2)
                theta.addcdiv_(v, (m2 / (1 - b2**t)).sqrt_().add_(ADAM_EPS), value=-lr / (1 - b1**t))
            else:
                if momentum:
                    v.mul_(momentum).add_(grad)
                    grad = v
                theta.sub_(lr * grad)
            if epoch >= 2:
                snaps.append(theta[s].clone())
    torch.testing.assert_close(new.theta, theta, rtol=1e-10, atol=0)
    torch.testing.assert_close(torch.as_tensor(new.snapshots["W2"]), torch.stack(snaps), rtol=1e-10, atol=0)
