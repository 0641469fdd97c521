from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from thermoscape.dynamics.langevin import Chain, Schedule, run_chunked
from thermoscape.data.tables import gaussian_classification, table_to_tensors
from thermoscape.nets.losses import MLPLandscape, QuadraticLandscape
from thermoscape.nets.mlp import MLPSpec

PAPER_SPEC = MLPSpec((10, 20, 20, 10, 3))

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "config" / "smoke.yaml"
# The smoke config's own results folder (issue 24: it never writes into the default's results/). Workflow
# tests name smoke outputs through it, so that the folder is set in config/smoke.yaml alone.
SMOKE_RESULTS = yaml.safe_load(SMOKE.read_text())["results"]


def smoke_results(workdir: Path) -> Path:
    """The folder a smoke-config run with ``workdir`` as its working directory writes its outputs to."""
    return workdir / SMOKE_RESULTS


@pytest.fixture(autouse=True)
def single_thread():
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def paper_landscape() -> MLPLandscape:
    x, labels = table_to_tensors(gaussian_classification(300, 10, 3, seed=0))
    return MLPLandscape(PAPER_SPEC, x, labels)


def quadratic(n_params: int, stiffness) -> QuadraticLandscape:
    return QuadraticLandscape(torch.as_tensor(stiffness, dtype=torch.float64), n_params)


F64 = torch.float64


def gen(seed: int) -> torch.Generator:
    """A seeded CPU generator: every random draw in the tests is reproducible."""
    return torch.Generator().manual_seed(seed)


LONGEST_FIRST = ("test_workflow.py", "test_slurm.py", "test_workflow_jules_checks.py")  # the slowest files start first under pytest-xdist


class Killed(RuntimeError):
    pass


def assert_resume_is_bitwise(landscape, theta, workdir) -> None:
    """A run killed during its third chunk and resumed writes the same records as an uninterrupted one."""
    chains = [Chain(1e-4, 1e-2, 5, param_snapshot_steps=(130, 290))]
    schedule = Schedule(n_steps=350, snapshot_every=50, chunk_steps=100, noise_block=32)
    _, reference = run_chunked(landscape, theta, chains, schedule, workdir / "a")
    seen = []

    def kill_during_third_chunk(n):
        seen.append(n)
        if sum(seen) > 230:
            raise Killed

    with pytest.raises(Killed):
        run_chunked(landscape, theta, chains, schedule, workdir / "b", progress=kill_during_third_chunk)
    _, resumed = run_chunked(landscape, theta, chains, schedule, workdir / "b")
    for name in reference:
        assert len(reference[name]) == len(resumed[name]) == 4
        a = pd.concat([pd.read_parquet(p) for p in reference[name]], ignore_index=True)
        b = pd.concat([pd.read_parquet(p) for p in resumed[name]], ignore_index=True)
        pd.testing.assert_frame_equal(a, b)
    assert len(a) == 2  # the two parameter snapshots


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the slowest test files first (stable otherwise): xdist hands files out in collection order, and a
    long file handed out last would set the suite's wall time alone."""
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


@pytest.fixture
def close_figures():
    """Close every matplotlib figure a test opened (plot tests use it through ``pytestmark``)."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture
def no_tight_layout(monkeypatch):
    """Skip Figure.tight_layout, most of the drawing time, in plot tests that do not save; the workflow's
    figure rules render every figure with it."""
    from matplotlib.figure import Figure

    monkeypatch.setattr(Figure, "tight_layout", lambda self, *args, **kwargs: None)
