"""Config validation and the helpers every rule file shares (run grids, paths, resources)."""


from thermoscape.config import ConfigError, validate_config

try:
    _validated = validate_config(config, os.path.join(workflow.basedir, "workflow", "schemas", "config.schema.yaml"))
except ConfigError as error:
    raise WorkflowError(str(error)) from None
config.clear()
config.update(_validated)

RESULTS = config["results"]
DEVICE = config["device"]


def wildcard_number(value):
    """The canonical, round-trip exact spelling of a grid value inside a file name."""
    return repr(float(value))


def log_path(rule_name, pattern=""):
    return f"{RESULTS}/logs/{rule_name}/{pattern or 'job'}.log"
