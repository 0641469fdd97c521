"""Fault drills of the chunked Langevin run (issue 24, item 7): after each fault the rerun loses nothing and
its outputs are bitwise identical to an uninterrupted run's. (SIGKILL mid-chunk: tests/test_langevin.py and
the workflow's kill test in tests/test_workflow.py.)"""

import errno
import logging

import pandas as pd
import pytest
import torch

import thermoscape.core.io as io
from thermoscape.core.io import OutputFileError
from thermoscape.dynamics.langevin import Chain, Schedule, run_chunked

SCHEDULE = Schedule(n_steps=350, snapshot_every=50, chunk_steps=100, noise_block=32)


@pytest.fixture
def run(paper_landscape):
    theta = paper_landscape.initial_parameters(torch.Generator().manual_seed(0)).unsqueeze(0)
    chains = [Chain(1e-4, 1e-2, 5, param_snapshot_steps=(130, 290))]

    def go(workdir, progress=None):
        return run_chunked(paper_landscape, theta, chains, SCHEDULE, workdir, progress=progress)[1]

    return go


@pytest.fixture
def reference(run, tmp_path):
    return run(tmp_path / "reference")


def assert_identical(reference, resumed):
    for name in reference:
        assert len(reference[name]) == len(resumed[name]) == 4
        for a, b in zip(reference[name], resumed[name]):
            pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b), check_exact=True)


class Killed(RuntimeError):
    pass


def kill_after(steps):
    seen = []

    def progress(n):
        seen.append(n)
        if sum(seen) > steps:
            raise Killed

    return progress


def test_truncated_checkpoint_falls_back_to_the_one_before(run, reference, tmp_path, caplog):
    workdir = tmp_path / "b"
    with pytest.raises(Killed):
        run(workdir, kill_after(230))  # killed in the third chunk: checkpoints after chunks 1 and 2
    latest = workdir / "checkpoint-000002.pt"
    latest.write_bytes(latest.read_bytes()[:100])  # truncated (as by a full disk outside the atomic write)
    with caplog.at_level(logging.WARNING):
        resumed = run(workdir)
    assert f"checkpoint {latest} is unusable" in caplog.text and "checksum mismatch" in caplog.text
    assert "resuming from the earlier checkpoint" in caplog.text
    assert_identical(reference, resumed)


def test_every_checkpoint_corrupt_restarts_from_scratch(run, reference, tmp_path, caplog):
    workdir = tmp_path / "b"
    with pytest.raises(Killed):
        run(workdir, kill_after(230))
    for path in workdir.glob("checkpoint-*.pt"):
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF  # one flipped bit in the middle
        path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        resumed = run(workdir)
    assert "starting from scratch" in caplog.text
    assert_identical(reference, resumed)


def test_corrupt_chunk_file_falls_back_to_the_checkpoint_before_it(run, reference, tmp_path, caplog):
    workdir = tmp_path / "b"
    with pytest.raises(Killed):
        run(workdir, kill_after(230))
    part = workdir / "trajectory-000001.parquet"
    part.write_bytes(part.read_bytes()[:-50])
    with caplog.at_level(logging.WARNING):
        resumed = run(workdir)
    assert "trajectory-000001.parquet are missing or corrupt" in caplog.text
    assert_identical(reference, resumed)


@pytest.mark.parametrize("code, remedy", [(errno.ENOSPC, "the disk is full: free space"),
                                          (errno.EROFS, "the file system is read-only"),
                                          (errno.EACCES, "the folder is not writable: make it writable")],
                         ids=["disk-full", "read-only", "not-writable"])
def test_write_error_during_a_chunk_names_the_file_and_the_remedy_and_the_rerun_loses_nothing(
        run, reference, tmp_path, monkeypatch, code, remedy):
    """An injected write error (root ignores chmod, so the read-only folder is simulated) in the third
    chunk's trajectory part: the job fails naming the part, no partial file is left under a final name,
    and the rerun after the fix resumes and gives the uninterrupted run's outputs bit for bit."""
    workdir = tmp_path / "b"
    real = io.pq.write_table
    target = workdir / "trajectory-000002.parquet"

    def failing(table, where, *args, **kwargs):
        if str(where).startswith(str(workdir / ".trajectory-000002.parquet.")):
            with open(where, "wb") as f:
                f.write(b"PAR1 partial")  # the partial write the error interrupts
            raise OSError(code, "injected")
        return real(table, where, *args, **kwargs)

    monkeypatch.setattr(io.pq, "write_table", failing)
    with pytest.raises(OutputFileError) as error:
        run(workdir)
    assert f"cannot write {target}" in str(error.value) and remedy in str(error.value)
    assert error.value.errno == code
    assert not target.exists() and not list(workdir.glob(".*.tmp"))
    assert (workdir / "checkpoint-000002.pt").exists()
    monkeypatch.setattr(io.pq, "write_table", real)
    assert_identical(reference, run(workdir))


def test_truncated_sgd_checkpoints_restart_from_scratch_to_the_same_result(tmp_path, caplog):
    """train_sgd (fengtu, fort) and train_mlp_replicas (taxonomy): a truncated checkpoint is logged and the
    run starts over, bit for bit the uninterrupted result."""
    from test_sgd import SEEDS, STAGGERED_STOPS, _replicas, _train, digits_like

    from thermoscape.dynamics.sgd import _SimulatedKill, train_mlp_replicas

    _, reference = _train(seed=3)
    path = tmp_path / "ckpt.pt"
    with pytest.raises(_SimulatedKill):
        _train(seed=3, checkpoint_path=str(path), _stop_after=5)
    path.write_bytes(path.read_bytes()[:200])
    with caplog.at_level(logging.WARNING):
        _, resumed = _train(seed=3, checkpoint_path=str(path))
    assert f"checkpoint {path} is truncated or corrupt" in caplog.text and "from scratch" in caplog.text
    assert resumed.history.equals(reference.history)
    assert all(torch.equal(v, resumed.state[k]) for k, v in reference.state.items())

    x, y = digits_like(torch.float32)
    expected = train_mlp_replicas(_replicas(torch.float32, 4), x, y, STAGGERED_STOPS, SEEDS)
    path = tmp_path / "replicas.pt"
    with pytest.raises(_SimulatedKill):
        train_mlp_replicas(_replicas(torch.float32, 4), x, y, STAGGERED_STOPS, SEEDS, str(path), checkpoint_every=0,
                           _stop_after=2)
    path.write_bytes(path.read_bytes()[:-100])
    resumed = train_mlp_replicas(_replicas(torch.float32, 4), x, y, STAGGERED_STOPS, SEEDS, str(path))
    for ref, res in zip(expected, resumed):
        assert res.history.equals(ref.history)
        assert all(torch.equal(v, res.state[k]) for k, v in ref.state.items())
