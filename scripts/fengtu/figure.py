"""Feng & Tu figures (rule fengtu_figure): Figs. 1-5, S1, S2, S3B (S3C-D with the optional input "conv", the
LeNet-CIFAR conv1/conv2 flatness tables) and control C1, one per `figure` wildcard.

Inputs are named lists (see the rule); params.labels holds display labels per list and params.settings the
fit ranges and shown values. Optional settings: fig1 "window_epochs" (colour the trajectories by epochs),
fig5 "transition" ([start, end] epochs, shaded), figS1 "panels" ({title: number of histories}, in input
order; default: labels starting with "LeNet" go to panel B), "transitions" ({title: [start, end]}),
figS2 "ranks", control "temperature" (draws Eq. 16) and "psi" (rank range of the fits).
"""

import numpy as np
import pandas as pd

from thermoscape.core.io import load_tensors, read_table
from thermoscape.core.jobs import start_job
from thermoscape.studies.fengtu import plots as plots
from thermoscape.plotting import save_figure

start_job(snakemake)
figure = snakemake.wildcards.figure
inputs = snakemake.input
settings = dict(snakemake.params.get("settings", None) or {})
labels = dict(snakemake.params.get("labels", None) or {})


def paths(name):
    """The files of a named input (a single file becomes a one-element list)."""
    value = inputs[name]
    return [value] if isinstance(value, str) else list(value)


def tables(name):
    return [read_table(path) for path in paths(name)]


def concat(name):
    return pd.concat(tables(name), ignore_index=True)


def pair(key, default):
    value = settings.get(key, default)
    return (value[0], value[1]) if value is not None else None


if figure == "fig1":
    saved = load_tensors(paths("components")[0])
    components = {k: np.asarray(saved[k]) for k in ("theta", "mean")}
    fig = plots.figure1(tables("pca")[0], components, pair("gamma", (20, 200)), settings.get("window_epochs"))
elif figure == "fig2":
    flatness = tables("flatness")
    names = labels.get("flatness", [f"run {k}" for k in range(len(flatness))])
    fig = plots.figure2(tables("profiles")[0], flatness, names, settings.get("ranks", (10, 20, 50, 100)),
                        pair("psi", (2, 500)))
elif figure == "fig3":
    fig = plots.figure3(tables("minibatch")[0], tables("profiles")[0])
elif figure == "fig4":
    has_task1 = "task1" in inputs.keys()  # noqa: SIM118 (Namedlist: `in` tests the files, not the names)
    task1 = [table.assign(seed=k) for k, table in enumerate(tables("task1"))] if has_task1 else []
    fig = plots.figure4(concat("curves"), concat("final"), concat("displacements"),
                        pd.concat(task1, ignore_index=True) if task1 else None,
                        settings.get("shown_lambda", 10.0), settings.get("shown_constrained", 200))
elif figure == "fig5":
    fig = plots.figure5(tables("temperature")[0], tables("history")[0], pair("transition", None))
elif figure == "figS1":
    histories = tables("histories")
    names = labels.get("histories", [f"run {k}" for k in range(len(histories))])
    if "panels" in settings:
        panels, start = {}, 0
        for title, count in settings["panels"].items():
            panels[title] = dict(zip(names[start:start + count], histories[start:start + count], strict=True))
            start += count
    else:
        panels = {"MLP-4 on MNIST": {}, "LeNet on MNIST": {}}
        for name, history in zip(names, histories, strict=True):
            panels["LeNet on MNIST" if name.startswith("LeNet") else "MLP-4 on MNIST"][name] = history
    transitions = {k: tuple(v) for k, v in (settings.get("transitions") or {}).items()}
    fig = plots.figure_s1(panels, transitions)
elif figure == "figS2":
    fig = plots.figure_s2(tables("margins")[0], tables("profiles")[0], tables("flatness")[0],
                          settings.get("ranks", (1, 2, 10, 50, 100)))
elif figure == "figS3":
    flatness = tables("flatness")
    has_conv = "conv" in inputs.keys()  # noqa: SIM118 (Namedlist: `in` tests the files, not the names)
    conv = tables("conv") if has_conv else None
    fig = plots.figure_s3(flatness, labels.get("flatness", [f"layer {k}" for k in range(len(flatness))]),
                          pair("psi", (2, 500)), conv, labels.get("conv"))
elif figure == "control":
    fig = plots.control_figure(tables("flatness"), tables("pca"), labels.get("flatness", ["SGD", "Langevin"]),
                               pair("psi", (2, 500)), settings.get("temperature"))
else:
    raise ValueError(f"unknown Feng & Tu figure {figure!r}")
save_figure(fig, snakemake.output.pdf, snakemake.output.png)
