"""The explorer in a real browser: headless Chromium driven by Playwright.

Skips with a reason where Chromium or Playwright is absent (install: ``apt-get install
chromium`` and ``pip install playwright``; Playwright drives the system Chromium).
"""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from reprlearn.explore.launch import explore, serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("headless Chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def _open(browser, url):
    page = browser.new_page(viewport={"width": 1100, "height": 700})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    return page, errors


def _drawn_pixels(page) -> int:
    """Pixels of the map canvas that are not the white background."""
    png = page.locator("#plot").screenshot()
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int((rgb.sum(2) < 700).sum())


def test_served_page_draws_and_search_finds_the_neighbour(browser, two_stores, tmp_path):
    site = explore([two_stores[0]], export=tmp_path / "site", k=5)
    server = serve(site.site, "127.0.0.1", 0)
    try:
        page, errors = _open(browser, f"http://127.0.0.1:{server.server_address[1]}/")
        assert _drawn_pixels(page) > 200  # 40 points drawn, not a blank canvas
        page.fill("#search", "family number 3")
        page.press("#search", "Enter")
        page.wait_for_selector("#neighbors li")
        selected = page.inner_text("#selected")
        first = page.locator("#neighbors li").first.inner_text()
        assert "family number 3" in selected
        assert "a warm funny film about family number" in first  # its nearest neighbour
        assert errors == []
    finally:
        server.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_exported_site_under_http_server_draws_points(browser, two_stores, tmp_path):
    site = explore(list(two_stores), export=tmp_path / "site", k=5)
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", str(site.site)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        page, errors = _open(browser, f"http://127.0.0.1:{port}/index.html")
        assert _drawn_pixels(page) > 200
        assert page.locator("#encoder option").count() == 2  # one map per encoder
        page.select_option("#color", "agreement")
        assert _drawn_pixels(page) > 200
        assert errors == []
    finally:
        proc.terminate()
        proc.wait()
