"""Chart your own network (docs/chart.md): Jules et al.'s thermal-noise measurements on the model and data of
the config's `chart:` section. The `chart` target; not in the default target."""


include: "chart_common.smk"


localrules:
    chart_scoreboard,


CHART = config.get("chart")
CH = f"{RESULTS}/chart"
CHART_SETTINGS = CHART or {}
CHART_TEMPERATURES = [wildcard_number(t) for t in CHART_SETTINGS.get("temperatures", [])]
CHART_TABLE = f"{CH}/tables/chart.parquet"
CHART_PDF = f"{RESULTS}/figures/chart/chart.pdf"
CHART_PNG = f"{RESULTS}/figures/chart/chart.png"
CHART_THREADS = CHART_SETTINGS.get("threads", 2)
# where `chart.model` is imported from (besides sys.path): the working directory and the config files' folders
CHART_MODEL_PATH = chart_model_path() if CHART else []
# the hash of the library the jobs run; only with a chart config (the modules import torch)
CHART_LIBRARY = (
    library_version(
        "studies.chart.jobs", "studies.chart.sampling", "studies.chart.inputs", "nets.module_landscape"
    )
    if CHART
    else ""
)
CHART_ANALYSIS_LIBRARY = library_version("studies.chart.jobs", "studies.chart.analysis") if CHART else ""
CHART_PLOTS_LIBRARY = library_version("plotting", "studies.chart.plots") if CHART else ""
CHART_CLAIMS_LIBRARY = (
    library_version("studies.chart.claims", "claims.fluctuations", "claims") if CHART else ""
)
CHART_CLAIMS = f"{CH}/tables/claims.parquet"
# the chart's own scoreboard page ("your network" alone) and whether the main scoreboard shows it too
CHART_SCOREBOARD = {"csv": f"{CH}/claims.csv", "html": f"{CH}/claims.html"}
CHART_ON_SCOREBOARD = bool(CHART) and CHART_SETTINGS.get("scoreboard", True)
if CHART is not None and chart_problems(CHART, CHART_MODEL_PATH):
    raise WorkflowError("\n".join(chart_problems(CHART, CHART_MODEL_PATH)))


rule chart_minimum:
    output:
        minimum=f"{CH}/minimum.pt",
        curve=f"{CH}/tables/refine.parquet",
    log:
        log_path("chart_minimum"),
    conda:
        CONDA_ENV
    threads: CHART_THREADS
    resources:
        **GPU,
        mem_mb=4000,
        runtime=60,
    params:
        library=CHART_LIBRARY,
        chart=CHART_SETTINGS,
        device=DEVICE,
        model_path=CHART_MODEL_PATH,
    script:
        "../../scripts/chart/minimum.py"


rule chart_langevin:
    input:
        minimum=rules.chart_minimum.output.minimum,
    output:
        trajectory=f"{CH}/langevin/T{{temperature}}/trajectory.parquet",
        samples=f"{CH}/langevin/T{{temperature}}/samples.parquet",
        status=f"{CH}/langevin/T{{temperature}}/status.parquet",
    log:
        log_path("chart_langevin", "T{temperature}"),
    wildcard_constraints:
        temperature=r"[^/]+",
    conda:
        CONDA_ENV
    threads: CHART_THREADS
    resources:
        **GPU,
        mem_mb=4000,
        runtime=240,
    params:
        library=CHART_LIBRARY,
        chart=CHART_SETTINGS,
        device=DEVICE,
        workdir=lambda wildcards: f"{CH}/work/T{wildcards.temperature}",
        model_path=CHART_MODEL_PATH,
    script:
        "../../scripts/chart/langevin.py"


rule chart_analysis:
    input:
        unpack(chart_records),
        minimum=rules.chart_minimum.output.minimum,
    output:
        table=CHART_TABLE,
        summary=f"{CH}/tables/fluctuations.parquet",
        runs=f"{CH}/tables/runs.parquet",
        curves=f"{CH}/tables/chi.parquet",
    log:
        log_path("chart_analysis"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=CHART_ANALYSIS_LIBRARY,
        chart=CHART_SETTINGS,
        temperatures=CHART_TEMPERATURES,
    script:
        "../../scripts/chart/analysis.py"


rule chart_figure:
    input:
        table=CHART_TABLE,
    output:
        pdf=CHART_PDF,
        png=report(CHART_PNG, caption="../report/chart.rst", category="Your network"),
    log:
        log_path("chart_figure"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=CHART_PLOTS_LIBRARY,
        title=CHART_SETTINGS.get("title", ""),
    script:
        "../../scripts/chart/figure.py"


rule chart_claims:
    input:
        summary=rules.chart_analysis.output.summary,
        table=CHART_TABLE,
    output:
        CHART_CLAIMS,
    log:
        log_path("chart_claims"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        library=CHART_CLAIMS_LIBRARY,
        criteria=CHART_SETTINGS.get("claims", {}),
        seed=CHART_SETTINGS.get("seed", 0),
    script:
        "../../scripts/chart/claims.py"


rule chart_scoreboard:
    input:
        chart=CHART_CLAIMS,
        figures=CHART_PNG,
    output:
        csv=CHART_SCOREBOARD["csv"],
        html=report(CHART_SCOREBOARD["html"], caption="../report/claims.rst", category="Your network"),
    log:
        log_path("chart_scoreboard"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        studies=["chart"],
        config_hash=config_hash(config),
        config_files=config_files(),
        scale=config["scale"],
        device=DEVICE,
        workflow_dir=WORKFLOW_ROOT,
        figures_href="../figures",
        library=library_version("claims.scoreboard"),
    script:
        "../../scripts/claims.py"


rule chart:
    input:
        chart_required,
