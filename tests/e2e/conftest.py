"""Browser test fixtures: the API and the Streamlit UI on the demo data, and a headless Chromium.

The tests here run only when asked for (``pytest -m e2e tests/e2e``, or ``.ci/e2e``), and are
skipped with a reason when Debian's Chromium (``/usr/bin/chromium``) or the ``playwright``
package is missing. No browser is ever downloaded: Playwright drives the system Chromium.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
UI_DIR = REPO / "ui"
DEMO = REPO / "data" / "demo" / "islington_local_offer.csv"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
_MATCHER = [sys.executable, "-c", "import sys; from matcher.cli import main; "
            "sys.exit(main(sys.argv[1:]))"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the browser tests unless selected with ``-m e2e``, or when a tool is missing."""
    reason = None
    markexpr = config.getoption("markexpr") or ""
    if "e2e" not in markexpr or "not e2e" in markexpr:
        reason = ("browser test: run it with `pytest -m e2e tests/e2e` (or `bash .ci/e2e`, which "
                  "installs Chromium first)")
    elif not CHROMIUM.exists():
        reason = (f"browser test needs Debian's Chromium at {CHROMIUM}: "
                  "apt-get install -y chromium (or run `bash .ci/e2e`)")
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "browser test needs the playwright package: pip install -e '.[dev]'"
    if reason:
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} did not start (exit {proc.returncode}):\n"
                               + log.read_text(errors="replace")[-3000:])
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {seconds} s:\n"
                       + log.read_text(errors="replace")[-3000:])


@dataclass
class Servers:
    api: str
    ui: str
    key_worker_key: str
    admin_key: str
    editor_key: str = ""
    commissioner_key: str = ""


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The API and the UI on free ports, on a fresh store holding the demo Local Offer."""
    if not DEMO.is_file():
        pytest.skip(f"needs the demo Local Offer {DEMO}")
    tmp = tmp_path_factory.mktemp("e2e")
    # PYTHONPATH: the servers run this checkout's code, whatever is installed in the venv.
    env = {**os.environ, "MATCHER_DATABASE_URL": f"sqlite:///{tmp / 'e2e.sqlite'}",
           "MATCHER_DATA_DIR": str(tmp),
           "PYTHONPATH": os.pathsep.join([str(REPO), *filter(None, [os.environ.get(
               "PYTHONPATH")])])}
    subprocess.run([*_MATCHER, "import", str(DEMO)], env=env, check=True, capture_output=True)
    made = subprocess.run([*_MATCHER, "users", "add", "e2e-key-worker", "--role", "key_worker"],
                          env=env, check=True, capture_output=True, text=True)
    key = made.stdout.strip().splitlines()[-1]
    made = subprocess.run([*_MATCHER, "users", "add", "e2e-editor", "--role", "editor"],
                          env=env, check=True, capture_output=True, text=True)
    editor_key = made.stdout.strip().splitlines()[-1]
    made = subprocess.run([*_MATCHER, "users", "add", "e2e-commissioner", "--role",
                           "commissioner"], env=env, check=True, capture_output=True, text=True)
    commissioner_key = made.stdout.strip().splitlines()[-1]
    admin = subprocess.run([*_MATCHER, "users", "add", "e2e-admin", "--role", "admin"],
                           env=env, check=True, capture_output=True, text=True)
    admin_key = admin.stdout.strip().splitlines()[-1]
    api_port, ui_port = _free_port(), _free_port()
    api_url, ui_url = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}"
    api_log, ui_log = tmp / "api.log", tmp / "ui.log"
    with api_log.open("wb") as api_out, ui_log.open("wb") as ui_out:
        api = subprocess.Popen([*_MATCHER, "serve", "--port", str(api_port)], env=env,
                               stdout=api_out, stderr=subprocess.STDOUT)
        ui = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(ui_port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            # The map's tiles come from a local address that answers nothing: the test never
            # reaches the internet, and the markers, the home label and the credit still show.
            cwd=UI_DIR, env={**env, "MATCHER_API_URL": api_url,
                             "MATCHER_MAP_TILES": "http://127.0.0.1:9/{z}/{x}/{y}.png",
                             "MATCHER_MAP_ATTRIBUTION": "Map tiles switched off in this test"},
            stdout=ui_out,
            stderr=subprocess.STDOUT)
        try:
            _wait_for(f"{api_url}/health", api, api_log)
            _wait_for(f"{ui_url}/_stcore/health", ui, ui_log)
            yield Servers(api=api_url, ui=ui_url, key_worker_key=key, admin_key=admin_key,
                          editor_key=editor_key, commissioner_key=commissioner_key)
        finally:
            _stop(ui)
            _stop(api)


@pytest.fixture(scope="session")
def browser(servers: Servers):
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser tab (its own Streamlit session) 1280 x 900."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots and the axe-core report go: a temporary folder (its path is printed),
    or the folder named by ``MATCHER_SCREENSHOTS``. The tracked ones in docs/screenshots are
    refreshed only on purpose: ``MATCHER_SCREENSHOTS=docs/screenshots bash .ci/e2e``."""
    chosen = os.environ.get("MATCHER_SCREENSHOTS")
    folder = Path(chosen).resolve() if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nScreenshots and accessibility.md go to {folder}")
    return folder
