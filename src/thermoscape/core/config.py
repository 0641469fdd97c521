"""Config validation against the workflow's JSON schema, with defaults filled in.

Errors name the offending key as a dotted path (``jules.langevin.sweeps[0].temperatures[1]``) so that
a bad config fails before any job starts with a message a user can act on.
:func:`thermoscape.data.checks.check_data_settings` adds what a schema cannot check about the data sets.
"""

from __future__ import annotations

import copy
import hashlib
import json
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


def as_numbers(value: Any) -> Any:
    """YAML 1.1 reads ``1e-6`` (no dot) as a string: accept it as the number the user meant.

    Returns new dicts and lists, leaving ``value`` untouched."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
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
    if errors:
        lines = "\n  ".join(_describe(e) for e in errors)
        raise ConfigError(f"invalid config ({len(errors)} problem(s)):\n  {lines}")
    return filled


# --- data settings: what the schema cannot check, checked as cheaply before any job --------------------



def config_hash(config: dict) -> str:
    """A short hash of a merged config (key order does not matter): which config produced a result."""
    canonical = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]
