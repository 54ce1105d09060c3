"""A large catalogue is split into static pages (policies/index-2.html, …): every row is reachable
without JavaScript through the pager, and in Chromium the filter on page 1 covers every page."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from browser_helpers import desktop_page, expect, needs_chromium, served
from conftest import write_tree

from policykb.site import generate
from policykb.site.build import build_site

TODAY = dt.date(2026, 3, 1)
N = 30


def _tree(root: Path) -> Path:
    files = {}
    for i in range(N):
        region = "天津市/滨海新区" if i == N - 1 else "天津市"
        cat = "金融支持" if i == N - 1 else "科技创新"
        apply = "apply:\n  deadline: 2026-03-10\n" if i == 0 else ""  # a row of the last page with a deadline
        files[f"policies/p{i:02d}.md"] = (f"---\ntitle: 分页政策{i:02d}号\npublished: 2025-{1 + i % 12:02d}-{1 + i:02d}\n"
                                          f"categories: [{cat}]\nregion: {region}\n{apply}---\n正文。\n")
    return write_tree(root, files)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("catpages")
    mp = pytest.MonkeyPatch()
    mp.setattr(generate, "CATALOGUE_PAGE_ROWS", 12)
    try:
        yield build_site(_tree(base / "content"), base / "site", today=TODAY).out
    finally:
        mp.undo()


def test_catalogue_is_split_and_every_row_is_reachable_without_javascript(site):
    pages = sorted(site.glob("policies/index*.html"))
    assert [p.name for p in pages] == ["index-2.html", "index-3.html", "index.html"]
    seen, queue, visited = set(), ["index.html"], set()
    while queue:  # follow the pager links, as a reader without JavaScript would
        name = queue.pop()
        if name in visited:
            continue
        visited.add(name)
        html = (site / "policies" / name).read_text(encoding="utf-8")
        body = html.split('id="pkb-catalogue"', 1)[1].split("</table>", 1)[0]
        rows = re.findall(r"分页政策(\d\d)号</a>", body)
        assert 0 < len(rows) <= 12
        seen.update(rows)
        pager = re.search(r'<nav class="pkb-pager".*?</nav>', html, re.S).group(0)
        queue += re.findall(r'href="(index(?:-\d+)?\.html)"', pager)
    assert visited == {"index.html", "index-2.html", "index-3.html"}
    assert seen == {f"{i:02d}" for i in range(N)}
    first = (site / "policies" / "index.html").read_text(encoding="utf-8")
    assert "共 30 项" in first and 'rel="next"' in first


@needs_chromium
def test_filter_on_page_one_finds_a_row_of_a_later_page(site, browser):
    first = (site / "policies" / "index.html").read_text(encoding="utf-8")
    assert "分页政策00号" not in first  # the oldest policy lives on the last page
    with served(site) as url, desktop_page(browser, TODAY, only_from=url) as pg:
        requests = []
        pg.on("request", lambda r: requests.append(r.url))
        pg.goto(f"{url}policies/index.html")
        pg.wait_for_selector("#pkb-filters:not([hidden])")
        pg.fill("[data-filter-text]", "分页政策00号")
        visible = pg.locator("#pkb-catalogue tbody tr:not([hidden])")
        expect(visible).to_have_count(1)
        assert "分页政策00号" in visible.inner_text()
        assert pg.locator("[data-count]").inner_text() == "1"
        # The later pages' rows came as compact JSON, not as their HTML, and look as built.
        assert not [u for u in requests if "index-2.html" in u or "index-3.html" in u]
        assert any(re.search(r"/policies/catalogue-1\.[0-9a-f]{10}\.json$", u) for u in requests)
        assert "即将截止 · 剩余 9 天" in visible.inner_text() and "2026-03-10" in visible.inner_text()
        assert visible.locator("a").get_attribute("href") == "p00.html"
        # the region filter ("适用于…的企业", the --region meaning) across pages: a 滨海新区
        # company sees the Tianjin policies too; a category filter finds the one 金融支持 row.
        pg.fill("[data-filter-text]", "")
        pg.select_option("select[data-filter=categories]", "金融支持")
        expect(visible).to_have_count(1)
        pg.select_option("select[data-filter=categories]", "")
        pg.select_option("select[data-filter=region]", "天津市/滨海新区")
        expect(visible).to_have_count(N)
        assert pg.locator("[data-pager]").is_hidden()
