"""Bradley et al.: the aggregated tables, Figs. 1, 2, 4, 5, 6, the Euler-Maruyama check figure and the claims."""


localrules:
    bradley_table,
    bradley_figure,
    bradley_claims,


# aggregated table -> the per-job tables it concatenates
BR_PARTS = {
    "shift_curvature": _shift_files("summary"),
    "lines": _shift_files("line"),
    "sweep": [
        f"{BR}/sweep/B{b}_s{s}.parquet" for b in BR_SWEEP["stage2"]["batch_sizes"] for s in BR_SWEEP_SEEDS
    ],
    "shuffle": [f"{BR}/resampled/shuffle{k}_s0.parquet" for k in range(BR_SWEEP["shuffles"])],
    "sample_size": [
        f"{BR}/resampled/size{n}_s{s}.parquet" for n in BR_SWEEP["sample_sizes"] for s in BR_SWEEP_SEEDS
    ],
    **{name: _basin_files(name) for name in ("landscape", "steady_state", "basins", "expectations")},
}
BR_TABLES = {name: f"{BR}/tables/{name}.parquet" for name in BR_PARTS} | {
    "langevin_check": rules.bradley_langevin_check.output.check,
    "langevin_histogram": rules.bradley_langevin_check.output.histogram,
}
# figure -> the tables it draws (captions: report/bradley_figure.rst)
BR_FIGURES = {
    "fig1": ("lines", "shift_curvature"),
    "fig2": ("shift_curvature",),
    "fig4": ("landscape", "steady_state", "basins", "expectations"),
    "fig5": ("sweep", "shuffle", "sample_size"),
    "fig6": ("landscape", "steady_state", "basins", "expectations"),
    "langevin": ("langevin_check", "langevin_histogram"),
}
BR_FIGURE_CASES = {"fig4": ["fig4_left", "fig4_right"], "fig6": ["fig6_left", "fig6_right"]}


rule bradley_table:
    input:
        lambda wc: BR_PARTS[wc.table],
    output:
        f"{BR}/tables/{{table}}.parquet",
    log:
        log_path("bradley_table", "{table}"),
    wildcard_constraints:
        table="|".join(BR_PARTS),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    script:
        "../../scripts/bradley/table.py"


rule bradley_figure:
    input:
        unpack(lambda wc: {name: BR_TABLES[name] for name in BR_FIGURES[wc.figure]}),
    output:
        pdf=f"{RESULTS}/figures/bradley/{{figure}}.pdf",
        png=report(
            f"{RESULTS}/figures/bradley/{{figure}}.png",
            caption="../report/bradley_figure.rst",
            category="Bradley et al.",
        ),
    log:
        log_path("bradley_figure", "{figure}"),
    wildcard_constraints:
        figure="|".join(BR_FIGURES),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        cases=lambda wc: BR_FIGURE_CASES.get(wc.figure, []),
        figure1_seed=BR_SHIFT["figure1_seed"],
        library=library_version("plotting", "studies.bradley.plots"),
    script:
        "../../scripts/bradley/figure.py"


rule bradley_claims:
    input:
        **{
            name: BR_TABLES[name]
            for name in (
                "basins",
                "expectations",
                "langevin_check",
                "shift_curvature",
                "sweep",
                "shuffle",
                "sample_size",
            )
        },
        # the stage-1 final train loss: the regime of Fig. 5
        stage1=[f"{BR}/sweep/stage1_s{s}.pt" for s in BR_SWEEP_SEEDS],
    output:
        f"{BR}/tables/claims.parquet",
    log:
        log_path("bradley_claims"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        criteria=BRADLEY.get("claims", {}),
        restricted_range=BRADLEY["shift_curvature"]["fit"]["restricted_range"],
        library=library_version("studies.bradley.claims", "claims"),
    script:
        "../../scripts/bradley/claims.py"


# one target per figure: bradley_fig1, bradley_fig2, bradley_fig4, bradley_fig5, bradley_fig6, bradley_langevin
for _figure in BR_FIGURES:

    rule:
        name:
            f"bradley_{_figure}"
        input:
            f"{RESULTS}/figures/bradley/{_figure}.png",


rule bradley:
    input:
        expand(f"{RESULTS}/figures/bradley/{{figure}}.{{ext}}", figure=BR_FIGURES, ext=("pdf", "png")),
        rules.bradley_claims.output,
