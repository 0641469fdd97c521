"""Config validation against the workflow's JSON schema, with defaults filled in.

Errors name the offending key as a dotted path (``jules.langevin.sweeps[0].temperatures[1]``) so that
a bad config fails before any job starts with a message a user can act on.
:func:`thermoscape.data.checks.check_data_settings` adds what a schema cannot check about the data sets.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jsonschema
import yaml



class ConfigError(ValueError):
    """The config does not match the schema; the message names every offending key."""


def _with_defaults(validator_class):
    """jsonschema's documented recipe: a validator that also writes each property's ``default``."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


def key_path(path: Iterable[Any]) -> str:
    """``['jules', 'sweeps', 0, 'eta']`` -> ``jules.sweeps[0].eta``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "<config>"


def _describe(error: jsonschema.ValidationError) -> str:
    path = list(error.absolute_path)
    if error.validator == "required":  # name the missing key itself, not its parent
        missing = error.message.split("'")[1]
        return f"{key_path(path + [missing])}: missing (required)"
    if error.validator == "additionalProperties":
        return f"{key_path(path)}: {error.message} (check the spelling against the schema)"
    return f"{key_path(path)}: {error.message}"


_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def non_finite_keys(value: Any, path: tuple = ()) -> list[tuple[str, float]]:
    """(dotted key, value) of every NaN or infinite number in ``value`` (YAML ``.nan``, ``.inf``, ``-.inf``)."""
    if _is_non_finite(value):
        return [(key_path(path), value)]
    if isinstance(value, dict):
        return [k for name, item in value.items() for k in non_finite_keys(item, (*path, name))]
    if isinstance(value, list):
        return [k for index, item in enumerate(value) for k in non_finite_keys(item, (*path, index))]
    return []


def as_numbers(value: Any) -> Any:
    """YAML 1.1 reads ``1e-6`` (no dot) as a string: accept it as the number the user meant.

    Only decimal spellings are converted: ``nan``, ``inf`` (and YAML's ``.nan``, ``.inf``) stay as they are,
    for :func:`non_finite_keys` to reject. Returns new dicts and lists, leaving ``value`` untouched."""
    if isinstance(value, str):
        return float(value) if _DECIMAL.fullmatch(value.strip()) else value
    if isinstance(value, dict):
        return {k: as_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_numbers(v) for v in value]
    return value


def validate_config(config: dict, schema_path: str | Path) -> dict:
    """Return ``config`` with numbers coerced and defaults filled; raise ConfigError naming bad keys."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    filled = as_numbers(config)
    validator = _with_defaults(jsonschema.validators.validator_for(schema))(schema)
    errors = sorted(validator.iter_errors(filled), key=lambda e: list(map(str, e.absolute_path)))
    # JSON has no NaN or infinity, but Python's jsonschema accepts them as numbers: rejected here, everywhere
    problems = [f"{key}: {value!r} is not a finite number" for key, value in non_finite_keys(filled)]
    problems += [_describe(e) for e in errors if not _is_non_finite(e.instance)]
    if problems:
        lines = "\n  ".join(problems)
        raise ConfigError(f"invalid config ({len(problems)} problem(s)):\n  {lines}")
    return filled


def _is_non_finite(value: Any) -> bool:
    return isinstance(value, float) and not math.isfinite(value)


def load_config_file(path: str | Path) -> dict:
    """Read a YAML (or JSON) config file; a syntax error names the file, line and column (Snakemake's own
    loader says only "Config file is not valid JSON or YAML")."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config file: {error.strerror or error}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
        problem = " ".join(str(part) for part in (getattr(error, "context", None), getattr(error, "problem", None))
                           if part) or str(error)
        line = text.splitlines()[mark.line] if mark and mark.line < len(text.splitlines()) else ""
        raise ConfigError(f"{where}: YAML syntax error: {problem}" + (f"\n    {line.rstrip()}" if line else "")
                          + ("\n    (tabs are not allowed in YAML indentation)" if "\t" in line else "")) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config file must be a mapping of keys at top level, not {type(data).__name__}")
    return data


# --- data settings: what the schema cannot check, checked as cheaply before any job --------------------



def config_hash(config: dict) -> str:
    """A short hash of a merged config (key order does not matter): which config produced a result."""
    canonical = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]
