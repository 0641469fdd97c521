"""thermoscape.fengtu_claims: verdicts on synthetic tables whose answer is known (holds and fails)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from thermoscape.fengtu_claims import (
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
