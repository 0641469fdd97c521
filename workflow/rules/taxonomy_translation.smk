"""Yang et al., machine translation (App. D.4, Figs. 18-19): corpus -> Transformer replicas per cell (every
learning-rate schedule) -> metrics and curve per cell of the first schedule's grid -> tables -> figures and
claims. Target `taxonomy_translation`; not in `rule all` (see docs/taxonomy.md)."""

from thermoscape.core.grids import experiment_grid


include: "taxonomy_translation_common.smk"


TRANSLATION = TAXONOMY["translation"]
TT = f"{TX}/translation"
TRANSLATION_GRIDS = translation_grids(TRANSLATION)
# what a trained model depends on besides its cell
TRANSLATION_TRAINING = {
    "seed": TAXONOMY["seed"],
    **{k: TRANSLATION[k] for k in ("model", "replicas", "training")},
}


localrules:
    taxonomy_translation_figures,
    taxonomy_translation_claims,


rule taxonomy_translation_corpus:
    input:
        translation_corpus_source,
    output:
        f"{TT}/data/corpus.parquet",
    log:
        log_path("taxonomy_translation_corpus"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        data=TRANSLATION["data"],
        library=library_version("data.translation"),
    script:
        "../../scripts/taxonomy/translation_corpus.py"


rule taxonomy_translation_train:
    input:
        corpus=rules.taxonomy_translation_corpus.output[0],
    output:
        models=f"{TT}/cells/{{cell}}/models.pt",
        training=f"{TT}/cells/{{cell}}/training.parquet",
    log:
        log_path("taxonomy_translation_train", "{cell}"),
    benchmark:
        benchmark_path("taxonomy_translation_train", "{cell}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(3000),
        runtime=scaled(120),
    params:
        study=TRANSLATION_TRAINING,
        workdir=lambda wc: f"{TT}/scratch/{wc.cell}",
        device=DEVICE,
    script:
        "../../scripts/taxonomy/translation_train.py"


rule taxonomy_translation_measure:
    input:
        corpus=rules.taxonomy_translation_corpus.output[0],
        models=rules.taxonomy_translation_train.output.models,
    output:
        replicas=f"{TT}/cells/{{cell}}/replicas.parquet",
        pairs=f"{TT}/cells/{{cell}}/pairs.parquet",
        curve=f"{TT}/cells/{{cell}}/curve.parquet",
        bend=f"{TT}/cells/{{cell}}/curve.pt",
    log:
        log_path("taxonomy_translation_measure", "{cell}"),
    benchmark:
        benchmark_path("taxonomy_translation_measure", "{cell}")
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **GPU,
        mem_mb=scaled(3000),
        runtime=scaled(120),
    params:
        hessian=TRANSLATION["hessian"],
        cka=TRANSLATION["cka"],
        curve=TRANSLATION["curve"],
        seed=TAXONOMY["seed"],
        device=DEVICE,
        library=library_version(
            "studies.taxonomy.translation",
            "studies.taxonomy.experiment",
            "measure.curvature",
            "measure.similarity",
            "measure.connectivity",
            "nets.networks",
            "nets.transformer",
        ),
    script:
        "../../scripts/taxonomy/translation_measure.py"


rule taxonomy_translation_aggregate:
    input:
        unpack(translation_cell_inputs),
    output:
        cells=f"{TT}/tables/cells.parquet",
        curves=f"{TT}/tables/curves.parquet",
        schedules=f"{TT}/tables/schedules.parquet",
    log:
        log_path("taxonomy_translation_aggregate"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        grid=TRANSLATION_GRIDS[TRANSLATION["schedules"][0]].to_dict("records"),
        schedules={name: grid.to_dict("records") for name, grid in TRANSLATION_GRIDS.items()},
        phases=TRANSLATION["phases"],
        library=library_version("studies.taxonomy.translation", "studies.taxonomy.experiment"),
    script:
        "../../scripts/taxonomy/translation_aggregate.py"


rule taxonomy_translation_figures:
    input:
        cells=rules.taxonomy_translation_aggregate.output.cells,
        schedules=rules.taxonomy_translation_aggregate.output.schedules,
    output:
        fig18_pdf=f"{RESULTS}/figures/taxonomy/translation_fig18.pdf",
        fig18_png=report(
            f"{RESULTS}/figures/taxonomy/translation_fig18.png",
            caption="../report/taxonomy_translation.rst",
            category="Yang et al.",
        ),
        fig19_pdf=f"{RESULTS}/figures/taxonomy/translation_fig19.pdf",
        fig19_png=report(
            f"{RESULTS}/figures/taxonomy/translation_fig19.png",
            caption="../report/taxonomy_translation.rst",
            category="Yang et al.",
        ),
    log:
        log_path("taxonomy_translation_figures"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        axes={role: TRANSLATION[role]["axis"] for role in ("load", "temperature")},
        library=library_version("plotting", "studies.taxonomy.plots"),
    script:
        "../../scripts/taxonomy/translation_figures.py"


rule taxonomy_translation_claims:
    input:
        cells=rules.taxonomy_translation_aggregate.output.cells,
        schedules=rules.taxonomy_translation_aggregate.output.schedules,
    output:
        table=f"{TT}/tables/claims.parquet",
        csv=f"{RESULTS}/taxonomy_translation_claims.csv",
    log:
        log_path("taxonomy_translation_claims"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        phases=TRANSLATION["phases"],
        criteria=TRANSLATION["claims"],
        library=library_version("studies.taxonomy.translation", "claims"),
    script:
        "../../scripts/taxonomy/translation_claims.py"


# Figs. 18-19 (issue 26): the machine-translation diagram, the schedule x early-stopping panels, the claims
rule taxonomy_translation:
    input:
        rules.taxonomy_translation_figures.output.fig18_png,
        rules.taxonomy_translation_figures.output.fig19_png,
        rules.taxonomy_translation_claims.output,
