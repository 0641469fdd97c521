"""The scoreboard section "your network" (``studies.chart.claims``): Jules et al.'s claims (a)-(c) judged on a
chart table by the shared ``claims.fluctuations``, on synthetic tables whose answers are known."""

import numpy as np
import pandas as pd
import pytest

from thermoscape.claims import FAILS, HOLDS, NA
from thermoscape.claims import scoreboard
from thermoscape.studies.chart.claims import chart_claims

TEMPERATURES = np.array([1e-4, 3e-4, 1e-3, 3e-3])
SIZES = {"n_outputs": 10, "n_params": 1210, "n_samples": 500}  # the digits MLP 64-16-10 on 500 points


def chart_summary(mu_exponent: float = 1.0, n_c: float = 40.0, equilibrated: bool = True) -> pd.DataFrame:
    """``chart/tables/fluctuations.parquet`` of a quadratic-like basin, slices ``all`` and one drift slice:
    ``mu_L = (N_c / 2) T`` (Eq. 3, ``C_h = N_c / 2``), ``sigma_L = sqrt(C_h) T`` (Eq. S1), ``beta T = 1``,
    ``tau_1/2 = 0.1 / T`` (Eq. 4); with ``mu_exponent != 1``, ``mu_L = (N_c / 2) T^a T_1^(1-a)`` (not linear
    in T, Fig. S1's behaviour away from equilibrium). Every point carries a 5 % error (the chains' spread)."""
    c_h = n_c / 2
    mu = c_h * TEMPERATURES**mu_exponent * TEMPERATURES[0] ** (1 - mu_exponent)
    values = {"mu": mu, "sigma": np.sqrt(c_h) * TEMPERATURES, "beta_T": np.ones(4), "n_c": np.full(4, n_c),
              "alpha": np.full(4, c_h), "phi": c_h * (1 + 0.1 * np.arange(4)), "tau_half": 0.1 / TEMPERATURES}
    one = pd.DataFrame({"temperature": TEMPERATURES, "equilibrated": equilibrated, "n_used": 8,
                        **{f"{k}_mean": v for k, v in values.items()},
                        **{f"{k}_error": 0.05 * v for k, v in values.items()}})
    one["alpha_mean"] = one["alpha_mean"] * (1 + 0.1 * np.arange(4))  # phi ~ alpha rising together
    return pd.concat([one.assign(slice="all"), one.assign(slice="t40-80")], ignore_index=True)


def chart_table() -> pd.DataFrame:
    return pd.DataFrame({"temperature": TEMPERATURES, **SIZES})


def lines(claims: pd.DataFrame) -> dict[str, pd.Series]:
    return {r["quantity"]: r for _, r in claims[claims["headline"]].iterrows()}


def test_claim_a_holds_on_an_equilibrated_quadratic_basin():
    claims = chart_claims(chart_summary(), chart_table(), seed=1)
    assert (claims["study"] == "chart").all() and set(claims["claim"]) == {"a", "b", "c"}
    found = lines(claims)
    assert len(found) == 8 and set(claims.loc[claims["headline"], "slice"]) == {"all"}
    for quantity in ("slope of log mu_L vs log T", "slope of log sigma_L vs log T", "sigma_L / (sqrt(C_h) T)"):
        assert found[quantity]["verdict"] == HOLDS, quantity
    assert found["slope of log mu_L vs log T"]["value"] == pytest.approx(1.0)
    assert found["sigma_L / (sqrt(C_h) T)"]["value"] == pytest.approx(1.0)
    assert found["slope of log tau_1/2 vs log T"]["value"] == pytest.approx(-1.0)
    assert found["N_c = 2 alpha"]["verdict"] == HOLDS  # 40 in (C, min(N, D)) = (10, 500)
    assert "(10, 500)" in found["N_c = 2 alpha"]["criterion"]
    assert all(found[q]["uncertainty"] > 0 for q in found if found[q]["verdict"] != NA)


def test_claim_a_fails_when_mu_is_not_linear_in_t():
    """``mu_L ~ T^0.5``: the slope is 0.5 (outside 1 +/- 0.2) and ``sigma / (sqrt(C_h) T)`` drifts from 1."""
    found = lines(chart_claims(chart_summary(mu_exponent=0.5), chart_table()))
    assert found["slope of log mu_L vs log T"]["verdict"] == FAILS
    assert found["slope of log mu_L vs log T"]["value"] == pytest.approx(0.5)
    assert found["slope of log sigma_L vs log T"]["verdict"] == HOLDS


def test_the_criteria_are_the_config_keys():
    """A tolerance of 0.6 accepts the slope of 0.5 (chart.claims.slope_tolerance); an unknown key is refused
    naming chart.claims; without equilibrated temperatures every verdict is undetermined."""
    found = lines(chart_claims(chart_summary(mu_exponent=0.5), chart_table(), {"slope_tolerance": 0.6}))
    assert found["slope of log mu_L vs log T"]["verdict"] == HOLDS
    with pytest.raises(ValueError, match="chart.claims: unknown keys"):
        chart_claims(chart_summary(), chart_table(), {"slope_tol": 0.6})
    assert set(chart_claims(chart_summary(equilibrated=False), chart_table())["verdict"]) == {NA}
    drift = chart_claims(chart_summary(), chart_table(), {"headline_slice": "t40-80"})
    assert set(drift.loc[drift["headline"], "slice"]) == {"t40-80"}


def test_the_scoreboard_shows_the_section_your_network(tmp_path):
    table = chart_claims(chart_summary(), chart_table())
    info = {"config_hash": "abc", "scale": "smoke", "commit": "x", "date": "today", "device": "cpu"}
    (tmp_path / "chart").mkdir()
    (tmp_path / "chart" / "chart.png").write_bytes(b"png")
    page = scoreboard.render(table, info, tmp_path, "../figures")
    assert "<section id='chart'><h2>Your network" in page and "id='summary-chart'" in page
    assert '<img src="../figures/chart/chart.png"' in page
    assert "(a) mu_L linear in T" in page
