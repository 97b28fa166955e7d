"""Settings: one typed object read from MATCHER_* variables and .env, cached, re-read after
cache_clear; an invalid value stops the start with a message naming the variable."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from matcher.errors import ConfigError
from matcher.resources import data_path
from matcher.settings import REPO_ROOT, env_names, get_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """No MATCHER_ variable of the caller's, and no .env file in the current folder."""
    for name in env_names().values():
        monkeypatch.delenv(name, raising=False)
    for name in ("XDG_DATA_HOME", "MATCHER_ENV_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
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
    monkeypatch.setenv("MATCHER_MAX_JSON_BYTES", "")
    monkeypatch.setenv("MATCHER_DATA_DIR", str(tmp_path))
    s = get_settings()
    assert s.database_url == f"sqlite:///{tmp_path / 'matcher.sqlite'}"
    assert s.max_json_bytes == 64 * 1024


def test_cached_until_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHER_DATABASE_URL", "sqlite:///one.sqlite")
    first = get_settings()
    monkeypatch.setenv("MATCHER_DATABASE_URL", "sqlite:///two.sqlite")
    assert get_settings() is first
    get_settings.cache_clear()
    assert get_settings().database_url == "sqlite:///two.sqlite"


def test_packaged_files_by_default() -> None:
    s = get_settings()
    assert s.demo_data_path == data_path("demo", "islington_local_offer.csv")
    assert s.vocabulary_path == data_path("vocabulary.yaml")
    assert s.council_path == data_path("council.toml")
    assert s.demo_data_path.is_file() and s.vocabulary_path.is_file() and s.council_path.is_file()
    # In a source checkout these are the repository's own data/ files.
    assert s.vocabulary_path == REPO_ROOT / "data" / "vocabulary.yaml"


def test_typed_values_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MATCHER_DEMO_DATA", str(tmp_path / "demo.csv"))
    monkeypatch.setenv("MATCHER_MAX_JSON_BYTES", "2048")
    monkeypatch.setenv("MATCHER_REFRESH_SECONDS", "0.5")
    monkeypatch.setenv("MATCHER_LOG_FORMAT", "text")
    monkeypatch.setenv("MATCHER_METRICS", "false")
    s = get_settings()
    assert (s.demo_data_path, s.max_json_bytes, s.refresh_seconds, s.log_format, s.metrics) == (
        tmp_path / "demo.csv", 2048, 0.5, "text", False)


def test_dotenv_file_is_read_and_the_environment_wins(monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("MATCHER_DATABASE_URL=sqlite:///from-dotenv.sqlite\n"
                                   "MATCHER_LOG_LEVEL=debug\nUNRELATED=1\n", encoding="utf-8")
    s = get_settings()
    assert (s.database_url, s.log_level) == ("sqlite:///from-dotenv.sqlite", "debug")
    monkeypatch.setenv("MATCHER_LOG_LEVEL", "warning")
    get_settings.cache_clear()
    assert get_settings().log_level == "warning"


def test_env_file_named_by_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    other = tmp_path / "conf" / "matcher.env"
    other.parent.mkdir()
    other.write_text("MATCHER_UI_PORT=9999\n", encoding="utf-8")
    monkeypatch.setenv("MATCHER_ENV_FILE", str(other))
    assert get_settings().ui_port == 9999


@pytest.mark.parametrize(("variable", "value", "allowed"), [
    ("MATCHER_MAX_JSON_BYTES", "12", "greater than or equal to 1024"),
    ("MATCHER_MAX_JSON_BYTES", "lots", "a valid integer"),
    ("MATCHER_REFRESH_SECONDS", "-1", "greater than or equal to 0"),
    ("MATCHER_LOG_FORMAT", "xml", "'json' or 'text'"),
    ("MATCHER_LOG_LEVEL", "loud", "'debug', 'info', 'warning' or 'error'"),
    ("MATCHER_METRICS", "maybe", "true or false"),
    ("MATCHER_UI_PORT", "70000", "less than or equal to 65535"),
])
def test_invalid_value_names_the_variable_and_what_is_allowed(
        monkeypatch: pytest.MonkeyPatch, variable: str, value: str, allowed: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        get_settings()
    message = str(caught.value)
    assert f"{variable} is '{value}'" in message
    assert allowed in message
    assert "Traceback" not in message


def test_every_problem_is_listed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MATCHER_LOG_FORMAT", "xml")
    monkeypatch.setenv("MATCHER_MAX_UPLOAD_BYTES", "1")
    message = str(pytest.raises(ConfigError, get_settings).value)
    assert "2 problem(s)" in message
    assert "MATCHER_LOG_FORMAT" in message and "MATCHER_MAX_UPLOAD_BYTES" in message


def test_serve_refuses_to_start_on_an_invalid_value(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture) -> None:
    import uvicorn

    from matcher.cli import main

    def must_not_run(*args, **kwargs):
        raise AssertionError("the server started despite an invalid setting")

    monkeypatch.setattr(uvicorn, "run", must_not_run)
    monkeypatch.setenv("MATCHER_MAX_JSON_BYTES", "12")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "MATCHER_MAX_JSON_BYTES is '12'" in err and "1024" in err


def test_every_command_names_an_invalid_setting(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture) -> None:
    from matcher.cli import main

    monkeypatch.setenv("MATCHER_LOG_FORMAT", "xml")
    assert main(["users", "list"]) == 2
    err = capsys.readouterr().err
    assert "MATCHER_LOG_FORMAT is 'xml'" in err and "Traceback" not in err


def test_api_limits_come_from_the_settings(monkeypatch: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:
    """The HTTP layer's limits are read from MATCHER_* too, not fixed in code."""
    from fastapi.testclient import TestClient

    from matcher.api.app import create_app

    monkeypatch.setenv("MATCHER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MATCHER_MAX_JSON_BYTES", "2048")
    app = create_app()
    assert app.state.resources.config.max_json_bytes == 2048
    body = json.dumps({"age": 9, "about": "x" * 3000})
    with TestClient(app) as client:
        r = client.post("/match", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "at most 2 KB" in r.json()["detail"]


def test_readme_table_lists_every_setting() -> None:
    """README's settings table and the Settings fields name the same variables."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    table = set(re.findall(r"^\| `(MATCHER_[A-Z_]+)` \|", readme, flags=re.M))
    fields = set(env_names().values())
    assert fields <= table, f"missing from README's table: {sorted(fields - table)}"
    others = table - fields
    # The table may also list variables read by other processes (the UI, the tests).
    assert others <= {"MATCHER_ENV_FILE", "MATCHER_API_URL", "MATCHER_MAP_TILES",
                      "MATCHER_MAP_ATTRIBUTION", "MATCHER_TEST_POSTGRES_URL"}, others
