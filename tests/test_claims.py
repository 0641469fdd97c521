"""Claims table verdicts on synthetic tables whose answers are known (each criterion can fail)."""

import numpy as np
import pandas as pd
import pytest
import scipy.stats

from thermoscape.claims import FAILS, HOLDS, NA, claims_table, pool_draws
from thermoscape.studies.jules.claims import (
    Criteria,
    curvature_scaling_claim,
    fluctuation_claims,
    free_diffusion_claims,
    hessian_claim,
    hessian_collapse,
    init_claims,
    row,
    time_step_claims,
)
from thermoscape.measure.fluctuations import slice_autocorrelations

TEMPERATURES = np.array([1e-6, 3e-6, 1e-5, 3e-5])


def summary(mu_exponent=1.0, beta_t=1.0, n_c=40.0, equilibrated=True) -> pd.DataFrame:
    """Slice statistics of an ideal quadratic-like landscape: mu = N_c T / 2, sigma^2 = N_c T^2 / 2."""
    mu = n_c / 2 * TEMPERATURES**mu_exponent * 1e-6 ** (1 - mu_exponent)
    return pd.DataFrame({
        "temperature": TEMPERATURES, "slice": "all", "mu_mean": mu, "sigma_mean": np.sqrt(n_c / 2) * TEMPERATURES,
        "beta_T_mean": beta_t, "n_c_mean": n_c * (1 - 0.05 * np.log10(TEMPERATURES / 1e-6)),
        "alpha_mean": n_c / 2 * (1 - 0.05 * np.log10(TEMPERATURES / 1e-6)),
        "phi_mean": n_c / 2 * (1 - 0.04 * np.log10(TEMPERATURES / 1e-6)),
        "tau_half_mean": 1e-4 / TEMPERATURES, "equilibrated": equilibrated,
    })


def verdicts(rows) -> dict[str, str]:
    return {r["quantity"]: r["verdict"] for r in rows}


def test_ideal_statistics_satisfy_claims_a_to_c():
    result = verdicts(fluctuation_claims(summary(), Criteria(), 3, 883, 300))
    assert set(result.values()) == {HOLDS}
    assert len(result) == 8


def test_each_fluctuation_criterion_can_fail():
    result = verdicts(fluctuation_claims(summary(mu_exponent=0.5, beta_t=1.5, n_c=400.0), Criteria(), 3, 883, 300))
    assert result["slope of log mu_L vs log T"] == FAILS
    assert result["beta T"] == FAILS
    assert result["N_c = 2 alpha"] == FAILS  # above min(N, D) = 300
    assert result["slope of log sigma_L vs log T"] == HOLDS


def test_unequilibrated_temperatures_are_left_out_and_reported_as_na():
    rows = fluctuation_claims(summary(equilibrated=False), Criteria(), 3, 883, 300)
    assert {r["verdict"] for r in rows} == {NA}
    rows = fluctuation_claims(summary(equilibrated=False), Criteria(equilibrated_only=False), 3, 883, 300)
    assert {r["verdict"] for r in rows} == {HOLDS}


def test_claims_are_evaluated_per_slice():
    late = summary(mu_exponent=0.5).assign(slice="t2000-3000")
    rows = fluctuation_claims(pd.concat([summary(), late]), Criteria(), 3, 883, 300)
    by_slice = {(r["slice"], r["quantity"]): r["verdict"] for r in rows}
    assert by_slice[("all", "slope of log mu_L vs log T")] == HOLDS
    assert by_slice[("t2000-3000", "slope of log mu_L vs log T")] == FAILS


def hessian_table(scale_with_t: bool) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for T in TEMPERATURES:
        for point in range(5):
            eigenvalues = rng.lognormal(0.0, 1.0, 100) * (T if scale_with_t else 1e-5)
            rows.append(pd.DataFrame({"temperature": T, "replica": 0, "t": float(point), "eigenvalue": eigenvalues}))
    return pd.concat(rows, ignore_index=True)


def test_hessian_collapse_in_lambda_over_t():
    raw, scaled, n = hessian_collapse(hessian_table(True), 20)
    assert n == 4
    assert scaled < 0.3
    assert raw > 0.9
    assert hessian_claim(hessian_table(True), Criteria(hessian_top=20))["verdict"] == HOLDS
    assert hessian_claim(hessian_table(False), Criteria(hessian_top=20))["verdict"] == FAILS
    one = hessian_claim(hessian_table(True), Criteria(hessian_top=20))
    assert np.isnan(one["uncertainty"]) and "no uncertainty: fewer than 2 replicas" in one["detail"]
    # the uncertainty is the standard error over replicas of their own KS medians
    two = pd.concat([hessian_table(True), hessian_table(True).assign(replica=1, eigenvalue=lambda h: h.eigenvalue
                                                                     * np.exp(0.3 * np.sin(h.index)))])
    per_replica = [hessian_collapse(part, 20)[1] for _, part in two.groupby("replica")]
    claim = hessian_claim(two, Criteria(hessian_top=20))
    assert claim["uncertainty"] == pytest.approx(np.std(per_replica, ddof=1) / np.sqrt(2)) and claim["uncertainty"] > 0


def test_curvature_scaling_claim_fits_lambda_max_against_t():
    scaling = curvature_scaling_claim(hessian_table(True), Criteria())
    assert scaling["verdict"] == HOLDS and scaling["value"] == pytest.approx(1.0, abs=0.1)
    assert scaling["n"] == 4 * 5  # one lambda_max per point
    assert curvature_scaling_claim(hessian_table(False), Criteria())["verdict"] == FAILS  # slope 0


WALK_OFFSETS = np.array([-0.2, -0.1, 0.0, 0.05, 0.1, 0.15, -0.05, 0.05])  # log loss offsets of 2 x 4 walks


def free_walks(flat_until: float) -> pd.DataFrame:
    """Walks of 2 replicas x 4 whose log loss differs from the curve by a constant offset each."""
    distance = np.geomspace(1e-3, 100, 40)
    loss = 1e-6 * (1 + (distance / flat_until) ** 4)
    return pd.concat([pd.DataFrame({"replica": k // 4, "walk": k % 4, "t": distance**2, "distance": distance,
                                    "loss": loss * np.exp(offset), "minimum_loss": 1e-6})
                      for k, offset in enumerate(WALK_OFFSETS)], ignore_index=True)


def test_free_diffusion_flat_then_rising():
    length = 0.01
    rows = free_diffusion_claims(free_walks(0.1), length, 883, Criteria())
    assert [r["verdict"] for r in rows] == [HOLDS, HOLDS]
    rows = free_diffusion_claims(free_walks(0.001), length, 883, Criteria())
    assert rows[0]["verdict"] == FAILS
    assert free_diffusion_claims(free_walks(0.1), 50.0, 883, Criteria())[1]["verdict"] == NA  # beyond the walks
    # the uncertainty is the spread of the walks' log ratios: their offsets' standard error
    expected = np.std(WALK_OFFSETS, ddof=1) / np.sqrt(len(WALK_OFFSETS))
    for r in free_diffusion_claims(free_walks(0.1), length, 883, Criteria()):
        assert r["uncertainty"] == pytest.approx(r["value"] * expected, rel=1e-9), r["quantity"]


def test_time_step_and_init_claims():
    check = pd.DataFrame({
        "temperature": [1e-5, 1e-5, 2e-6], "slice": "all", "quantity": ["mu", "alpha", "mu"],
        "time_step": "eta = 0.01", "time_step_ref": "eta = 0.001", "rel_diff": [0.05, 0.5, 0.9],
        "rel_low": [-0.05, 0.3, 0.1], "rel_high": [0.15, 0.7, 2.0], "p": [0.5, 1e-4, 1e-3],
        "agree": [True, False, False], "n_pairs": 4, "judged": [True, True, False],
    })
    rows = time_step_claims(check)
    assert [(r["claim"], r["verdict"]) for r in rows] == [("d", HOLDS)] + [("eta T", NA)] * 3
    assert rows[0]["value"] == 0.05 and rows[0]["uncertainty"] == pytest.approx(0.1)  # the unjudged 0.9 is skipped
    best = time_step_claims(check.assign(quantity="mu", n_pairs=[8, 4, 4], judged=True))[0]
    assert best["value"] == 0.05 and best["verdict"] == FAILS  # the 8 pairs give the value; the others fail it
    assert "largest |difference| of the 3 judged: T = 2e-06" in best["detail"]
    assert "1 comparison(s) without 2 equilibrated pairs not judged" in rows[0]["detail"]
    policy = check.assign(time_step="eta T = 1e-07", quantity=["mu", "tau_half", "alpha"])
    assert {(r["claim"], r["quantity"].split(":")[0]): r["verdict"] for r in time_step_claims(policy)} == {
        ("d", "mu"): NA, ("eta T", "mu"): HOLDS, ("eta T", "alpha"): NA, ("eta T", "tau_half"): FAILS}
    assert {r["verdict"] for r in time_step_claims(check.iloc[:0])} == {NA}
    init = pd.DataFrame({"temperature": TEMPERATURES, "a": 0.22, "a_error": 0.01, "A": 0.0027, "t_start": 5400.0,
                         "t_end": 5600.0, "sigma_mean": 1.0, "sigma_eq_s2": 1.05})
    assert [r["verdict"] for r in init_claims(init, Criteria())] == [HOLDS, HOLDS]
    assert init_claims(init.assign(a=0.95), Criteria())[0]["verdict"] == FAILS
    exact = init_claims(init.assign(a_error=0.0), Criteria())[0]  # two temperatures: no residuals
    assert np.isnan(exact["uncertainty"]) and "no uncertainty" in exact["detail"]
    spread = init.assign(sigma_mean=[1.0, 1.1, 0.9, 1.2])
    expected = np.sqrt(np.pi / 2) * np.std(spread["sigma_mean"] / 1.05, ddof=1) / 2  # median's standard error
    assert init_claims(spread, Criteria())[1]["uncertainty"] == pytest.approx(expected)


def test_slice_autocorrelations_of_ar1_are_geometric():
    rng = np.random.default_rng(0)
    r, n = 0.9, 200_000
    x = np.empty(n)
    x[0] = 0.0
    for i in range(1, n):
        x[i] = r * x[i - 1] + rng.standard_normal()
    t = np.arange(n) * 0.5
    curves = slice_autocorrelations(t, x, [("all", 0.0, t[-1] + 1)], n_lags=30)
    assert curves["lag"].is_monotonic_increasing and curves["lag"].iloc[0] == 0.5
    short = curves[curves["lag"] <= 20]
    np.testing.assert_allclose(short["chi"], r ** (short["lag"] / 0.5), atol=0.02)
    assert slice_autocorrelations(t, np.ones(n), [("all", 0.0, 1.0)]).empty


@pytest.mark.parametrize("bad_slice", [(-5.0, -1.0)])
def test_empty_slices_give_no_rows(bad_slice):
    assert slice_autocorrelations(np.arange(100.0), np.arange(100.0), [("x", *bad_slice)]).empty


def test_beta_t_row_shows_the_statistic_it_judges():
    """Half the points at 0.7-0.75, half at 1.45-1.5: the median beta T is 1.1 (within 0.2 of 1, holds) although
    the median |beta T - 1| is 0.375; the row must not show one and judge the other."""
    spread = summary().assign(beta_T_mean=[0.7, 0.75, 1.45, 1.5])
    beta = {r["quantity"]: r for r in fluctuation_claims(spread, Criteria(), 3, 883, 300)}["beta T"]
    assert beta["value"] == pytest.approx(1.1) and beta["verdict"] == HOLDS
    assert "|median beta T - 1|" in beta["criterion"] and "0 of 4 points within 0.2 of 1" in beta["detail"]
    high = {r["quantity"]: r for r in fluctuation_claims(summary(beta_t=1.3), Criteria(), 3, 883, 300)}["beta T"]
    assert high["value"] == pytest.approx(1.3) and high["verdict"] == FAILS


def with_errors(table: pd.DataFrame, relative: float = 0.05) -> pd.DataFrame:
    return table.assign(**{f"{c}_error": relative * table[f"{c}_mean"]
                           for c in ("mu", "sigma", "beta_T", "n_c", "alpha", "phi", "tau_half")})


def test_uncertainties_come_from_the_points_errors_never_a_bare_zero():
    rows = {r["quantity"]: r for r in fluctuation_claims(with_errors(summary()), Criteria(), 3, 883, 300, seed=1)}
    for quantity in ("beta T", "N_c = 2 alpha", "sigma_L / (sqrt(C_h) T)", "Spearman(phi, alpha)"):
        assert rows[quantity]["uncertainty"] > 0, quantity
    one = with_errors(summary().iloc[[1]])  # a single temperature: no spread over T to speak of
    rows = {r["quantity"]: r for r in fluctuation_claims(one, Criteria(), 3, 883, 300)}
    assert rows["beta T"]["uncertainty"] == pytest.approx(0.05, rel=0.15)  # the point's own 5 %
    assert rows["N_c = 2 alpha"]["uncertainty"] == pytest.approx(0.05 * one["n_c_mean"].iloc[0], rel=0.15)
    assert rows["slope of log mu_L vs log T"]["verdict"] == NA
    bare = {r["quantity"]: r for r in fluctuation_claims(summary().iloc[[1]], Criteria(), 3, 883, 300)}["beta T"]
    assert np.isnan(bare["uncertainty"]) and "no uncertainty" in bare["detail"]  # no errors at all: nan and why


def test_two_temperature_slopes_take_their_error_from_the_points():
    two = with_errors(summary().iloc[[0, 3]], relative=0.1)
    slope = {r["quantity"]: r for r in fluctuation_claims(two, Criteria(), 3, 883, 300)}["slope of log mu_L vs log T"]
    assert slope["verdict"] == HOLDS and slope["value"] == pytest.approx(1.0)
    assert slope["uncertainty"] == pytest.approx(np.hypot(0.1, 0.1) / np.log(30), rel=1e-9)
    assert "uncertainty from the per-point errors" in slope["detail"]


def _draw_table(verdicts: list[str | None], values: list[float]) -> pd.DataFrame:
    rows = [row(str(c), f"q{c}", "paper", "criterion", v, 0.1, 3, None if verdict is None else verdict == "holds")
            for c, (verdict, v) in enumerate(zip(verdicts, values))]
    return claims_table(rows).assign(headline=True)


def test_pool_draws_counts_verdicts_takes_the_majority_and_a_t_interval():
    tables = {11: _draw_table(["holds", "holds", "fails", None], [1.0, 2.0, 3.0, np.nan]),
              12: _draw_table(["holds", "fails", "fails", None], [1.2, 2.0, 5.0, np.nan]),
              13: _draw_table(["fails", None, "holds", "holds"], [0.8, np.nan, 4.0, 1.0])}
    pooled = pool_draws(tables).set_index("claim")
    assert pooled["verdict"].tolist() == ["holds", "undetermined", "fails", "undetermined"]
    assert pooled.loc["0", "detail"] == "holds in 2 of 3 draws, fails in 1, undetermined in 0"
    assert pooled.loc["0", "value"] == pytest.approx(1.0)
    half = scipy.stats.t.ppf(0.975, 2) * np.std([1.0, 1.2, 0.8], ddof=1) / np.sqrt(3)
    assert (pooled.loc["0", "low"], pooled.loc["0", "high"]) == pytest.approx((1.0 - half, 1.0 + half))
    assert np.isnan(pooled.loc["3", "low"]) and pooled.loc["3", "value"] == 1.0  # one finite value: no interval
    assert pooled["agreement"].tolist() == pytest.approx([0.5, 0.0, 0.5, 0.5])
    assert pooled[["verdict_11", "verdict_13"]].loc["2"].tolist() == ["fails", "holds"]


def test_fitted_laws_over_temperature_state_their_range():
    rows = fluctuation_claims(summary(), Criteria(), 3, 883, 300)
    fits = [r for r in rows if r["quantity"].startswith("slope of log")]
    assert len(fits) == 4
    for fitted in fits:
        assert fitted["fit_range"] == "T 1e-06-3e-05 (4 temperatures, 4 points)", fitted["quantity"]
