"""The scoreboard section "your network": Jules et al.'s claims (a), (b) and the tau_1/2 part of (c) of
Sec. III B, judged on the chart's fluctuation table by the shared role (``claims.fluctuations``, the very
functions that judge the primary study), with the criteria of ``chart.claims``.

The claims are read as Jules et al. state them for their MLP (Sec. III B): (a) ``mu_L`` and ``sigma_L`` linear
in T, ``sigma_L = sqrt(C_h) T`` (Eqs. 3, S1); (b) ``beta T ~ 1``, ``N_c = 2 alpha`` between the number of
outputs ``C`` and ``min(N, D)``, weakly decreasing with T, ``phi ~ alpha`` (Eqs. 2, 8); (c) ``tau_1/2 ~ 1/T``
(Eq. 4: the characteristic length ``L^2 = T tau_1/2`` independent of T). The Hessian collapse and the free
diffusion parts of (c) and claims (d)-(e) need runs the chart does not make (Hessian spectra, free walks,
several time steps, runs from initialisation): they are not on the section. For ``mse`` the analysis uses
``L - L_0`` and reports no phi, so the phi row is ``undetermined``. The chains start from one minimum, so the
errors are the noise's scatter, not Jules et al.'s scatter between minima.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from thermoscape.claims import claims_table, criteria_from
from thermoscape.claims.fluctuations import FluctuationCriteria, fluctuation_claims
from thermoscape.claims.scoreboard import with_headlines

STUDY = "chart"


def chart_claims(summary: pd.DataFrame, table: pd.DataFrame, settings: Mapping[str, Any] | None = None,
                 seed: int = 0) -> pd.DataFrame:
    """The claims table of the charted network: ``summary`` is ``chart/tables/fluctuations.parquet`` (every
    analysis slice), ``table`` ``chart/tables/chart.parquet`` (for the sizes ``n_outputs``, ``n_params``,
    ``n_samples`` of claim (b)); ``settings`` the config's ``chart.claims`` (``FluctuationCriteria``'s fields
    and ``headline_slice``, default ``all``). The rows of the headline slice are marked ``headline``."""
    settings = dict(settings or {})
    headline_slice = settings.pop("headline_slice", "all")
    criteria = criteria_from(FluctuationCriteria, settings, "chart.claims")
    sizes = table.iloc[0]
    rows = fluctuation_claims(summary, criteria, int(sizes["n_outputs"]), int(sizes["n_params"]),
                              int(sizes["n_samples"]), seed=seed, study=STUDY)
    return with_headlines(claims_table(rows), {STUDY: headline_slice})
