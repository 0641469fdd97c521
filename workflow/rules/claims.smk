"""The scoreboard: every study's claims table in results/claims.csv and results/claims.html, with the
provenance of the run (config hash, scale, commit, date, device) and the figures as thumbnails."""

from thermoscape.core.config import config_hash


localrules:
    claims,


STUDY_CLAIMS = {
    "jules": rules.jules_claims.output[0],
    "taxonomy": rules.taxonomy_claims.output[0],
    "fengtu": rules.fengtu_claims.output[0],
    "fort": rules.fort_claims.output[0],
    "bradley": rules.bradley_claims.output[0],
}
# Yang et al.'s machine-translation claims (Figs. 18-19) only when asked for: they need the Transformer runs
if TRANSLATION["scoreboard"]:
    STUDY_CLAIMS["taxonomy_translation"] = rules.taxonomy_translation_claims.output.table
# the App. D figures that `all` builds (taxonomy.appendix_in_all, issue 26): their claims tables too
STUDY_CLAIMS |= {
    f"taxonomy_{figure}": f"{TX}/tables/{TAXONOMY_APPENDIX[figure]}/claims.parquet"
    for figure in TAXONOMY["appendix_in_all"]
}
# the charted network ("your network", docs/chart.md) when the config has a `chart:` section with
# chart.scoreboard true: only then, so that the scoreboard of a config without it has no chart job
if CHART_ON_SCOREBOARD:
    STUDY_CLAIMS["chart"] = rules.chart_claims.output[0]
# the figures each claim line links to (the figures of every study's target)
SCOREBOARD_FIGURES = list(
    dict.fromkeys(
        [
            rules.jules_fig1.output.png,
            rules.jules_fig2.output.png,
            rules.jules_fig3.output.png,
            rules.jules_figS1.output.png,
            *(
                path
                for target in (rules.taxonomy, rules.fengtu, rules.fort, rules.bradley)
                for path in target.input
                if str(path).endswith(".png")
            ),
            *(rules.taxonomy_translation.input[:2] if TRANSLATION["scoreboard"] else []),
            *([CHART_PNG] if CHART_ON_SCOREBOARD else []),
        ]
    )
)


rule claims:
    input:
        **STUDY_CLAIMS,
        figures=SCOREBOARD_FIGURES,
    output:
        csv=f"{RESULTS}/claims.csv",
        html=report(f"{RESULTS}/claims.html", caption="../report/claims.rst", category="Claims"),
    log:
        log_path("claims"),
    conda:
        CONDA_ENV
    threads: 1
    resources:
        **SMALL,
    params:
        studies=list(STUDY_CLAIMS),
        config_hash=config_hash(config),
        config_files=config_files(),
        scale=config["scale"],
        device=DEVICE,
        workflow_dir=WORKFLOW_ROOT,
        figures_href="figures",
        library=library_version("claims.scoreboard"),
    script:
        "../../scripts/claims.py"
