"""Bradley et al. figures (thermoscape.studies.bradley.plots) on small synthetic tables with the spec's columns."""

from __future__ import annotations

import itertools

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from thermoscape.studies.bradley import plots as bradley
from thermoscape.plotting import save_figure

pytestmark = pytest.mark.usefixtures("close_figures")

CASES = {  # brief 3.1, the paper's parameter table (c: confining quadratic, D = 1)
    "fig4_left": {"minima": [-1.0, 1.0], "weights": [0.021, 0.1], "sigmas": [0.1, 0.5], "shift": 0.1},
    "fig4_right": {"minima": [-1.0, 1.0], "weights": [0.019, 0.1], "sigmas": [0.1, 0.5], "shift": 0.1},
    "fig6_left": {"minima": [0.0], "weights": [0.1], "sigmas": [0.1], "shift": 0.03},
    "fig6_right": {"minima": [-1.0, 0.0, 1.0], "weights": [0.1, 0.051, 0.3], "sigmas": [0.1, 0.05, 0.3],
                   "shift": 0.1},
}
PLOT_TEMPERATURES = (1e-3, 1e-2, 1e-1)
SHIFT_TEMPERATURES = (1e-4, 2e-4, 4e-4, 8e-4, 1.6e-3)


def panels(fig: Figure) -> list[plt.Axes]:
    """Axes that carry a title (twin axes have none)."""
    return [ax for ax in fig.axes if ax.get_title()]


def check(fig: Figure, n_panels: int, legends: bool = True) -> list[plt.Axes]:
    assert isinstance(fig, Figure)
    assert fig._suptitle is not None and "Bradley et al." in fig._suptitle.get_text()
    axes = panels(fig)
    assert len(axes) == n_panels
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in axes)
    if legends:
        assert all(ax.get_legend() is not None for ax in axes)
    return axes


def legend_texts(ax: plt.Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def saved(fig: Figure, tmp_path, name: str) -> None:
    pdf, png = tmp_path / f"{name}.pdf", tmp_path / f"{name}.png"
    save_figure(fig, pdf, png)
    assert pdf.stat().st_size > 1000 and png.stat().st_size > 1000


# --------------------------------------------------------------------------------------------------
# synthetic tables: E1 computed exactly on a grid (the brief's functional form), E2-E4 plausible shapes


def gaussian(theta, mean, sigma):
    return np.exp(-0.5 * ((theta - mean) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def basin_tables(cases=tuple(CASES), points: int = 4001, temperatures=None,
                 c: float = 0.001) -> tuple[pd.DataFrame, ...]:
    """(landscape, steady_state, basins, expectations) with a leading ``case`` column, D = 1; temperatures:
    default 31 on a log grid from 1e-4 to 0.1."""
    temperatures = np.geomspace(1e-4, 1e-1, 31) if temperatures is None else temperatures
    theta = np.linspace(-4, 4, points)
    frames: dict[str, list[pd.DataFrame]] = {"landscape": [], "steady": [], "basins": [], "expect": []}
    for case in cases:
        p = CASES[case]

        def u(x, p=p):
            return -sum(w * gaussian(x, m, s) for m, w, s in zip(p["minima"], p["weights"], p["sigmas"],
                                                                  strict=True)) + c * x**2

        u_train, u_test = u(theta), u(theta + p["shift"])
        frames["landscape"].append(pd.DataFrame({"case": case, "theta": theta, "u_train": u_train,
                                                 "u_test": u_test}))
        inner = np.arange(1, points - 1)
        minima = inner[(u_train[inner] < u_train[inner - 1]) & (u_train[inner] < u_train[inner + 1])]
        maxima = inner[(u_train[inner] > u_train[inner - 1]) & (u_train[inner] > u_train[inner + 1])]
        edges = np.r_[0, maxima, points - 1]
        h = theta[1] - theta[0]
        curv = (u_train[minima + 1] - 2 * u_train[minima] + u_train[minima - 1]) / h**2
        for T in temperatures:
            log_rho = -2 * (u_train - u_train.min()) / T
            rho = np.exp(log_rho)
            rho /= np.trapezoid(rho, theta)
            if any(np.isclose(T, t) for t in PLOT_TEMPERATURES):
                frames["steady"].append(pd.DataFrame({"case": case, "T": T, "theta": theta, "rho": rho}))
            prob = [np.trapezoid(rho[a : b + 1], theta[a : b + 1]) for a, b in itertools.pairwise(edges)]
            weight = np.exp(-2 * (u_train[minima] - u_train[minima].min()) / T) / np.sqrt(curv)
            weight /= weight.sum()
            frames["basins"].append(pd.DataFrame({"case": case, "T": T, "basin": np.arange(len(minima)),
                                                  "location": theta[minima], "probability": prob,
                                                  "laplace": weight}))
            frames["expect"].append(pd.DataFrame({
                "case": [case], "T": [T], "expected_train": [np.trapezoid(rho * u_train, theta)],
                "expected_test": [np.trapezoid(rho * u_test, theta)],
                "expected_test_eq8": [float(np.sum(weight * (u_train[minima] + 0.5 * p["shift"] ** 2 * curv)))],
            }))
    return tuple(pd.concat(f, ignore_index=True) if f else pd.DataFrame() for f in frames.values())


def langevin_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    landscape, *_ = basin_tables(("fig4_left",), points=801, temperatures=[0.05])
    theta, u = landscape["theta"].to_numpy(), landscape["u_train"].to_numpy()
    rng = np.random.default_rng(0)
    rows, checks = [], []
    for T in (0.05, 0.2):
        diffusion = 0.5 + 0.4 * np.tanh(theta)
        potential = np.cumsum(np.gradient(u, theta) / diffusion) * (theta[1] - theta[0])
        theory = np.exp(-2 * (potential - potential.min()) / T) / diffusion
        centres = theta[::8]
        theory = theory[::8] / np.trapezoid(theory[::8], centres)
        simulated = np.clip(theory * (1 + 0.05 * rng.normal(size=theory.size)), 0, None)
        rows.append(pd.DataFrame({"case": "fig4_left", "T": T, "theta": centres, "simulated": simulated,
                                  "theory": theory}))
        checks.append({"case": "fig4_left", "T": T, "eta": 1e-3, "steps": 100000, "particles": 10000,
                       "ks_statistic": 0.004, "ks_pvalue": 0.31})
    return pd.DataFrame(checks), pd.concat(rows, ignore_index=True)


def shift_tables(seeds=(0, 1, 2), temperatures=SHIFT_TEMPERATURES) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lines, summary): quadratic-ish losses along the line whose curvature falls and minima rise with T,
    |s| rising with T (VGG16-like); the summary's fits computed as in App. F (c = 2 sum x^2 y / sum x^4)."""
    rng = np.random.default_rng(1)
    lines, rows = [], []
    for T in temperatures:
        for seed in seeds:
            jitter = 1 + 0.05 * rng.normal()
            c_tr, norm = 60.0 * (1e-4 / T) ** 0.5 * jitter, 0.15 * (T / 1e-4) ** 0.2 * jitter
            c_te = 1.4 * c_tr
            u_tr, u_te = 0.01 + 20 * T, 0.25 + 40 * T
            r = np.linspace(-1, 2, 61) * norm
            train = u_tr + 0.5 * c_tr * r**2 * (1 + 0.2 * np.tanh(3 * r / norm))
            test = u_te + 0.5 * c_te * (r - norm) ** 2 * (1 - 0.1 * np.tanh(3 * (r - norm) / norm))
            line = pd.DataFrame({"T": T, "seed": seed, "r": r, "train_loss": train, "test_loss": test,
                                 "train_accuracy": 100 * np.exp(-0.6 * train),
                                 "test_accuracy": 100 * np.exp(-0.35 * test)})
            lines.append(line)

            def fit(x, y, max_x):
                keep = (x >= 0) & (x <= max_x * (1 + 1e-9))
                q = 0.5 * x[keep] ** 2
                return float((q * y[keep]).sum() / (q * q).sum())

            at0, at1 = int(np.abs(r).argmin()), int(np.abs(r - norm).argmin())
            side = r <= 0
            c_train = fit(-r[side], train[side] - train[at0], norm)
            c_train_half = fit(-r[side], train[side] - train[at0], norm / 2)
            side = (r >= 0) & (r <= norm * (1 + 1e-9))
            c_test = fit(norm - r[side], test[side] - test[at1], norm)
            c_test_half = fit(norm - r[side], test[side] - test[at1], norm / 2)
            rows.append({
                "T": T, "seed": seed, "lr": T * 100, "batch": 100, "epochs": round(0.02 / T),
                "shift_norm": norm, "train_minimum_loss": train[at0], "test_minimum_loss": test[at1],
                "test_at_train": test[at0], "c_train": c_train, "c_test": c_test, "c_train_half": c_train_half,
                "c_test_half": c_test_half, "shift_curvature": c_test * norm**2,
                "prediction": test[at1] + 0.5 * c_test * norm**2,
                "prediction_half": test[at1] + 0.5 * c_test_half * norm**2, "hvp_train": 0.8 * c_tr,
                "hvp_test": 0.8 * c_te, "grad_norm_train": 1e-4, "grad_norm_test": 1e-4,
                "sgd_train_loss": train[at0] + 0.05, "sgd_test_loss": test[at0] + 0.02, "finite": True,
            })
    return pd.concat(lines, ignore_index=True), pd.DataFrame(rows)


def sweep_tables(shuffles: int = 5, sizes=(1000, 2500, 5000)) -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng(2)
    sweep = []
    for batch in (16, 64, 256):
        for T in (1e-5, 1e-4, 1e-3):
            for seed in (0, 1):
                anomaly = 0.15 if batch == 16 and T == 1e-5 else 0.0
                sweep.append({"seed": seed, "batch": batch, "T": T, "lr": T * batch,
                              "final_train": 0.01 + anomaly + 0.002 * rng.random(),
                              "final_test": 0.6 - 0.06 * np.log10(T / 1e-5) + 0.01 * rng.normal(),
                              "finite": True})
    shuffle = pd.DataFrame({"shuffle": np.arange(shuffles, dtype=np.int64),
                            "final_train": 0.01 + 0.001 * rng.random(shuffles),
                            "final_test": 0.55 + 0.01 * rng.normal(size=shuffles), "finite": True})
    size = pd.DataFrame([{"sample_size": n, "seed": s, "final_train": 0.01 + 0.001 * rng.random(),
                          "final_test": 0.5 + 300 / n + 0.01 * rng.normal(), "finite": True}
                         for n in sizes for s in (0, 1)])
    return pd.DataFrame(sweep), shuffle, size


# --------------------------------------------------------------------------------------------------
# tests


def test_zoom_range_finds_the_wells():
    landscape, *_ = basin_tables(("fig4_left",), temperatures=[0.01])
    low, high = bradley.zoom_range(landscape["theta"], landscape["u_train"])
    assert -1.8 < low < -1.1 and 2.5 < high < 3.5  # narrow well at -1, wide (sigma 0.5) at +1
    theta = np.linspace(-4, 4, 101)
    assert bradley.zoom_range(theta, 0.001 * theta**2) == (-4.0, 4.0)  # nothing but the confining term


def test_figure4_basins(no_tight_layout):
    cases = ["fig4_left", "fig4_right"]
    fig = bradley.figure_basins(*basin_tables(cases), cases)
    axes = check(fig, 8)
    assert "Fig. 4" in fig._suptitle.get_text()
    assert "Fig. 4 left" in axes[0].get_title() and "fig4_right" in axes[1].get_title()
    grid = np.array(fig.axes).reshape(4, 2)
    for j in range(2):
        assert grid[1, j].get_yscale() == "log"
        assert grid[2, j].get_xscale() == "log" and grid[3, j].get_xscale() == "log"
        texts = legend_texts(grid[3, j])
        assert any(t.startswith("Eq. 8 (quadratic)") for t in texts)
        assert any(t.startswith("min $E[U^{test}]$ at T") for t in texts)
    minimum = next(t for t in legend_texts(grid[3, 0]) if t.startswith("min"))
    assert "grid edge" not in minimum  # Fig. 4 left: interior optimal T
    assert len(legend_texts(grid[1, 0])) == len(PLOT_TEMPERATURES)
    assert sum("exact integral" in t for t in legend_texts(grid[2, 0])) == 2  # two basins


def test_figure6_basins(no_tight_layout):
    cases = ["fig6_left", "fig6_right"]
    fig = bradley.figure_basins(*basin_tables(cases), cases)
    check(fig, 8)
    assert "Fig. 6" in fig._suptitle.get_text()
    grid = np.array(fig.axes).reshape(4, 2)
    assert sum("exact integral" in t for t in legend_texts(grid[2, 1])) == 3


def test_figure_basins_errors():
    tables = list(basin_tables(("fig6_left",), points=801, temperatures=[1e-3, 1e-2]))
    with pytest.raises(ValueError, match=r"basins.*laplace"):
        bradley.figure_basins(tables[0], tables[1], tables[2].drop(columns="laplace"), tables[3], ["fig6_left"])
    with pytest.raises(ValueError, match="fig4_left"):
        bradley.figure_basins(*tables, ["fig4_left"])


def test_figure_langevin(tmp_path):
    check_table, histogram = langevin_tables()
    fig = bradley.figure_langevin(check_table, histogram)
    axes = check(fig, 2)
    assert "KS D = 0.004, p = 0.31" in axes[0].get_title()
    assert any("10000 chains" in t for t in legend_texts(axes[0]))
    saved(fig, tmp_path, "langevin")
    with pytest.raises(ValueError, match=r"langevin_histogram.*theory"):
        bradley.figure_langevin(check_table, histogram.drop(columns="theory"))


def test_figure1(tmp_path):
    lines, summary = shift_tables()
    fig = bradley.figure1(lines, summary, seed=1)
    acc, loss, fit = check(fig, 3)
    assert len(acc.get_lines()) == 4 + 2 + 1  # train/test x 2 T, r = |s| x 2, r = 0
    row = summary[(summary["seed"] == 1) & (summary["T"] == min(SHIFT_TEMPERATURES))].iloc[0]
    assert any(f"c_test = {row['c_test']:.3g}" in t for t in legend_texts(fit))
    assert any(f"{max(SHIFT_TEMPERATURES):.3g}" in t for t in legend_texts(loss))
    points = fit.get_lines()[1].get_xdata()  # test: r in [0, |s|] and its mirror
    assert np.isclose(np.max(points), row["shift_norm"]) and np.isclose(np.min(points), -row["shift_norm"])
    saved(fig, tmp_path, "fig1")
    with pytest.raises(ValueError, match="seed = 9"):
        bradley.figure1(lines, summary, seed=9)
    with pytest.raises(ValueError, match=r"lines.*test_accuracy"):
        bradley.figure1(lines.drop(columns="test_accuracy"), summary, seed=0)


def test_figure2_drops_non_finite(no_tight_layout):
    _, summary = shift_tables()
    bad = summary.iloc[[0]].copy()
    bad.loc[:, ["test_at_train", "c_test", "shift_norm"]] = [1e6, np.nan, np.nan]
    bad["finite"] = False
    table = pd.concat([summary, bad], ignore_index=True)
    fig = bradley.figure2(table)
    pred, shift, low, curv = check(fig, 4)
    assert f"1 of {len(table)} (T, seed) runs non-finite, left out" in fig._suptitle.get_text()
    measured = pred.get_lines()[0].get_ydata()
    expected = summary.groupby("T")["test_at_train"].mean().sort_index().to_numpy()
    np.testing.assert_allclose(measured, expected)  # the 1e6 row is out
    assert all(ax.get_xscale() == "log" for ax in (pred, shift, low, curv))
    assert len(fig.axes) == 5  # the twin axis of |s|
    assert any("restricted fit" in t for t in legend_texts(pred))
    assert any("HVP" in t for t in legend_texts(curv))
    assert "Spearman ρ(T) = -1.00" in pred.get_title()  # test loss at the train minimum falls with T
    with pytest.raises(ValueError, match=r"shift_curvature.*hvp_test"):
        bradley.figure2(summary.drop(columns="hvp_test"))


def test_figure5(no_tight_layout):
    sweep, shuffle, size = sweep_tables()
    fig = bradley.figure5(sweep, shuffle, size)
    train, test, shuffled, sized = check(fig, 4)
    assert legend_texts(train) == ["B = 16", "B = 64", "B = 256"]
    assert train.get_xscale() == "log" and test.get_xscale() == "log"
    assert any(t.startswith("test mean") for t in legend_texts(shuffled))
    assert "2 seeds" in sized.get_title()
    with pytest.raises(ValueError, match=r"sweep.*final_test"):
        bradley.figure5(sweep.drop(columns="final_test"), shuffle, size)


def test_figure5_without_shift_experiments(no_tight_layout):
    sweep, _, _ = sweep_tables()
    empty_shuffle = pd.DataFrame(columns=["shuffle", "final_train", "final_test", "finite"])
    fig = bradley.figure5(sweep, empty_shuffle, None)
    axes = check(fig, 4, legends=False)
    for ax in axes[2:]:
        assert ax.get_legend() is None and any("not run" in t.get_text() for t in ax.texts)
