"""The Jules et al. study alone, from data to claims: what jules_draws.smk instantiates once per data draw."""


include: "common.smk"
include: "jules.smk"
include: "jules_figures.smk"
