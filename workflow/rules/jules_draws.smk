"""Robustness of the Jules et al. verdicts to the data draw: the whole study once per seed of jules.draws
(a Snakemake module of jules_study.smk with that seed, into <results>/jules_draws/<seed>/), and the claims
judged per draw and pooled (`jules_robustness`). The main run (jules.seed, in <results>/jules/) is the first
draw."""

if JULES["seed"] in JULES["draws"]:
    raise WorkflowError(
        f"jules.draws: {JULES['seed']} is jules.seed, the main run, which is the first draw already"
    )

JULES_DRAW_CLAIMS = {JULES["seed"]: rules.jules_claims.output[0]}
for _draw in JULES["draws"]:
    _draw_module = f"draw{_draw}_"
    _draw_results = f"{RESULTS}/jules_draws/{_draw}"

    module:
        name: _draw_module
        snakefile:
            "jules_study.smk"
        config:
            config | {"results": _draw_results, "jules": JULES | {"seed": _draw, "draws": []}}

    use rule * from _draw_module as _draw_module*

    JULES_DRAW_CLAIMS[_draw] = f"{_draw_results}/jules/tables/claims.parquet"


rule jules_robustness:
    input:
        list(JULES_DRAW_CLAIMS.values()),
    output:
        table=f"{J}/tables/robustness.parquet",
        csv=f"{RESULTS}/jules_robustness.csv",
    log:
        log_path("jules_robustness"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        seeds=list(JULES_DRAW_CLAIMS),
        library=library_version("claims"),
    script:
        "../../scripts/jules/robustness.py"
