"""The library is organised by role (README, "Architecture"): a study package imports the shared roles and never
another study; the shared roles import no study; the DAG-time modules of ``core`` load neither torch nor scipy."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "thermoscape"
STUDIES = sorted(p.name for p in (PACKAGE / "studies").iterdir() if (p / "__init__.py").exists())


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every ``thermoscape`` module a file imports, anywhere in it (``from thermoscape.x import y`` counts ``x``
    and ``x.y``: ``y`` may be a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("thermoscape")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("thermoscape"):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def study_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 and parts[1] == "studies" else None


def library_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_every_study_has_a_package_and_the_layout_has_its_roles():
    assert STUDIES == ["bradley", "chart", "fengtu", "fort", "jules", "taxonomy"]
    for role in ("core", "data", "nets", "dynamics", "measure", "claims", "studies"):
        assert (PACKAGE / role / "__init__.py").exists(), role
    assert not [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "plotting.py")]


@pytest.mark.parametrize("path", library_files(), ids=lambda p: module_name(p))
def test_no_study_imports_another_and_shared_roles_import_no_study(path):
    own = study_of(module_name(path))
    for imported in imported_modules(path):
        other = study_of(imported)
        if other is not None:
            assert own is not None, f"{module_name(path)} (shared) imports the study module {imported}"
            assert other == own, f"{module_name(path)} imports {imported} of another study"


@pytest.mark.parametrize("folder", sorted(p for p in (ROOT / "scripts").iterdir() if p.is_dir() and p.name in STUDIES),
                         ids=lambda p: p.name)
def test_a_study_script_imports_only_its_own_study(folder):
    for script in folder.glob("*.py"):
        for imported in imported_modules(script):
            assert study_of(imported) in (None, folder.name), f"{script.relative_to(ROOT)} imports {imported}"


def test_the_walk_sees_a_cross_study_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from thermoscape.studies.fort.experiment import Data\n")
    assert study_of(next(m for m in imported_modules(bad) if m.endswith("experiment"))) == "fort"


def test_building_the_dag_loads_neither_torch_nor_scipy():
    code = ("import sys; import thermoscape.core.config, thermoscape.core.grids, thermoscape.core.io, "
            "thermoscape.core.seeds, thermoscape.core.jobs, thermoscape.data.checks; "
            "print(sorted(m for m in ('torch', 'scipy') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
