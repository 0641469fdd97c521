"""Bradley et al. figures (rule bradley_figure), one per `figure`: fig1, fig2 (shift-curvature), fig4, fig6
(synthetic basins), fig5 (temperature sweep, shift experiments), langevin (the Euler-Maruyama check).

Inputs: the aggregated tables the figure draws (results/bradley/tables/*.parquet; names as in
workflow/rules/bradley_figures.smk). params.cases: the synthetic cases of fig4/fig6; params.figure1_seed.
"""

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.bradley import plots as plots
from thermoscape.plotting import save_figure

start_job(snakemake)
figure, params = snakemake.wildcards.figure, snakemake.params
tables = {name: read_table(snakemake.input[name]) for name in snakemake.input.keys()}  # noqa: SIM118 (names, not files)
if figure in ("fig4", "fig6"):
    fig = plots.figure_basins(**tables, cases=list(params.cases))
elif figure == "fig1":
    fig = plots.figure1(tables["lines"], tables["shift_curvature"], seed=params.figure1_seed)
elif figure == "fig2":
    fig = plots.figure2(tables["shift_curvature"])
elif figure == "fig5":
    fig = plots.figure5(**tables)
elif figure == "langevin":
    fig = plots.figure_langevin(tables["langevin_check"], tables["langevin_histogram"])
else:
    raise ValueError(f"unknown Bradley et al. figure {figure!r}")
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
