"""Every study's claims table in one CSV, and as an HTML table for the Snakemake report."""

import pandas as pd

from thermoscape.io import atomic_path, read_table
from thermoscape.jobs import start_job

start_job(snakemake)
table = pd.concat([read_table(path) for path in snakemake.input], ignore_index=True)
with atomic_path(snakemake.output.csv) as tmp:
    table.to_csv(tmp, index=False, float_format="%.4g")
with atomic_path(snakemake.output.html) as tmp:
    styled = table.style.format(precision=3, na_rep="").apply(
        lambda col: [{"holds": "background-color: #d9f2d9", "fails": "background-color: #f8d7d7"}.get(v, "")
                     for v in col], subset=["verdict"]).hide(axis="index")
    tmp.write_text(f"<h2>Claims</h2>\n{styled.to_html()}")
