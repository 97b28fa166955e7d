"""``matcher run`` starts the API and the Streamlit UI together and stops the UI with it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from matcher.cli import main
from matcher.settings import REPO_ROOT


class FakeProcess:
    """Stands in for the UI's ``subprocess.Popen``."""

    made: list[FakeProcess] = []

    def __init__(self, args, cwd=None, env=None):
        self.args, self.cwd, self.env = args, cwd, env
        self.terminated = self.killed = False
        self.returncode = None
        FakeProcess.made.append(self)

    def poll(self):
        return self.returncode

    def terminate(self):
        self.terminated = True

    def wait(self, timeout=None):
        self.returncode = -15
        return self.returncode

    def kill(self):
        self.killed = True


@pytest.fixture
def launched(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """No real servers: demo loading, uvicorn and the UI process are all replaced."""
    import uvicorn

    import matcher.api.serve as serve_module

    FakeProcess.made = []
    api_calls: list[dict] = []
    monkeypatch.setattr(serve_module, "ensure_demo_data", lambda settings: True)
    monkeypatch.setattr(subprocess, "Popen", FakeProcess)
    monkeypatch.delenv("MATCHER_UI_PORT", raising=False)

    def fake_uvicorn(app, **kw):
        # While the API runs, the UI is running too.
        assert FakeProcess.made and not FakeProcess.made[0].terminated
        api_calls.append({"app": app, **kw})

    monkeypatch.setattr(uvicorn, "run", fake_uvicorn)
    return api_calls


def test_run_starts_the_ui_on_8501_pointing_at_the_api(launched, capsys):
    assert main(["run"]) == 0
    (ui,) = FakeProcess.made
    assert ui.args == [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port",
                       "8501", "--server.address", "127.0.0.1", "--server.headless", "true",
                       "--browser.gatherUsageStats", "false"]
    assert ui.cwd == REPO_ROOT / "ui"
    assert ui.env["MATCHER_API_URL"] == "http://127.0.0.1:8000"
    assert [(c["host"], c["port"]) for c in launched] == [("127.0.0.1", 8000)]
    assert ui.terminated  # stopped when the API stops (Ctrl+C)
    out = capsys.readouterr().out
    assert "Open http://127.0.0.1:8501 for the app." in out and "Ctrl+C stops both." in out


def test_run_stops_the_ui_even_when_the_api_fails(launched, monkeypatch):
    import uvicorn

    def broken(app, **kw):
        raise OSError("address already in use")

    monkeypatch.setattr(uvicorn, "run", broken)
    with pytest.raises(OSError):
        main(["run", "--port", "8123"])
    (ui,) = FakeProcess.made
    assert ui.env["MATCHER_API_URL"] == "http://127.0.0.1:8123"
    assert ui.terminated


def test_ui_port_can_be_changed(launched, monkeypatch):
    monkeypatch.setenv("MATCHER_UI_PORT", "9501")
    assert main(["run"]) == 0
    (ui,) = FakeProcess.made
    assert ui.args[ui.args.index("--server.port") + 1] == "9501"
