"""Config validation and the helpers every rule file shares (run grids, paths, resources)."""


def _as_number(value):
    """YAML 1.1 reads `1e-6` (no dot) as a string: accept it as the number the user meant."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if isinstance(value, dict):
        return {k: _as_number(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_number(v) for v in value]
    return value


config.update(_as_number(dict(config)))
validate(config, "../schemas/config.schema.yaml")

RESULTS = config["results"]
DEVICE = config["device"]


def wildcard_number(value):
    """The canonical, round-trip exact spelling of a grid value inside a file name."""
    return repr(float(value))


def log_path(rule_name, pattern=""):
    return f"{RESULTS}/logs/{rule_name}/{pattern or 'job'}.log"
