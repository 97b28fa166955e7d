"""Settings: read from the environment on demand, cached, re-read after cache_clear."""

from __future__ import annotations

from pathlib import Path

import pytest

from matcher.settings import REPO_ROOT, Settings, get_settings

_VARS = ("MATCHER_DATABASE_URL", "MATCHER_DATA_DIR", "XDG_DATA_HOME", "MATCHER_DEMO_DATA")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch):
    for name in _VARS:
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_database_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHER_DATABASE_URL", "sqlite:////tmp/elsewhere.sqlite")
    assert get_settings().database_url == "sqlite:////tmp/elsewhere.sqlite"


def test_default_database_under_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATCHER_DATA_DIR", str(tmp_path / "data"))
    s = get_settings()
    assert s.data_dir == tmp_path / "data"
    assert s.database_url == f"sqlite:///{tmp_path / 'data' / 'matcher.sqlite'}"


def test_xdg_then_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert get_settings().data_dir == tmp_path / "xdg" / "send-matcher"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    assert get_settings().data_dir == tmp_path / "home" / ".local" / "share" / "send-matcher"


def test_blank_variable_means_unset(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATCHER_DATABASE_URL", "  ")
    monkeypatch.setenv("MATCHER_DATA_DIR", str(tmp_path))
    assert get_settings().database_url == f"sqlite:///{tmp_path / 'matcher.sqlite'}"


def test_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHER_DATABASE_URL", "sqlite:///one.sqlite")
    first = get_settings()
    monkeypatch.setenv("MATCHER_DATABASE_URL", "sqlite:///two.sqlite")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().database_url == "sqlite:///two.sqlite"


def test_demo_data_path_in_repository() -> None:
    s = Settings.from_env({"MATCHER_DATA_DIR": "/tmp/x"})
    assert s.demo_data_path == REPO_ROOT / "data" / "demo" / "islington_local_offer.csv"
    assert (REPO_ROOT / "matcher" / "settings.py").is_file()
