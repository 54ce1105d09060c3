"""The 404 page when the site is served under a sub-path (https://host/policy/): MkDocs writes
the error page with root-absolute links (it is served at any depth), rooted at site_url's path
when site_url is set. A real build, the preview server's 404 handling, and headless Chromium."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from browser_helpers import needs_chromium, serve, stop
from conftest import PROJECT, write_tree
from test_site_build import TODAY, TREE
from test_site_pages import _config_with

from policykb.cli.site import SiteHandler
from policykb.site.build import build_site

SUB = "/policy/"
pytestmark = pytest.mark.skipif(not (PROJECT / "mkdocs.yml").is_file(), reason="project config missing")


class _QuietSite(SiteHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def hosted(tmp_path_factory) -> Path:
    """A server root with the site built for https://…/policy/ in policy/; the server answers
    any missing path with the site's 404 page, as a web server configured for it does."""
    tmp = tmp_path_factory.mktemp("subpath")
    root = write_tree(tmp / "content", TREE)
    build_site(root, tmp / "www" / "policy", today=TODAY,
               config_file=_config_with(tmp, site_url="https://zwfw.example.gov.cn/policy/"))
    shutil.copy(tmp / "www" / "policy" / "404.html", tmp / "www" / "404.html")
    return tmp / "www"


def _links(html: str) -> list[str]:
    return re.findall(r'(?:src|href|action)="([^"#]+)"', html)


def test_404_page_links_stay_under_the_sites_sub_path(hosted):
    html = (hosted / "policy" / "404.html").read_text(encoding="utf-8")
    local = [u for u in _links(html) if not u.startswith(("http:", "https:", "mailto:", "data:"))]
    assert any(u.endswith(".css") for u in local) and any(u.endswith(".js") for u in local)
    outside = [u for u in local if not u.startswith(SUB)]
    assert not outside, outside
    missing = [u for u in local if not (hosted / u.lstrip("/").split("?")[0]).exists()]
    assert not missing, missing


@needs_chromium
def test_404_page_is_styled_and_scripted_at_any_depth_under_the_sub_path(browser, hosted):
    server, base = serve(hosted, _QuietSite)
    try:
        context = browser.new_context(locale="zh-CN")
        pg = context.new_page()
        failed, errors = [], []
        pg.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        response = pg.goto(base + "policy/policies/no/such-page.html")
        pg.wait_for_load_state("load")
        assert response.status == 404
        assert failed == [f"404 {base}policy/policies/no/such-page.html"]  # nothing else was missing
        assert not errors, errors
        assert pg.evaluate("[...document.styleSheets].some(s => s.href && s.href.includes('/policy/assets/'))")
        assert pg.evaluate("typeof window.document$ !== 'undefined'")  # Material's bundle ran
        home = pg.locator("a.md-header__button.md-logo").get_attribute("href")
        assert home.startswith(SUB)
        context.close()
    finally:
        stop(server)
