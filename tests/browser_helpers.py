"""What the browser tests share: Debian's headless Chromium through Playwright (no browser
downloads), a quiet local server for a built site, a page with its clock pinned, and a CDP
polling helper (the site's Content-Security-Policy forbids the string eval that Playwright's
wait_for_function runs inside the page).

Test files import what they use; the `browser` fixture (one Chromium a test module) lives in
conftest.py."""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import http.server
import threading
import time
from pathlib import Path

import pytest
from conftest import BUNDLED

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(),
                                    reason="/usr/bin/chromium 不存在：请运行 scripts/install-browser")
needs_bundled = pytest.mark.skipif(not (BUNDLED / "policies").is_dir(), reason="bundled content not present")


def launch(playwright, args=ARGS):
    """Debian's Chromium, headless."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(site: Path, handler=Quiet):
    """Serve a folder on a free local port; returns (server, base URL). Call stop(server) after."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def stop(server) -> None:
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def served(site: Path, handler=Quiet):
    """The base URL of a folder served for the duration of the block."""
    server, url = serve(site, handler)
    try:
        yield url
    finally:
        stop(server)


@contextlib.contextmanager
def built_site(content: Path, out: Path, today: dt.date, **build_options):
    """A real build of `content` into `out`, served for the duration of the block:
    yields (site folder, base URL)."""
    from policykb.site.build import build_site
    site = build_site(content, out, today=today, **build_options).out
    with served(site) as url:
        yield site, url


def pin_clock(pg, day: dt.date) -> None:
    """The page's clock stands at 10:00 on the given day."""
    pg.clock.set_fixed_time(dt.datetime(day.year, day.month, day.day, 10, 0))


@contextlib.contextmanager
def desktop_page(browser, day: dt.date, only_from: str | None = None):
    """A 1280x900 zh-CN page with its clock pinned to `day`; on leaving, asserts that no
    JavaScript error happened and (with `only_from`) that no request left that base URL."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pin_clock(pg, day)
    errors, foreign = [], []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    if only_from is not None:
        pg.on("request", lambda r: None if r.url.startswith(only_from) or r.url.startswith("data:")
              else foreign.append(r.url))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors: {errors}"
    assert not foreign, f"requests leaving the site: {foreign}"


def wait(page, expression: str, timeout: float = 15.0) -> None:
    """Poll a condition through CDP evaluation: the site's CSP forbids the string eval that
    Playwright's wait_for_function runs inside the page."""
    end = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(50)


def expect(locator):
    """Playwright's expect (it polls without eval), imported late so that collection does not
    need Playwright."""
    from playwright.sync_api import expect as _expect
    return _expect(locator)


def shot(pg, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(folder / f"{name}.png"), full_page=True)
