"""Fixtures shared by the whole test suite. Keep them generic; module-specific ones live in
their own test files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

#: ``../shared`` beside the repository: the data contract, domain brief and real samples.
SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The shared project folder; tests that need it are skipped when it is absent."""
    if not SHARED_DIR.is_dir():
        pytest.skip(f"needs the shared project folder {SHARED_DIR} (../shared beside the repo)")
    return SHARED_DIR


@pytest.fixture(scope="session", autouse=True)
def matcher_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point ``MATCHER_CACHE_DIR`` at a per-session temporary folder, so that no test reads
    or writes the user's real cache (``~/.cache/send-matcher``)."""
    path = tmp_path_factory.mktemp("matcher-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MATCHER_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def postcode_index(matcher_cache_dir: Path):
    """The real postcode index, built once per session (a few seconds) in the session's cache
    folder. ``get_postcode_index()`` returns this same object while the session runs."""
    from matcher.geo.postcodes import get_postcode_index

    get_postcode_index.cache_clear()
    index = get_postcode_index()
    yield index
    get_postcode_index.cache_clear()
