"""Fort & Ganguli: Figs. 1, 3-8, the four properties on a real network, the Goldilocks zone and the claims."""


localrules:
    fort_figure,
    fort_claims,


FORT_TABLES = {
    "spectrum": [f"{FG}/random_model/spectrum_s{s}.parquet" for s in FORT_SEEDS],
    "summary": [f"{FG}/random_model/summary_s{s}.parquet" for s in FORT_SEEDS],
    "sweep": [f"{FG}/random_model/sweep_s{s}.parquet" for s in FORT_SWEEP_SEEDS],
    "simplex": [rules.fort_freezing.output.simplex],
    "entropy": [rules.fort_freezing.output.entropy],
    "clustering": _fort_files(FORT_RUNS, "clustering"),
    "history": _fort_files(FORT_RUNS, "history"),
    "logit_radius": _fort_files(FORT_RUNS, "radius"),
    "simplex_training": _fort_files(FORT_SIMPLEX_RUNS, "simplex"),
    "hessian": _fort_files(FORT_HESSIAN_RUNS, "hessian"),
    "hessian_summary": _fort_files(FORT_HESSIAN_RUNS, "hessian_summary"),
    "radius": [f"{FG}/goldilocks/radius_{name}.parquet" for name in FORT_GOLDILOCKS_RUNS],
    "hyperplane": [f"{FG}/goldilocks/hyperplane_{name}.parquet" for name in FORT_GOLDILOCKS_RUNS],
}
_snr = (FORT["random_model"]["sigma_c_sqrt_dim"] / FORT["random_model"]["sigma_e_sqrt_dim"]) ** 2
# figure -> the tables it draws (captions: report/fort_figure.rst)
FORT_FIGURES = {
    "fig1": ("clustering",),
    "fig3": ("simplex_training", "simplex", "entropy"),
    "fig4": ("history", "logit_radius"),
    "fig5": ("spectrum", "summary"),
    "fig6": ("spectrum", "summary"),
    "fig7": ("sweep",),
    "fig8": ("sweep",),
    "properties": ("hessian", "hessian_summary", "history"),
    "goldilocks": ("radius", "hyperplane"),
}
FORT_FIGURE_SETTINGS = {
    "default_exponent": FORT["sweep"]["default_exponent"],
    "q_sl_theory": _snr / (_snr + 1),
    "projection_dim": FORT["random_model"]["projection_dim"],
    "dim": FORT["random_model"]["dim"],
    "n_classes": 10,
}


rule fort_figure:
    input:
        unpack(lambda wc: {name: FORT_TABLES[name] for name in FORT_FIGURES[wc.figure]}),
    output:
        pdf=f"{RESULTS}/figures/fort/{{figure}}.pdf",
        png=report(
            f"{RESULTS}/figures/fort/{{figure}}.png",
            caption="../report/fort_figure.rst",
            category="Fort & Ganguli",
        ),
    log:
        log_path("fort_figure", "{figure}"),
    wildcard_constraints:
        figure="|".join(FORT_FIGURES),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        settings=FORT_FIGURE_SETTINGS,
        library=library_version("plotting", "studies.fort.plots"),
    script:
        "../../scripts/fort/figure.py"


rule fort_claims:
    input:
        **{
            name: FORT_TABLES[name]
            for name in (
                "summary",
                "sweep",
                "entropy",
                "clustering",
                "history",
                "hessian_summary",
                "radius",
                "hyperplane",
            )
        },
    output:
        f"{FG}/tables/claims.parquet",
    log:
        log_path("fort_claims"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        criteria=FORT["claims"],
        nonmonotone_exponents=FORT["sweep"]["nonmonotone_exponents"],
        n_classes=FORT["random_model"]["n_classes"],
        library=library_version("studies.fort.claims", "claims"),
    script:
        "../../scripts/fort/claims.py"


# one target per figure: fort_fig1 ... fort_fig8, fort_properties, fort_goldilocks
for _figure in FORT_FIGURES:

    rule:
        name:
            f"fort_{_figure}"
        input:
            f"{RESULTS}/figures/fort/{_figure}.png",


rule fort:
    input:
        expand(f"{RESULTS}/figures/fort/{{figure}}.{{ext}}", figure=FORT_FIGURES, ext=("pdf", "png")),
        rules.fort_claims.output,
