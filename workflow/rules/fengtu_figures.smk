"""Feng & Tu: Figs. 1-5, S1-S3 (S3C-D with LeNet-CIFAR runs), the Langevin control and the claims table, from
the tables of fengtu.smk."""


localrules:
    fengtu_figure,
    fengtu_claims,


FENGTU_SEEDS = FENGTU["forgetting"]["seeds"]
FENGTU_FORGETTING = {
    table: [f"{FT}/forgetting/{m}_s{s}_{table}.parquet" for m in ("ldc", "ewc") for s in FENGTU_SEEDS]
    for table in ("curves", "final", "displacements")
}
FENGTU_DEEP_LAYERS = [(name, layer) for name in FENGTU_MLP4 for layer in FENGTU_RUNS[name]["layers"]]
FENGTU_CIFAR_LAYERS = [(name, layer) for name in FENGTU_CIFAR for layer in FENGTU_RUNS[name]["layers"]]
# Fig. S3C-D (LeNet-CIFAR conv1, conv2: input and labels) when such runs are configured; else panel B only
FENGTU_S3_CONV = (
    (
        {"conv": [_fengtu_layer_file(n, l, "flatness") for n, l in FENGTU_CIFAR_LAYERS]},
        {
            "conv": [
                f"{l} ({_fengtu_label(n)}, momentum {FENGTU_RUNS[n]['momentum']:g})"
                for n, l in FENGTU_CIFAR_LAYERS
            ]
        },
    )
    if FENGTU_CIFAR_LAYERS
    else ({}, {})
)
E1_DIR = fengtu_run_dir(FENGTU_E1)

# figure -> its named inputs, display labels and settings (captions: report/fengtu_figure.rst)
FENGTU_FIGURES = {
    "fig1": (
        {"pca": [f"{E1_DIR}/W2/pca.parquet"], "components": [f"{E1_DIR}/W2/pca.pt"]},
        {},
        {"gamma": FENGTU["fits"]["gamma"], "window_epochs": FENGTU["training"]["window"]},
    ),
    "fig2": (
        {
            "profiles": [f"{E1_DIR}/W2/profiles.parquet"],
            "flatness": [_fengtu_layer_file(n, "W2", "flatness") for n in FENGTU_MLP2],
        },
        {"flatness": [_fengtu_label(n) for n in FENGTU_MLP2]},
        {"psi": FENGTU["fits"]["psi"], "ranks": FENGTU["temperature"]["ranks"]},
    ),
    "fig3": (
        {"minibatch": [f"{FT}/e1/minibatch.parquet"], "profiles": [f"{FT}/e1/minibatch_profiles.parquet"]},
        {},
        {},
    ),
    "fig4": (
        FENGTU_FORGETTING | {"task1": [f"{FT}/forgetting/task1_s{s}.parquet" for s in FENGTU_SEEDS]},
        {},
        {k: FENGTU["forgetting"][k] for k in ("shown_lambda", "shown_constrained")},
    ),
    "fig5": (
        {"temperature": [f"{FT}/e1/temperature.parquet"], "history": [f"{E1_DIR}/history.parquet"]},
        {},
        {},
    ),
    "figS1": (
        {"histories": [f"{fengtu_run_dir(n)}/history.parquet" for n in FENGTU_MLP4 + FENGTU_LENET]},
        {
            "histories": [f"MLP-4, {_fengtu_label(n)}" for n in FENGTU_MLP4]
            + [f"LeNet, {_fengtu_label(n)}" for n in FENGTU_LENET]
        },
        {},
    ),
    "figS2": (
        {
            "margins": [f"{FT}/e1/margins.parquet"],
            "profiles": [f"{E1_DIR}/W2/profiles.parquet"],
            "flatness": [f"{E1_DIR}/W2/flatness.parquet"],
        },
        {},
        {},
    ),
    "figS3": (
        {"flatness": [_fengtu_layer_file(n, l, "flatness") for n, l in FENGTU_DEEP_LAYERS]}
        | FENGTU_S3_CONV[0],
        {"flatness": [f"{l} ({_fengtu_label(n)})" for n, l in FENGTU_DEEP_LAYERS]} | FENGTU_S3_CONV[1],
        {"psi": FENGTU["fits"]["psi"]},
    ),
    "control": (
        {
            "flatness": [
                f"{E1_DIR}/W2/flatness.parquet",
                _fengtu_layer_file(FENGTU_LANGEVIN, "W2", "flatness"),
            ],
            "pca": [f"{E1_DIR}/W2/pca.parquet", _fengtu_layer_file(FENGTU_LANGEVIN, "W2", "pca")],
        },
        {"flatness": ["SGD (E1)", f"Langevin (T={FENGTU['langevin']['temperature']:g})"]},
        {"psi": FENGTU["fits"]["psi"], "temperature": FENGTU["langevin"]["temperature"]},
    ),
}


rule fengtu_figure:
    input:
        unpack(lambda wc: FENGTU_FIGURES[wc.figure][0]),
    output:
        pdf=f"{RESULTS}/figures/fengtu/{{figure}}.pdf",
        png=report(
            f"{RESULTS}/figures/fengtu/{{figure}}.png",
            caption="../report/fengtu_figure.rst",
            category="Feng & Tu",
        ),
    log:
        log_path("fengtu_figure", "{figure}"),
    wildcard_constraints:
        figure="|".join(FENGTU_FIGURES),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        labels=lambda wc: FENGTU_FIGURES[wc.figure][1],
        settings=lambda wc: FENGTU_FIGURES[wc.figure][2],
        library=library_version("plotting", "studies.fengtu.plots"),
    script:
        "../../scripts/fengtu/figure.py"


rule fengtu_claims:
    input:
        pca=[_fengtu_layer_file(n, "W2", "pca") for n in FENGTU_MLP2],
        flatness=[_fengtu_layer_file(n, "W2", "flatness") for n in FENGTU_MLP2],
        deep=[_fengtu_layer_file(n, l, "flatness") for n, l in FENGTU_DEEP_LAYERS],
        adam=[_fengtu_layer_file(n, "W2", "flatness") for n in FENGTU_ADAM],
        cifar=[_fengtu_layer_file(n, l, "flatness") for n, l in FENGTU_CIFAR_LAYERS],
        langevin=_fengtu_layer_file(FENGTU_LANGEVIN, "W2", "flatness"),
        minibatch=f"{FT}/e1/minibatch.parquet",
        temperature=f"{FT}/e1/temperature.parquet",
        history=f"{E1_DIR}/history.parquet",
        motion=f"{FT}/e1/motion.parquet",
        margins=f"{FT}/e1/margins.parquet",
        final=FENGTU_FORGETTING["final"],
    output:
        f"{FT}/tables/claims.parquet",
    log:
        log_path("fengtu_claims"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        runs=FENGTU_MLP2,
        deep=[f"{n} {l}" for n, l in FENGTU_DEEP_LAYERS],
        adam=FENGTU_ADAM,
        cifar=[f"{n} {l}" for n, l in FENGTU_CIFAR_LAYERS],
        fits=FENGTU["fits"],
        criteria=FENGTU["claims"],
        library=library_version(
            "studies.fengtu.claims", "claims", "measure.flatness", "measure.pca", "studies.fengtu.forgetting"
        ),
    script:
        "../../scripts/fengtu/claims.py"


# one target per figure: fengtu_fig1 ... fengtu_figS3, fengtu_control
for _figure in FENGTU_FIGURES:

    rule:
        name:
            f"fengtu_{_figure}"
        input:
            f"{RESULTS}/figures/fengtu/{_figure}.png",


rule fengtu:
    input:
        expand(f"{RESULTS}/figures/fengtu/{{figure}}.{{ext}}", figure=FENGTU_FIGURES, ext=("pdf", "png")),
        rules.fengtu_claims.output,
