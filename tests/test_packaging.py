"""Packaging: every third-party module the product imports is a declared dependency; the
wheel carries data/ and ui/ inside the package; requirements.lock pins every dependency."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest

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


# --------------------------------------------------------------------------- the wheel
def _setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"]


def test_every_package_folder_is_listed():
    """pyproject.toml lists the packages one by one (data/ and ui/ are mapped into the
    package); a new folder of Python files under matcher/ must be added to that list."""
    listed = set(_setuptools_config()["packages"])
    found = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "matcher").rglob("*")
             if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py"))}
    found.add("matcher")
    assert found - listed == set(), f"add these to [tool.setuptools] packages: {found - listed}"
    mapped = {"matcher.data", "matcher.data.demo", "matcher.ui", "matcher.ui.pages"}
    assert listed - found == mapped


def _shipped(folder: str) -> set[str]:
    """Files of a repository folder that belong in the wheel (no caches, no lint config)."""
    out = set()
    for p in (ROOT / folder).rglob("*"):
        rel = p.relative_to(ROOT / folder)
        caches = [d for d in rel.parts[:-1] if d == "__pycache__"
                  or (d.startswith(".") and d != ".streamlit")]
        if (p.is_file() and not caches and p.suffix != ".pyc"
                and p.name not in {"ruff.toml", ".gitkeep"}):
            out.add(rel.as_posix())
    return out


@pytest.mark.slow
def test_wheel_carries_the_data_and_the_app(tmp_path: Path):
    """Build the wheel (from a copy of the sources, without network: setuptools comes from
    the environment) and check that it holds every file of data/ and ui/, and all code."""
    import shutil
    import subprocess
    import zipfile

    try:
        setuptools_version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("setuptools is not installed (it is in the dev extra: make install)")
    if int(setuptools_version.split(".")[0]) < 77:
        pytest.skip(f"setuptools {setuptools_version} is older than the 77 the build needs")
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("matcher", "data", "ui"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "-w", str(tmp_path / "dist"),
                    str(src)], check=True, capture_output=True, timeout=300)
    [wheel] = (tmp_path / "dist").glob("send_matcher-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, inside in (("data", "matcher/data/"), ("ui", "matcher/ui/")):
        missing = {f for f in _shipped(folder) if inside + f not in names}
        assert not missing, f"{folder}/ files missing from the wheel: {sorted(missing)}"
    code = {p.relative_to(ROOT).as_posix() for p in (ROOT / "matcher").rglob("*.py")}
    assert not code - names, f"modules missing from the wheel: {sorted(code - names)}"
    assert "matcher/data/demo/islington_local_offer.csv" in names
    assert not any(n.startswith(("tests/", "data/", "ui/", "tools/")) for n in names)


# --------------------------------------------------------------------------- the lock
def _locked() -> dict[str, list[tuple[str, str]]]:
    """requirements.lock: name -> [(version, environment marker)]."""
    out: dict[str, list[tuple[str, str]]] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if not line[:1].isalnum():
            continue
        requirement = line.split(" \\")[0]
        spec, _, marker = requirement.partition(";")
        name, _, version = spec.strip().partition("==")
        out.setdefault(_name(name), []).append((version.strip(), marker.strip()))
    return out


def test_lock_pins_every_declared_dependency_within_its_floor():
    """Every dependency of pyproject.toml (extras included) is in requirements.lock, with
    hashes, at a version its specifier allows (run `make lock` after changing them)."""
    from packaging.markers import Marker
    from packaging.requirements import Requirement

    locked = _locked()
    lock_text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert lock_text.count("--hash=sha256:") >= len(locked)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = list(project["dependencies"]) + [
        r for extra in project["optional-dependencies"].values() for r in extra]
    env = {"python_version": "3.11", "python_full_version": "3.11.7", "sys_platform": "linux",
           "platform_system": "Linux", "platform_machine": "x86_64",
           "implementation_name": "cpython", "platform_python_implementation": "CPython",
           "os_name": "posix"}
    problems = []
    for text in declared:
        req = Requirement(text)
        pins = [v for v, marker in locked.get(_name(req.name), [])
                if not marker or Marker(marker).evaluate(env)]
        if not pins:
            problems.append(f"{req.name} is not in requirements.lock")
        elif not all(req.specifier.contains(v, prereleases=True) for v in pins):
            problems.append(f"{req.name} is locked at {pins}, outside {req.specifier}")
    assert not problems, "; ".join(problems) + ". Run `make lock`."
