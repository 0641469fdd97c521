"""Fort & Ganguli figures (rule fort_figure): Figs. 1, 3-8 and the real-network checks, one per `figure`.

Inputs are named lists of Parquet tables (columns: see the scripts that write them, scripts/fort/*.py); a
list of several tables is concatenated (real-network tables carry the run metadata columns, random-model
tables their seed and exponent columns). The names per figure:

    fig1        clustering (runs/{run}/clustering.parquet, every run); optional summary (random-model
                summary tables: the median of their q_sl_theory is the reference line)
    fig3        simplex_training (runs/{run}/simplex.parquet of 3-class runs; may be an empty list: panel
                (a) is then left out), simplex (freezing/simplex.parquet), entropy (freezing/entropy.parquet)
    fig4        history (runs/{run}/history.parquet), logit_radius (runs/{run}/radius.parquet)
    fig5, fig6  spectrum (random_model/spectrum_s{seed}.parquet), summary (random_model/summary_s{seed})
    fig7, fig8  sweep (random_model/sweep_s{seed}.parquet: every exponent, every seed)
    properties  hessian (runs/{run}/hessian.parquet), hessian_summary (runs/{run}/hessian_summary.parquet),
                history (runs/{run}/history.parquet)
    goldilocks  radius (goldilocks/radius_{run}.parquet), hyperplane (goldilocks/hyperplane_{run}.parquet)

Optional params.settings (a dict; absent keys take the defaults of thermoscape.studies.fort.plots):
    q_sl_theory       fig1: reference line (overrides the one from `summary`)
    run               fig3: the run of panel (a); properties: the run of panel (A) (default: the first)
    seed              fig5, fig6: the seed shown in detail (fig5: first seed, fig6: median seed)
    max_rank          fig5: ranks shown in panel (B) (30)
    default_exponent  fig7, fig8: the highlighted sigma_c exponent a (0.25)
    projection_dim    fig8, goldilocks: the dimension d of the random projections (fig8: 10)
    dim               fig8: the number of weights D of the random model, to mark sqrt(D)
    n_classes         goldilocks: marks chance accuracy 100/C
"""

import numpy as np
import pandas as pd

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.fort import plots as plots
from thermoscape.plotting import save_figure

start_job(snakemake)
figure = snakemake.wildcards.figure
inputs = snakemake.input
settings = dict(snakemake.params.get("settings", None) or {})


def paths(name, optional=False):
    """The files of a named input (a single file becomes a one-element list); [] for an absent optional."""
    if name not in inputs.keys():  # noqa: SIM118 (Namedlist: `in` tests the files, not the names)
        if optional:
            return []
        raise ValueError(f"figure {figure!r} needs the input {name!r}")
    value = inputs[name]
    return [value] if isinstance(value, str) else list(value)


def concat(name, optional=False):
    """The tables of a named input concatenated; None when there is none (optional inputs)."""
    tables = [read_table(path) for path in paths(name, optional)]
    if not tables:
        if optional:
            return None
        raise ValueError(f"input {name!r} of figure {figure!r} is an empty list")
    return pd.concat(tables, ignore_index=True)


if figure == "fig1":
    theory = settings.get("q_sl_theory")
    summary = concat("summary", optional=True)
    if theory is None and summary is not None and "q_sl_theory" in summary:
        theory = float(np.nanmedian(summary["q_sl_theory"]))
    fig = plots.figure1(concat("clustering"), q_sl_theory=theory)
elif figure == "fig3":
    fig = plots.figure3(concat("simplex_training", optional=True), concat("simplex"), concat("entropy"),
                        run=settings.get("run"))
elif figure == "fig4":
    fig = plots.figure4(concat("history"), concat("logit_radius"))
elif figure == "fig5":
    fig = plots.figure5(concat("spectrum"), concat("summary"), seed=settings.get("seed"),
                        max_rank=int(settings.get("max_rank", 30)))
elif figure == "fig6":
    fig = plots.figure6(concat("spectrum"), concat("summary"), seed=settings.get("seed"))
elif figure == "fig7":
    fig = plots.figure7(concat("sweep"), default_exponent=settings.get("default_exponent", 0.25))
elif figure == "fig8":
    fig = plots.figure8(concat("sweep"), projection_dim=int(settings.get("projection_dim", 10)),
                        default_exponent=settings.get("default_exponent", 0.25), dim=settings.get("dim"))
elif figure == "properties":
    fig = plots.figure_properties(concat("hessian"), concat("hessian_summary"), concat("history"),
                                  run=settings.get("run"))
elif figure == "goldilocks":
    fig = plots.figure_goldilocks(concat("radius"), concat("hyperplane"),
                                  projection_dim=settings.get("projection_dim"),
                                  n_classes=settings.get("n_classes"))
else:
    raise ValueError(f"unknown Fort & Ganguli figure {figure!r}")
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
