"""Material's own lunr search is not part of the site (the site has its own search): its worker
and language files are left out of the build by mkdocs.yml's exclude_docs, and no page asks for
them. A real MkDocs build of a fixture tree; headless Chromium for what the pages request."""
from __future__ import annotations

import pytest
from browser_helpers import needs_chromium, served, wait
from conftest import PROJECT, write_tree
from test_site_build import TODAY, TREE

from policykb.site.build import build_site

pytestmark = pytest.mark.skipif(not (PROJECT / "mkdocs.yml").is_file(), reason="project config missing")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    root = write_tree(tmp_path_factory.mktemp("theme-assets") / "content", TREE)
    return build_site(root, root.parent / "site", today=TODAY).out


def test_lunr_and_its_worker_are_not_shipped(site):
    js = site / "assets" / "javascripts"
    assert list(js.glob("bundle.*.min.js")), "Material's bundle is still there"
    assert not (js / "lunr").exists()
    assert not list(js.glob("workers/search.*"))
    assert not (site / "search" / "search_index.json").exists()  # search/ is the site's own index
    assert (site / "search" / "manifest.json").is_file()


@needs_chromium
def test_no_page_asks_for_material_search_files(browser, site):
    with served(site) as base:
        context = browser.new_context(locale="zh-CN")
        pg = context.new_page()
        asked, failed, errors = [], [], []
        pg.on("request", lambda r: asked.append(r.url))
        pg.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        for rel in ("index.html", "policies/index.html", "search.html?q=%E6%8A%80%E6%94%B9"):
            pg.goto(base + rel)
            pg.wait_for_load_state("load")
        wait(pg, "document.querySelector('[data-search-status]').textContent.length > 0")
        hits = pg.evaluate("window.policykb.search('技改', {top: 3}).then(hs => hs.length)")
        context.close()
    assert hits > 0  # the site's own search still answers
    assert not [u for u in asked if "/lunr/" in u or "/workers/" in u]
    # Material asks for sitemap.xml beside every link[rel=alternate] (the feed); without site_url the
    # build writes no sitemap, so that one 404 is expected here (it is caught by Material).
    assert not [f for f in failed if not f.endswith("/sitemap.xml")], failed
    assert not errors, errors
