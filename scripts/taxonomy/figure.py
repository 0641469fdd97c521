"""Yang et al. Figs. 4 (noise), 12 (curves), 5/20 (temperature axes), 6/7 (data amount), 8 (label noise) and 13 (lr decay)."""

from thermoscape.core.io import read_table
from thermoscape.core.jobs import start_job
from thermoscape.plotting import save_figure
from thermoscape.studies.taxonomy import plots as plots

start_job(snakemake)
cells = [read_table(path) for path in snakemake.input.cells]
axes = snakemake.params.axes
figure = snakemake.wildcards.figure
if figure == "noise":
    fig = plots.noise_figure(cells[0])
elif figure == "curves":
    fig = plots.curve_grid(read_table(snakemake.input.curves[0]), cells[0], temperature_axis=axes[0]["temperature"])
elif figure == "temperature_axes":
    fig = plots.temperature_axes_figure({a["temperature"]: c for a, c in zip(axes, cells)})
elif figure == "label_noise":
    fig = plots.label_noise_figure(cells[0], small_loss=snakemake.params.small_loss)
elif figure == "lr_decay":
    fig = plots.lr_decay_figure(cells[0], cells[1], snakemake.params.phases["connected_tolerance"])
else:
    fig = plots.data_amount_figure(cells[0])
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
