"""The built site in headless Chromium (Debian's /usr/bin/chromium; no browser downloads).

Runs against one public build of the bundled content; targets are looked up in that content,
so the tests follow it as it grows. Screenshots go to test-output/site/.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest
from browser_helpers import built_site, desktop_page, expect, needs_bundled, needs_chromium, shot
from conftest import BUNDLED, TEST_OUTPUT

from policykb.content.loader import load_content

TODAY = dt.date(2026, 12, 1)  # the build's day and the browser's clock: the bundled content ages
SHOTS = TEST_OUTPUT / "site"

pytestmark = [needs_chromium, needs_bundled]


@pytest.fixture(scope="module")
def content():
    return load_content(BUNDLED, include_issues=False)


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    with built_site(BUNDLED, tmp_path_factory.mktemp("browser") / "site", TODAY) as (_, url):
        yield url


@pytest.fixture
def page(browser):
    with desktop_page(browser, TODAY) as pg:
        yield pg


def _shot(pg, name: str) -> None:
    shot(pg, SHOTS, name)


def _search(pg, term: str) -> list[str]:
    box = pg.locator("input.pkb-searchbox__input")  # the site's own search box (header)
    box.click()
    box.fill(term)
    box.press("Enter")  # opens search.html?q=…
    pg.wait_for_selector(".pkb-result", timeout=10_000)
    return pg.locator(".pkb-result").all_inner_texts()


def _current(content, pred):
    hits = [p for p in content.policies if p.is_current(TODAY) and pred(p)]
    assert hits, "bundled content has no policy for this test"
    return hits[0]


def test_home_renders_with_search_first(page, base_url):
    page.goto(base_url + "index.html")
    assert page.locator("h1.pkb-hero-title").is_visible()
    assert page.locator(".pkb-hero-search input[name=q]").is_visible()
    assert page.locator("#deadlines").is_visible() and page.locator(".pkb-chip").count() > 3
    _shot(page, "home")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling on a phone
    _shot(page, "home-phone")


@pytest.mark.parametrize("term, pick", [
    ("技改", lambda p: "技改" in p.keywords),
    ("贴息", lambda p: "贴息" in (p.title or "")),
])
def test_search_box_finds_the_policy(page, base_url, content, term, pick):
    policy = _current(content, pick)
    page.goto(base_url + "index.html")
    results = _search(page, term)
    assert any(policy.title in r.replace("\u200b", "") for r in results[:5]), results[:5]


def test_home_search_form_opens_search_with_the_query(page, base_url, content):
    policy = _current(content, lambda p: "技改" in p.keywords)
    page.goto(base_url + "index.html")
    page.fill(".pkb-hero-search input[name=q]", "技改")
    page.press(".pkb-hero-search input[name=q]", "Enter")
    page.wait_for_selector(".pkb-result", timeout=10_000)
    texts = page.locator(".pkb-result").all_inner_texts()
    assert any(policy.title in t.replace("\u200b", "") for t in texts)


def test_catalogue_filter_narrows_the_table(page, base_url):
    page.goto(base_url + "policies/index.html")
    rows = page.locator("#pkb-catalogue tbody tr")
    total = rows.count()
    assert total > 5 and page.locator("#pkb-filters").is_visible()
    select = page.locator("select[data-filter=categories]")
    options = select.locator("option").evaluate_all("os => os.map(o => o.value).filter(Boolean)")
    term = options[-1]
    select.select_option(term)
    visible = page.locator("#pkb-catalogue tbody tr:not([hidden])")
    n = visible.count()
    assert 0 < n < total
    cats = visible.evaluate_all("rs => rs.map(r => r.dataset.categories.split('|'))")
    assert all(term in c for c in cats)
    assert page.locator("[data-count]").inner_text() == str(n)
    assert "categories=" in page.url  # the filtered view can be bookmarked
    # Sorting by date, oldest first.
    page.locator("select[data-sort]").select_option("published-asc")
    dates = [d for d in visible.evaluate_all("rs => rs.map(r => r.dataset.published)") if d]
    assert dates == sorted(dates)
    page.click(".pkb-reset")
    # (expect() polls without eval, which the site's Content-Security-Policy forbids)
    expect(page.locator("#pkb-catalogue tbody tr:not([hidden])")).to_have_count(total)
    # An entry point from the home page arrives pre-filtered.
    page.goto(base_url + f"policies/index.html?categories={quote(term)}")
    assert page.locator("#pkb-catalogue tbody tr:not([hidden])").count() == n
    _shot(page, "catalogue")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(page, "catalogue-phone")


def test_expired_policy_banner_links_to_its_replacement(page, base_url, content):
    by_id = {p.id: p for p in content.policies}
    old = next((p for p in content.policies if not p.is_current(TODAY)
                and any(r in by_id for r in p.superseded_by)), None)
    assert old is not None, "bundled content has no superseded policy"
    new = by_id[next(r for r in old.superseded_by if r in by_id)]
    page.goto(base_url + f"policies/{old.id}.html")
    banner = page.locator(".pkb-banner")
    assert banner.is_visible() and ("已失效" in banner.inner_text() or "已废止" in banner.inner_text())
    _shot(page, "policy-expired")
    page.click(".pkb-banner a.pkb-replacement")
    page.wait_for_url(f"**/policies/{new.id}.html")
    assert page.locator("article h1").first.inner_text().strip() == new.title
    assert page.locator(".pkb-card").is_visible()
    _shot(page, "policy")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(page, "policy-phone")
