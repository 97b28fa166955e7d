"""Where the package's own files are: the vocabulary, the configuration and the demo data.

They live in the repository's top-level ``data/`` folder, which the wheel ships inside the
package as ``matcher/data/`` (``package-dir`` in pyproject.toml maps the package
``matcher.data`` onto ``data/``; likewise ``matcher.ui`` onto ``ui/``). An installed package
therefore finds them with :mod:`importlib.resources`, wherever it is installed and whatever
the current folder is. A source checkout (an editable install, or ``PYTHONPATH`` pointing at
the repository) has no ``matcher/data/`` folder: there the repository's own ``data/`` beside
``matcher/`` is used, so a change to a file there is seen at once.

Nothing here reads a file; the functions only say where one is.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["data_dir", "data_path", "ui_dir", "installed_from_wheel"]

_SOURCE_ROOT = Path(__file__).resolve().parents[1]


def _packaged(name: str) -> Path | None:
    """``matcher/<name>/`` of an installed package, when it is there as real files."""
    candidate = files("matcher") / name
    if candidate.is_dir():
        return Path(str(candidate)).resolve()
    return None


def installed_from_wheel() -> bool:
    """True when the package's data folder was installed with it (a wheel, not a checkout)."""
    return _packaged("data") is not None


def data_dir() -> Path:
    """The folder holding ``vocabulary.yaml``, ``match_config.toml``, ``demo/`` and the rest."""
    return _packaged("data") or _SOURCE_ROOT / "data"


def data_path(*parts: str) -> Path:
    """A file of the data folder: ``data_path("demo", "islington_local_offer.csv")``."""
    return data_dir().joinpath(*parts)


def ui_dir() -> Path:
    """The Streamlit app's folder (``Home.py`` and its pages)."""
    return _packaged("ui") or _SOURCE_ROOT / "ui"
