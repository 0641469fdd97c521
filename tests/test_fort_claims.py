"""thermoscape.studies.fort.claims: verdicts on synthetic tables (spec columns) whose answer is known, holds and fails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thermoscape.claims import COLUMNS
from thermoscape.studies.fort.claims import (
    Criteria,
    clustering_claims,
    entropy_claims,
    fort_claims,
    goldilocks_claims,
    growth_claims,
    hessian_claims,
    random_model_claims,
    sweep_claims,
)

CRITERIA = Criteria()
C = 10
THEORY = (1 / 0.49) / (1 / 0.49 + 1)
GRID = np.geomspace(1e-3, 1e2, 21)
META = {"dataset": "digits", "arch": "mlp", "seed": 0}


def by_quantity(rows):
    return {r["quantity"]: r["verdict"] for r in rows}


def summary_table(seeds: int = 10, **overrides) -> pd.DataFrame:
    g = np.random.default_rng(0)
    table = pd.DataFrame({
        "seed": np.arange(seeds), "n_classes": C, "dim": 1000, "n_examples": 300, "sigma_z": 15.0,
        "sigma_c": 1 / np.sqrt(1000), "sigma_e": 0.7 / np.sqrt(1000),
        "q_slsc": THEORY + 0.001 * g.normal(size=seeds), "q_sl": THEORY + 0.002 * g.normal(size=seeds),
        "q_dl": 0.001 * g.normal(size=seeds), "q_sl_theory": THEORY, "mean_max_p": 0.93, "accuracy": 0.95,
        "n_outliers": C - 1, "gap_ratio": 5.0 + g.random(seeds), "bulk_edge": 0.01,
        "power_top_c_minus_1": 0.65 + 0.05 * g.normal(size=seeds), "curvature_ratio": 4.0,
        "trace_over_top": 20.0, "top_outlier_eq16_rel_diff": 0.02})
    table["power_top_c"] = table["power_top_c_minus_1"] + 0.01
    table["power_top_2c"] = table["power_top_c"] + 0.02
    table["power_top_c_eq16"] = table["power_top_c"] + 0.005
    for column, value in overrides.items():
        table[column] = value
    return table


def test_random_model_claims_hold_on_the_paper_numbers():
    rows = random_model_claims(summary_table(), CRITERIA)
    assert len(rows) == 6 and all(r["verdict"] == "holds" and r["study"] == "fort" for r in rows)
    assert rows[0]["value"] == pytest.approx(THEORY, abs=0.002)


@pytest.mark.parametrize(("override", "quantity"), [
    ({"q_sl": THEORY + 0.03}, "q_SL, mean over seeds"),
    ({"q_dl": 0.02}, "max |q_DL| over seeds"),
    ({"n_outliers": C}, "n_outliers, median over seeds"),
    ({"gap_ratio": 2.0}, "n_outliers, median over seeds"),
    ({"power_top_c": 0.3, "power_top_c_eq16": 0.3}, "gradient power in top C, median"),
    ({"top_outlier_eq16_rel_diff": 0.1}, "max relative difference, top C - 1 eigenvalues"),
    ({"power_top_c_eq16": 0.1}, "max |power in top C, Eq. 16 - Eq. 10|"),
])
def test_each_random_model_claim_can_fail(override, quantity):
    verdicts = by_quantity(random_model_claims(summary_table(**override), CRITERIA))
    assert verdicts[quantity] == "fails"
    assert sum(v == "fails" for v in verdicts.values()) == 1


def sweep_table(shapes: dict[float, np.ndarray], ratio: np.ndarray | None = None, seeds: int = 2) -> pd.DataFrame:
    ratio = 4.4 / (1 + GRID / 10) if ratio is None else ratio
    return pd.concat([pd.DataFrame({
        "exponent": a, "seed": s, "sigma_z": GRID, "sigma_c": 1.0, "sigma_e": 0.7,
        "lambda_max": lam * (1 + 0.001 * s), "curvature_ratio": ratio, "trace_over_top": 10.0,
        "projected_ratio": 0.5 * ratio + 0.01 * s, "projected_ratio_sd": 0.1, "mean_max_p": 0.5,
        "entropy_bits": 1.0}) for a, lam in shapes.items() for s in range(seeds)], ignore_index=True)


PEAKED = np.sqrt(GRID) / (1 + GRID)  # maximum at sigma_z = 1, lambda(100) / max = 0.2
FALLING, RISING = 1 / (1 + GRID), GRID / (1 + GRID)


def test_sweep_claims_peak_monotone_and_curvature():
    rows = sweep_claims(sweep_table({0.0: FALLING, 0.1: PEAKED, 0.25: PEAKED, 0.5: RISING}), (0.1, 0.25), CRITERIA)
    assert [r["verdict"] for r in rows] == ["holds"] * 6
    assert [r["slice"] for r in rows[:4]] == ["a = 0", "a = 0.1", "a = 0.25", "a = 0.5"]
    assert rows[1]["value"] == pytest.approx(1.0)
    assert rows[4]["value"] == pytest.approx(1 - (4.4 / 11) / (4.4 / 1.1))


def test_sweep_claims_fail_on_the_wrong_shapes():
    bumpy = 4.4 / (1 + GRID / 10) * np.where(GRID > 5, 1.3, 1.0)  # rises by 30% within sigma_z >= 1
    rows = sweep_claims(sweep_table({0.0: RISING, 0.1: RISING, 0.25: FALLING, 0.5: FALLING}, bumpy),
                        (0.1, 0.25), CRITERIA)
    assert [r["verdict"] for r in rows] == ["fails"] * 5 + ["holds"]
    flat = sweep_claims(sweep_table({0.1: PEAKED}, np.full(GRID.size, 4.4)), [0.1], CRITERIA)
    assert [r["verdict"] for r in flat] == ["holds", "fails", "fails"]
    # the maximum must be inside [0.3, 10] and the end below 0.6 of it
    late = np.sqrt(GRID / 50) / (1 + GRID / 50)
    shallow = np.where(GRID < 1, PEAKED, 0.4 + 0.1 * PEAKED)
    assert sweep_claims(sweep_table({0.1: late}), [0.1], CRITERIA)[0]["verdict"] == "fails"
    assert sweep_claims(sweep_table({0.1: shallow}), [0.1], CRITERIA)[0]["verdict"] == "fails"


def test_intermediate_schedule_is_informational():
    rows = sweep_claims(sweep_table({0.2: PEAKED}), (0.1, 0.25), CRITERIA)
    assert rows[0]["verdict"] == "undetermined" and "neither" in rows[0]["detail"]


def entropy_table(sigma: np.ndarray, shape=None) -> pd.DataFrame:
    tables = []
    for classes in (3, 10):
        fraction = 1 / (1 + (sigma / 2) ** 2) if shape is None else shape
        tables.append(pd.DataFrame({"n_classes": classes, "sigma_z": sigma,
                                    "entropy_bits": np.log2(classes) * fraction, "entropy_sd": 0.1}))
    return pd.concat(tables, ignore_index=True)


def test_entropy_claims():
    sigma = np.array([0.1, 0.3, 1, 3, 10, 30])
    rows = entropy_claims(entropy_table(sigma), CRITERIA)
    assert [r["verdict"] for r in rows] == ["holds"] * 4 and [r["slice"] for r in rows[::2]] == ["C = 3", "C = 10"]
    hot = entropy_claims(entropy_table(sigma[2:]), CRITERIA)  # smallest sigma_z = 1: not yet uniform
    assert [r["verdict"] for r in hot] == ["fails", "holds"] * 2
    bump = entropy_claims(entropy_table(sigma, np.array([1, 0.99, 0.6, 0.8, 0.1, 0.01])), CRITERIA)
    assert [r["verdict"] for r in bump] == ["holds", "fails"] * 2
    warm = entropy_claims(entropy_table(sigma[:4]), CRITERIA)  # largest sigma_z = 3: not frozen
    assert [r["verdict"] for r in warm] == ["holds", "fails"] * 2


def clustering_table(run, activation, preprocess, q_slsc, q_sl, q_dl) -> pd.DataFrame:
    return pd.DataFrame({"run": run, "activation": activation, "preprocess": preprocess, **META,
                         "epoch": [0.0, 2.0, 40.0], "stage": ["init", "early", "late"], "q_slsc": q_slsc,
                         "q_sl": q_sl, "q_dl": q_dl, "n_examples": 1000})


def test_clustering_claims():
    tables = [
        clustering_table("relu_unit", "relu", "unit", [0.8, 0.85, 0.9], [0.7, 0.72, 0.8], [0.01, -0.02, 0.0]),
        clustering_table("relu_z", "relu", "zscore", [0.5, 0.4, 0.45], [0.3, 0.2, 0.1], [0.0, 0.0, 0.01]),
        clustering_table("tanh_z", "tanh", "zscore", [0.2, 0.2, 0.2], [0.01, 0.0, -0.01], [0.02, 0.03, 0.0]),
    ]
    rows = clustering_claims(tables, CRITERIA)
    assert [(r["slice"], r["verdict"]) for r in rows] == [("relu_unit", "holds"), ("relu_unit", "holds"),
                                                          ("relu_z", "holds"), ("tanh_z", "undetermined")]
    assert rows[1]["value"] == pytest.approx(0.7) and "informational" in rows[3]["detail"]
    bad = [clustering_table("relu_unit", "relu", "unit", [0.8, 0.6, 0.9], [0.7, 0.72, 0.4], [0.01, 0.0, 0.0])]
    assert [r["verdict"] for r in clustering_claims(bad, CRITERIA)] == ["fails", "fails"]
    everything = clustering_claims(tables, Criteria.from_dict({"checked_activations": ["relu", "tanh"]}))
    assert everything[-1]["verdict"] == "fails"


def history_table(run, activation="relu", lam=(1.0, 5.0, 20.0, 8.0), variance=(1.0, 0.8, 3.0, 9.0),
                  weight_norm=(10.0, 11.0, 12.0, 13.0)) -> pd.DataFrame:
    epochs = [0.0, 2.0, 10.0, 40.0]
    return pd.DataFrame({"run": run, "activation": activation, "preprocess": "unit", **META, "epoch": epochs,
                         "loss": [2.3, 1.0, 0.3, 0.1], "accuracy": [10, 70, 95, 99],
                         "test_accuracy": [10, 65, 90, 93], "logit_variance": variance,
                         "gradient_length": [0.5, 0.7, 1.0, 1.5], "weight_norm": weight_norm, "lambda_max": lam})


def test_growth_claims_allow_an_early_dip_and_fail_on_shrinking():
    rows = growth_claims([history_table("a"), history_table("b")], CRITERIA)
    assert [r["verdict"] for r in rows] == ["holds"] * 3 and "dips below init in a, b" in rows[0]["detail"]
    rows = growth_claims([history_table("a"), history_table("b", weight_norm=(10.0, 9.0, 8.0, 7.0))], CRITERIA)
    assert [r["verdict"] for r in rows] == ["holds", "holds", "fails"]
    assert rows[2]["value"] == pytest.approx(0.7)


def hessian_table(run, activation="relu", n_outliers=C - 1, power=(0.2, 0.9), g_lambda=19.0) -> pd.DataFrame:
    return pd.DataFrame({"run": run, "activation": activation, "preprocess": "unit", **META,
                         "epoch": [0.0, 40.0], "stage": ["init", "late"], "n_classes": C,
                         "n_outliers": [1, n_outliers], "gap_ratio": [1.5, 6.0], "g_n_outliers": [C - 1, C - 1],
                         "power_top_c_minus_1": power, "power_top_c": power, "power_top_2c": power,
                         "curvature_ratio": 3.0, "projected_ratio": 1.0, "projected_ratio_sd": 0.1,
                         "trace_over_top": 5.0, "lambda_max": [1.0, 20.0], "g_lambda_max": [0.5, g_lambda],
                         "h_min": -0.5, "h_max": 0.5, "bulk_edge": 0.1})


def test_hessian_claims_hold_and_each_can_fail():
    rows = hessian_claims(hessian_table("r"), history_table("r"), CRITERIA)
    assert [r["verdict"] for r in rows] == ["holds"] * 4 and "C - 1" in rows[0]["detail"]
    assert rows[2]["value"] == pytest.approx(8 / 20)
    assert hessian_claims(hessian_table("r", n_outliers=C), None, CRITERIA)[0]["verdict"] == "holds"
    cases = [(hessian_table("r", n_outliers=3), history_table("r"), 0),
             (hessian_table("r", power=(0.95, 0.9)), history_table("r"), 1),
             (hessian_table("r", power=(0.1, 0.4)), history_table("r"), 1),
             (hessian_table("r"), history_table("r", lam=(1.0, 5.0, 8.0, 20.0)), 2),
             (hessian_table("r"), history_table("r", lam=(1.0, 5.0, 20.0, 20.0)), 2),
             (hessian_table("r", g_lambda=10.0), history_table("r"), 3)]
    for summary, history, failing in cases:
        verdicts = [r["verdict"] for r in hessian_claims(summary, history, CRITERIA)]
        assert verdicts == ["fails" if i == failing else "holds" for i in range(4)], (failing, verdicts)
    # without a history, lambda_max over the Hessian checkpoints (2 here: too few)
    assert hessian_claims(hessian_table("r"), None, CRITERIA)[2]["verdict"] == "undetermined"
    tanh = hessian_claims(hessian_table("t", "tanh", n_outliers=3), history_table("t", "tanh"), CRITERIA)
    assert {r["verdict"] for r in tanh} == {"undetermined"}


SCALES = np.array([0.25, 0.5, 1.0, 2.0, 4.0, 8.0])


def radius_table(run, ratio, g_ratio=None) -> pd.DataFrame:
    return pd.DataFrame({"run": run, "activation": "relu", "preprocess": "unit", **META, "scale": SCALES,
                         "radius": 7.0 * SCALES, "logit_variance": SCALES**6, "mean_max_p": 0.5,
                         "curvature_ratio": ratio, "projected_ratio": ratio / 3, "projected_ratio_sd": 0.1,
                         "trace_over_top": 5.0, "g_curvature_ratio": ratio if g_ratio is None else g_ratio})


def hyperplane_table(run, accuracy, ratio, dim=10) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"run": run, "activation": "relu", "preprocess": "unit", **META,
                                    "scale": SCALES, "radius": 7.0 * SCALES, "dim": dim, "draw": draw,
                                    "accuracy": np.asarray(accuracy) + draw, "test_accuracy": 50.0, "loss": 1.0,
                                    "projected_ratio": ratio}) for draw in range(2)], ignore_index=True)


def test_goldilocks_claims():
    peaked = np.array([0.5, 2.0, 3.0, 2.5, 1.0, 0.2])
    accuracy = np.array([30.0, 60.0, 80.0, 70.0, 40.0, 20.0])
    rows = goldilocks_claims([radius_table("r", peaked)], [hyperplane_table("r", accuracy, peaked)], CRITERIA)
    assert [(r["slice"], r["verdict"]) for r in rows] == [("r", "holds"), ("r", "holds"), ("r, d = 10", "holds")]
    assert rows[2]["value"] == pytest.approx(1.0)
    rising = np.array([0.5, 1.0, 2.0, 3.0, 4.0, 5.0])
    rows = goldilocks_claims([radius_table("r", rising, g_ratio=peaked)],  # the full H rises, its G-term falls
                             [hyperplane_table("r", 100 - accuracy, peaked), hyperplane_table("r", 50.0, peaked, 5)],
                             CRITERIA)
    assert [r["verdict"] for r in rows] == ["fails", "holds", "fails", "undetermined"]
    assert rows[1]["quantity"].startswith("Tr(G)")


def test_fort_claims_table_criteria_and_inputs():
    summary = summary_table()
    table = fort_claims([summary[summary["seed"] < 5], summary[summary["seed"] >= 5]],
                        sweep_table({0.1: PEAKED}), clustering=[clustering_table(
                            "r", "relu", "unit", [0.8, 0.85, 0.9], [0.7, 0.72, 0.8], [0.0, 0.0, 0.0])],
                        history=[history_table("r")], hessian_summary=[hessian_table("r")], n_classes=C,
                        nonmonotone_exponents=[0.1])
    assert list(table.columns) == COLUMNS and (table["study"] == "fort").all()
    assert len(table) == 6 + 3 + 2 + 3 + 4 and set(table["verdict"]) == {"holds"}
    strict = fort_claims(summary, criteria={"q_sl_tolerance": 1e-6, "power_range": [0.9, 1.0]})
    assert by_quantity(strict.to_dict("records"))["q_SL, mean over seeds"] == "fails"
    assert (strict["verdict"] == "fails").sum() == 2
    assert fort_claims().empty and list(fort_claims().columns) == COLUMNS
    without_column = fort_claims(summary.drop(columns="n_classes"), n_classes=C)
    assert set(without_column["verdict"]) == {"holds"}
    with pytest.raises(ValueError, match="unknown"):
        fort_claims(summary, criteria={"q_sl_tol": 0.1})


def test_sweep_rows_state_their_sigma_z_range():
    rows = sweep_claims(sweep_table({0.0: FALLING, 0.1: PEAKED}), [0.1], CRITERIA)
    assert {r["fit_range"] for r in rows[:2]} == {"sigma_z in [0.001, 100] (21 points)"}
    assert {r["fit_range"] for r in rows[2:]} == {f"sigma_z in [1, 100] ({int((GRID >= 1).sum())} points)"}
    assert all(r["regime"] == "" for r in rows)


def test_a_sweep_short_of_the_paper_range_is_outside_the_regime():
    """A sweep ending at sigma_z ~ 3 cannot show Fig. 7's decline nor Fig. 8's frozen end: undetermined,
    where the same curves over the paper's range hold."""
    short = sweep_table({0.1: PEAKED})
    short = short[short["sigma_z"] <= 5]
    rows = sweep_claims(short, [0.1], CRITERIA)
    assert [r["verdict"] for r in rows] == ["undetermined"] * 3
    assert "does not extend past the peak window [0.3, 10]" in rows[0]["regime"]
    assert rows[0]["detail"].startswith("outside the regime: ") and np.isfinite(rows[0]["value"])
    assert "ends at sigma_z = 3.16 < 100" in rows[1]["regime"]
    narrow = sweep_claims(short, [0.1], Criteria(peak_sigma_z_range=(0.01, 1.0), curvature_end_sigma_z=3.0))
    assert [r["regime"] for r in narrow] == ["", "", ""]


def test_real_network_rows_state_their_epochs_and_scales():
    growth = growth_claims([history_table("a"), history_table("b")], CRITERIA)
    assert growth[0]["fit_range"].startswith("epochs 0-") and growth[0]["fit_range"].endswith("per run")
    hessian = hessian_claims(hessian_table("r"), history_table("r"), CRITERIA)
    assert hessian[2]["fit_range"].startswith("epochs 0-")
    peaked = np.array([0.5, 2.0, 3.0, 2.5, 1.0, 0.2])
    rows = goldilocks_claims([radius_table("r", peaked)], [hyperplane_table("r", peaked * 10, peaked)],
                             CRITERIA)
    assert {r["fit_range"] for r in rows} == {"init scales 0.25-8 (6 radii)"}
