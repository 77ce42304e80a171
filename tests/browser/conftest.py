"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Needs the `playwright` Python package and `/usr/bin/chromium` (`apt-get install -y chromium`);
Playwright's own browser download is never used. Screenshots of the main pages at 1366×768
go to docs/screenshots/ (git-ignored).
"""

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from accounts.models import Role
from tests.factories import PASSWORD, UserFactory

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "screenshots"
TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Playwright's sync API runs an event loop in this thread
    while it is open, so Django would take the tests' own (synchronous) ORM calls for calls
    from async code: that check is off exactly as long as the browser is open."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, live_server) -> Iterator[Callable[..., Any]]:
    """Pages of fresh browser contexts (own cookies), English unless told otherwise.

    Every page listens to its console: a test fails if the Content-Security-Policy refused
    anything the product's own pages tried to run, load or apply.
    """
    contexts = []
    refused: list[str] = []

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            refused.append(f"{message.page.url if message.page else ''}: {message.text}")

    def make(locale: str = "en-US") -> Any:
        context = browser.new_context(
            viewport=VIEWPORT, locale=locale, accept_downloads=True, base_url=live_server.url
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", on_console)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not refused, "Content-Security-Policy violations:\n" + "\n".join(refused)


@pytest.fixture
def shot() -> Callable[..., None]:
    """Save a screenshot of the page as docs/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Any, name: str, *, full_page: bool = False) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)

    return save


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click(".login-card button[type=submit]")
    page.wait_for_url("**/studies/")


@pytest.fixture
def user_of(transactional_db) -> Callable[..., Any]:
    def make(role: str = Role.VIEWER, **kwargs: Any) -> Any:
        return UserFactory(role=role, **kwargs)

    return make


class WorkerProcess:
    """The real analysis worker (`manage.py run_analysis_worker`) on the test database."""

    def __init__(self, log: Path, **env: Any) -> None:
        self.log_path = log
        self.log = log.open("wb")
        db = connection.settings_dict
        environ = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        environ.update(
            {
                "DB_ENGINE": db["ENGINE"],
                "DB_NAME": str(db["NAME"]),
                "DB_USER": db.get("USER") or "",
                "DB_PASSWORD": db.get("PASSWORD") or "",
                "DB_HOST": db.get("HOST") or "",
                "DB_PORT": str(db.get("PORT") or ""),
                "DB_CONN_MAX_AGE": "0",
                "DEBUG": "False",
                "ANALYSIS_RECOVERY_INTERVAL_SECONDS": "0",
                **{k: str(v) for k, v in env.items()},
            }
        )
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "run_analysis_worker", "--interval", "0.1",
             "--no-startup-delay"],
            cwd=settings.BASE_DIR,
            env=environ,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()


@pytest.fixture
def analysis_worker(transactional_db, tmp_path) -> Iterator[WorkerProcess]:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.fail("The browser tests need a file test database (see DB_TEST_NAME)")
    # A short pause at every step, so that the page shows the run in progress.
    worker = WorkerProcess(tmp_path / "worker.log", ANALYSIS_STEP_DELAY_SECONDS="0.25")
    try:
        yield worker
    finally:
        worker.stop()


# The built-in OpenAI-compatible server, for the practice streaming tests.
from tests.practice.openai_server import _compat_server_session, compat_server  # noqa: E402, F401
