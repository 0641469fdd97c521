"""Feng & Tu's claims, measured: one row each (``claims.row``), checked against the brief's tolerances (5.2).

Every function takes the measurement tables of the workflow (``pandas`` frames) and returns claim rows;
``slice_name`` names the run or layer a row is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from thermoscape.claims import row
from thermoscape.studies.fengtu.forgetting import dominated_area
from thermoscape.measure.stats import fit_power_law, variance_flatness_exponent
from thermoscape.measure.pca import n_fraction, spectrum_exponent

STUDY = "fengtu"
Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class Criteria:
    """Tolerances of the verdicts (config ``fengtu.claims``; brief 5.2 and 5.5).

    The regime of the fitted laws (Eq. 8 and the Fig. 1A spectrum): a run outside it gets the verdict
    ``undetermined`` with the reason, its fitted value still shown.

    ``rank_spearman_min`` 0.9: Spearman(i, F_i) over the psi fit range at least this. The paper derives
    Eq. 8 from F_i increasing with i (Fig. 2C: "Given that the SGD variance decreases with i ... this
    immediately suggests an inverse relationship"); brief 5.2 quantifies "F_i increasing in i" as
    Spearman >= 0.9. Where F is not monotone in i, a power law sigma^2 ~ F^-psi describes no relation the
    paper reports.
    ``general_rank_spearman_min`` 0.7: the same for the looser checks of other layers, networks and
    optimisers (Figs. S3B, S3D, E6), where brief 5.2 accepts any "clear" trend, |Spearman| >= 0.7.
    ``final_loss_max`` 0.1: the full training loss L_0 = L(w_0) at the end of the PCA window at most this.
    The paper gives no loss value (brief 5.1); its fits are made in the exploration phase, where "the
    loss function is small" (Sec. III, SM I), and its landscape model (Eqs. 7, 9, S4-S5: ln L quadratic,
    resp. linear, in theta) rests on the exponential tail of the cross-entropy, l = ln(1 + a e^-dY) ~
    a e^-dY (Eq. S2), whose log-slope is off by ~l/2: at most 5 % for L_0 <= 0.1.
    """

    psi: tuple[float, float] = (3.0, 5.0)
    spearman_max: float = -0.9
    gamma: tuple[float, float] = (2.0, 3.5)
    curvature_slope: float = -2.0
    slope_tolerance: float = 0.5
    temperature_spearman_max: float = -0.8
    rank_spearman_min: float = 0.9
    general_rank_spearman_min: float = 0.7
    final_loss_max: float = 0.1


def _row(*args, **kwargs) -> dict[str, Any]:
    return row(*args, study=STUDY, **kwargs)


def _in(value: float, bounds: tuple[float, float]) -> bool:
    return bool(bounds[0] <= value <= bounds[1])


def _diffusive(flatness: pd.DataFrame, ranks: tuple[float, float]) -> pd.DataFrame:
    """Modes ``i >= 2`` within ``ranks`` with a finite, positive width (Eq. 8 fit range)."""
    keep = (flatness["rank"] >= max(2, ranks[0])) & (flatness["rank"] <= ranks[1])
    return flatness[keep & np.isfinite(flatness["width"]) & (flatness["width"] > 0)]


def _rank_range(ranks: pd.Series | np.ndarray) -> str:
    """The ranks a quantity was fitted or correlated over, e.g. ``ranks 2-487 (43 points)``."""
    ranks = np.asarray(ranks)
    if not ranks.size:
        return "no rank"
    return f"ranks {int(ranks.min())}-{int(ranks.max())} ({ranks.size} points)"


def _final_loss(table: pd.DataFrame) -> float:
    """``L_0 = L(w_0)``, the full training loss at the end of the PCA window (the flatness table's
    ``loss0``); NaN for a table without it."""
    return float(table["loss0"].iloc[0]) if "loss0" in table.columns and len(table) else np.nan


def _loss_outside(loss: float, criteria: Criteria) -> str:
    """The exploration-phase check of :class:`Criteria` (``final_loss_max``): the reason, or ""."""
    if not loss > criteria.final_loss_max:
        return ""
    return (f"final training loss L_0 = {loss:.3g} > {criteria.final_loss_max:g}, not the small loss of the "
            "exploration phase (Sec. III, SM I, Eq. S2)")


def _eq8_outside(use: pd.DataFrame, loss: float, criteria: Criteria, general: bool) -> tuple[str, float]:
    """``(reason, Spearman(i, F_i))``: why the psi fit range ``use`` is outside the regime of Eq. 8
    (F not increasing with i over it, Fig. 2C; or not the exploration phase), "" if inside."""
    minimum = criteria.general_rank_spearman_min if general else criteria.rank_spearman_min
    rho = float(sps.spearmanr(use["rank"], use["width"]).statistic)
    reasons = [] if rho >= minimum else [
        f"F not increasing with the rank over the fit range, Spearman(i, F_i) = {rho:.2f} < {minimum:g} "
        "(Fig. 2C)"]
    reasons += [r for r in [_loss_outside(loss, criteria)] if r]
    return "; ".join(reasons), rho


def spectrum_claims(pca: dict[str, pd.DataFrame], gamma_range: tuple[int, int], criteria: Criteria,
                    final_losses: Mapping[str, float] | None = None) -> Rows:
    """Fig. 1A-B: ``sigma_i^2 ~ i^-gamma`` over ``gamma_range`` (paper 2.6), ``n_90`` (paper 35) and the
    dominant drift mode, per run. ``final_losses``: ``L_0`` per run; the gamma fit of a run above
    ``final_loss_max`` is outside the exploration phase the paper fits in (``undetermined``)."""
    rows = []
    for name, table in pca.items():
        variances = table["variance"].to_numpy()
        gamma, error = spectrum_exponent(variances, *gamma_range)
        fitted = table["rank"][(table["rank"] > gamma_range[0]) & (table["rank"] < gamma_range[1])]
        loss = (final_losses or {}).get(name, np.nan)
        rows.append(_row("spectrum power law (Fig. 1A)", "gamma", "2.6 (caption: 2-3)",
                         f"gamma in [{criteria.gamma[0]:g}, {criteria.gamma[1]:g}]", gamma, error,
                         len(fitted), _in(gamma, criteria.gamma),
                         f"OLS of log sigma^2 on log i, {gamma_range[0]} < i < {gamma_range[1]}; "
                         f"L_0 = {loss:.3g}", name, fit_range=_rank_range(fitted),
                         outside_regime=_loss_outside(loss, criteria)))
        n90 = n_fraction(variances, 0.9)
        rows.append(_row("low-dimensional fluctuations (Fig. 1B)", "n_90", "35 of 2500", "n_90 in [20, 60]",
                         n90, n=len(variances), passed=20 <= n90 <= 60,
                         detail="90% of the variance without mode 1", slice_name=name))
        ratio = variances[0] / variances[1]
        rows.append(_row("drift mode dominates (Fig. 1A)", "sigma_1^2 / sigma_2^2", ">> 1", "ratio >= 10", ratio,
                         passed=ratio >= 10, slice_name=name))
    return rows


def flatness_claims(flatness: dict[str, pd.DataFrame], psi_ranks: tuple[int, int], criteria: Criteria,
                    figure: str = "Fig. 2", general: bool = False) -> Rows:
    """Eq. 8 per run: ``psi`` in range with a strongly negative Spearman; ``F_i`` increasing with ``i >= 2``
    (the drift mode ``i = 1`` is not part of the diffusive spectrum: its F is set by the drift);
    ``psi`` nearly independent of ``(alpha, B)`` across the runs. ``general``: the looser check of the
    other layers and networks (Fig. S3, brief 5.2): any clear inverse relation, Spearman <= -0.7.

    A psi fit is made only in the paper's regime (:class:`Criteria`): F increasing with the rank over the
    fit range and the small loss of the exploration phase; a run outside it gets ``undetermined`` with the
    reason, and so does the psi spread if any run is outside."""
    rows, psis, outside = [], [], []
    for name, table in flatness.items():
        use = _diffusive(table, psi_ranks)
        psi, error, rho, n = variance_flatness_exponent(use["variance"].to_numpy(), use["width"].to_numpy())
        psis.append(psi)
        loss = _final_loss(table)
        regime, rho_rank = _eq8_outside(use, loss, criteria, general)
        if regime:
            outside.append(name)
        if general:
            criterion, passed = "psi > 0 and Spearman <= -0.7", psi > 0 and rho <= -0.7
        else:
            criterion = f"psi in [{criteria.psi[0]:g}, {criteria.psi[1]:g}] and Spearman <= {criteria.spearman_max:g}"
            passed = _in(psi, criteria.psi) and rho <= criteria.spearman_max
        rows.append(_row(f"inverse variance-flatness relation ({figure}, Eq. 8)", "psi", "~4", criterion, psi,
                         error, n, passed, f"Spearman(sigma^2, F) = {rho:.3f}; configured ranks "
                         f"{psi_ranks[0]}-{psi_ranks[1]}; Spearman(i, F_i) = {rho_rank:.3f}; "
                         f"L_0 = {loss:.3g}", name, fit_range=_rank_range(use["rank"]), outside_regime=regime))
        finite = table[np.isfinite(table["width"]) & (table["rank"] >= 2)]
        rho_rank = sps.spearmanr(finite["rank"], finite["width"]).statistic
        rows.append(_row(f"flatness grows with the rank ({figure})", "Spearman(i, F_i), i >= 2", "F_i increasing",
                         "Spearman >= 0.9", rho_rank, n=len(finite), passed=rho_rank >= 0.9, slice_name=name,
                         fit_range=_rank_range(finite["rank"])))
    if len(psis) > 1:
        spread = max(psis) - min(psis)
        regime = f"runs {', '.join(outside)} outside the regime of Eq. 8" if outside else ""
        rows.append(_row(f"psi independent of alpha and B ({figure})", "max psi - min psi",
                         "psi ~ 4 for every (B, alpha)", "spread <= 2 (psi within +-1)", spread, n=len(psis),
                         passed=spread <= 2.0, slice_name="all runs", fit_range=f"ranks {psi_ranks[0]}-"
                         f"{psi_ranks[1]} of each run",
                         outside_regime=regime))
    return rows


def conv_flatness_claims(flatness: dict[str, pd.DataFrame], psi_ranks: tuple[int, int], criteria: Criteria) -> Rows:
    """Fig. S3D: the general check of :func:`flatness_claims` (psi > 0, Spearman <= -0.7) for each convolution
    layer of each LeNet-CIFAR run; ``flatness`` is keyed ``"<run> <layer>"``. The psi spread compares the runs
    of one layer (never conv1 with conv2, whose exponents the paper does not equate). No runs, no rows."""
    layers: dict[str, dict[str, pd.DataFrame]] = {}
    for name, table in flatness.items():
        layers.setdefault(name.rsplit(" ", 1)[-1], {})[name] = table
    rows = []
    for layer, tables in layers.items():
        for item in flatness_claims(tables, psi_ranks, criteria, figure="Fig. S3D, LeNet-CIFAR", general=True):
            rows.append(item | {"slice": f"all runs, {layer}"} if item["slice"] == "all runs" else item)
    return rows


def _slope_row(claim: str, quantity: str, paper: str, x: pd.Series, y: pd.Series, expected: float,
               tolerance: float, slice_name: str) -> dict[str, Any]:
    keep = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    _, slope, error = fit_power_law(x[keep], y[keep])
    return _row(claim, quantity, paper, f"|slope - ({expected:g})| <= {tolerance:g}", slope, error,
                int(keep.sum()), abs(slope - expected) <= tolerance, "log-log least squares against F_i",
                slice_name, fit_range=f"F_i in [{x[keep].min():.3g}, {x[keep].max():.3g}] ({int(keep.sum())} "
                "ranks)")


def minibatch_claims(minibatch: pd.DataFrame, criteria: Criteria, slice_name: str = "E1") -> Rows:
    """Fig. 3B and Eq. 14: ``M^(0)_ii ~ F^-2``, ``sigma~_i ~ F`` and ``(M^(0))^2 sigma~^2 ~ F^-2``."""
    return [
        _slope_row("MLF curvature (Fig. 3B)", "slope of M^(0)_ii vs F_i", "-2", minibatch["width"],
                   minibatch["M0"], criteria.curvature_slope, criteria.slope_tolerance, slice_name),
        _slope_row("MLF minima spread (Fig. 3B)", "slope of sigma~_i^2 vs F_i", "+2 (sigma~ ~ F)",
                   minibatch["width"], minibatch["sigma_tilde2"], 2.0, 0.6, slice_name),
        _slope_row("theory of Eq. 14 (Fig. 3B)", "slope of (M^(0))^2 sigma~^2 vs F_i", "-2",
                   minibatch["width"], minibatch["M0_squared_sigma_tilde2"], -2.0, 0.7, slice_name),
    ]


def temperature_claims(temperature: pd.DataFrame, history: pd.DataFrame, criteria: Criteria,
                       slice_name: str = "E1") -> Rows:
    """Fig. 5: ``T_i(0)`` lower in flatter directions, ``T_i(dtheta)`` lowest near 0, ``T_i(0, t)`` in step
    with ``L(t)``."""
    at_zero = temperature[(temperature["kind"] == "rank") & (temperature["rank"] >= 2)]
    rho = sps.spearmanr(at_zero["width"], at_zero["temperature"]).statistic
    rows = [_row("active temperature anisotropic (Fig. 5B)", "Spearman(T_i(0), F_i)", "T_i lower where flatter",
                 f"Spearman <= {criteria.temperature_spearman_max:g}", rho, n=len(at_zero),
                 passed=rho <= criteria.temperature_spearman_max, slice_name=slice_name,
                 fit_range=_rank_range(at_zero["rank"]))]
    profiles = temperature[temperature["kind"] == "profile"]
    centred = [abs(g.loc[g["temperature"].idxmin(), "offset"]) <= 0.25 * g["width"].iloc[0]
               for _, g in profiles.groupby("rank")]
    rows.append(_row("temperature profile (Fig. 5A)", "profiles with argmin |dtheta| <= F_i/4",
                     "minimum at dtheta = 0", "all profiles", float(np.mean(centred)) if centred else np.nan,
                     n=len(centred), passed=bool(centred) and all(centred), slice_name=slice_name))
    in_time = temperature[(temperature["kind"] == "time") & (temperature["offset"] == 0)]
    joined = in_time.merge(history[["epoch", "loss"]], on="epoch")
    joined = joined[(joined["epoch"] > 0) & (joined["temperature"] > 0)]
    if len(joined) >= 3:
        r = sps.pearsonr(np.log(joined["temperature"]), np.log(joined["loss"])).statistic
        rows.append(_row("temperature follows the loss (Fig. 5D)", "Pearson(log T_i(0, t), log L(t))",
                         "highly correlated", "Pearson >= 0.9", r, n=len(joined), passed=r >= 0.9,
                         detail=f"rank {int(in_time['rank'].iloc[0])}, checkpoints after epoch 0",
                         slice_name=slice_name, fit_range=f"epochs {joined['epoch'].min():g}-"
                         f"{joined['epoch'].max():g} ({len(joined)} checkpoints)"))
    return rows


def drift_claims(motion: pd.DataFrame, margins: pd.DataFrame, slice_name: str = "E1") -> Rows:
    """Figs. 1C-D and S2: persistent drift of ``theta_1`` against diffusive ``theta_i``; margins linear in
    ``theta_1`` and growing along the drift (``beta > 0``)."""
    steps_per_epoch = round(motion["lag"].iloc[0] / motion["lag_epochs"].iloc[0])
    epoch = motion[motion["lag"] == min(steps_per_epoch, motion["lag"].max())]
    drift = epoch[epoch["mode"] == 1]["velocity_autocorrelation"]
    others = motion[(motion["mode"] >= 2) & (motion["lag"] >= 1) & (motion["lag"] <= steps_per_epoch)]
    decayed = others.groupby("mode")["velocity_autocorrelation"].apply(lambda c: bool((c < 1 / np.e).any()))
    rows = [_row("drift mode persists (Fig. 1C)", "velocity autocorrelation of theta_1 at 1 epoch",
                 "persistence >> 1 epoch; others < 1 epoch",
                 "theta_1 > 0 at 1 epoch; theta_i (i >= 2) below 1/e within 1 epoch",
                 float(drift.iloc[0]) if len(drift) else np.nan, n=len(decayed),
                 passed=bool(len(drift)) and float(drift.iloc[0]) > 0 and bool(decayed.all()),
                 detail="modes " + ", ".join(f"{m}: {'decays' if d else 'persists'}" for m, d in decayed.items()),
                 slice_name=slice_name)]
    r2 = []
    for _, g in margins.groupby("digit"):
        r2.append(sps.linregress(g["offset"], g["margin"]).rvalue ** 2)
    beta = float(motion.loc[motion["mode"] == 1, "beta"].iloc[0])
    rows.append(_row("margins linear in theta_1 (Fig. S2A, Eq. S3)", "min R^2 over digits",
                     "linear, beta > 0", "R^2 >= 0.95 for every digit and beta > 0", float(np.min(r2)),
                     n=len(r2), passed=float(np.min(r2)) >= 0.95 and beta > 0, detail=f"beta = {beta:.3g}",
                     slice_name=slice_name, fit_range=f"theta_1 in [{margins['offset'].min():.3g}, "
                     f"{margins['offset'].max():.3g}] ({margins['offset'].nunique()} offsets per digit)"))
    return rows


def forgetting_claims(final: pd.DataFrame) -> Rows:
    """Fig. 4: catastrophic forgetting without constraint; LDC's ``(eps_1, eps_2)`` trade-off better than
    EWC's (dominated area up to (1, 1) larger, lowest ``eps_1 + eps_2`` lower)."""
    means = final.groupby(["method", "lam", "n_constrained", "lambda_sweep", "constrained_sweep"],
                          as_index=False)[["eps1", "eps2", "eps1_before"]].mean()
    rows = []
    free = means[(means["method"] == "ldc") & (means["lam"] == 0)]
    if len(free):
        rise = float(free["eps1"].iloc[0] - free["eps1_before"].iloc[0])
        rows.append(_row("catastrophic forgetting (Fig. 4A)", "eps_1 rise without constraint",
                         "eps_1 rises to tens of %", "rise >= 0.1", rise, n=len(free), passed=rise >= 0.1,
                         detail=f"eps_1: {free['eps1_before'].iloc[0]:.3f} -> {free['eps1'].iloc[0]:.3f}",
                         slice_name="lambda = 0"))
    sweeps = {m: means[(means["method"] == m) & means["lambda_sweep"]] for m in ("ldc", "ewc")}
    if all(len(s) for s in sweeps.values()):
        area = {m: dominated_area(s[["eps1", "eps2"]].to_numpy()) for m, s in sweeps.items()}
        best = {m: float((s["eps1"] + s["eps2"]).min()) for m, s in sweeps.items()}
        rows.append(_row("LDC beats EWC (Fig. 4E)", "dominated area LDC - EWC", "LDC frontier below EWC's",
                         "area(LDC) > area(EWC) and min(eps_1 + eps_2) LDC <= EWC", area["ldc"] - area["ewc"],
                         n=sum(len(s) for s in sweeps.values()),
                         passed=area["ldc"] > area["ewc"] and best["ldc"] <= best["ewc"],
                         detail=f"areas {area['ldc']:.3f} vs {area['ewc']:.3f}; min eps_1 + eps_2 "
                                f"{best['ldc']:.3f} vs {best['ewc']:.3f}", slice_name="lambda sweeps"))
    ldc = means[(means["method"] == "ldc") & means["constrained_sweep"]].sort_values("n_constrained")
    if len(ldc) > 2:
        optimum = int(ldc.loc[(ldc["eps1"] + ldc["eps2"]).idxmin(), "n_constrained"])
        rows.append(_row("optimal number of constraints (Fig. 4F)", "argmin over N_c of eps_1 + eps_2 (LDC)",
                         "N_c* ~ 200", "N_c* < the largest N_c scanned", optimum, n=len(ldc),
                         passed=optimum < ldc["n_constrained"].max(), slice_name="N_c sweep"))
    return rows


def control_claims(sgd: pd.DataFrame, langevin: pd.DataFrame, psi_ranks: tuple[int, int]) -> Rows:
    """Control C1: under isotropic Langevin noise Eq. 16 predicts ``sigma^2 ~ T F^2``: the relation's sign
    flips (positive Spearman) where SGD's is negative."""
    rows = []
    measured, ranges = {}, {}
    for name, table in (("SGD", sgd), ("Langevin", langevin)):
        use = _diffusive(table, psi_ranks)
        measured[name] = variance_flatness_exponent(use["variance"].to_numpy(), use["width"].to_numpy())
        ranges[name] = _rank_range(use["rank"])
    (psi_sgd, _, rho_sgd, _), (psi_lan, error, rho_lan, n) = measured["SGD"], measured["Langevin"]
    rows.append(_row("Langevin noise flips the relation (control C1, Eq. 16)", "Spearman(sigma^2, F), Langevin",
                     "sigma^2 ~ T F^2 (positive)", "Spearman > 0 for Langevin, < 0 for SGD", rho_lan, n=n,
                     passed=rho_lan > 0 > rho_sgd, detail=f"slopes: Langevin {-psi_lan:+.2f} +- {error:.2f}, "
                                                          f"SGD {-psi_sgd:+.2f}; Spearman SGD {rho_sgd:.3f}",
                     slice_name="control", fit_range=f"Langevin {ranges['Langevin']}; SGD {ranges['SGD']}"))
    return rows
