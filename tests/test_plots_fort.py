"""Fort & Ganguli figures (thermoscape.studies.fort.plots) on small synthetic tables with the spec's columns."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from thermoscape.studies.fort import plots as fort
from thermoscape.plotting import save_figure

pytestmark = pytest.mark.usefixtures("close_figures")

RUNS = ("digits_mlp_relu_unit_s0", "digits_mlp_tanh_zscore_s0")


def labelled(ax: plt.Axes) -> bool:
    return bool(ax.get_xlabel()) and bool(ax.get_ylabel())


def main_axes(fig: Figure) -> list[plt.Axes]:
    """Axes that carry a title (the panels)."""
    return [ax for ax in fig.axes if ax.get_title()]


def check(fig: Figure, n_panels: int) -> list[plt.Axes]:
    assert isinstance(fig, Figure)
    panels = main_axes(fig)
    assert len(panels) == n_panels == len(fig.axes)
    assert all(labelled(ax) for ax in panels)
    assert all(ax.get_legend() is not None for ax in panels)
    return panels


def legend_texts(ax: plt.Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


# --------------------------------------------------------------------------------------------------
# synthetic tables: the random model (numpy, brief 6.1) and plausible real-network tables


def meta(run: str) -> dict:
    dataset, arch, activation, preprocess, seed = run.split("_")
    return {"run": run, "dataset": dataset, "arch": arch, "activation": activation, "preprocess": preprocess,
            "seed": int(seed[1:])}


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def model_hessian(n, c, d, sigma_z, sigma_c, sigma_e, seed):
    """(H of Eq. 10, g = mean (p - y) J, p) of one random-model draw (labels: argmax, accuracy ~ 0.95)."""
    rng = np.random.default_rng(seed)
    p = softmax(rng.normal(0, sigma_z, (n, c)))
    labels = p.argmax(axis=1)
    wrong = rng.random(n) > 0.95
    labels[wrong] = (labels[wrong] + rng.integers(1, c, wrong.sum())) % c
    jac = rng.normal(0, sigma_c, (c, d))[None] + rng.normal(0, sigma_e, (n, c, d))
    curv = np.einsum("nk,kl->nkl", p, np.eye(c)) - np.einsum("nk,nl->nkl", p, p)
    h = jac.reshape(n * c, d).T @ (curv @ jac).reshape(n * c, d) / n
    g = np.einsum("nk,nkd->d", p - np.eye(c)[labels], jac) / n
    return (h + h.T) / 2, g, p


def spectrum_tables(seeds=(0, 1, 2), n=60, c=4, d=80, sigma_z=15.0):
    spectra, rows = [], []
    for s in seeds:
        h, g, _ = model_hessian(n, c, d, sigma_z, 1 / math.sqrt(d), 0.7 / math.sqrt(d), s)
        w, v = np.linalg.eigh(h)
        w, v = w[::-1], v[:, ::-1]
        cos = v.T @ g / np.linalg.norm(g)
        spectra.append(pd.DataFrame({"seed": s, "rank": np.arange(1, d + 1), "eigenvalue": w,
                                     "eigenvalue_eq16": w * 1.01, "cosine": cos, "cosine_eq16": cos}))
        ratios = w[: 2 * c] / w[1: 2 * c + 1]
        power = np.cumsum(cos**2)
        rows.append({"seed": s, "n_classes": c, "dim": d, "n_examples": n, "sigma_z": sigma_z,
                     "q_sl_theory": 1 / 1.49, "n_outliers": int(np.argmax(ratios)) + 1,
                     "gap_ratio": float(ratios.max()),
                     "bulk_edge": float(np.quantile(np.abs(w[2 * c:]), 0.95)),
                     "power_top_c_minus_1": power[c - 2], "power_top_c": power[c - 1],
                     "power_top_2c": power[2 * c - 1], "power_top_c_eq16": power[c - 1],
                     "curvature_ratio": w.sum() / np.sqrt((w**2).sum())})
    return pd.concat(spectra, ignore_index=True), pd.DataFrame(rows)


def sweep_table(exponents=(0.0, 0.25, 0.5), seeds=(0, 1), sigmas=(1e-2, 1e-1, 1, 3, 10, 30, 100), n=40, c=4,
                d=60, projection_dim=5):
    rows = []
    for a in exponents:
        for s in seeds:
            rng = np.random.default_rng(100 + s)
            for sz in sigmas:
                sigma_c = (sz / 15) ** a / math.sqrt(d)
                h, _, p = model_hessian(n, c, d, sz, sigma_c, 0.7 * sigma_c, s)
                w = np.linalg.eigvalsh(h)
                ratios = []
                for _ in range(4):
                    q = np.linalg.qr(rng.standard_normal((d, projection_dim)))[0]
                    hd = q.T @ h @ q
                    ratios.append(np.trace(hd) / np.linalg.norm(hd))
                rows.append({"exponent": a, "seed": s, "sigma_z": sz, "sigma_c": sigma_c,
                             "sigma_e": 0.7 * sigma_c,
                             "lambda_max": w[-1], "curvature_ratio": w.sum() / np.linalg.norm(w),
                             "trace_over_top": w.sum() / w[-1], "projected_ratio": np.mean(ratios),
                             "projected_ratio_sd": np.std(ratios), "mean_max_p": p.max(axis=1).mean(),
                             "entropy_bits": float(fort._entropy_bits(p).mean())})
    return pd.DataFrame(rows)


def freezing_tables(sigmas=(0.1, 1.0, 10.0), n=50):
    rng = np.random.default_rng(0)
    points = []
    for sz in sigmas:
        p = softmax(rng.normal(0, sz, (n, 3)))
        points.append(pd.DataFrame({"sigma_z": sz, "example": np.arange(n), "p1": p[:, 0], "p2": p[:, 1],
                                    "p3": p[:, 2]}))
    rows = []
    for c in (3, 10):
        for sz in np.geomspace(1e-2, 1e2, 9):
            s = fort._entropy_bits(softmax(rng.normal(0, sz, (200, c))))
            rows.append({"n_classes": c, "sigma_z": sz, "entropy_bits": s.mean(), "entropy_sd": s.std()})
    return pd.concat(points, ignore_index=True), pd.DataFrame(rows)


def training_simplex(run=RUNS[0], n=40):
    rng = np.random.default_rng(1)
    rows = []
    for epoch, stage, scale in ((1, "early", 0.5), (5, "middle", 2.0), (30, "late", 6.0)):
        labels = np.arange(n) % 3
        z = rng.normal(0, 1, (n, 3)) + scale * np.eye(3)[labels]
        p = softmax(z)
        rows.append(pd.DataFrame({**meta(run), "epoch": epoch, "stage": stage, "example": np.arange(n),
                                  "label": labels, "p1": p[:, 0], "p2": p[:, 1], "p3": p[:, 2]}))
    return pd.concat(rows, ignore_index=True)


def clustering_table(runs=RUNS):
    rows = []
    for run in runs:
        for seed in (0, 1):
            for k, stage in enumerate(("init", "early", "late")):
                base = 0.7 if "relu" in run else 0.2
                rows.append({**meta(run), "seed": seed, "run": run.replace("s0", f"s{seed}"),
                             "epoch": [0, 2, 40][k],
                             "stage": stage, "q_slsc": base + 0.1 + 0.01 * seed, "q_sl": base - 0.05 * k,
                             "q_dl": 0.01 * (seed - 0.5), "n_examples": 500})
    return pd.DataFrame(rows)


def history_table(run: str, epochs: int = 40) -> pd.DataFrame:
    epoch = np.linspace(0, epochs, 4 * epochs + 1)
    growth = 1 + epoch / 5
    lam = 2 + 30 * epoch / (1 + (epoch / 6) ** 2)
    return pd.DataFrame({**meta(run), "epoch": epoch, "loss": 2.3 / growth, "accuracy": 100 - 90 / growth,
                         "test_accuracy": 95 - 85 / growth, "logit_variance": 0.01 * growth**3,
                         "gradient_length": 0.5 * growth**0.5, "weight_norm": 8 + epoch / 10,
                         "lambda_max": lam})


def radius_table(run: str) -> pd.DataFrame:
    scale = 2.0 ** np.arange(-3, 6)
    ratio = 20 * scale**2 / (1 + scale**3)
    return pd.DataFrame({**meta(run), "scale": scale, "radius": 9 * scale, "logit_variance": 0.01 * scale**6,
                         "mean_max_p": 0.1 + 0.9 * scale / (1 + scale), "curvature_ratio": ratio,
                         "projected_ratio": ratio / 10, "projected_ratio_sd": 0.3,
                         "trace_over_top": 3 * ratio,
                         "g_curvature_ratio": ratio + 5})


def hyperplane_table(run: str, dims=(4, 16), draws=(0, 1, 2)) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    rows = []
    for scale in 2.0 ** np.arange(-3, 6):
        for d in dims:
            for draw in draws:
                good = math.exp(-math.log(scale) ** 2 / 4)
                rows.append({**meta(run), "scale": scale, "radius": 9 * scale, "dim": d, "draw": draw,
                             "accuracy": min(100.0, 10 + 80 * good * d / 16 + rng.normal(0, 2)),
                             "test_accuracy": 50.0,
                             "loss": 1.0, "projected_ratio": 2 * good + rng.normal(0, 0.1)})
    return pd.DataFrame(rows)


def hessian_tables(run: str, c: int = 10, ranks: int = 20):
    rows, summary = [], []
    for k, epoch in enumerate((0, 2, 10, 40)):
        rank = np.arange(1, ranks + 1)
        g = np.where(rank < c, 10.0 * (k + 1), 0.5) / rank**0.3
        h_term = np.linspace(3, -3, ranks) / (k + 1)
        stage = ["init", "early", "middle", "late"][k]
        rows.append(pd.DataFrame({**meta(run), "epoch": epoch, "stage": stage,
                                  "rank": rank, "eigenvalue": g + h_term / 3, "g_eigenvalue": g,
                                  "h_eigenvalue": h_term, "cosine": 0.3 / rank}))
        summary.append({**meta(run), "epoch": epoch, "stage": stage, "n_classes": c,
                        "n_outliers": c - 1 if k else 2,
                        "gap_ratio": 5.0, "g_n_outliers": c - 1, "power_top_c_minus_1": 0.2 + 0.2 * k,
                        "power_top_c": 0.22 + 0.2 * k, "power_top_2c": 0.3 + 0.2 * k, "curvature_ratio": 3.0,
                        "projected_ratio": 1.0, "projected_ratio_sd": 0.1, "trace_over_top": 4.0,
                        "lambda_max": g[0] + 1, "g_lambda_max": g[0], "h_min": -3.0, "h_max": 3.0,
                        "bulk_edge": 0.6})
    return pd.concat(rows, ignore_index=True), pd.DataFrame(summary)


# --------------------------------------------------------------------------------------------------
# tests


def test_simplex_coordinates_corners_and_centre():
    x, y = fort.simplex_coordinates([1, 0, 0, 1 / 3, 2], [0, 1, 0, 1 / 3, 2], [0, 0, 1, 1 / 3, 2])
    np.testing.assert_allclose(x, [0, 1, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(y, [0, 0, math.sqrt(3) / 2, math.sqrt(3) / 6, math.sqrt(3) / 6])


def test_figure1_grouped_bars_and_theory_line(tmp_path):
    table = clustering_table()
    fig = fort.figure1(table, q_sl_theory=0.671)
    (ax,) = check(fig, 1)
    n_cells = 2 * 3  # 2 configurations x 3 stages, seeds averaged
    assert len(ax.patches) == 3 * n_cells
    colors = {tuple(np.round(p.get_facecolor()[:3], 3)) for p in ax.patches[:n_cells]}
    assert len(colors) == 1  # first series is one colour: q_slsc green
    texts = legend_texts(ax)
    assert any("SNR/(SNR+1) = 0.671" in t for t in texts) and any("SLSC" in t for t in texts)
    heights = [p.get_height() for p in ax.patches[:n_cells]]
    relu_init = table[(table["activation"] == "relu") & (table["stage"] == "init")]["q_slsc"].mean()
    assert np.isclose(heights, relu_init).any()
    pdf, png = tmp_path / "fig1.pdf", tmp_path / "fig1.png"
    save_figure(fig, pdf, png)
    assert pdf.stat().st_size > 1000 and png.stat().st_size > 1000


def test_figure1_missing_column_is_a_clear_error():
    with pytest.raises(ValueError, match=r"clustering.*q_dl"):
        fort.figure1(clustering_table().drop(columns="q_dl"))


def test_figure3_with_and_without_training_panels(no_tight_layout):
    points, entropy = freezing_tables()
    fig = fort.figure3(training_simplex(), points, entropy)
    panels = check(fig, 5)  # 3 stages + model simplex + entropy
    assert "early" in panels[0].get_title() and "late" in panels[2].get_title()
    assert panels[4].get_xscale() == "log"
    assert any("log_2 C$ = 1.585" in t for t in legend_texts(panels[4]))
    check(fort.figure3(None, points, entropy), 2)


def test_figure4_one_line_per_run(no_tight_layout):
    histories = pd.concat([history_table(r) for r in RUNS], ignore_index=True)
    radius = pd.concat([radius_table(r) for r in RUNS], ignore_index=True)
    panels = check(fort.figure4(histories, radius), 4)
    assert legend_texts(panels[0]) == list(RUNS)
    assert panels[3].get_xscale() == "log" and panels[3].get_yscale() == "log"


def test_figure5_outliers_c_minus_1():
    spectrum, summary = spectrum_tables()
    fig = fort.figure5(spectrum, summary, max_rank=12)
    panels = check(fig, 2)
    assert (summary["n_outliers"] == 3).all()  # C - 1 for C = 4
    assert "3 outliers = C − 1" in panels[0].get_title()
    assert "n_out = C − 1 in 3 of 3 seeds" in panels[1].get_title()


def test_figure5_unknown_seed_raises():
    spectrum, summary = spectrum_tables(seeds=(0,))
    with pytest.raises(ValueError, match="seed 7"):
        fort.figure5(spectrum, summary, seed=7)


def test_figure6_headline_is_the_median(no_tight_layout):
    spectrum, summary = spectrum_tables()
    panels = check(fort.figure6(spectrum, summary), 2)
    median = float(np.median(summary["power_top_c"]))
    assert f"\nmedian at k = C is {median:.2f} (paper 0.71)" in panels[1].get_title()
    typical = summary.loc[(summary["power_top_c"] - median).abs().idxmin(), "seed"]
    assert f"seed {typical} (median seed)" in panels[0].get_title()
    low, high = panels[0].get_ylim()
    assert -1 <= low < 0 < high <= 1


def test_figure7_and_8_per_exponent(no_tight_layout):
    sweep = sweep_table()
    panels = check(fort.figure7(sweep, default_exponent=0.25), 2)
    texts = legend_texts(panels[0])
    assert len(texts) == 3 and any("a = 0.25 (default)" in t for t in texts)
    panels = check(fort.figure8(sweep, projection_dim=5, dim=60), 2)
    assert any("sqrt{d}$ = 2.24" in t for t in legend_texts(panels[1]))
    assert any("sqrt{D}$ = 7.75" in t for t in legend_texts(panels[0]))


def test_figure_properties_and_goldilocks(no_tight_layout):
    tables = [hessian_tables(r) for r in RUNS]
    hessian = pd.concat([t[0] for t in tables], ignore_index=True)
    summary = pd.concat([t[1] for t in tables], ignore_index=True)
    history = pd.concat([history_table(r) for r in (*RUNS, "digits_cnn_relu_unit_s0")], ignore_index=True)
    panels = check(fort.figure_properties(hessian, summary, history), 4)
    assert len(panels[2].get_lines()) == 2 * 4  # per Hessian run: H, G-term, history, peak; not the third run
    assert RUNS[0] in panels[0].get_title() and panels[0].get_yscale() == "symlog"
    assert RUNS[1] in legend_texts(panels[3])
    radius = pd.concat([radius_table(r) for r in RUNS], ignore_index=True)
    hyperplane = hyperplane_table(RUNS[0])
    panels = check(fort.figure_goldilocks(radius, hyperplane, projection_dim=10, n_classes=10), 3)
    assert any(t.startswith("d = 4: Spearman") for t in legend_texts(panels[2]))


def test_figure_properties_unknown_run_raises():
    hessian, summary = hessian_tables(RUNS[0])
    with pytest.raises(ValueError, match="no rows of run 'other'"):
        fort.figure_properties(hessian, summary, history_table(RUNS[0]), run="other")
