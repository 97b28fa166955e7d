"""Packaging: every third-party module the product imports is a declared dependency."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"matcher", "ui", "tools", "tests"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = {_name(r) for r in project["dependencies"]}
    optional = {_name(r) for extra in project.get("optional-dependencies", {}).values()
                for r in extra}
    return required, optional


def _imported(folder: Path) -> dict[str, str]:
    """Top-level module imported -> one file importing it (absolute imports only)."""
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                out.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return out


def test_every_third_party_import_is_declared():
    required, optional = _declared()
    distributions = importlib.metadata.packages_distributions()
    missing = []
    # The UI runs with ui/ on the path: its pages import its own modules by their names.
    own = {p.stem for p in (ROOT / "ui").rglob("*.py")} | {p.name for p in (ROOT / "ui").iterdir()}
    for folder in ("matcher", "ui"):
        for module, where in _imported(ROOT / folder).items():
            if (module in sys.stdlib_module_names or module in FIRST_PARTY
                    or module == "__future__" or (folder == "ui" and module in own)):
                continue
            names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
            if not names & (required | optional):
                missing.append(f"{module} ({where}; distribution {sorted(names)})")
    assert not missing, "imported but not declared in pyproject.toml: " + ", ".join(missing)
