"""The claims scoreboard: every study's claims in one table with its provenance, rendered as one HTML page
that a researcher reads at a glance (``results/claims.html``).

The page opens on one card per paper (counts of holds / fails / undetermined), then lists one line per
claim: the paper's statement, the measured value with its uncertainty, the verdict in colour and the figure
it belongs to. A claim measured on several analysis slices shows its headline slice and folds the others
under it. Numpy, pandas and the standard library only: the scoreboard job does not import torch.
"""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from thermoscape.claims import FAILS, HOLDS, NA

# study -> the paper it reproduces, in the order the page shows them
PAPERS = {
    "jules": "Jules et al., Charting the Topography of the Neural Network Landscape with Thermal-Like Noise",
    "taxonomy": "Yang et al., Taxonomizing local versus global structure in neural network loss landscapes",
    "fengtu": "Feng & Tu, How neural networks find generalizable solutions: self-tuned annealing in deep learning",
    "fort": "Fort & Ganguli, Emergent properties of the local geometry of neural loss landscapes",
    "bradley": "Bradley et al., Shift-Curvature, SGD, and Generalization",
    # the charted network (docs/chart.md), when the config has a `chart:` section
    "chart": "Your network, Jules et al.'s claims (a)-(c) of Sec. III B judged on the charted model",
}
PROVENANCE_COLUMNS = ["config_hash", "scale", "commit", "date", "device"]
_VERDICT_CLASS = {HOLDS: "holds", FAILS: "fails", NA: "undetermined"}

# Jules et al.'s claims (a)-(e), Sec. III B, and the figure that shows each (brief section 3)
_JULES_FIGURES = {"a": "fig1", "b": "fig1", "c": "fig2", "d": "fig1", "e": "figS1"}
_JULES_QUANTITY_FIGURES = {"Spearman(phi": "fig2", "KS distance": "fig3", "loss(": "fig3"}


def git_commit(directory: str | Path) -> str:
    """The checkout's commit, ``-dirty`` when tracked files differ from it; ``unknown`` outside git."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()
    try:
        commit = git("rev-parse", "--short=12", "HEAD")
        return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance(config_hash: str, config_files: list[str], scale: str, device: str,
               workflow_dir: str | Path) -> dict[str, Any]:
    """What produced a claims table: the merged config's hash (``config.config_hash``), the config files,
    the scale name, the commit, the date (UTC) and the device setting."""
    return {"config_hash": config_hash, "scale": scale, "commit": git_commit(workflow_dir),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "device": device,
            "config_files": list(config_files)}


def with_headlines(table: pd.DataFrame, headline_slices: Mapping[str, str]) -> pd.DataFrame:
    """Mark the rows the scoreboard shows on a claim's line (column ``headline``).

    For a study in ``headline_slices`` (its slices are analysis windows of the same runs), a claim's
    line is its row in that slice, or, for a claim not measured there (one checked on its own window, as
    claim (e)), its first row; the other slices fold under it. In other studies a slice is a separate experiment, so every row is a line.
    """
    headline = pd.Series(True, index=table.index)
    for study, chosen in headline_slices.items():
        part = table[table["study"] == study]
        for _, group in part.groupby(["claim", "quantity"], sort=False):
            marked = group["slice"] == chosen
            if not marked.any():
                marked = pd.Series(group.index == group.index[0], index=group.index)
            headline[group.index] = marked
    return table.assign(headline=headline.to_numpy())


def combine(tables: list[pd.DataFrame]) -> pd.DataFrame:
    """The studies' claims tables in one; rows a study did not mark (no ``headline`` column) are lines."""
    table = pd.concat(tables, ignore_index=True)
    headline = table["headline"] if "headline" in table else pd.Series(True, index=table.index)
    return table.assign(headline=headline.astype("boolean").fillna(True).astype(bool))


def figure_of(study: str, claim: str, quantity: str, slice_name: str) -> str | None:
    """The figure (file stem under ``figures/<study>/``) a claim belongs to, or ``None``."""
    if study == "chart":  # the chart's one-page figure, figures/chart/chart.png
        return "chart"
    if study == "jules":
        for part, figure in _JULES_QUANTITY_FIGURES.items():
            if part in quantity:
                return figure
        return _JULES_FIGURES.get(claim)
    if study == "taxonomy" and slice_name.startswith("translation"):  # machine translation: Figs. 18, 19
        return "translation_fig18" if slice_name == "translation" else "translation_fig19"
    if study == "taxonomy":
        return f"{slice_name}_diagram"
    found = re.search(r"Fig(?:s)?\.\s*(S?\d+)", claim)
    return f"fig{found.group(1)}" if found else None


def summary_counts(table: pd.DataFrame) -> pd.DataFrame:
    """Per study: the number of claim lines that hold, fail and are undetermined."""
    lines = table[table["headline"].astype(bool)]
    counts = pd.crosstab(lines["study"], lines["verdict"]).reindex(columns=[HOLDS, FAILS, NA], fill_value=0)
    return counts.reindex([s for s in PAPERS if s in counts.index] + [s for s in counts.index if s not in PAPERS])


def _number(value: Any) -> str:
    return "" if value is None or not np.isfinite(value) else f"{value:.3g}"


def _measured(line: pd.Series) -> str:
    value, error = _number(line["value"]), _number(line["uncertainty"])
    if not value:
        return "&ndash;"
    return f"{value} &plusmn; {error}" if error else value


def _verdict(verdict: str) -> str:
    return f'<span class="verdict {_VERDICT_CLASS.get(verdict, "undetermined")}">{html.escape(verdict)}</span>'


def _figure_cell(study: str, figure: str | None, figures_dir: Path | None, figures_href: str = "figures") -> str:
    if figure is None:
        return ""
    relative = f"{figures_href}/{study}/{figure}.png"
    if figures_dir is not None and (figures_dir / study / f"{figure}.png").exists():
        return f'<a href="{relative}"><img src="{relative}" alt="{figure}" loading="lazy"></a>'
    return html.escape(figure)


def _slice_rows(rows: pd.DataFrame) -> str:
    cells = "".join(
        f"<tr><td>{html.escape(str(r['slice']))}</td><td>{_measured(r)}</td><td>{int(r['n'])}</td>"
        f"<td>{_verdict(r['verdict'])}</td><td>{html.escape(str(r['detail']))}</td></tr>"
        for _, r in rows.iterrows())
    return ("<table class='slices'><tr><th>slice</th><th>value</th><th>n</th><th>verdict</th><th>detail</th></tr>"
            f"{cells}</table>")


def _claim_line(line: pd.Series, folded: pd.DataFrame, figures_dir: Path | None, figures_href: str) -> str:
    detail = html.escape(str(line["detail"]))
    fit = f"<br><small>fitted over {html.escape(str(line['fit_range']))}</small>" if line.get("fit_range") else ""
    more = ""
    if len(folded):
        more = (f"<details><summary>{len(folded)} other slice(s)</summary>{_slice_rows(folded)}</details>")
    figure = _figure_cell(line["study"], figure_of(line["study"], line["claim"], line["quantity"], line["slice"]),
                          figures_dir, figures_href)
    return (f"<tr class='{_VERDICT_CLASS.get(line['verdict'], 'undetermined')}'>"
            f"<td>{_verdict(line['verdict'])}</td>"
            f"<td>{_statement(line)} &middot; slice {html.escape(str(line['slice']))}</small></td>"
            f"<td class='num'>{_measured(line)}<br><small>n = {int(line['n'])}</small></td>"
            f"<td><small>{html.escape(str(line['criterion']))}</small></td>"
            f"<td><small>{detail}</small>{fit}{more}</td><td class='fig'>{figure}</td></tr>")


def _statement(line: pd.Series) -> str:
    """The claim in words, bold, and what was measured, small (the ``<small>`` is closed by the caller).

    Jules et al.'s rows name their claim by its letter in Sec. III B and state it in ``paper``; the other
    studies state the claim in ``claim`` and give the paper's figure or value in ``paper``."""
    claim, paper, quantity = (html.escape(str(line[c])) for c in ("claim", "paper", "quantity"))
    if line["study"] in ("jules", "chart"):
        return f"<b>({claim}) {paper}</b><br><small>{quantity}"
    return f"<b>{claim}</b><br><small>{quantity} &middot; paper: {paper}"


def _study_section(study: str, rows: pd.DataFrame, figures_dir: Path | None, figures_href: str) -> str:
    lines = []
    for _, group in rows.groupby(["claim", "quantity"], sort=False):
        heads = group[group["headline"].astype(bool)]
        for _, head in heads.iterrows():
            lines.append(_claim_line(head, group[~group["headline"].astype(bool)] if len(heads) == 1 else
                                     group.iloc[:0], figures_dir, figures_href))
    header = ("<tr><th>verdict</th><th>claim (paper's statement)</th><th>measured</th><th>criterion</th>"
              "<th>detail</th><th>figure</th></tr>")
    return (f"<section id='{study}'><h2>{html.escape(PAPERS.get(study, study))}</h2>"
            f"<table class='claims'>{header}{''.join(lines)}</table></section>")


def _summary_cards(counts: pd.DataFrame) -> str:
    cards = []
    for study, count in counts.iterrows():
        title = PAPERS.get(study, study)
        author, _, name = title.partition(", ")
        cards.append(
            f"<a class='card' href='#{study}' id='summary-{study}'><b>{html.escape(author)}</b>"
            f"<span class='title'>{html.escape(name)}</span><span class='counts'>"
            f"<span class='verdict holds'>{count[HOLDS]} hold</span> "
            f"<span class='verdict fails'>{count[FAILS]} fail</span> "
            f"<span class='verdict undetermined'>{count[NA]} undetermined</span></span></a>")
    return f"<nav class='summary'>{''.join(cards)}</nav>"


def _provenance_block(info: Mapping[str, Any]) -> str:
    files = ", ".join(info.get("config_files", [])) or "config/config.yaml"
    return (f"<p class='provenance'>scale <b>{html.escape(str(info['scale']))}</b> &middot; config "
            f"<code>{html.escape(str(info['config_hash']))}</code> ({html.escape(files)}) &middot; commit "
            f"<code>{html.escape(str(info['commit']))}</code> &middot; device {html.escape(str(info['device']))}"
            f" &middot; {html.escape(str(info['date']))}</p>")


_STYLE = """
body{font-family:system-ui,sans-serif;margin:16px 24px;color:#222;font-size:14px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:22px 0 6px}
.provenance{color:#555;margin:0 0 10px}
.summary{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:8px;margin-bottom:8px}
.card{display:block;border:1px solid #ccc;border-radius:6px;padding:8px;text-decoration:none;color:inherit}
.card .title{display:block;font-size:12px;color:#555;margin:2px 0 6px}
.verdict{display:inline-block;padding:1px 6px;border-radius:4px;font-weight:600;font-size:12px}
.verdict.holds{background:#cdeccd;color:#145214} .verdict.fails{background:#f6cccc;color:#7a1010}
.verdict.undetermined{background:#e6e6e6;color:#444}
table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #e3e3e3;padding:4px 6px;vertical-align:top;
text-align:left} .num{white-space:nowrap} .fig img{height:48px;border:1px solid #ddd}
table.slices{font-size:12px;margin-top:4px} details summary{cursor:pointer;color:#225}
"""


def render(table: pd.DataFrame, info: Mapping[str, Any], figures_dir: Path | None = None,
           figures_href: str = "figures") -> str:
    """The scoreboard page for a claims table carrying a ``headline`` column (``with_headlines``); the figures
    lie in ``figures_dir`` (``<study>/<figure>.png``) and are linked as ``figures_href`` (relative to the page)."""
    counts = summary_counts(table)
    sections = [_study_section(study, table[table["study"] == study], figures_dir, figures_href)
                for study in counts.index]
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>thermoscape claims</title>"
            f"<style>{_STYLE}</style></head><body><h1>Do the papers' claims hold? thermoscape scoreboard</h1>"
            f"{_provenance_block(info)}{_summary_cards(counts)}"
            "<p><small>One line per claim: the paper's statement, the measured value &plusmn; its uncertainty "
            "(standard error, replica spread or interval half-width), the verdict by the stated criterion. "
            "Claims measured on several analysis slices show the headline slice; the others are folded under "
            "it. <code>claims.csv</code> holds every row.</small></p>"
            f"{''.join(sections)}</body></html>")
