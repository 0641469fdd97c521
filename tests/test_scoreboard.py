"""The claims scoreboard: provenance, headline rows, the page, and its first screen in a real browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from thermoscape.claims import scoreboard
from thermoscape.claims import claims_table, row as framework_row
from thermoscape.core.config import config_hash

ROOT = Path(__file__).resolve().parents[1]

# the papers the synthetic tables cover ("chart", the charted network, has its own tests: test_chart_claims.py)
FIVE_PAPERS = [study for study in scoreboard.PAPERS if study != "chart"]


def example_table() -> pd.DataFrame:
    """Many Jules rows over several slices (as the default run gives), and a few rows of every other study."""
    rows = []
    for slice_name in ("all", *(f"t{a}-{a + 1000}" for a in range(100, 12100, 1000))):
        for claim, quantity in (("a", "slope of log mu_L vs log T"), ("a", "slope of log sigma_L vs log T"),
                                ("b", "beta T"), ("b", "N_c = 2 alpha"), ("b", "Spearman(phi, alpha)"),
                                ("c", "slope of log tau_1/2 vs log T")):
            rows.append(row(claim, quantity, "statement", "criterion", 1.0, 0.1, 5, slice_name == "all",
                            slice_name=slice_name))
    rows.append(row("e", "exponent a of mu_L = A T^a", "not linear", "crit", 0.3, 0.05, 5, True,
                    slice_name="t1300-1500"))
    rows.append(row("c", "median KS distance, lambda / T", "collapse", "crit", n=1, detail="fewer than 2 T"))
    for study in ("taxonomy", "fengtu", "fort", "bradley"):
        for k in range(6):
            rows.append(row(f"claim {k} (Fig. 2)", "q", "paper statement", "crit", 0.5, np.nan, 3,
                            [True, False, None][k % 3], study=study, slice_name=f"experiment{k}"))
    return claims_table(rows)


def row(*args, study="jules", **kwargs):
    return framework_row(*args, study=study, **kwargs)


def test_config_hash_ignores_key_order_and_sees_values():
    assert config_hash({"a": 1, "b": {"c": 2, "d": 3}}) == config_hash({"b": {"d": 3, "c": 2}, "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_git_commit_names_the_checkout_or_unknown(tmp_path):
    assert scoreboard.git_commit(tmp_path) == "unknown"
    commit = scoreboard.git_commit(ROOT)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short=12", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()
    assert commit.removesuffix("-dirty") == head


def test_headlines_pick_the_chosen_slice_and_keep_single_slice_claims():
    table = scoreboard.with_headlines(example_table(), {"jules": "all"})
    jules = table[table["study"] == "jules"]
    heads = jules[jules["headline"]]
    assert set(heads["slice"]) == {"all", "t1300-1500"}  # claim (e) has one slice only
    assert heads.groupby(["claim", "quantity"]).size().eq(1).all()
    assert len(heads) == 8
    assert table.loc[table["study"] != "jules", "headline"].all()  # other studies: slices are experiments
    later = scoreboard.with_headlines(example_table(), {"jules": "t2100-3100"})
    assert set(later.loc[later["headline"] & (later["study"] == "jules"), "slice"]) == {"t2100-3100", "t1300-1500",
                                                                                      "all"}


def test_summary_counts_count_claim_lines_not_slices():
    counts = scoreboard.summary_counts(scoreboard.with_headlines(example_table(), {"jules": "all"}))
    assert list(counts.index) == FIVE_PAPERS
    assert counts.loc["jules"].to_dict() == {"holds": 7, "fails": 0, "undetermined": 1}
    assert counts.loc["fengtu"].to_dict() == {"holds": 2, "fails": 2, "undetermined": 2}


def test_figure_of_maps_claims_to_their_figures():
    assert scoreboard.figure_of("jules", "a", "slope of log mu_L vs log T", "all") == "fig1"
    assert scoreboard.figure_of("jules", "b", "Spearman(phi, alpha)", "all") == "fig2"
    assert scoreboard.figure_of("jules", "c", "median KS distance, lambda / T", "all") == "fig3"
    assert scoreboard.figure_of("jules", "eta T", "mu: relative difference", "all") is None
    assert scoreboard.figure_of("taxonomy", "loss drop", "q", "phase") == "phase_diagram"
    assert scoreboard.figure_of("taxonomy", "mt early stopping", "q", "translation constant") == "translation_fig19"
    assert scoreboard.figure_of("taxonomy", "mt poorly connected", "q", "translation") == "translation_fig18"
    assert scoreboard.figure_of("fengtu", "inverse variance-flatness relation (Fig. S3, Eq. 8)", "psi", "x") == "figS3"
    assert scoreboard.figure_of("bradley", "no figure named", "q", "x") is None


def test_page_has_provenance_a_card_per_paper_and_folded_slices(tmp_path):
    table = scoreboard.with_headlines(example_table(), {"jules": "all"})
    (tmp_path / "jules").mkdir()
    (tmp_path / "jules" / "fig1.png").write_bytes(b"png")
    info = {"config_hash": "abc123", "scale": "smoke", "commit": "deadbeef", "date": "2026-12-07", "device": "cpu",
            "config_files": ["config/config.yaml", "config/smoke.yaml"]}
    page = scoreboard.render(table, info, tmp_path)
    for study in FIVE_PAPERS:
        assert f"id='summary-{study}'" in page and f"<section id='{study}'>" in page
    assert "abc123" in page and "deadbeef" in page and "config/smoke.yaml" in page and "scale <b>smoke</b>" in page
    assert page.count("<details>") == 6  # the six Jules claims measured per slice, 12 other slices each
    assert page.count("12 other slice(s)") == 6
    assert '<img src="figures/jules/fig1.png"' in page  # a thumbnail only where the figure exists
    assert "figures/jules/fig2.png" not in page and ">fig2<" in page


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


LAYOUT_PROBE = """<script>
window.addEventListener('load', () => {
  const boxes = {};
  document.querySelectorAll('.summary .card').forEach(c => { const r = c.getBoundingClientRect();
    boxes[c.id] = [r.left, r.top, r.right, r.bottom]; });
  const out = document.createElement('pre'); out.id = 'layout'; out.textContent = JSON.stringify(boxes);
  document.body.appendChild(out);
});
</script>"""


def headless(chromium: str, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--window-size=1400,900"]
    return subprocess.run([chromium, *flags, *args], check=False, capture_output=True, text=True, timeout=120)


def chromium_or_skip() -> str:
    chromium = find_chromium()
    if chromium is None:
        if os.environ.get("THERMOSCAPE_REQUIRE_CHROMIUM"):
            pytest.fail("THERMOSCAPE_REQUIRE_CHROMIUM is set but no chromium is on the PATH")
        pytest.skip("no chromium on the PATH (Debian package chromium)")
    return chromium


def test_every_papers_summary_is_on_the_first_screen_in_chromium(tmp_path):
    chromium = chromium_or_skip()
    table = scoreboard.with_headlines(example_table(), {"jules": "all"})
    info = {"config_hash": "abc123", "scale": "default", "commit": "deadbeef", "date": "2026-12-07",
            "device": "auto", "config_files": ["config/config.yaml"]}
    page = tmp_path / "claims.html"
    page.write_text(scoreboard.render(table, info, tmp_path))
    assert_summaries_on_first_screen(chromium, page, tmp_path)


def assert_summaries_on_first_screen(chromium: str, page: Path, tmp_path: Path) -> None:
    """Every paper's card lies inside the first 1400 x 900 screen of ``page`` in headless Chromium (a copy
    of the page with a script that writes the cards' boxes into the DOM); a screenshot for a look."""
    probed = tmp_path / f"probed_{page.name}"
    probed.write_text(page.read_text().replace("</body>", LAYOUT_PROBE + "</body>"))
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    dom = headless(chromium, profile, "--dump-dom", probed.as_uri())
    layout = json.loads(dom.stdout.split("<pre id=\"layout\">", 1)[1].split("</pre>", 1)[0])
    assert set(layout) == {f"summary-{study}" for study in FIVE_PAPERS}
    for card, (left, top, right, bottom) in layout.items():
        assert 0 <= left and right <= 1400 and 0 <= top and bottom <= 900, (card, layout[card])
    screenshot = Path(os.environ.get("THERMOSCAPE_SCREENSHOT", tmp_path / "scoreboard.png"))
    headless(chromium, profile, f"--screenshot={screenshot}", page.as_uri())
    assert screenshot.stat().st_size > 10_000


def test_combine_keeps_a_studys_headlines_and_makes_unmarked_rows_lines():
    jules = scoreboard.with_headlines(example_table().query("study == 'jules'"), {"jules": "all"})
    other = example_table().query("study != 'jules'")
    table = scoreboard.combine([jules, other])
    assert table["headline"].dtype == bool
    assert table.loc[table["study"] != "jules", "headline"].all()
    assert table.loc[table["study"] == "jules", "headline"].tolist() == jules["headline"].tolist()
    assert not scoreboard.combine([other])["headline"].eq(False).any()
