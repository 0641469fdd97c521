"""Progress lines of long jobs (issue 24, item 5): done / total, rate and ETA in the job's log."""

import logging

import torch
from conftest import quadratic

from thermoscape.core.jobs import ProgressLog
from thermoscape.nets import build
from thermoscape.nets.small import small_spec
from thermoscape.dynamics.train import adam_descent


def test_progress_log_reports_rate_and_eta_every_interval(caplog):
    now = [0.0]
    progress = ProgressLog(1000, "replica 0 Adam", every=10.0, clock=lambda: now[0])
    with caplog.at_level(logging.INFO):
        now[0] = 5.0
        progress(100)  # too soon: no line
        now[0] = 10.0
        progress(250)
        now[0] = 12.0
        progress(300)
    assert caplog.messages == ["replica 0 Adam: 250/1000 steps (25%), 25 steps/s, ETA 30 s"]
    now[0] = 20.0
    assert progress.line() == "replica 0 Adam: 300/1000 steps (30%), 15 steps/s, ETA 47 s"


def test_adam_descent_reports_its_steps():
    landscape = quadratic(2, [1.0, 2.0])
    seen = []
    adam_descent(landscape, torch.tensor([1.0, 1.0], dtype=torch.float64), lr=0.1, max_steps=50, target_loss=0.0,
                 record_every=10, progress=seen.append)
    assert seen == [0, 10, 20, 30, 40, 50]


def test_sgd_of_fort_and_bradley_report_each_epoch():
    from test_shift_curvature import tiny_data, tiny_model

    from thermoscape.studies.bradley import shift_curvature as sc

    totals, seen = [], []

    def progress(epochs):
        totals.append(epochs)
        return seen.append

    result = sc.stage_a(tiny_model(), tiny_data(), 0.01, 0, batch=4, epochs_times_T=0.02, progress=progress)
    assert totals == [result["epochs"]] and seen == list(range(1, result["epochs"] + 1))

    from test_fort import tiny

    from thermoscape.studies.fort import experiment as fort

    data = fort.Data(*tiny(n=40)[2:4], *tiny(n=20, seed=1)[2:4], 3, "unit")
    epochs = []
    model = build(small_spec("mlp", "tanh", (16,), 3, [5], [2]), 0, torch.float64)
    fort.train(model, data, fort.Training(0.5, 10, 3), seed=0,
               checkpoints=[0], n_stats=8, progress=epochs.append)
    assert epochs == [1, 2, 3]
