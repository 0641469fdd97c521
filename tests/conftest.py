import pytest
import torch

from thermoscape.data.tables import gaussian_classification, table_to_tensors
from thermoscape.nets.losses import MLPLandscape, QuadraticLandscape
from thermoscape.nets.mlp import MLPSpec

PAPER_SPEC = MLPSpec((10, 20, 20, 10, 3))


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
