"""Feng & Tu figures (thermoscape.studies.fengtu.plots) on small synthetic tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from thermoscape.studies.fengtu import plots as ft

pytestmark = pytest.mark.usefixtures("close_figures")

RANKS = [1, 2, 3, 5, 10, 20, 30, 49, 50, 100]


def labelled(ax: plt.Axes) -> bool:
    return bool(ax.get_xlabel()) and bool(ax.get_ylabel())


def main_axes(fig: Figure) -> list[plt.Axes]:
    """Axes that carry a title (the panels; colorbars, twins and insets have none)."""
    return [ax for ax in fig.axes if ax.get_title()]


def check(fig: Figure, n_axes: int, n_panels: int) -> None:
    assert isinstance(fig, Figure)
    assert len(fig.axes) == n_axes
    panels = main_axes(fig)
    assert len(panels) == n_panels
    assert all(labelled(ax) for ax in panels)


# --------------------------------------------------------------------------------------------------
# synthetic tables


def pca_table(n: int = 59) -> pd.DataFrame:
    rank = np.arange(1, n + 1)
    variance = np.where(rank == 1, 1.0, 0.01 * rank.astype(float) ** -2.5)
    cumulative = np.concatenate([[np.nan], np.cumsum(variance[1:]) / variance[1:].sum()])
    return pd.DataFrame({"rank": rank, "variance": variance, "cumulative": cumulative})


def components(n_snap: int = 60, n_weights: int = 80) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    theta = rng.standard_normal((n_snap, n_snap - 1)) * 0.01
    theta[:, 0] = np.linspace(-1, 1, n_snap)
    return {"theta": theta, "mean": np.zeros(n_weights)}


def flatness_table(psi: float = 4.0, ranks=RANKS) -> pd.DataFrame:
    rank = np.asarray(ranks)
    width = 0.1 * rank.astype(float) ** 0.6
    width[0] = 5.0
    variance = width**-psi * 1e-6
    return pd.DataFrame({"rank": rank, "variance": variance, "width": width, "d_plus": width / 2,
                         "d_minus": width / 2, "loss0": 1e-3, "c0": np.log(1e-3),
                         "c1": np.where(rank == 1, -0.5, 0.0), "c2": 4 / width**2, "r2": 0.999,
                         "width_fit": width})


def profiles_table(flatness: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for _, row in flatness.iterrows():
        offsets = np.linspace(-row["width"], row["width"], 11)
        loss = 1e-3 * np.exp(row["c1"] * offsets + row["c2"] * offsets**2)
        rows.append(pd.DataFrame({"rank": int(row["rank"]), "offset": offsets, "loss": loss}))
    return pd.concat(rows, ignore_index=True)


def minibatch_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    width = np.linspace(0.3, 1.4, 8)
    stats = pd.DataFrame({"rank": np.arange(2, 10), "width": width, "M0": 8 / width**2,
                          "sigma_tilde2": 0.02 * width**2, "M0_squared_sigma_tilde2": 1.3 / width**2,
                          "discarded_fraction": 0.0})
    offsets = np.linspace(-1, 1, 9)
    rows = [pd.DataFrame({"rank": 30, "kind": "full", "batch": -1, "offset": offsets,
                          "log_loss": offsets**2 - 7})]
    for b in range(3):
        rows.append(pd.DataFrame({"rank": 30, "kind": "batch", "batch": b, "offset": offsets,
                                  "log_loss": (offsets - 0.1 * b) ** 2 - 7}))
    return stats, pd.concat(rows, ignore_index=True)


LDC_RUNS = [(0.0, 200), (1.0, 200), (10.0, 200), (10.0, 10), (10.0, 100)]  # (lambda, N_c)
EWC_RUNS = [(1.0, 2500), (1e4, 2500), (1e4, 10), (1e4, 100)]


def forgetting_tables(methods=("ldc", "ewc"), seeds=(0, 1)):
    """(curves, final, displacements, task1): lambda sweeps at N_c = 200 (LDC) / 2500 (EWC), N_c sweeps at
    lambda = 10 / 1e4; ranks 1-2 have an infinite task-1 width (no threshold)."""
    curves, finals, moved = [], [], []
    for method in methods:
        for seed in seeds:
            for lam, n_c in LDC_RUNS if method == "ldc" else EWC_RUNS:
                epoch = np.linspace(0, 5, 11)
                keys = {"method": method, "seed": seed, "lam": lam, "n_constrained": n_c}
                curves.append(pd.DataFrame({"epoch": epoch, "step": np.arange(11), "batch_loss": 0.1,
                                            "penalty": 0.0, "diverged": False,
                                            "eps1": 0.5 * (1 - np.exp(-epoch)) / (1 + lam),
                                            "eps2": np.exp(-epoch), **keys}))
                sweeps = {"lambda_sweep": n_c in (200, 2500), "constrained_sweep": lam in (10.0, 1e4)}
                errors = {"eps1": 0.5 / (1 + lam) + 0.01 * seed, "eps2": 0.05 + 0.001 * lam,
                          "eps1_before": 0.01}
                finals.append(keys | sweeps | errors | {"diverged": False})
                rank = np.arange(1, 31)
                xi = 0.008 * np.where(rank <= 2, np.inf, rank.astype(float))
                q = 0.01 / (1 + lam) * np.ones(30)
                moved.append(pd.DataFrame(keys | {"rank": rank, "q": q, "xi": xi}))
    task1 = pd.DataFrame({"rank": np.arange(1, 31), "variance": 1.0, "width": [np.inf, np.inf] + [1.0] * 28,
                          "loss0": 1e-3, "seed": 0})
    tables = pd.concat(curves, ignore_index=True), pd.DataFrame(finals), pd.concat(moved, ignore_index=True)
    return (*tables, task1)


def temperature_table() -> pd.DataFrame:
    rows = []
    for r, width in ((10, 0.5), (20, 0.7), (50, 1.6), (100, 2.6)):
        offsets = np.linspace(-width, width, 7)
        rows.append(pd.DataFrame({"kind": "profile", "epoch": 100, "rank": r, "width": width,
                                  "offset": offsets,
                                  "temperature": 1e-6 / width**2 * np.exp(offsets**2 / width**2)}))
    for r in RANKS:
        rows.append(pd.DataFrame({"kind": ["rank"], "epoch": [100], "rank": [r], "width": [0.1 * r**0.6],
                                  "offset": [0.0], "temperature": [1e-7 * r**-1.5]}))
    for epoch in (0, 1, 5, 20, 100):
        offsets = np.linspace(-0.5, 0.5, 5)
        rows.append(pd.DataFrame({"kind": "time", "epoch": epoch, "rank": 10, "width": 0.5, "offset": offsets,
                                  "temperature": 1e-4 / (1 + epoch) * (1 + offsets**2)}))
    return pd.concat(rows, ignore_index=True)


def history_table(epochs: int = 20, drop: float = 8.0) -> pd.DataFrame:
    epoch = np.arange(epochs + 1)
    loss = 2.3 / (1 + np.exp(epoch - drop)) + 1e-3 * np.exp(-0.1 * epoch)
    return pd.DataFrame({"epoch": epoch, "loss": loss,
                         "train_error": 0.1, "test_error": 0.1, "finite": True, "lr": 0.1, "batch_size": 50,
                         "diverged": False})


def margins_table() -> pd.DataFrame:
    offsets = np.linspace(-0.05, 0.05, 5)
    return pd.concat([pd.DataFrame({"digit": d, "offset": offsets, "margin": 10 + d + (1 + d / 10) * offsets,
                                    "digit_beta": 1 + d / 10}) for d in range(10)], ignore_index=True)


# --------------------------------------------------------------------------------------------------
# figures


def test_figure1_panels_and_random_walk_control():
    fig = ft.figure1(pca_table(), components(), gamma_range=(5, 40), window_epochs=10)
    check(fig, 6, 4)  # 4 panels + 2 colorbars
    ax_a = main_axes(fig)[0]
    assert ax_a.get_xscale() == "log" and ax_a.get_yscale() == "log"
    labels = [t.get_text() for t in ax_a.get_legend().get_texts()]
    assert any("γ =" in t and "fit 5 < i < 40" in t for t in labels)
    assert any("random walk" in t for t in labels)


def test_figure1_needs_fifty_modes():
    short = components()
    short["theta"] = short["theta"][:, :10]
    with pytest.raises(ValueError, match="theta"):
        ft.figure1(pca_table(), short, gamma_range=(5, 40))


def test_figure2_fit_and_one_series_per_run():
    e1, other = flatness_table(4.0), flatness_table(3.0)
    fig = ft.figure2(profiles_table(e1), [e1, other], ["run a", "run b"], ranks=(10, 20, 50, 100),
                     psi_range=(2, 500))
    check(fig, 4, 4)
    ax_d = main_axes(fig)[3]
    texts = [t.get_text() for t in ax_d.get_legend().get_texts()]
    assert len(texts) == 2
    assert "ψ = 4.00" in texts[0] and "ψ = 3.00" in texts[1]


def test_figure2_missing_column_is_a_clear_error():
    e1 = flatness_table().drop(columns="c2")
    with pytest.raises(ValueError, match=r"flatness \(E1\).*c2"):
        ft.figure2(profiles_table(flatness_table()), [e1], ["run a"])


def test_figure2_ranks_without_profiles_raise():
    e1 = flatness_table()
    with pytest.raises(ValueError, match="none of the ranks"):
        ft.figure2(profiles_table(e1), [e1], ["run a"], ranks=(7, 8))


def test_figure3_slopes_in_legend():
    stats, profiles = minibatch_tables()
    fig = ft.figure3(stats, profiles)
    check(fig, 2, 2)
    texts = [t.get_text() for t in main_axes(fig)[1].get_legend().get_texts()]
    assert "slope +2.00" in texts[0] and "slope -2.00" in texts[1] and "slope -2.00" in texts[2]


def test_figure3_empty_table_raises():
    stats, profiles = minibatch_tables()
    with pytest.raises(ValueError, match="'minibatch' is empty"):
        ft.figure3(stats.iloc[:0], profiles)


def test_figure4_panels_with_seed_means():
    curves, final, moved, task1 = forgetting_tables()
    fig = ft.figure4(curves, final, moved, task1, shown_lambda=10.0, shown_constrained=200)
    check(fig, 6, 6)
    ax_f = main_axes(fig)[5]
    texts = [t.get_text() for t in ax_f.get_legend().get_texts()]
    assert any(t.startswith("LDC") for t in texts) and any(t.startswith("EWC") for t in texts)


def test_figure4_without_ewc_still_renders():
    curves, final, moved, _ = forgetting_tables(methods=("ldc",), seeds=(0,))
    fig = ft.figure4(curves, final, moved)
    check(fig, 6, 6)
    assert not main_axes(fig)[5].get_legend_handles_labels()[1][0].startswith("EWC")


def test_figure5_insets_and_twin_axis():
    fig = ft.figure5(temperature_table(), history_table(100), transition=(5, 20))
    check(fig, 5, 4)  # 4 panels + the twin of (D)
    assert [len(ax.child_axes) for ax in main_axes(fig)] == [0, 1, 0, 1]  # the insets of (B) and (D)
    ax_d = main_axes(fig)[3]
    assert ax_d.get_xscale() == "symlog"


def test_figure5_missing_kind_raises():
    table = temperature_table()
    with pytest.raises(ValueError, match="'time' rows"):
        ft.figure5(table[table["kind"] != "time"], history_table())


def test_figure_s1_empty_panel_renders():
    mlp4 = {"alpha=0.1, B=50": history_table(), "alpha=0.05": history_table(drop=12)}
    fig = ft.figure_s1({"MLP-4 on MNIST": mlp4, "LeNet on MNIST": {}},
                       transitions={"MLP-4 on MNIST": (5, 10)})
    check(fig, 2, 2)
    assert any(t.get_text() == "no run" for t in fig.axes[1].texts)


def test_figure_s1_empty_history_raises():
    with pytest.raises(ValueError, match="history"):
        ft.figure_s1({"MLP-4": {"run": history_table().iloc[:0]}})


def test_figure_s2():
    e1 = flatness_table()
    fig = ft.figure_s2(margins_table(), profiles_table(e1), e1, ranks=(1, 2, 10, 50))
    check(fig, 2, 2)
    texts = [t.get_text() for t in main_axes(fig)[1].get_legend().get_texts()]
    assert texts[0].startswith("i = 1") and "c_1 F_i$ = -2.50" in texts[0]


def test_figure_s3_one_series_per_layer():
    fig = ft.figure_s3([flatness_table(4.0), flatness_table(3.5), flatness_table(5.0)], ["W2", "W3", "W4"])
    check(fig, 1, 1)
    assert len(fig.axes[0].get_legend().get_texts()) == 3


def test_figure_s3_with_lenet_cifar_adds_the_schematic_and_the_conv_panel():
    fig = ft.figure_s3([flatness_table(4.0), flatness_table(3.5)], ["W2", "W3"], conv=[
        flatness_table(3.0), flatness_table(2.0)], conv_labels=["conv1 (run)", "conv2 (run)"])
    assert [ax.get_title().split(")")[0] for ax in fig.axes] == ["(S3B", "(S3C", "(S3D"]
    model, conv = fig.axes[1], fig.axes[2]
    boxes = [t.get_text() for t in model.texts]
    assert any(t.startswith("conv1") and "450 weights" in t for t in boxes)
    assert any(t.startswith("conv2") and "2,400 weights" in t for t in boxes)
    assert labelled(conv) and "flatness" in conv.get_xlabel()
    legend = [t.get_text() for t in conv.get_legend().get_texts()]
    assert len(legend) == 2 and legend[0].startswith("conv1 (run): ψ = 3.00") and "ρ = -1.00" in legend[0]


def test_figure_s3_label_mismatch_raises():
    with pytest.raises(ValueError, match="labels"):
        ft.figure_s3([flatness_table()], ["W2", "W3"])


def test_control_signs_of_the_slopes():
    sgd = flatness_table(4.0)
    langevin = sgd.assign(variance=1e-3 * sgd["width"] ** 2)
    fig = ft.control_figure([sgd, langevin], [pca_table(), pca_table()], ["SGD", "Langevin"],
                            temperature=1e-5)
    check(fig, 2, 2)
    texts = [t.get_text() for t in main_axes(fig)[0].get_legend().get_texts()]
    assert "slope -4.00" in texts[0] and "slope +2.00" in texts[1] and "Eq. 16" in texts[2]


def test_short_log_axes_get_intermediate_labels():
    fig, ax = plt.subplots()
    ax.plot([0.3, 1.3], [1, 2])
    ft._log_axes(ax)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "0.5" in labels and "1" in labels
