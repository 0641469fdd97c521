"""Yang et al. Figs. 18 (the Transformer phase diagram) and 19 (learning-rate schedule x early stopping)."""

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.plotting import save_figure
from thermoscape.studies.taxonomy.plots import schedules_figure, translation_diagram

start_job(snakemake)
axes = snakemake.params.axes
fig = translation_diagram(read_table(snakemake.input.cells), axes["load"], axes["temperature"])
save_figure(fig, snakemake.output.fig18_pdf, snakemake.output.fig18_png)
schedules = read_table(snakemake.input.schedules)
tables = {name: part for name, part in schedules.groupby("schedule_name", sort=False)}
save_figure(schedules_figure(tables, axes["load"], axes["temperature"]), snakemake.output.fig19_pdf,
            snakemake.output.fig19_png)
