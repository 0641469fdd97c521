"""``thermoscape.chart``: the primary study's measurements on a user's network, and its refusals of bad input."""

import math
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import thermoscape
from thermoscape.studies.chart import (
    ModelInputError,
    ModelTypeError,
    RefinementError,
    Sampling,
    chart,
    prepare,
    refine_minimum,
    sample_temperature,
)

N_PARAMS, N_POINTS = 6, 48


def orthogonal_design() -> tuple[np.ndarray, np.ndarray]:
    """``X^T X = (D / 2) I`` and ``y = 0``: with ``mse`` the landscape of ``Linear(6, 1, bias=False)`` is exactly
    ``L = |theta|^2 / 2``, all ``N_c = 6`` stiffnesses 1 (Jules et al., Sec. I)."""
    q, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(N_POINTS, N_PARAMS)))
    return q * np.sqrt(N_POINTS / 2), np.zeros((N_POINTS, 1))


def test_chart_recovers_the_closed_forms_of_the_quadratic_landscape():
    """Sec. I: ``L ~ Gamma(N_c / 2, 1 / T)``, so N_c = 6, beta T = 1, mu_L = (N_c / 2) T (C_h = 3),
    sigma_L = sqrt(C_h) T; ``chi_L = exp(-2 k t)``, so tau_1/2 = ln 2 / 2 and L = sqrt(T ln 2 / 2)."""
    x, y = orthogonal_design()
    torch.manual_seed(0)
    result = chart(nn.Linear(N_PARAMS, 1, bias=False), x, y, temperatures=[1e-3, 4e-3], loss="mse", chains=4,
                   eta=0.02, duration=100.0, burn_in=10.0, seed=1, device="cpu", details=True)
    table = result.table
    assert list(table["temperature"]) == [1e-3, 4e-3] and table["equilibrated"].all()
    assert result.descent is not None and result.descent.converged and result.loss_minimum < 1e-7
    assert (table["baseline"] == "minimum").all() and table["phi"].isna().all()
    tau = math.log(2) / 2
    for row in table.itertuples():
        assert abs(row.n_c / N_PARAMS - 1) < 0.1 and abs(row.beta_T - 1) < 0.1
        assert abs(row.c_h / (N_PARAMS / 2) - 1) < 0.1 and abs(row.sigma_ratio - 1) < 0.1
        assert abs(row.tau_half / tau - 1) < 0.25
        assert abs(row.length / math.sqrt(row.temperature * tau) - 1) < 0.15
        errors = [row.n_c_error, row.c_h_error, row.beta_T_error, row.tau_half_error, row.length_error]
        assert all(np.isfinite(errors)) and min(errors) > 0  # from the chains, never a bare 0
        assert row.n_chains == row.n_used == 4
    assert abs(table.attrs["c_h_fit"] / (N_PARAMS / 2) - 1) < 0.1
    assert abs(table.attrs["length_squared"] / (np.median(table["temperature"]) * tau) - 1) < 0.3
    assert set(result.summary["slice"]) > {"all"}  # the drift slices of the primary study's table


def test_chart_runs_a_cnn_with_cross_entropy():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 3))
    x, y = torch.randn(16, 1, 8, 8), torch.randint(0, 3, (16,))
    table = chart(model, x, y, [1e-4], chains=2, duration=2.0, burn_in=0.5, refine=False,
                  sampling={"snapshot_interval": 0.5}, device="cpu")
    assert len(table) == 1 and table.loc[0, "baseline"] == "zero"
    assert np.isfinite(table.loc[0, ["n_c", "beta_T", "mu", "phi"]].astype(float)).all()
    assert model[0].weight.dtype == torch.float32 and model.training  # the caller's model is left alone


def test_the_steps_compose_like_chart_and_resume_from_their_workdir(tmp_path):
    """The workflow's jobs: prepare, refine, one temperature per job (resumable from its workdir)."""
    x, y = orthogonal_design()
    landscape = prepare(nn.Linear(N_PARAMS, 1, bias=False), x, y, "mse")
    theta = refine_minimum(landscape, landscape.flat_parameters()).theta
    sampling = Sampling(chains=2, eta=0.02, duration=4.0, chunk_steps=50)
    first = sample_temperature(landscape, theta, 1e-3, sampling, seed=3, workdir=tmp_path / "a")
    assert len(list((tmp_path / "a").glob("trajectory-*.parquet"))) == 4  # chunks of 50 steps
    again = sample_temperature(landscape, theta, 1e-3, sampling, seed=3, workdir=tmp_path / "a")  # resumes: done
    pd.testing.assert_frame_equal(first["trajectory"], again["trajectory"])
    assert list(first["status"]["n_steps"]) == [200, 200] and not first["status"]["diverged"].any()


def test_chains_below_the_reference_minimum_are_left_out_and_counted():
    """Sampling from a point that is no minimum (refine=False) with the ``minimum`` baseline: every chain
    descends below ``L_0``, so none can be gamma-fitted; the row stays, empty, with the count."""
    x, _ = orthogonal_design()
    model = nn.Linear(N_PARAMS, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(1.0)
    table = chart(model, x, np.zeros((N_POINTS, 1)), [1e-3], loss="mse", chains=2, eta=0.02, duration=4.0,
                  burn_in=1.0, refine=False, device="cpu")
    assert table.loc[0, "n_below_minimum"] == 2 and table.loc[0, "n_used"] == 0
    assert np.isnan(table.loc[0, "n_c"]) and not table.loc[0, "equilibrated"]
    assert table.loc[0, "loss_minimum"] == pytest.approx(N_PARAMS / 2)


def test_thermoscape_chart_is_imported_lazily():
    code = ("import sys, thermoscape; before = 'torch' in sys.modules; f = thermoscape.chart; "
            "print(before, f.__module__, 'chart' in dir(thermoscape))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "thermoscape.studies.chart.api", "True"]
    assert thermoscape.chart is chart
    with pytest.raises(AttributeError):
        thermoscape.no_such_thing  # noqa: B018


# --- bad input: each refused before sampling, naming the input --------------------------------------------


def linear_data(n_features: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(10, n_features), torch.randint(0, 2, (10,))


def refusal(argument: str, *args, **kwargs) -> str:
    x, y = linear_data()
    kwargs = {"x": x, "y": y, "temperatures": [1e-4], "chains": 2, "duration": 1.0, "burn_in": 0.1,
              "refine": False, "device": "cpu"} | kwargs
    with pytest.raises(ModelInputError) as error:
        chart(*args, **kwargs)
    assert error.value.argument == argument
    return str(error.value)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_a_callable_that_does_not_return_a_module_is_a_type_error():
    with pytest.raises(ModelTypeError) as error:
        chart(lambda: "not a module", *linear_data(), [1e-4], device="cpu")
    assert isinstance(error.value, TypeError) and "returned str, not a torch.nn.Module" in str(error.value)
    assert "cannot import 'no_such_package.models'" in refusal("model", "no_such_package.models:build")
    assert "TorchScript" in refusal("model", torch.jit.script(nn.Linear(4, 2)))


def test_weights_that_do_not_match_list_the_keys(tmp_path):
    state = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)).state_dict()
    path = tmp_path / "weights.pt"
    torch.save(state, path)
    message = refusal("weights", nn.Sequential(nn.Linear(4, 3)), weights=path)
    assert "unexpected keys: 1.bias, 1.weight" in message
    message = refusal("weights", nn.Sequential(nn.Linear(4, 2), nn.Linear(2, 2)), weights=state)
    assert "shape mismatches: 0.bias (3,) (model: (2,)), 0.weight (3, 4) (model: (2, 4))" in message
    message = refusal("weights", nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2), nn.Linear(2, 2)), weights=state)
    assert "missing keys: 2.bias, 2.weight" in message


def test_data_that_do_not_fit_the_model():
    assert "a forward pass of 2 points failed" in refusal("x", nn.Linear(5, 2))
    x, _ = linear_data()
    assert "has 3 points but x has 10" in refusal("y", nn.Linear(4, 2), y=torch.zeros(3, dtype=torch.int64))
    assert "integer class labels" in refusal("y", nn.Linear(4, 2), y=torch.zeros(10))
    assert "non-finite" in refusal("x", nn.Linear(4, 2), x=x.index_fill(0, torch.tensor([3]), float("nan")))


class Exploding(nn.Module):
    """``f = log(1 - w)``: finite at ``w = 0``; with targets -100 Adam's steps of lr 1 pass ``w = 1``, beyond
    which the loss is not finite."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.log(1 - self.weight) * torch.ones(len(x), 1, dtype=self.weight.dtype)


def test_a_loss_that_is_not_finite_at_the_start_or_at_the_minimum():
    bad = nn.Linear(4, 2)
    with torch.no_grad():
        bad.weight[0, 0] = float("inf")
    assert "not finite" in refusal("weights", bad, refine=True)
    message = refusal("loss", Exploding(), y=torch.full((10, 1), -100.0), loss="mse",
                      refine={"lr": 1.0, "record_every": 1})
    assert "at the refined minimum" in message and "is nan" in message


def test_a_refinement_short_of_its_tolerance_says_so():
    with pytest.raises(RefinementError, match=r"after 3 steps .* short of grad_norm_tol = 1.000e-12"):
        chart(nn.Linear(4, 2), *linear_data(), [1e-4], refine={"max_steps": 3, "grad_norm_tol": 1e-12},
              device="cpu")


def test_memory_beyond_the_device_is_refused_with_the_estimate():
    message = refusal("chains", nn.Linear(4, 2), chains=64, memory_available=1e5)
    assert "64 chains x 10 parameters need about" in message and "noise" in message
    assert "GiB are available on cpu" in message


class Widened(nn.Module):
    """``Linear(4, 2)`` followed by a functional widening (no submodule sees it): ``exp`` saves its
    ``(points, 2, WIDTH)`` output for the backward pass, ``2 WIDTH`` elements per point."""

    WIDTH = 50_000

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.exp(self.linear(x)[..., None].expand(-1, -1, self.WIDTH) * 1e-3).mean(-1)


def test_the_memory_estimate_counts_functional_activations_and_refuses_with_it():
    """The activations are measured (tensors saved for the backward pass on the probe), so a forward made
    of ``torch`` functions counts: per chain at least ``2 WIDTH`` float64 elements per point, times 2 (their
    gradients). 10 points, 64 chains: >= 64 x 10 x 2 x 50,000 x 8 x 2 B = 0.95 GiB, refused on 0.5 GiB."""
    x, y = linear_data()
    land = prepare(Widened(), x, y, "cross_entropy", device="cpu")
    assert 2 * Widened.WIDTH <= land.activations_per_sample < 2.2 * Widened.WIDTH
    assert land.activations_fixed < 100  # the weights saved by the matmul, not growing with the points
    expected = 2 * 64 * 10 * 2 * Widened.WIDTH * 8
    assert 1 <= land.activation_bytes(64) / expected < 1.1
    message = refusal("chains", Widened(), chains=64, memory_available=2.0**29)
    assert re.search(r"need about 0\.9\d+ GiB \(.*activations 0\.9\d+", message), message


def test_settings_are_checked_before_any_sampling():
    assert "positive, finite temperature" in refusal("temperatures", nn.Linear(4, 2), temperatures=[1e-4, -1.0])
    assert "unknown settings chain" in refusal("sampling", nn.Linear(4, 2), sampling={"chain": 3})
    assert "as chart's own argument" in refusal("sampling", nn.Linear(4, 2), sampling={"chains": 3})
    assert "at least 2" in refusal("chains", nn.Linear(4, 2), chains=1)
    assert "leaves nothing" in refusal("burn_in", nn.Linear(4, 2), burn_in=5.0)
    assert "one of cross_entropy, mse" in refusal("loss", nn.Linear(4, 2), loss="hinge")


def test_a_model_module_in_the_working_directory_or_a_given_folder_imports(tmp_path, monkeypatch):
    """``"my_module:build_model"`` next to the user's config or in the working directory (not installed, not on
    ``sys.path``) imports: those folders go to the front of ``sys.path`` (``inputs.import_callable``)."""
    from thermoscape.studies.chart import load_model

    monkeypatch.syspath_prepend(str(tmp_path))  # only so that sys.path is restored after the test
    for name, folder in (("h27c_cwd_module", tmp_path / "cwd"), ("h27c_config_module", tmp_path / "config")):
        folder.mkdir()
        (folder / f"{name}.py").write_text("from torch import nn\n\ndef build_model():\n    return nn.Linear(3, 2)\n")
    monkeypatch.chdir(tmp_path / "cwd")
    assert load_model("h27c_cwd_module:build_model").in_features == 3
    assert load_model("h27c_config_module:build_model", search_path=[tmp_path / "config"]).out_features == 2
    with pytest.raises(ModelInputError, match="cannot import 'h27c_absent'.*looked in"):
        load_model("h27c_absent:build_model")
