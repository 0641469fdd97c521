"""The report's captions and landing page render as reStructuredText without docutils errors."""

from __future__ import annotations

import io
import re
from pathlib import Path
from types import SimpleNamespace

import jinja2
import pytest
from docutils.core import publish_parts

REPORT = Path(__file__).resolve().parents[1] / "workflow" / "report"
CAPTIONS = sorted(REPORT.glob("*.rst"))


def rendered_variants(text: str) -> list[str]:
    """The caption as Snakemake renders it (Jinja first), once per wildcard value its branches name."""
    values = re.findall(r'snakemake\.wildcards\.\w+ == "([^"]+)"', text) or ["any"]
    template = jinja2.Template(text)
    variants = []
    for value in values:
        snakemake = SimpleNamespace(wildcards=SimpleNamespace(figure=value, experiment=value),
                                    config={"scale": "default", "results": "results"})
        variants.append(template.render(snakemake=snakemake))
    return variants


@pytest.mark.parametrize("caption", CAPTIONS, ids=lambda path: path.name)
def test_caption_renders_without_system_messages(caption):
    for text in rendered_variants(caption.read_text()):
        assert text.strip(), caption.name
        warnings = io.StringIO()
        body = publish_parts(text, writer_name="html", settings_overrides={"warning_stream": warnings,
                                                                            "report_level": 2})["body"]
        assert "System Message" not in body and not warnings.getvalue(), warnings.getvalue()


def test_a_substitution_like_bar_would_be_caught():
    warnings = io.StringIO()
    body = publish_parts("the shift |s| grows", writer_name="html",
                         settings_overrides={"warning_stream": warnings, "report_level": 2})["body"]
    assert "System Message" in body
