"""Jules et al.: Figs. 1-3, S1, S2 and the claims table, from the measurement tables of jules.smk."""


# Seconds of work each: on a cluster they run where Snakemake runs instead of queueing as jobs.
localrules:
    jules_aggregate,
    jules_time_step_check,
    jules_init_statistics,
    jules_fig1,
    jules_fig2,
    jules_fig3,
    jules_figS1,
    jules_figS2,
    jules_claims,


JULES_FIGS2_BATCHES = {
    b.name.split("_")[0].removeprefix("figS2"): b
    for b in JULES_BATCHES.values()
    if b.name.startswith("figS2")
}


rule jules_fig1:
    input:
        **jules_runs_at(JULES["fig1"]["eta"]),
        settings=settings_check(JULES_FIGURE_PROBLEMS, "jules_fig1"),
        summary=rules.jules_aggregate.output.summary,
        runs=rules.jules_aggregate.output.runs,
        train_curve=f"{J}/models/r{JULES['fig1']['replica']}/train_curve.parquet",
        refine_curve=f"{J}/models/r{JULES['fig1']['replica']}/refine_curve.parquet",
    output:
        pdf=f"{RESULTS}/figures/jules/fig1.pdf",
        png=report(
            f"{RESULTS}/figures/jules/fig1.png", caption="../report/jules_fig1.rst", category="Jules et al."
        ),
    log:
        log_path("jules_fig1"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=library_version("plotting", "studies.jules.plots"),
        fig=JULES["fig1"],
    script:
        "../../scripts/jules/fig1.py"


rule jules_fig2:
    input:
        settings=settings_check(JULES_FIGURE_PROBLEMS, "jules_fig2"),
        summary=rules.jules_aggregate.output.summary,
        autocorrelation=jules_run_files(
            f"{J}/autocorrelation/eta{{eta}}_T{{T}}.parquet", JULES["fig2"]["eta"]
        ),
    output:
        pdf=f"{RESULTS}/figures/jules/fig2.pdf",
        png=report(
            f"{RESULTS}/figures/jules/fig2.png", caption="../report/jules_fig2.rst", category="Jules et al."
        ),
    log:
        log_path("jules_fig2"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=library_version("plotting", "studies.jules.plots"),
        fig=JULES["fig2"],
    script:
        "../../scripts/jules/fig2.py"


rule jules_fig3:
    input:
        **jules_runs_at(JULES["fig3"]["eta"]),
        settings=settings_check(JULES_FIGURE_PROBLEMS, "jules_fig3"),
        hessian=jules_run_files(f"{J}/hessian/eta{{eta}}_T{{T}}.parquet", JULES["fig3"]["eta"]),
        free_diffusion=rules.jules_free_diffusion.output[0],
        summary=rules.jules_aggregate.output.summary,
    output:
        pdf=f"{RESULTS}/figures/jules/fig3.pdf",
        png=report(
            f"{RESULTS}/figures/jules/fig3.png", caption="../report/jules_fig3.rst", category="Jules et al."
        ),
    log:
        log_path("jules_fig3"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=library_version("plotting", "studies.jules.plots"),
        fig=JULES["fig3"],
    script:
        "../../scripts/jules/fig3.py"


rule jules_figS1:
    input:
        **jules_runs_at(
            None,
            [b for b in JULES_INIT_BATCHES if JULES["init_langevin"]["shown_temperature"] in b.temperatures],
        ),
        settings=settings_check(JULES_FIGURE_PROBLEMS, "jules_figS1"),
        statistics=rules.jules_init_statistics.output[0],
    output:
        pdf=f"{RESULTS}/figures/jules/figS1.pdf",
        png=report(
            f"{RESULTS}/figures/jules/figS1.png",
            caption="../report/jules_figS1.rst",
            category="Jules et al.",
        ),
    log:
        log_path("jules_figS1"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=library_version("plotting", "studies.jules.plots"),
        fig=JULES["init_langevin"],
    script:
        "../../scripts/jules/figS1.py"


rule jules_figS2:
    input:
        settings=settings_check(JULES_FIGURE_PROBLEMS, "jules_figS2"),
        catapult=f"{J}/langevin/{JULES_FIGS2_BATCHES['catapult'].name}/trajectory.parquet",
        drift=f"{J}/langevin/{JULES_FIGS2_BATCHES['drift'].name}/trajectory.parquet",
    output:
        pdf=f"{RESULTS}/figures/jules/figS2.pdf",
        png=report(
            f"{RESULTS}/figures/jules/figS2.png",
            caption="../report/jules_figS2.rst",
            category="Jules et al.",
        ),
    log:
        log_path("jules_figS2"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=library_version("plotting", "studies.jules.plots"),
        fig=JULES["figS2"],
        replica=JULES["fig1"]["replica"],
    script:
        "../../scripts/jules/figS2.py"


rule fig1:
    input:
        rules.jules_fig1.output,


rule fig2:
    input:
        rules.jules_fig2.output,


rule fig3:
    input:
        rules.jules_fig3.output,


rule figS1:
    input:
        rules.jules_figS1.output,


rule figS2:
    input:
        rules.jules_figS2.output,


rule jules_claims:
    input:
        settings=settings_check(JULES_FIGURE_PROBLEMS, "jules_claims"),
        summary=rules.jules_aggregate.output.summary,
        time_step_check=rules.jules_time_step_check.output[0],
        hessian=rules.jules_fig3.input.hessian,
        free_diffusion=rules.jules_free_diffusion.output[0],
        init=rules.jules_init_statistics.output[0],
    output:
        f"{J}/tables/claims.parquet",
    log:
        log_path("jules_claims"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=library_version("claims", "measure.stats", "measure.fluctuations", "claims.scoreboard"),
        criteria=JULES["claims"],
        seed=JULES["seed"],
        dataset=JULES["dataset"],
        fig3_eta=JULES["fig3"]["eta"],
    script:
        "../../scripts/jules/claims.py"
