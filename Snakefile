"""thermoscape: one target per figure. `snakemake --cores all` builds the default figures."""

import os

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version

min_version("9.0")


configfile: os.path.join(workflow.basedir, "config", "config.yaml")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/jules.smk"
include: "workflow/rules/jules_figures.smk"
include: "workflow/rules/jules_toy_model.smk"
include: "workflow/rules/taxonomy.smk"
include: "workflow/rules/taxonomy_figures.smk"
include: "workflow/rules/taxonomy_translation.smk"
include: "workflow/rules/fengtu.smk"
include: "workflow/rules/fengtu_figures.smk"
include: "workflow/rules/fort.smk"
include: "workflow/rules/fort_figures.smk"
include: "workflow/rules/bradley.smk"
include: "workflow/rules/bradley_figures.smk"
# chart.smk before claims.smk: the scoreboard takes the chart section when `chart:` is configured
include: "workflow/rules/chart.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/jules_draws.smk"


# the results folder remembers its scale: another scale's config is refused there (common.smk)
onstart:
    mark_results_scale(RESULTS, config["scale"])


rule all:
    default_target: True
    input:
        rules.jules_fig1.output,
        rules.jules_fig2.output,
        rules.jules_fig3.output,
        rules.jules_figS1.output,
        rules.jules_figS2.output,
        rules.claims.output,
        rules.jules_time_step_check.output,
        rules.jules_fig4.output,
        rules.taxonomy.input,
        rules.fengtu.input,
        rules.fort.input,
        rules.bradley.input,
