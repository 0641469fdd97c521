"""config/README.md is generated from the config schema (scripts/ci/config_docs.py) and may not drift from it;
the schema itself uses only JSON-schema keywords (a comma in an unquoted YAML flow-mapping description would
otherwise silently cut the description short); .snakemake-workflow-catalog.yml is well formed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
DOC = (ROOT / "config" / "README.md").read_text()

spec = importlib.util.spec_from_file_location("config_docs", ROOT / "scripts" / "ci" / "config_docs.py")
config_docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(config_docs)

KEYWORDS = {"$schema", "$defs", "$ref", "description", "type", "properties", "additionalProperties", "required",
            "default", "enum", "items", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems",
            "maxItems", "uniqueItems", "minProperties", "minLength", "pattern"}


def schema_nodes(node: dict, path: str):
    """(path, schema node) of every schema object below ``node`` (properties, $defs, items, maps)."""
    node = config_docs.resolve(node, SCHEMA)
    yield path, node
    for key, child in node.get("properties", {}).items():
        yield from schema_nodes(child, f"{path}.{key}" if path else key)
    for key, child in node.get("$defs", {}).items():
        yield from schema_nodes(child, f"{path}.$defs.{key}")
    if isinstance(node.get("items"), dict):
        yield from schema_nodes(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from schema_nodes(node["additionalProperties"], f"{path}.<name>")


def test_config_readme_is_what_the_schema_generates():
    assert config_docs.main(["--check"]) == 0, "run: python scripts/ci/config_docs.py"
    assert DOC == config_docs.render(SCHEMA)


def test_every_schema_key_and_section_is_documented():
    for path, node in schema_nodes(SCHEMA, ""):
        scalar_item = path.endswith("[]") and node.get("type") != "object"  # described in its list's row
        if path and "$defs" not in path and not scalar_item:
            assert f"| `{path}` |" in DOC, path
    for section, node in SCHEMA["properties"].items():
        if node.get("type") == "object":
            assert node.get("description"), f"section {section} has no description"
            assert f"## `{section}`: {node['description']}" in DOC


def test_schema_uses_only_json_schema_keywords():
    for path, node in schema_nodes(SCHEMA, ""):
        unknown = set(node) - KEYWORDS
        assert not unknown, f"{path or 'top level'}: {sorted(unknown)} (quote a description that has a comma)"


def test_workflow_catalog_file():
    catalog = yaml.safe_load((ROOT / ".snakemake-workflow-catalog.yml").read_text())
    stack = catalog["usage"]["software-stack-deployment"]
    assert stack["conda"] is True and stack["singularity"] is True
    assert catalog["usage"]["report"] is True
    assert isinstance(catalog["usage"]["mandatory-flags"]["desc"], str)
