"""The site's own search in real headless Chromium (Debian's /usr/bin/chromium): the fixed
interface window.policykb.search on every page, the search box and results page, and the
parity of the browser client with the Python reference (policykb/site/sitesearch/query.py)."""
from __future__ import annotations

import datetime as dt
import gzip
import os
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from browser_helpers import built_site, desktop_page, needs_chromium, serve, shot, stop, wait
from conftest import BUNDLED, NCP, PROJECT, TEST_OUTPUT, write_tree
from test_site_search import TREE

from policykb.search.eval import load_questions
from policykb.site.build import build_site
from policykb.site.sitesearch.query import SiteIndex

SHOTS = TEST_OUTPUT / "site"
TODAY = dt.date(2026, 12, 1)  # the build's day and the browser's clock: the bundled content ages
PARITY = 0.98
NCP_DIR = Path(os.environ.get("POLICYKB_NCP") or NCP)  # the NCP dev set (never copied into the project)

pytestmark = [needs_chromium]


@pytest.fixture(scope="module")
def tree_site(tmp_path_factory):
    root = write_tree(tmp_path_factory.mktemp("browser-search") / "content", TREE)
    with built_site(root, root.parent / "site", TODAY) as served_site:
        yield served_site


@pytest.fixture(scope="module")
def bundled_site(tmp_path_factory):
    if not (BUNDLED / "policies").is_dir():
        pytest.skip("bundled content not present")
    with built_site(BUNDLED, tmp_path_factory.mktemp("browser-bundled") / "site", TODAY) as served_site:
        yield served_site


@pytest.fixture
def page(browser):
    with desktop_page(browser, TODAY) as pg:
        yield pg


def _ready(pg):
    wait(pg, "window.policykb && typeof window.policykb.search === 'function'")


def _results(pg) -> list[dict]:
    wait(pg, "document.querySelector('[data-search-status]').textContent.startsWith('找到') || "
             "document.querySelector('[data-search-status]').textContent.startsWith('没有')")
    return pg.locator(".pkb-result").evaluate_all(
        "rs => rs.map(r => ({id: r.dataset.id, status: r.dataset.status || null, text: r.innerText,"
        " marks: [...r.querySelectorAll('mark')].map(m => m.textContent)}))")


def _search_box(pg, base: str, q: str) -> list[dict]:
    pg.goto(base + "index.html")
    box = pg.locator("input.pkb-searchbox__input")
    box.focus()
    pg.keyboard.type(q)
    pg.keyboard.press("Enter")
    pg.wait_for_url("**/search.html?q=*")
    return _results(pg)


# ------------------------------------------------------------------------- the interface

def test_every_page_exposes_search_and_loads_no_index(page, bundled_site):
    site, base = bundled_site
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    for path in ("index.html", "policies/index.html", "faq/index.html", "stats.html"):
        page.goto(base + path)
        _ready(page)
    assert not [u for u in requests if "/search/" in u], "the index must not be preloaded"
    # What a page load costs (gzip), theme assets included.
    page_bytes = 0
    for u in dict.fromkeys(u for u in requests if u.startswith(base)):
        rel = urlparse(u).path.lstrip("/") or "index.html"
        f = site / rel
        if f.is_file() and "/policies/" not in u and "/faq/" not in u and "stats" not in u:
            page_bytes += len(gzip.compress(f.read_bytes()))
    assert page_bytes <= 250_000, page_bytes
    requests.clear()
    hits = page.evaluate("window.policykb.search('技改补贴怎么申请', {top: 5})")
    assert 1 <= len(hits) <= 5
    assert set(hits[0]) >= {"id", "type", "title", "url", "status", "score", "snippet"}
    assert all(urlparse(u).netloc == urlparse(base).netloc for u in requests)  # nothing from other hosts
    assert any(u.endswith("/search/manifest.json") for u in requests)
    assert sum("/search/t/" in u for u in requests) < 60  # only the question's shards


def test_browser_ranks_as_the_python_reference(page, bundled_site):
    site, base = bundled_site
    qs = [q.q for f in ("questions.yml", "holdout.yml") for q in load_questions(PROJECT / "search" / "eval" / f)]
    ref = SiteIndex(site)
    expected = [[h["id"] for h in ref.search(q, top=10)] for q in qs]
    page.goto(base + "index.html")
    _ready(page)
    got = page.evaluate("async qs => { const out = []; for (const q of qs) out.push((await window.policykb.search(q, {top: 10})).map(h => h.id)); return out; }", qs)
    same = sum(a == b for a, b in zip(got, expected))
    assert same / len(qs) >= PARITY, [(q, a, b) for q, a, b in zip(qs, got, expected) if a != b][:5]
    assert sum(bool(e) for e in expected) > 0.9 * len(qs)


@pytest.mark.slow
@pytest.mark.skipif(not (NCP_DIR / "questions.jsonl").is_file(), reason="NCP evaluation set not present")
def test_browser_matches_the_reference_on_ncp(browser, tmp_path):
    site = build_site(NCP_DIR / "content", tmp_path / "site").out
    server, base = serve(site)
    try:
        questions = load_questions(NCP_DIR / "questions.jsonl")
        ref = SiteIndex(site)
        expected = [[h["id"] for h in ref.search(q.q, top=10)] for q in questions]
        pg = browser.new_page()
        pg.goto(base + "index.html")
        _ready(pg)
        got = pg.evaluate("async qs => { const out = []; for (const q of qs) out.push((await window.policykb.search(q, {top: 10})).map(h => h.id)); return out; }",
                          [q.q for q in questions])
        # Answer time once the shards are in (every shard is cached by now).
        ms = pg.evaluate("async qs => { const out = []; for (const q of qs) out.push((await window.policykb._site.rank(q, {top: 10})).ms); return out; }",
                         [q.q for q in questions])
        pg.close()
        # Cold first searches: what a browser with an empty cache downloads (gzip of the files).
        cold = []
        for q in questions[::32]:
            context = browser.new_context()
            p2 = context.new_page()
            urls = []
            p2.on("request", lambda r, urls=urls: urls.append(urlparse(r.url).path))
            p2.goto(base + "index.html")
            _ready(p2)
            urls.clear()
            p2.evaluate("q => window.policykb.search(q, {top: 10})", q.q)
            cold.append(sum(len(gzip.compress((site / u.lstrip("/")).read_bytes())) for u in set(urls)))
            context.close()
    finally:
        stop(server)
    same = sum(a == b for a, b in zip(got, expected)) / len(questions)
    ranks = [next((k for k, i in enumerate(g[:10], 1) if i in q.expect), None) for q, g in zip(questions, got)]
    n = len(questions)
    r1, r5 = sum(r == 1 for r in ranks) / n, sum(bool(r) and r <= 5 for r in ranks) / n
    mrr = sum(1 / r for r in ranks if r) / n
    ms.sort()
    cold.sort()
    print(f"NCP in Chromium: parity {same:.3f}; recall@1 {r1:.3f}, recall@5 {r5:.3f}, MRR@10 {mrr:.3f}; "
          f"answer after shards median {ms[len(ms) // 2]:.1f} ms, max {ms[-1]:.1f} ms; "
          f"cold first search median {cold[len(cold) // 2] / 1024:.0f} KB gzip ({len(cold)} questions)")
    assert same >= PARITY


# ------------------------------------------------------------------------- the search box

def test_traditional_question_through_the_search_box(page, tree_site):
    _, base = tree_site
    results = _search_box(page, base, "穩崗返還的錢沒到賬")
    assert [r["id"] for r in results[:2]] == ["faq-job-retention", "hitech-job-retention"]
    assert "稳岗返还" in results[0]["marks"] and "稳岗返还" in results[1]["marks"]  # title, snippet: whole words
    assert all(len(m) >= 2 for r in results for m in r["marks"])  # whole words, never single characters
    assert page.locator("[data-search-status][aria-live=polite]").inner_text().startswith("找到")


@pytest.mark.parametrize("q, first", [("鸡改项目补助", "tech-upgrade-2025"), ("高企奖励", "hte-reward")])
def test_homophone_slip_and_abbreviation(page, tree_site, q, first):
    _, base = tree_site
    assert _search_box(page, base, q)[0]["id"] == first


def test_region_filter_shows_what_applies_to_a_company_there(page, tree_site):
    _, base = tree_site
    page.goto(base + "search.html?q=" + quote("稳岗返还"))
    assert "liangjiang-job-retention" in [r["id"] for r in _results(page)]
    page.locator("select[name=region]").select_option(label="\u3000\u3000滨海高新区")
    wait(page, "location.search.includes('region=')")
    got = [r["id"] for r in _results(page)]
    assert {"hitech-job-retention", "tj-job-retention", "national-job-retention"} <= set(got)
    assert "liangjiang-job-retention" not in got
    # The same through the interface, with the CLI's --region meaning.
    api = page.evaluate("window.policykb.search('稳岗返还', {region: '滨海高新区'})")
    assert {h["id"] for h in api} == set(got)
    # A zone named in the question (its short name) comes first; the alias names the region.
    assert page.evaluate("window.policykb.search('两江稳岗返还')")[0]["id"] == "liangjiang-job-retention"
    assert "hitech-job-retention" not in [h["id"] for h in page.evaluate("window.policykb.search('稳岗返还', {region: '两江'})")]


def test_expired_policy_has_its_badge_and_ranks_below_its_successor(page, tree_site):
    _, base = tree_site
    page.goto(base + "search.html?q=" + quote("技改补助"))
    assert "tech-upgrade-2022" not in [r["id"] for r in _results(page)]
    page.locator("input[name=expired]").check()
    wait(page, "location.search.includes('expired=1')")
    results = _results(page)
    order = [r["id"] for r in results]
    old = results[order.index("tech-upgrade-2022")]
    assert order.index("tech-upgrade-2025") < order.index("tech-upgrade-2022")
    assert old["status"] == "expired" and "已失效" in old["text"]
    assert "申报截止" in results[order.index("tech-upgrade-2025")]["text"]
    shot(page, SHOTS, "search-results")
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot(page, SHOTS, "search-results-phone")


def test_results_page_link_is_shareable_and_keyboard_usable(page, tree_site):
    _, base = tree_site
    page.goto(base + "search.html?q=" + quote("稳岗返还") + "&type=faq")
    results = _results(page)
    assert [r["id"] for r in results] == ["faq-job-retention"]
    assert page.locator("select[name=type]").input_value() == "faq"
    page.locator("#pkb-search-q").focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("稳岗返还到账")
    page.keyboard.press("Enter")
    wait(page, "location.search.includes(encodeURIComponent('稳岗返还到账'))")
    assert [r["id"] for r in _results(page)] == ["faq-job-retention"]
    page.locator("select[name=type]").focus()
    page.keyboard.press("Tab")  # on to the region filter, then the checkbox, the button and the results
    for _ in range(6):
        if page.evaluate("document.activeElement.classList.contains('pkb-result__title')"):
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('pkb-result__title')")


def test_without_javascript_the_box_says_so_and_links_the_catalogue(browser, tree_site):
    _, base = tree_site
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    pg.goto(base + "search.html?q=" + quote("稳岗返还"))
    note = pg.locator(".pkb-search-nojs")
    assert "JavaScript" in note.inner_text()
    assert note.locator("a[href='policies/index.html']").count() == 1
    assert pg.locator("a.pkb-searchbox__nojs").count() == 1
    context.close()
