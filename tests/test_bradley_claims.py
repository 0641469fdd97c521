"""thermoscape.studies.bradley.claims: verdicts on synthetic tables whose answer is known, holds and fails; and the
synthetic-basin claims on the real basin tables of the paper's parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thermoscape.studies.bradley.basins import BasinLoss, basin_tables
from thermoscape.studies.bradley.claims import (
    Criteria,
    basin_claims,
    bradley_claims,
    langevin_claims,
    shift_claims,
    sweep_claims,
)
from thermoscape.claims import COLUMNS

CRITERIA = Criteria()
TEMPERATURES = np.array([4e-4, 8e-4, 1.6e-3, 3.2e-3, 6.4e-3])
CASES = {"fig4_left": ((-1.0, 1.0), (0.021, 0.1), (0.1, 0.5), 0.1), "fig4_right": ((-1.0, 1.0), (0.019, 0.1),
                                                                                     (0.1, 0.5), 0.1),
         "fig6_left": ((0.0,), (0.1,), (0.1,), 0.03), "fig6_right": ((-1.0, 0.0, 1.0), (0.1, 0.051, 0.3),
                                                                     (0.1, 0.05, 0.3), 0.1)}


def verdicts(rows, key="claim"):
    return {(r[key], r["slice"]): r["verdict"] for r in rows}


@pytest.fixture(scope="module")
def basin_results():
    """The four cases at a coarse grid (fast), as the workflow's aggregated tables."""
    parts = {"basins": [], "expectations": []}
    for case, (minima, weights, sigmas, shift) in CASES.items():
        tables = basin_tables(BasinLoss(minima, weights, sigmas, 0.001, shift), np.geomspace(1e-4, 1e-1, 13),
                              points=20_001)
        for name, frames in parts.items():
            frames.append(tables[name].assign(case=case))
    return {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}


def test_basin_claims_hold_for_the_paper_parameters(basin_results):
    rows = basin_claims(basin_results["basins"], basin_results["expectations"], CRITERIA)
    by_claim = verdicts(rows)
    assert by_claim[("E[U_test] has an interior minimum with T", "fig4_left")] == "holds"
    assert by_claim[("E[U_train] increases with T", "fig4_left")] == "holds"
    assert by_claim[("E[U_test] increases with T", "fig4_right")] == "holds"
    assert by_claim[("E[U_test] decreases with T", "fig6_right")] == "holds"
    assert by_claim[("most mass ends at the widest minimum (+1)", "fig6_right")] == "holds"
    laplace = [r for r in rows if r["claim"].startswith("Laplace")]
    assert len(laplace) == 4 and all(r["verdict"] == "holds" for r in laplace)


def test_basin_claims_fail_when_the_trend_is_reversed(basin_results):
    flipped = basin_results["expectations"].copy()
    flipped["expected_train"] = -flipped["expected_train"]
    rows = basin_claims(None, flipped, CRITERIA)
    assert verdicts(rows)[("E[U_train] increases with T", "fig4_left")] == "fails"
    no_interior = flipped[flipped["case"] == "fig4_left"].assign(expected_test=lambda t: t["T"])
    assert verdicts(basin_claims(None, no_interior, CRITERIA))[
        ("E[U_test] has an interior minimum with T", "fig4_left")] == "fails"


def test_laplace_claim_fails_beyond_the_tolerance(basin_results):
    basins = basin_results["basins"].copy()
    basins["laplace"] = basins["probability"] + 0.05
    rows = [r for r in basin_claims(basins, None, CRITERIA) if r["claim"].startswith("Laplace")]
    assert rows and all(r["verdict"] == "fails" for r in rows)


def shift_table(seeds: int = 3, sign: float = -1.0, error: float = 0.05) -> pd.DataFrame:
    """Per (T, seed) rows shaped like the paper's Fig. 2: curvatures fall with T (``sign`` -1), minima rise."""
    rows = []
    g = np.random.default_rng(1)
    for T in TEMPERATURES:
        for seed in range(seeds):
            level = np.log(T / TEMPERATURES[0])
            c_test = 0.1 * np.exp(sign * 0.2 * level) * (1 + 0.01 * g.normal())
            shift_norm = 3.0
            test_minimum = 0.01 + 0.001 * level
            measured = test_minimum + 0.5 * c_test * shift_norm**2
            rows.append({"T": T, "seed": seed, "finite": True, "shift_norm": shift_norm - 0.05 * level,
                         "train_minimum_loss": 0.004 + 0.001 * level, "test_minimum_loss": test_minimum,
                         "test_at_train": measured, "c_train": 0.5 * c_test, "c_test": c_test,
                         "shift_curvature": c_test * shift_norm**2, "prediction": measured * (1 + error),
                         "prediction_half": measured * (1 + 2 * error)})
    return pd.DataFrame(rows)


def test_shift_claims_hold_for_the_papers_trends():
    rows = shift_claims(shift_table(), CRITERIA)
    by_claim = {r["claim"]: r for r in rows}
    for claim in ("shift-curvature s C_test s decreases with T", "test curvature decreases with T",
                  "U_k^test increases with T", "test loss at the train minimum decreases with T",
                  "Taylor prediction (Eq. 3) matches U_test(theta_tr), fit on the whole side",
                  "Taylor prediction (Eq. 3) matches U_test(theta_tr), fit on the restricted range",
                  "1/2 s C s contributes more than U_k^test"):
        assert by_claim[claim]["verdict"] == "holds", claim
    assert by_claim["|s| against T (VGG16: increases, ResNet: decreases)"]["verdict"] == "undetermined"
    assert by_claim["test curvature decreases with T"]["value"] == pytest.approx(-1.0)


def test_shift_claims_fail_for_reversed_trends_and_a_poor_prediction():
    rows = {r["claim"]: r for r in shift_claims(shift_table(sign=1.0, error=0.3), CRITERIA)}
    assert rows["test curvature decreases with T"]["verdict"] == "fails"
    assert rows["Taylor prediction (Eq. 3) matches U_test(theta_tr), fit on the whole side"]["verdict"] == "fails"


def test_diverged_points_are_left_out_of_the_trends():
    table = shift_table()
    table.loc[table["T"] == TEMPERATURES[-1], ["finite", "c_test"]] = [False, np.nan]
    row = next(r for r in shift_claims(table, CRITERIA) if r["claim"] == "test curvature decreases with T")
    assert row["n"] == len(TEMPERATURES) - 1 and row["verdict"] == "holds"


def sweep_table(spread: float) -> pd.DataFrame:
    rows = [{"seed": seed, "batch": batch, "T": T, "lr": T * batch, "final_train": 0.01,
             "final_test": 0.35 - 5 * T + spread * k, "finite": True}
            for seed in (0, 1) for k, batch in enumerate((25, 50, 100)) for T in TEMPERATURES]
    return pd.DataFrame(rows)


def test_sweep_claims_collapse_holds_and_fails():
    shuffle = pd.DataFrame({"shuffle": range(5), "final_train": 0.01, "final_test": [0.34, 0.35, 0.36, 0.35, 0.34],
                            "finite": True})
    sizes = pd.DataFrame({"sample_size": [1000, 2500, 5000] * 2, "seed": [0] * 3 + [1] * 3, "final_train": 0.01,
                          "final_test": [0.6, 0.45, 0.35, 0.62, 0.44, 0.36], "finite": True})
    rows = {(r["claim"], r["slice"]): r["verdict"] for r in sweep_claims(sweep_table(0.001), shuffle, sizes,
                                                                          CRITERIA)}
    assert rows[("test loss collapses across batch sizes at equal T = lr/B", "sweep")] == "holds"
    assert rows[("test loss decreases with T", "B=25")] == "holds"
    assert rows[("reshuffling train/test has little impact", "shuffle")] == "holds"
    assert rows[("smaller samples give higher test loss", "sample size")] == "holds"
    apart = {r["claim"]: r["verdict"] for r in sweep_claims(sweep_table(0.1), None, None, CRITERIA)}
    assert apart["test loss collapses across batch sizes at equal T = lr/B"] == "fails"


def test_langevin_claim_uses_the_ks_pvalue():
    check = pd.DataFrame({"case": ["well", "well"], "T": [0.5, 0.1], "eta": 1e-3, "steps": 10, "particles": 100,
                          "ks_statistic": [0.01, 0.3], "ks_pvalue": [0.5, 1e-9]})
    assert [r["verdict"] for r in langevin_claims(check, CRITERIA)] == ["holds", "fails"]


def test_claims_table_has_the_shared_columns_and_rejects_unknown_criteria(basin_results):
    table = bradley_claims(basins=basin_results["basins"], shift_curvature=shift_table(), sweep=None)
    assert list(table.columns) == COLUMNS and set(table["study"]) == {"bradley"}
    with pytest.raises(ValueError, match="bradley.claims: unknown keys"):
        bradley_claims(criteria={"tolerance": 1})


def test_trends_and_fits_state_their_range(basin_results):
    rows = basin_claims(basin_results["basins"], basin_results["expectations"], CRITERIA)
    trends = {r["fit_range"] for r in rows if r["claim"].startswith("E[U")}
    assert trends == {"T in [0.0001, 0.1] (13 points)"}
    laplace = next(r for r in rows if r["claim"].startswith("Laplace"))
    assert laplace["fit_range"].startswith("T in [0.0001, 0.01") and laplace["fit_range"].endswith("points)")
    shift = {r["claim"]: r for r in shift_claims(shift_table(), CRITERIA, restricted_range=0.4)}
    assert shift["test curvature decreases with T"]["fit_range"] == (
        "T in [0.0004, 0.0064] (5 points); reflected fits over x in [0, |s|] (App. F)")
    assert shift["U_k^test increases with T"]["fit_range"] == "T in [0.0004, 0.0064] (5 points)"
    restricted = shift["Taylor prediction (Eq. 3) matches U_test(theta_tr), fit on the restricted range"]
    assert restricted["fit_range"].startswith("test fit over x in [0, 0.4 |s|]; 15 (T, seed) points")
    assert all(r["regime"] == "" for r in shift.values())


def test_fits_about_points_that_are_not_minima_are_outside_the_regime():
    """A stage-B end point with a negative reflected curvature is no local minimum along the line (App. F):
    the fitted rows are undetermined, the trends of the measured losses still judged."""
    table = shift_table()
    table.loc[(table["T"] == TEMPERATURES[2]) & (table["seed"] == 1), "c_train"] = -0.01
    rows = {r["claim"]: r for r in shift_claims(table, CRITERIA)}
    for claim in ("test curvature decreases with T", "train curvature decreases with T",
                  "shift-curvature s C_test s decreases with T", "1/2 s C s contributes more than U_k^test",
                  "Taylor prediction (Eq. 3) matches U_test(theta_tr), fit on the whole side"):
        assert rows[claim]["verdict"] == "undetermined", claim
        assert rows[claim]["regime"].startswith("1 of 15 (T, seed) points with a non-positive reflected")
        assert "T = 0.0016 seed 1" in rows[claim]["detail"]
    assert rows["test curvature decreases with T"]["value"] == pytest.approx(-1.0)
    assert rows["U_k^test increases with T"]["verdict"] == "holds"


def test_fig5_rows_need_a_converged_stage1():
    sizes = pd.DataFrame({"sample_size": [1000, 2500, 5000], "seed": 0, "final_train": [0.004, 0.006, 0.2],
                          "final_test": [0.6, 0.45, 0.35], "finite": True})
    shuffle = pd.DataFrame({"shuffle": range(3), "final_train": 0.005, "final_test": [0.34, 0.35, 0.36],
                            "finite": True})
    stage1 = pd.DataFrame({"final_train": [0.004]})
    by_slice = {r["slice"]: r for r in sweep_claims(sweep_table(0.001), shuffle, sizes, CRITERIA, stage1)}
    assert {by_slice[name]["verdict"] for name in ("B=25", "sweep", "shuffle")} == {"holds"}
    assert by_slice["sweep"]["fit_range"] == "T in [0.0004, 0.0064] (5 points); B in {25, 50, 100}"
    assert by_slice["sample size"]["fit_range"] == "sample size in [1000, 5000] (3 points)"
    assert by_slice["sample size"]["verdict"] == "undetermined"
    assert "subsampled runs' final train loss up to 0.2 > 0.01" in by_slice["sample size"]["regime"]
    hot = sweep_claims(sweep_table(0.001), None, None, CRITERIA, pd.DataFrame({"final_train": [0.004, 0.05]}))
    assert {r["verdict"] for r in hot} == {"undetermined"}
    assert all("stage-1 final train loss up to 0.05 > 0.01" in r["regime"] for r in hot)
    assert "paper: 0.005, App. G.1" in hot[0]["detail"]
