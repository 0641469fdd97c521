"""scripts/check_config.py and load_config_file (issue 24, item 3): a YAML error names the file and line."""

import subprocess
import sys
from pathlib import Path

import pytest

from thermoscape.core.config import ConfigError, load_config_file

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("text, named", [
    ("jules:\n  replicas: 4\n\tseed: 3\n", "line 3, column 1: YAML syntax error"),
    ("jules:\n  fig1: {eta: 0.01\n  replicas: 3\n", "line 3, column 11: YAML syntax error"),
    ("jules: [1, 2\n", "YAML syntax error"),
    ("- 1\n- 2\n", "a config file must be a mapping of keys at top level, not list"),
])
def test_yaml_errors_name_the_file_and_line(tmp_path, text, named):
    path = tmp_path / "override.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config_file(path)
    assert str(error.value).startswith(str(path)) and named in str(error.value), str(error.value)


def check(*paths) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "check_config.py"), *map(str, paths)],
                          capture_output=True, text=True, check=False)


def test_check_config_script(tmp_path):
    ok = check(ROOT / "config" / "smoke.yaml")
    assert ok.returncode == 0 and "config OK: scale smoke" in ok.stdout, ok.stderr
    tab = tmp_path / "tab.yaml"
    tab.write_text("jules:\n  replicas: 4\n\tseed: 3\n")
    bad = check(ROOT / "config" / "smoke.yaml", tab)
    assert bad.returncode == 1 and f"{tab}, line 3, column 1" in bad.stderr and "tabs are not allowed" in bad.stderr
    big = tmp_path / "big.yaml"
    big.write_text("jules: {replicas: 100000}\n")
    assert "jules.replicas: jobs of the Jules DAG" in check(big).stderr
    assert "cannot read the config file" in check(tmp_path / "missing.yaml").stderr
