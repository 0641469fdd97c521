"""Check config files before Snakemake reads them: YAML syntax (file, line, column), the schema, the sizes
the config implies (limits) and the data settings, each problem naming its file or config key.

    python scripts/check_config.py [OVERRIDE.yaml ...]      # merged over config/config.yaml, in order

Snakemake loads --configfile files before the workflow runs and reports a YAML error only as "Config file
is not valid JSON or YAML", without the file or line; this names both. Exit status 1 on any problem.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from snakemake.utils import update_config  # noqa: E402

from thermoscape.core.config import ConfigError, config_hash, load_config_file, validate_config  # noqa: E402
from thermoscape.core.sizes import check_sizes  # noqa: E402


def main(paths: list[str]) -> int:
    try:
        config = load_config_file(ROOT / "config" / "config.yaml")
        for path in paths:
            update_config(config, load_config_file(path))
        validated = validate_config(config, ROOT / "workflow" / "schemas" / "config.schema.yaml")
        check_sizes(validated)
        from thermoscape.data.checks import check_data_settings

        check_data_settings(validated)
    except ConfigError as error:
        print(f"config check failed: {error}", file=sys.stderr)
        return 1
    print(f"config OK: scale {validated['scale']}, results {validated['results']}, hash {config_hash(validated)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
