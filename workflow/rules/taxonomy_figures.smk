"""Yang et al.: phase diagrams (Figs. 2, 4, 5/20, 6/7, 12) and the claims table from the experiment tables."""

# App. D figures (issue 26) -> their experiment; `taxonomy` (and `all`) build and score only those in
# taxonomy.appendix_in_all
from thermoscape.core.grids import TAXONOMY_APPENDIX


localrules:
    taxonomy_ablations_figure,
    taxonomy_appendix_claims,
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
# Fig. 13: best accuracy per width without (phase) and with (lr_decay) learning-rate decay (issue 26)
TAXONOMY_FIGURES["lr_decay"] = ["phase", "lr_decay"]
# Fig. 8: the fraction of randomized labels as the load (issue 26)
TAXONOMY_FIGURES["label_noise"] = ["label_noise"]
# Fig. 23's claims compare with its grid at a constant lr (Fig. 2 cells, taxonomy.smk); Fig. 22's with the
# largest batch size of the phase diagram (a row of its own grid)
TAXONOMY_APPENDIX_REFERENCE = {"linear_scaling": "linear_scaling_reference"}
TAXONOMY_PHASE_BATCH = (
    max(TAXONOMY["experiments"]["phase"]["temperature"]["values"])
    if TAXONOMY["experiments"]["phase"]["temperature"]["axis"] == "batch_size"
    else TAXONOMY["training"]["batch_size"]
)
TAXONOMY_LEFT_OUT = {TAXONOMY_APPENDIX[f] for f in TAXONOMY_APPENDIX if f not in TAXONOMY["appendix_in_all"]}


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
        phases=TAXONOMY["phases"],
        small_loss=TAXONOMY["claims"]["small_train_loss"],
        library=library_version("plotting", "studies.taxonomy.plots"),
    script:
        "../../scripts/taxonomy/figure.py"


rule taxonomy_claims:
    input:
        cells=f"{TX}/tables/phase/cells.parquet",
        noise=f"{TX}/tables/noise/cells.parquet",
        lr_decay=f"{TX}/tables/lr_decay/cells.parquet",
        label_noise=f"{TX}/tables/label_noise/cells.parquet",
        ablations=f"{TX}/tables/{TAXONOMY['ablations']['experiment']}/ablations.parquet",
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


# the claims of one App. D figure's experiment (issue 26), against phase where the paper compares with Fig. 2
rule taxonomy_appendix_claims:
    input:
        unpack(lambda wc: taxonomy_appendix_claim_inputs(wc.experiment)),
    output:
        f"{TX}/tables/{{experiment}}/claims.parquet",
    log:
        log_path("taxonomy_appendix_claims", "{experiment}"),
    wildcard_constraints:
        experiment="|".join(TAXONOMY_APPENDIX.values()),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        phases=TAXONOMY["phases"],
        criteria=TAXONOMY["claims"],
        axes=lambda wc: taxonomy_axes(wc.experiment),
        reference_batch=TAXONOMY_PHASE_BATCH,
        library=library_version("studies.taxonomy.experiment", "studies.taxonomy.claims", "claims"),
    script:
        "../../scripts/taxonomy/appendix_claims.py"


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


# Figs. 3 and 13 (issue 26): the lr_decay experiment's diagram and the improvement from decay per width
rule taxonomy_lr_decay:
    input:
        f"{RESULTS}/figures/taxonomy/lr_decay_diagram.png",
        f"{RESULTS}/figures/taxonomy/lr_decay.png",


# Figs. 9-11 (issue 26): metric ablations on the models of taxonomy.ablations.experiment
rule taxonomy_ablations_figure:
    input:
        f"{TX}/tables/{{experiment}}/ablations.parquet",
    output:
        pdf=f"{RESULTS}/figures/taxonomy/{{experiment}}_ablations.pdf",
        png=report(
            f"{RESULTS}/figures/taxonomy/{{experiment}}_ablations.png",
            caption="../report/taxonomy_ablations.rst",
            category="Yang et al.",
        ),
    log:
        log_path("taxonomy_ablations_figure", "{experiment}"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        axes=lambda wc: taxonomy_axes(wc.experiment),
        library=library_version("plotting", "studies.taxonomy.plots"),
    script:
        "../../scripts/taxonomy/ablations_figure.py"


rule taxonomy_ablations:
    input:
        f"{RESULTS}/figures/taxonomy/{TAXONOMY['ablations']['experiment']}_ablations.png",


# Fig. 8 (issue 26): label-noise fraction as the load
rule taxonomy_label_noise:
    input:
        f"{RESULTS}/figures/taxonomy/label_noise.png",


# App. D (issue 26): Figs. 14, 15 (other data sets), 16 (VGG11), 17 (noisy labels, lr as temperature), 21 (pixel noise as
# the load), 22 (large batches), 23 (linear scaling rule): the experiment's diagram and claims
rule taxonomy_fig14:
    input:
        taxonomy_appendix_outputs("fig14"),


rule taxonomy_fig15:
    input:
        taxonomy_appendix_outputs("fig15"),


rule taxonomy_fig16:
    input:
        taxonomy_appendix_outputs("fig16"),


rule taxonomy_fig17:
    input:
        taxonomy_appendix_outputs("fig17"),


rule taxonomy_fig21:
    input:
        taxonomy_appendix_outputs("fig21"),


rule taxonomy_fig22:
    input:
        taxonomy_appendix_outputs("fig22"),


rule taxonomy_fig23:
    input:
        taxonomy_appendix_outputs("fig23"),


rule taxonomy:
    input:
        rules.taxonomy_lr_decay.input,
        rules.taxonomy_label_noise.input,
        rules.taxonomy_ablations.input,
        rules.taxonomy_phase.input,
        rules.taxonomy_noise.input,
        rules.taxonomy_curves.input,
        rules.taxonomy_temperature_axes.input,
        rules.taxonomy_data_amount.input,
        expand(
            f"{RESULTS}/figures/taxonomy/{{experiment}}_diagram.png",
            experiment=[e for e in TAXONOMY["experiments"] if e not in TAXONOMY_LEFT_OUT],
        ),
        rules.taxonomy_claims.output,
        [taxonomy_appendix_outputs(figure) for figure in TAXONOMY["appendix_in_all"]],
