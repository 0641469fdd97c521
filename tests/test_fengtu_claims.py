"""thermoscape.studies.fengtu.claims: verdicts on synthetic tables whose answer is known (holds and fails)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from thermoscape.studies.fengtu.claims import (
    Criteria,
    control_claims,
    drift_claims,
    flatness_claims,
    forgetting_claims,
    minibatch_claims,
    spectrum_claims,
    temperature_claims,
)

CRITERIA = Criteria()
RANKS = np.unique(np.geomspace(1, 600, 40).astype(int))


def flatness_table(exponent: float, noise: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """sigma_i^2 = F_i^-exponent with F_i = i^0.5 (times lognormal noise)."""
    g = np.random.default_rng(seed)
    width = RANKS**0.5
    return pd.DataFrame({"rank": RANKS, "width": width,
                         "variance": width**-exponent * np.exp(noise * g.normal(size=RANKS.size))})


def verdicts(rows):
    return {(r["claim"], r["slice"]): r["verdict"] for r in rows}


def test_spectrum_claims_measure_gamma_and_n90():
    ranks = np.arange(1, 801)
    variances = np.where(ranks == 1, 1e3, ranks**-2.6)
    rows = spectrum_claims({"run": pd.DataFrame({"rank": ranks, "variance": variances})}, (20, 200), CRITERIA)
    gamma = next(r for r in rows if r["quantity"] == "gamma")
    assert gamma["value"] == pytest.approx(2.6) and gamma["verdict"] == "holds"
    assert all(r["verdict"] == "holds" for r in rows if r["quantity"] == "sigma_1^2 / sigma_2^2")
    flat = spectrum_claims({"run": pd.DataFrame({"rank": ranks, "variance": ranks**-1.0})}, (20, 200), CRITERIA)
    assert {r["quantity"]: r["verdict"] for r in flat}["gamma"] == "fails"


def test_flatness_claims_hold_for_psi_4_and_fail_for_the_wrong_sign():
    rows = flatness_claims({"a": flatness_table(4.0), "b": flatness_table(4.3, seed=1)}, (2, 500), CRITERIA)
    psi = [r for r in rows if r["quantity"] == "psi"]
    assert [r["verdict"] for r in psi] == ["holds", "holds"] and psi[0]["value"] == pytest.approx(4.0, abs=0.1)
    assert all(r["verdict"] == "holds" for r in rows)
    wrong = flatness_claims({"a": flatness_table(-2.0)}, (2, 500), CRITERIA)
    assert next(r for r in wrong if r["quantity"] == "psi")["verdict"] == "fails"
    general = flatness_claims({"a": flatness_table(1.5)}, (2, 500), CRITERIA, general=True)
    assert next(r for r in general if r["quantity"] == "psi")["verdict"] == "holds"


def test_minibatch_claims_check_the_theory_slopes():
    width = np.geomspace(0.3, 10, 20)
    table = pd.DataFrame({"width": width, "M0": 5 * width**-2.0, "sigma_tilde2": 0.1 * width**2.0})
    table["M0_squared_sigma_tilde2"] = table["M0"] ** 2 * table["sigma_tilde2"]
    assert {r["verdict"] for r in minibatch_claims(table, CRITERIA)} == {"holds"}
    table["M0"] = width**-0.5
    assert verdicts(minibatch_claims(table, CRITERIA))[("MLF curvature (Fig. 3B)", "E1")] == "fails"


def test_temperature_claims():
    width = np.geomspace(0.3, 10, 15)
    offsets = np.linspace(-1, 1, 9)
    profile = pd.DataFrame({"kind": "profile", "epoch": 100, "rank": 10, "width": 1.0, "offset": offsets,
                            "temperature": 1 + offsets**2})
    ranks = pd.DataFrame({"kind": "rank", "epoch": 100, "rank": np.arange(2, 17), "width": width, "offset": 0.0,
                          "temperature": width**-2})
    epochs = np.array([0, 1, 2, 5, 10, 50])
    loss = np.exp(-epochs / 10.0)
    time = pd.DataFrame({"kind": "time", "epoch": epochs, "rank": 10, "width": 1.0, "offset": 0.0,
                         "temperature": 1e-3 * loss})
    rows = temperature_claims(pd.concat([profile, ranks, time]), pd.DataFrame({"epoch": epochs, "loss": loss}),
                              CRITERIA)
    assert [r["verdict"] for r in rows] == ["holds", "holds", "holds"]
    ranks["temperature"] = width**2
    assert temperature_claims(pd.concat([profile, ranks, time]), pd.DataFrame({"epoch": epochs, "loss": loss}),
                              CRITERIA)[0]["verdict"] == "fails"


def motion_table(persistent_modes):
    lags = np.arange(1, 161)
    return pd.concat([pd.DataFrame({"mode": mode, "lag": lags, "lag_epochs": lags / 80.0,
                                    "velocity_autocorrelation": 0.9 if mode in persistent_modes else np.exp(-lags / 3.0),
                                    "msd": lags**2.0, "beta": 1.5 if mode == 1 else np.nan})
                      for mode in (1, 2, 10)], ignore_index=True)


def test_drift_claims():
    offsets = np.linspace(-1, 1, 11)
    margins = pd.concat([pd.DataFrame({"digit": d, "offset": offsets, "margin": 3 + (d + 1) * offsets})
                         for d in range(3)])
    assert [r["verdict"] for r in drift_claims(motion_table({1}), margins)] == ["holds", "holds"]
    assert drift_claims(motion_table({1, 10}), margins)[0]["verdict"] == "fails"
    margins["margin"] = np.cos(6 * margins["offset"])
    assert drift_claims(motion_table({1}), margins)[1]["verdict"] == "fails"


def final_rows(method, points, eps1_before=0.01):
    return [{"method": method, "seed": 0, "lam": lam, "n_constrained": 200, "eps1": e1, "eps2": e2,
             "eps1_before": eps1_before, "diverged": False, "lambda_sweep": True, "constrained_sweep": False}
            for lam, (e1, e2) in points]


def test_forgetting_claims_compare_frontiers():
    ldc = final_rows("ldc", [(0.0, (0.6, 0.02)), (10.0, (0.05, 0.04)), (100.0, (0.02, 0.2))])
    ewc = final_rows("ewc", [(1.0, (0.6, 0.02)), (1e4, (0.3, 0.1)), (1e6, (0.05, 0.5))])
    rows = forgetting_claims(pd.DataFrame(ldc + ewc))
    assert [r["verdict"] for r in rows] == ["holds", "holds"]
    swapped = forgetting_claims(pd.DataFrame(final_rows("ldc", [(0.0, (0.6, 0.02)), (1.0, (0.3, 0.1))])
                                             + final_rows("ewc", [(1.0, (0.05, 0.04))])))
    assert swapped[1]["verdict"] == "fails"


def test_control_claim_needs_opposite_signs():
    assert control_claims(flatness_table(4.0), flatness_table(-2.0), (2, 500))[0]["verdict"] == "holds"
    assert control_claims(flatness_table(4.0), flatness_table(3.0), (2, 500))[0]["verdict"] == "fails"


def psi_row(rows, slice_name="a"):
    return next(r for r in rows if r["quantity"] == "psi" and r["slice"] == slice_name)


def test_psi_fit_in_the_regime_states_its_range_and_holds():
    table = flatness_table(4.0).assign(loss0=0.01)
    row = psi_row(flatness_claims({"a": table}, (2, 500), CRITERIA))
    used = RANKS[(RANKS >= 2) & (RANKS <= 500)]
    assert row["verdict"] == "holds" and row["regime"] == ""
    assert row["fit_range"] == f"ranks {used.min()}-{used.max()} ({used.size} points)"
    assert "Spearman(i, F_i) = 1.000" in row["detail"] and "L_0 = 0.01" in row["detail"]


def test_psi_fit_over_a_non_monotone_flatness_is_outside_the_regime():
    """The user's case: F not monotone in the rank over the fit range, only the tail an inverse law."""
    g = np.random.default_rng(3)
    width = np.where(RANKS < 100, g.permutation(RANKS**0.5), RANKS**0.5)
    table = pd.DataFrame({"rank": RANKS, "width": width, "variance": width**-4.0, "loss0": 0.01})
    rows = flatness_claims({"a": table}, (2, 500), CRITERIA)
    row = psi_row(rows)
    assert row["verdict"] == "undetermined"
    assert row["detail"].startswith("outside the regime: F not increasing")
    assert "< 0.9 (Fig. 2C)" in row["regime"] and np.isfinite(row["value"])
    assert row["fit_range"].startswith("ranks 2-")
    tail = psi_row(flatness_claims({"a": table}, (100, 500), CRITERIA))
    assert tail["verdict"] == "holds" and tail["value"] == pytest.approx(4.0)


def test_psi_fit_of_a_poorly_converged_run_is_outside_the_regime():
    rows = flatness_claims({"a": flatness_table(4.0).assign(loss0=0.3), "b": flatness_table(4.0, seed=1)},
                           (2, 500), CRITERIA)
    row = psi_row(rows)
    assert row["verdict"] == "undetermined" and "final training loss L_0 = 0.3 > 0.1" in row["regime"]
    assert psi_row(rows, "b")["verdict"] == "holds"  # no loss0 recorded: no loss check
    spread = next(r for r in rows if r["slice"] == "all runs")
    assert spread["verdict"] == "undetermined" and spread["regime"] == "runs a outside the regime of Eq. 8"
    loose = flatness_claims({"a": flatness_table(4.0).assign(loss0=0.3)}, (2, 500),
                            Criteria(final_loss_max=0.5))
    assert psi_row(loose)["verdict"] == "holds"


def test_general_psi_check_uses_the_looser_monotonicity_threshold():
    width = RANKS**0.5 * np.exp(0.6 * np.random.default_rng(1).normal(size=RANKS.size))
    table = pd.DataFrame({"rank": RANKS, "width": width, "variance": width**-2.0})
    rho = sps.spearmanr(RANKS[RANKS >= 2], width[RANKS >= 2]).statistic
    assert 0.7 <= rho < 0.9
    assert psi_row(flatness_claims({"a": table}, (2, 600), CRITERIA, general=True))["verdict"] == "holds"
    assert psi_row(flatness_claims({"a": table}, (2, 600), CRITERIA))["verdict"] == "undetermined"


def test_gamma_fit_states_its_range_and_checks_the_final_loss():
    ranks = np.arange(1, 801)
    pca = {"run": pd.DataFrame({"rank": ranks, "variance": np.where(ranks == 1, 1e3, ranks**-2.6)})}
    gamma = spectrum_claims(pca, (20, 200), CRITERIA, {"run": 0.01})[0]
    assert gamma["verdict"] == "holds" and gamma["fit_range"] == "ranks 21-199 (179 points)"
    hot = spectrum_claims(pca, (20, 200), CRITERIA, {"run": 0.5})[0]
    assert hot["quantity"] == "gamma" and hot["verdict"] == "undetermined"
    assert hot["value"] == pytest.approx(2.6)
    assert "L_0 = 0.5 > 0.1" in hot["regime"]


def test_other_fits_state_their_range():
    width = np.geomspace(0.3, 10, 20)
    table = pd.DataFrame({"width": width, "M0": 5 * width**-2.0, "sigma_tilde2": 0.1 * width**2.0})
    table["M0_squared_sigma_tilde2"] = table["M0"] ** 2 * table["sigma_tilde2"]
    assert {r["fit_range"] for r in minibatch_claims(table, CRITERIA)} == {"F_i in [0.3, 10] (20 ranks)"}
    control = control_claims(flatness_table(4.0), flatness_table(-2.0), (2, 500))[0]
    assert control["fit_range"].startswith("Langevin ranks 2-")
