"""Yang et al.: phase diagrams (Figs. 2, 4, 5/20, 6/7, 12) and the claims table from the experiment tables."""


localrules:
    taxonomy_aggregate,
    taxonomy_diagram,
    taxonomy_figure,
    taxonomy_claims,


# figure name -> the experiments it draws (captions: report/taxonomy_figure.rst)
TAXONOMY_FIGURES = {
    "noise": ["noise"],
    "curves": ["phase"],
    "temperature_axes": ["lr", "weight_decay"],
    "data_amount": ["data_amount"],
}


rule taxonomy_diagram:
    input:
        cells=f"{TX}/tables/{{experiment}}/cells.parquet",
    output:
        pdf=f"{RESULTS}/figures/taxonomy/{{experiment}}_diagram.pdf",
        png=report(
            f"{RESULTS}/figures/taxonomy/{{experiment}}_diagram.png",
            caption="../report/taxonomy_diagram.rst",
            category="Yang et al.",
        ),
    log:
        log_path("taxonomy_diagram", "{experiment}"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        axes=lambda wc: taxonomy_axes(wc.experiment),
        library=library_version("plotting", "studies.taxonomy.plots"),
    script:
        "../../scripts/taxonomy/diagram.py"


rule taxonomy_figure:
    input:
        unpack(lambda wc: taxonomy_tables(*TAXONOMY_FIGURES[wc.figure])),
    output:
        pdf=f"{RESULTS}/figures/taxonomy/{{figure}}.pdf",
        png=report(
            f"{RESULTS}/figures/taxonomy/{{figure}}.png",
            caption="../report/taxonomy_figure.rst",
            category="Yang et al.",
        ),
    log:
        log_path("taxonomy_figure", "{figure}"),
    wildcard_constraints:
        figure="|".join(TAXONOMY_FIGURES),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        experiments=lambda wc: TAXONOMY_FIGURES[wc.figure],
        axes=lambda wc: [taxonomy_axes(e) for e in TAXONOMY_FIGURES[wc.figure]],
        library=library_version("plotting", "studies.taxonomy.plots"),
    script:
        "../../scripts/taxonomy/figure.py"


rule taxonomy_claims:
    input:
        cells=f"{TX}/tables/phase/cells.parquet",
        noise=f"{TX}/tables/noise/cells.parquet",
    output:
        f"{TX}/tables/claims.parquet",
    log:
        log_path("taxonomy_claims"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        phases=TAXONOMY["phases"],
        criteria=TAXONOMY["claims"],
        temperature_axis=TAXONOMY["experiments"]["phase"]["temperature"]["axis"],
        library=library_version("studies.taxonomy.experiment", "studies.taxonomy.claims", "claims"),
    script:
        "../../scripts/taxonomy/claims.py"


rule taxonomy_phase:
    input:
        rules.taxonomy_diagram.output.png.format(experiment="phase"),


rule taxonomy_noise:
    input:
        f"{RESULTS}/figures/taxonomy/noise.png",


rule taxonomy_curves:
    input:
        f"{RESULTS}/figures/taxonomy/curves.png",


rule taxonomy_temperature_axes:
    input:
        f"{RESULTS}/figures/taxonomy/temperature_axes.png",


rule taxonomy_data_amount:
    input:
        f"{RESULTS}/figures/taxonomy/data_amount.png",


rule taxonomy:
    input:
        rules.taxonomy_phase.input,
        rules.taxonomy_noise.input,
        rules.taxonomy_curves.input,
        rules.taxonomy_temperature_axes.input,
        rules.taxonomy_data_amount.input,
        expand(f"{RESULTS}/figures/taxonomy/{{experiment}}_diagram.png", experiment=TAXONOMY["experiments"]),
        rules.taxonomy_claims.output,
