"""Figure and claim settings of the Jules study that name runs of the Langevin grid, checked per target.

Each problem is filed under the rules that need the setting, so that a target without that figure (say
only the fluctuation table) is not refused for it; the workflow raises them when such a rule enters the
DAG (``common.smk``, ``settings_check``). Kept free of torch: it runs while Snakemake builds the DAG.
"""

from __future__ import annotations

from collections.abc import Iterable

from thermoscape.core.grids import analysis_slices

# rules that read each block of settings (a figure rule, and what reads the same settings for the claims)
FIG1 = ("jules_fig1",)
FIG2 = ("jules_fig2",)
FIG3 = ("jules_fig3", "jules_claims")
FIGS1 = ("jules_figS1",)
INIT = ("jules_init_statistics", "jules_figS1", "jules_claims")
CLAIMS = ("jules_claims",)


def figure_problems(jules: dict, grid: Iterable) -> dict[str, list[str]]:
    """``{rule: [problem naming its config key, ...]}`` for the validated ``jules`` settings and the
    fluctuation grid's Langevin batches ``grid`` (``thermoscape.core.grids.LangevinBatch``)."""
    grid = list(grid)
    problems: dict[str, list[str]] = {}

    def need(rules: tuple[str, ...], text: str) -> None:
        for rule in rules:
            problems.setdefault(rule, []).append(text)

    etas = {repr(float(b.eta)) for b in grid}
    for fig, rules in (("fig1", FIG1), ("fig2", FIG2), ("fig3", FIG3)):
        if repr(float(jules[fig]["eta"])) not in etas:
            need(rules, f"jules.{fig}.eta: no sweep runs at eta = {jules[fig]['eta']}")
    for fig, rules in (("fig1", FIG1 + ("jules_figS2",)), ("fig3", FIG3)):
        if jules[fig]["replica"] >= jules["replicas"]:
            need(rules, f"jules.{fig}.replica: {jules[fig]['replica']} but jules.replicas is {jules['replicas']}")
    slices = {name for b in grid
              for name, _, _ in analysis_slices(b.burn_in, b.duration, jules["analysis"]["slice_length"])}
    for key, value, rules in (("fig1.slice", jules["fig1"]["slice"], FIG1), ("fig2.slice", jules["fig2"]["slice"], FIG2),
                              ("claims.headline_slice", jules["claims"]["headline_slice"], CLAIMS)):
        if value not in slices:
            need(rules, f"jules.{key}: no run has the analysis slice {value!r}; slices: {', '.join(sorted(slices))}")
    init = jules["init_langevin"]
    if init["shown_temperature"] not in init["temperatures"]:
        need(FIGS1, "jules.init_langevin.shown_temperature: not one of jules.init_langevin.temperatures")
    late = init["late_slice"]
    if not late[0] < late[1] <= init["duration"]:
        need(INIT, f"jules.init_langevin.late_slice: {late} must be an interval inside [0, duration]")
    return problems
