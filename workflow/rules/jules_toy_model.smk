"""Jules et al. Sec. IV / S5: the exponential-wall toy model (closed forms, quadrature, 1-D Langevin) and Fig. 4.

Included after jules.smk (uses RESULTS, J, JULES, log_path). No dependence on the network runs.
"""

TOY = JULES["toy_model"]
TOY_MODEL = {k: TOY[k] for k in ("a", "B", "theta_star", "theta0", "loss")}


rule jules_toy_model:
    output:
        table=f"{J}/tables/toy_model.parquet",
        density=f"{J}/tables/toy_model_density.parquet",
    log:
        log_path("jules_toy_model"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        library=library_version("studies.jules.toy_model"),
        model=TOY_MODEL,
        temperatures=TOY["temperatures"],
        regime=TOY["regime"],
        langevin=TOY["langevin"],
        figure=TOY["figure"],
        seed=JULES["seed"],
    script:
        "../../scripts/jules/toy_model.py"


rule jules_fig4:
    input:
        table=rules.jules_toy_model.output.table,
        density=rules.jules_toy_model.output.density,
    output:
        pdf=f"{RESULTS}/figures/jules/fig4.pdf",
        png=report(
            f"{RESULTS}/figures/jules/fig4.png", caption="../report/jules_fig4.rst", category="Jules et al."
        ),
    log:
        log_path("jules_fig4"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        library=library_version("plotting", "studies.jules.toy_model_plots"),
        model=TOY_MODEL,
    script:
        "../../scripts/jules/fig4.py"


rule fig4:
    input:
        rules.jules_fig4.output,
