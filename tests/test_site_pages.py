"""The site's pages as readers and officers meet them (issue 9): countdowns computed in the
browser, the region filter's "applies to" meaning, pages that work without JavaScript, contrast,
the public/internal split of the editor guide, the feed and sitemap, the preview server's 404,
the internal ledger's filter, sort and flags; and the build's one load and stale-folder cleanup.

Real MkDocs builds of a fixture tree; real headless Chromium for what a person sees.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from browser_helpers import expect, needs_chromium, serve, shot, stop
from conftest import PROJECT, TEST_OUTPUT, write_tree
from site_contrast import CONTRAST_JS
from test_site_build import TODAY, TREE

from policykb.content.diagnostics import ContentInvalid
from policykb.content.loader import load_content
from policykb.content.models import Apply
from policykb.site.build import build_site, figures_of
from policykb.site.generate import SiteInput, generate_docs
from policykb.site.gitdates import GitInfo

SHOTS = TEST_OUTPUT / "site"
ZONE = "天津市/滨海新区/滨海高新区"

MORE = {
    "policies/national/national-sme-tax-2025.md": """
        ---
        title: 全国小微企业所得税优惠政策
        issuer: 财政部
        region: 全国
        published: 2025-01-10
        categories: [税费减免]
        summary: 小型微利企业减按25%计入应纳税所得额。
        apply:
          deadline: 2026-12-31
        ---
        全国统一政策。
        """,
    "policies/tianjin/tj-talent-2025.md": """
        ---
        title: 天津市人才引进奖励办法
        issuer: 天津市人力资源和社会保障局
        region: 天津市
        published: 2025-02-01
        categories: [人才就业]
        summary: 引进人才给予奖励。
        ---
        天津市政策。
        """,
    "policies/other/other-district-2025.md": """
        ---
        title: 其他区厂房租金补贴办法
        issuer: 某某区人民政府
        region: 天津市/某某区
        published: 2025-02-02
        categories: [生活配套]
        summary: 只适用于某某区。
        ---
        别的区的政策。
        """,
    "issues/2026/2026-0003.md": """
        ---
        title: 本周到期的诉求
        received: 2026-02-20
        category: 审批
        status: assigned
        department: 区行政审批局
        due: 2026-03-05
        ---
        需要本周办结。
        """,
}

pytestmark = pytest.mark.skipif(not (PROJECT / "mkdocs.yml").is_file(), reason="project config missing")
needs_browser = needs_chromium


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return write_tree(tmp_path_factory.mktemp("pages") / "content", {**TREE, **MORE})


@pytest.fixture(scope="module")
def public(tree):
    return build_site(tree, tree.parent / "public", profile="public", today=TODAY)


@pytest.fixture(scope="module")
def internal(tree):
    return build_site(tree, tree.parent / "internal", profile="internal", today=TODAY)


def _page(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


def _config_with(tmp_path: Path, **changes) -> Path:
    """A copy of the project's mkdocs.yml with absolute paths and the given keys changed."""
    config = yaml.safe_load((PROJECT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["theme"]["custom_dir"] = str(PROJECT / config["theme"]["custom_dir"])
    for p in config.get("plugins") or []:
        if isinstance(p, dict) and "search" in p and p["search"].get("jieba_dict_user"):
            p["search"]["jieba_dict_user"] = str(PROJECT / p["search"]["jieba_dict_user"])
    config.update(changes)
    cfg = tmp_path / "mkdocs.yml"
    cfg.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return cfg


# --------------------------------------------------------------------------- build output

def test_region_filter_means_applies_to_a_company_there(public):
    cat = _page(public.out, "policies/index.html")
    assert "适用于…的企业" in cat
    rows = {re.search(r'<a href="([^"]+)\.html"', r).group(1): r
            for r in re.findall(r"<tr data-categories=.*?</tr>", cat, re.S)}
    applies = {pid: re.search(r'data-region="([^"]*)"', r).group(1).split("|") for pid, r in rows.items()}
    # A company in the zone: its own, the district's, the city's and the national policies.
    for pid in ("zone-tech-upgrade-2025", "zone-loan-interest-2025", "tj-talent-2025", "national-sme-tax-2025",
                "plain-title-only"):
        assert ZONE in applies[pid], pid
    assert ZONE not in applies["other-district-2025"]  # another district's policy does not apply
    assert "天津市/某某区" in applies["tj-talent-2025"] and "天津市/某某区" not in applies["zone-tech-upgrade-2025"]
    option = re.search(rf'<option value="{ZONE}">{ZONE}（(\d+)）</option>', cat)
    assert option and int(option.group(1)) == sum(ZONE in a for a in applies.values())


def test_catalogue_table_is_accessible(public):
    cat = _page(public.out, "policies/index.html")
    assert re.search(r'<table class="pkb-catalogue" id="pkb-catalogue">\s*<caption>现行政策目录', cat)
    head = re.search(r"<thead>(.*?)</thead>", cat, re.S).group(1)
    assert head.count("<th") == head.count('scope="col"') == 6
    assert re.search(r'<p class="pkb-count" role="status" aria-live="polite">', cat)


def test_pages_carry_dates_and_the_build_date(public):
    page = _page(public.out, "policies/zone-tech-upgrade-2025.html")
    assert 'data-countdown="2026-03-15"' in page and 'data-deadline-state="2026-03-15"' in page
    assert "剩余 14 天" in page  # the no-JavaScript fallback, as of the build
    assert "数据更新于 2026-03-01" in page
    assert 'data-expires="2027-12-31"' in page  # a notice shown by the browser once the date has passed
    cat = _page(public.out, "policies/index.html")
    assert 'data-deadline="2026-03-15"' in cat and "数据更新于 2026-03-01" in cat


def _search_docs(site):
    """What the site search shows for each record (policykb/site/sitesearch, search/d/<generation>/)."""
    from policykb.site.sitesearch.query import SiteIndex
    ix = SiteIndex(site)
    return [ix.doc(i) for i in range(ix.manifest["n"])]


def test_feed_and_search_index_carry_dates_not_countdowns(public):
    feed = (public.out / "feed.xml").read_text(encoding="utf-8")
    assert "申报截止 2026-03-15" in feed and "剩余" not in feed and "即将截止" not in feed
    text = " ".join(json.dumps(d, ensure_ascii=False) for d in _search_docs(public.out))  # the site search's records
    assert "2026-03-15" in text
    assert "剩余" not in text and "即将截止" not in text  # the index carries dates, not countdowns


def test_feed_links_are_absolute_with_site_url_and_a_sitemap_is_written(tree, tmp_path):
    cfg = _config_with(tmp_path, site_url="https://zwfw.example.gov.cn/policy/")
    result = build_site(tree, tmp_path / "site", today=TODAY, config_file=cfg)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring((result.out / "feed.xml").read_bytes())
    links = [e.get("href") for e in feed.iter("{http://www.w3.org/2005/Atom}link")]
    assert links and all(h.startswith("https://zwfw.example.gov.cn/policy/") for h in links), links
    assert "https://zwfw.example.gov.cn/policy/policies/zone-tech-upgrade-2025.html" in links
    assert feed.findtext("a:entry/a:title", namespaces=ns)
    sitemap = (result.out / "sitemap.xml").read_text(encoding="utf-8")
    assert "https://zwfw.example.gov.cn/policy/policies/zone-tech-upgrade-2025.html" in sitemap
    assert not result.notices


def test_without_site_url_the_build_says_so_and_writes_no_sitemap(public, tree, tmp_path, cli):
    assert not (public.out / "sitemap.xml").exists() and not (public.out / "sitemap.xml.gz").exists()
    assert any("site_url" in n and "站点地图" in n for n in public.notices)
    r = cli("build", "--content", tree, "--out", tmp_path / "site", "--today", "2026-03-01")
    assert r.exit_code == 0 and "未设置 site_url" in r.output
    feed = ET.fromstring((tmp_path / "site" / "feed.xml").read_bytes())
    assert all(not e.get("href").startswith("http") for e in feed.iter("{http://www.w3.org/2005/Atom}link"))


def test_feed_is_escaped_by_construction(make_tree, tmp_path):
    root = make_tree({"policies/p.md": "---\ntitle: '甲 & 乙 <b>\"引号\"</b> ]]>'\npublished: 2025-01-01\n"
                                       "summary: '<![CDATA[x]]>'\n---\n正文。\n"})
    result = build_site(root, tmp_path / "site", today=TODAY)
    feed = ET.fromstring((result.out / "feed.xml").read_bytes())  # well-formed
    title = feed.findtext("{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}title")
    assert title.startswith('甲 & 乙 <b>"引号"</b> ]]>')


def test_editor_guide_is_internal_only_public_gets_how_to_propose_a_change(public, internal):
    assert (public.out / "contribute.html").is_file() and not (public.out / "guide.html").exists()
    home = _page(public.out, "index.html")
    assert "如何提出修改" in home and "编辑指南" not in home
    assert not any(d["url"].startswith("guide.html") for d in _search_docs(public.out))
    guide = PROJECT / "docs" / "editor-guide.md"
    if guide.is_file():
        assert (internal.out / "guide.html").is_file() and "编辑指南" in _page(internal.out, "index.html")


def test_internal_pages_are_noindex_public_pages_are_not(public, internal):
    for rel in ("index.html", "ledger/index.html", "ledger/2026-0001.html"):
        assert '<meta name="robots" content="noindex, nofollow">' in _page(internal.out, rel), rel
    assert 'name="robots"' not in _page(public.out, "index.html")


def test_ledger_flags_items_due_this_week(internal):
    ledger = _page(internal.out, "ledger/index.html")
    week = ledger.split('id="due-this-week"')[1].split('id="overdue"')[0]
    assert "本周到期的诉求" in week and "本周到期" in week and "pkb-due-week" in week
    assert "CANARY-TITLE" not in week  # overdue, listed under 已超期 instead
    assert 'data-due="2026-03-05"' in ledger and "pkb-ledger-filters" in ledger


def test_csp_meta_on_every_page_forbids_inline_script(public, internal):
    for site in (public.out, internal.out):
        for path in site.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            m = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text)
            assert m, path
            script_src = re.search(r"script-src ([^;]+)", m.group(1)).group(1)
            assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
            assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text), path


def test_public_build_loads_and_validates_the_tree_once(tree, tmp_path, monkeypatch):
    from policykb.content import loader, validate
    calls = {"load": 0, "validate": 0}
    real_load, real_validate = loader.load_content, validate.validate

    def counting_load(*a, **k):
        calls["load"] += 1
        return real_load(*a, **k)

    def counting_validate(*a, **k):
        calls["validate"] += 1
        return real_validate(*a, **k)

    monkeypatch.setattr(loader, "load_content", counting_load)
    monkeypatch.setattr(validate, "validate", counting_validate)
    result = build_site(tree, tmp_path / "site", today=TODAY)
    assert calls == {"load": 1, "validate": 1}
    assert not (result.out / "ledger").exists()


def test_figures_are_a_pure_function_of_the_records(tree):
    content = load_content(tree)
    a = figures_of(content.issues, content.taxonomy, TODAY, "public")
    b = figures_of(list(reversed(content.issues)), content.taxonomy, TODAY, "public")
    assert a == b and a.total["collected"] == len(content.issues) and not a.by_department
    assert figures_of(content.issues, content.taxonomy, TODAY, "internal").by_department


def test_stale_build_folders_from_killed_builds_are_cleaned(tree, tmp_path):
    out = tmp_path / "site"
    dead = 2 ** 22 + 12345  # above Linux's default pid_max: no such process
    stale = [tmp_path / f".site.tmp-{dead}-abc", tmp_path / f".site.old-{dead}"]
    legacy = tmp_path / ".site.tmp-k3j2h1"  # an older build's name, without a pid
    live = tmp_path / f".site.tmp-{os.getppid()}-xyz"  # another build still running
    for d in (*stale, legacy, live):
        d.mkdir()
        (d / "index.html").write_text("half", encoding="utf-8")
    old = dt.datetime(2020, 1, 1).timestamp()
    os.utime(legacy, (old, old))
    build_site(tree, out, today=TODAY)
    assert not any(d.exists() for d in (*stale, legacy))
    assert live.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".site.")) == [live.name]


def test_rolling_deadline_is_shown_as_written_and_filterable(tree, tmp_path):
    """Rendering of a text deadline (常年受理). The record model may not accept it yet (another lane);
    the renderer is checked on a loaded tree with the value set, and the build when the model allows."""
    content = load_content(tree, include_issues=False)
    policy = next(p for p in content.policies if p.id == "tj-talent-2025")
    policy.apply = Apply.model_construct(deadline="按年度通知申报")
    docs = tmp_path / "docs"
    generate_docs(SiteInput(content=content, profile="public", today=TODAY, site_name="测试", git=GitInfo(),
                            figures=figures_of([], content.taxonomy, TODAY, "public")), docs)
    cat = (docs / "policies" / "index.md").read_text(encoding="utf-8")
    row = next(r for r in re.findall(r"<tr data-categories=.*?</tr>", cat, re.S) if "天津市人才引进奖励办法" in r)
    assert 'data-status="常年受理"' in row and "按年度通知申报" in row and 'data-deadline=""' in row
    assert re.search(r'<option value="常年受理">常年受理（1）</option>', cat)
    page = (docs / "policies" / "tj-talent-2025.md").read_text(encoding="utf-8")
    assert "按年度通知申报" in page and "data-countdown" not in page

    rolling = write_tree(tmp_path / "content2", {"policies/r.md": "---\ntitle: 常年受理的政策\npublished: 2025-01-01\n"
                                                                "apply:\n  deadline: 常年受理\n---\n正文。\n"})
    try:
        result = build_site(rolling, tmp_path / "site2", today=TODAY)
    except ContentInvalid as e:
        if any(d.code == "bad-date" for d in e.diagnostics):
            pytest.skip("the record model does not accept text deadlines yet")
        raise
    assert 'data-status="常年受理"' in _page(result.out, "policies/index.html")


def test_preview_server_answers_a_missing_path_with_the_sites_404(public):
    from policykb.cli.site import SiteHandler

    class Quiet(SiteHandler):
        def log_message(self, *args):
            pass

    server, base = serve(public.out, Quiet)
    try:
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(base + "policies/no-such-page.html", timeout=10)
        assert e.value.code == 404
        body = e.value.read().decode("utf-8")
        assert body == _page(public.out, "404.html") and 'lang="zh"' in body
        assert "Error response" not in body and "Nothing matches" not in body
        with urllib.request.urlopen(base + "index.html", timeout=10) as ok:
            assert ok.status == 200
    finally:
        stop(server)


# --------------------------------------------------------------------------- in the browser

@pytest.fixture(scope="module")
def public_url(public):
    server, base = serve(public.out)
    yield base
    stop(server)


@pytest.fixture(scope="module")
def internal_url(internal):
    server, base = serve(internal.out)
    yield base
    stop(server)


@pytest.fixture
def context_factory(browser):
    made = []

    def make(**kw):
        ctx = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, "locale": "zh-CN", **kw})
        made.append(ctx)
        return ctx
    yield make
    for ctx in made:
        ctx.close()


def _shot(pg, name: str) -> None:
    shot(pg, SHOTS, name)


@needs_browser
def test_countdowns_are_computed_for_the_readers_today(context_factory, public_url):
    pg = context_factory().new_page()
    pg.clock.set_fixed_time(dt.datetime(2026, 3, 20, 10, 0))  # five days after the deadline, 19 after the build
    pg.goto(public_url + "policies/zone-tech-upgrade-2025.html")
    assert pg.locator("[data-countdown]").first.inner_text() == "已截止"
    state = pg.locator("[data-deadline-state]").first
    assert "pkb-state--申报已截止" in state.get_attribute("class")
    pg.goto(public_url + "policies/index.html")
    row = pg.locator("#pkb-catalogue tr", has_text="高新区支持企业技术改造项目补助办法")
    assert row.get_attribute("data-status") == "申报已截止"
    assert "申报已截止" in row.locator("[data-deadline-state]").inner_text()
    options = pg.locator("select[data-filter=status] option").all_inner_texts()
    assert any(o.startswith("申报已截止") for o in options)
    pg.locator("select[data-filter=status]").select_option("申报已截止")
    assert pg.locator("#pkb-catalogue tbody tr:not([hidden])").count() >= 1

    pg.clock.set_fixed_time(dt.datetime(2026, 3, 10, 10, 0))
    pg.goto(public_url + "index.html")
    assert "剩余 5 天" in pg.locator("#deadlines ~ ul [data-countdown]").first.inner_text()
    # After the expiry date the page says so, though it was built as current.
    pg.clock.set_fixed_time(dt.datetime(2028, 1, 2, 10, 0))
    pg.goto(public_url + "policies/zone-tech-upgrade-2025.html")
    assert pg.locator(".pkb-expired-since").is_visible()
    assert "2027-12-31" in pg.locator(".pkb-expired-since").inner_text()


@needs_browser
def test_without_javascript_the_fallbacks_make_sense(context_factory, public_url):
    pg = context_factory(java_script_enabled=False).new_page()
    pg.goto(public_url + "policies/zone-tech-upgrade-2025.html")
    assert "剩余 14 天" in pg.locator("[data-countdown]").first.inner_text()  # the build-time text
    assert not pg.locator(".pkb-expired-since").is_visible()
    pg.goto(public_url + "policies/index.html")
    assert not pg.locator("#pkb-filters").is_visible()  # a form that would do nothing stays hidden
    assert pg.locator("#pkb-catalogue tbody tr:visible").count() == pg.locator("#pkb-catalogue tbody tr").count()
    pg.goto(public_url + "index.html")
    pg.fill(".pkb-hero-search input[name=q]", "技改")
    pg.press(".pkb-hero-search input[name=q]", "Enter")
    pg.wait_for_load_state("load")
    assert re.search(r"/(policies/index|search)\.html\?q=", pg.url), pg.url
    h1 = pg.locator("h1").first.inner_text()
    assert h1 == "政策目录" or h1.startswith("搜索"), h1


@needs_browser
def test_region_filter_in_the_browser(context_factory, public_url):
    pg = context_factory().new_page()
    pg.goto(public_url + "policies/index.html?region=" + ZONE)
    visible = pg.locator("#pkb-catalogue tbody tr:not([hidden])").all_inner_texts()
    text = "\n".join(visible)
    assert "全国小微企业所得税优惠政策" in text and "天津市人才引进奖励办法" in text
    assert "其他区厂房租金补贴办法" not in text
    assert pg.locator("[data-count]").inner_text() == str(len(visible))


CHECKED = (".pkb-reset", ".pkb-state", ".pkb-tag", ".pkb-status", ".pkb-deadline", ".pkb-muted", ".pkb-chip",
           ".pkb-chip-count", ".pkb-count", ".pkb-filter > span", ".pkb-lead", ".pkb-hero-stats", ".pkb-build-date",
           ".pkb-kpi-label", ".pkb-alert", ".pkb-due-flag", "caption", ".md-typeset a")


@needs_browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(context_factory, public_url, internal_url, scheme):
    pg = context_factory(color_scheme=scheme).new_page()
    failures, seen = [], set()
    for url in (public_url + "index.html", public_url + "policies/index.html",
                public_url + "policies/zone-tech-upgrade-2025.html", public_url + "policies/zone-tech-upgrade-2022.html",
                public_url + "stats.html", internal_url + "ledger/index.html"):
        pg.goto(url)
        expected = "slate" if scheme == "dark" else "default"
        expect(pg.locator("body")).to_have_attribute("data-md-color-scheme", expected)  # no eval under the CSP
        for sel in CHECKED:
            for item in pg.evaluate(CONTRAST_JS, sel):
                seen.add(sel)
                if item["ratio"] < item["need"]:
                    failures.append(f"{url.split('/', 3)[-1]} {sel} “{item['text']}” {item['ratio']:.2f}:1 "
                                    f"({item['size']:.1f}px, needs {item['need']})")
        if url.endswith("policies/index.html"):
            _shot(pg, f"catalogue-{scheme}")
    assert {".pkb-reset", ".pkb-state", ".pkb-tag", ".pkb-status", ".pkb-deadline", ".pkb-alert"} <= seen
    assert not failures, "\n".join(failures)


@needs_browser
def test_ledger_filter_and_sort(context_factory, internal_url):
    pg = context_factory().new_page()
    pg.goto(internal_url + "ledger/index.html")
    assert pg.locator("#pkb-ledger-filters").is_visible()
    rows = pg.locator("#open ~ .pkb-table-wrap table[data-ledger-table]").first.locator("tbody tr")
    assert rows.count() == 2
    pg.fill("[data-ledger-text]", "区行政审批局")
    table = pg.locator("table[data-ledger-table]")
    shown = pg.locator("table[data-ledger-table] tbody tr:not([hidden])").all_inner_texts()
    assert shown and all("本周到期的诉求" in s for s in shown)
    assert "符合条件" in pg.locator("[data-ledger-count]").inner_text()
    pg.fill("[data-ledger-text]", "")
    open_table = table.nth(2)  # due this week, overdue, open, closed
    open_table.locator("th[data-sort-key=received] button").click()
    dates = open_table.locator("tbody tr").evaluate_all("rs => rs.map(r => r.dataset.received)")
    assert dates == sorted(dates)
    open_table.locator("th[data-sort-key=received] button").click()
    dates = open_table.locator("tbody tr").evaluate_all("rs => rs.map(r => r.dataset.received)")
    assert dates == sorted(dates, reverse=True)
    assert open_table.locator("th[data-sort-key=received]").get_attribute("aria-sort") == "descending"
    _shot(pg, "ledger")
    pg.set_viewport_size({"width": 375, "height": 800})
    assert pg.evaluate("document.documentElement.scrollWidth") <= 375
    _shot(pg, "ledger-phone")


def test_body_headings_join_the_table_of_contents_and_stay_text(public):
    page = _page(public.out, "policies/zone-tech-upgrade-2025.html")
    m = re.search(r'<h3 id="([^"]+)">支持内容', page)
    assert m, "the body's heading is a real heading"
    toc = page.split('md-nav--secondary')[1]
    assert f'href="#{m.group(1)}"' in toc
    assert '<div class="pkb-body">' in page and "按生产性设备投资额的10%给予补助。" in page


@needs_browser
def test_ledger_flags_are_recomputed_for_the_readers_today(context_factory, internal_url):
    pg = context_factory().new_page()
    pg.clock.set_fixed_time(dt.datetime(2026, 3, 10, 9, 0))  # the build said "due this week" (due 03-05)
    pg.goto(internal_url + "ledger/index.html")
    row = pg.locator("#open ~ .pkb-table-wrap tr[data-id='2026-0003']").first
    assert row.locator("[data-due-flag]").inner_text().strip() == "超期 5 天"
    assert "pkb-overdue" in row.get_attribute("class")
    closed = pg.locator("tr[data-id='2026-0002']").first  # closed records are never flagged
    assert "超期" not in closed.inner_text()
