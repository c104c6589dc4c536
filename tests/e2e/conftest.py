"""Browser tests: a real headless Chromium (the system's, driven by
Playwright) against Qualiplan served on a free port of 127.0.0.1.

Without Chromium these tests are skipped with a notice, unless
QUALIPLAN_REQUIRE_BROWSER is set (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from app.extensions import db
from app.services.demo import DEMO_PASSWORD, load_demo
from tests.conftest import app_for, separate_database

CHROMIUM = os.environ.get("QUALIPLAN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _browser_missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (install the 'chromium' package)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (make test installs it)"
    return None


@pytest.fixture(scope="session")
def browser():
    missing = _browser_missing()
    if missing:
        if os.environ.get("QUALIPLAN_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests are required here: {missing}")
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


@contextmanager
def demo_site(folder: Path) -> Iterator[tuple[Flask, str]]:
    """Qualiplan with the demo data, served until the block ends: the app
    (to look ids up or make a personal link) and its address."""
    with separate_database(folder, "browser_check") as url:
        app = app_for(url, TESTING=False)
        with app.app_context():
            db.create_all()
            load_demo(date.today())
            db.session.commit()
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield app, f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.session.remove()
                db.drop_all()
                db.engine.dispose()


@pytest.fixture
def live_server(tmp_path):
    """Qualiplan with the demo data, served until the test ends."""
    with demo_site(tmp_path) as (_, url):
        yield url


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="de-DE", base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url("**/dashboard")
