"""The built book in a real browser: headless Chromium loads every chapter page from
a local HTTP server and checks that no script fails, every image loads and the
mathematics is rendered by MathJax.

Without Chromium the test skips with a message, except in CI (``CI`` is set), where
a missing browser is a failure: ``.ci/run`` installs Debian's chromium and chromium-driver.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import sys
import threading

import pytest

from .conftest import ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
sys.path.insert(0, str(ROOT / "tools"))
from chapters import chapter_notebooks  # noqa: E402

PAGES = [nb.relative_to(ROOT).with_suffix(".html").as_posix() for nb in chapter_notebooks(ROOT)]


@pytest.fixture(scope="module")
def base_url(html):
    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and DRIVER):
        message = "Chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; in CI a missing browser is a failure")
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):  # fmt: skip
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


@pytest.mark.parametrize("page", PAGES)
def test_chapter_page_renders_in_chromium(page, base_url, browser):
    browser.get(f"{base_url}/{page}")
    rendered = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        if (!window.MathJax || !MathJax.startup) { done(-1); return; }
        MathJax.startup.promise.then(() => done(document.querySelectorAll('mjx-container').length));
        """
    )
    assert rendered != -1, f"{page}: MathJax did not load"
    assert rendered > 0, f"{page}: no rendered math"
    broken = browser.execute_script(
        "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);"
    )
    assert not broken, f"{page}: images that did not load: {broken}"
    # script errors ("Uncaught ...") and resources that failed to load; the theme's own
    # console.error notes (e.g. "Got invalid theme mode" on a fresh profile) are not failures
    errors = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE"
        and ("Uncaught" in entry["message"] or "Failed to load resource" in entry["message"])
        and "/favicon.ico" not in entry["message"]  # the browser asks for it by itself
    ]
    assert not errors, f"{page}: errors in the browser console: {errors}"
