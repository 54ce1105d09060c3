"""Stored XSS: a content tree with script planted in every field, built for real, every page
loaded in headless Chromium. Nothing may run, and the markup must not even reach the DOM
(so the test would fail on an escaping hole even though the Content-Security-Policy stops it).
"""
from __future__ import annotations

import datetime as dt
import re
import textwrap
from pathlib import Path

import pytest
from browser_helpers import needs_chromium, serve, stop
from conftest import TEST_OUTPUT, write_tree

from policykb.content.loader import load_content
from policykb.site.build import build_site, figures_of
from policykb.site.generate import SiteInput, generate_docs
from policykb.site.gitdates import GitInfo
from policykb.site.views import safe_url

TODAY = dt.date(2026, 3, 1)


def js(tag: str) -> str:
    """A payload body: records which payload ran."""
    return f"window.__pwned=(window.__pwned||[]).concat(/{tag}/.source)"  # no quotes: fits any YAML/HTML quoting


BREAKOUT = f'</title><script>{js("breakout")}</script>"><img src=x onerror="{js("breakout-img")}">'
ATTR = '{: autofocus tabindex=0 onfocus="' + js("attr") + '"}'
TERM = f'<img src=x onerror="{js("term")}">'
BODY = f"""
## 小节 {ATTR}

<script>{js("body-script")}</script>
<img src="x" onerror="{js("body-img")}">
<iframe src="javascript:{js("iframe")}"></iframe>
<svg onload="{js("svg")}"></svg>
<a href="javascript:{js("body-link")}">点我</a> [也点我](javascript:{js("md-link")}) [数据](data:text/html,x)
<div onmouseover="{js("div")}" style="position:fixed;inset:0">覆盖</div>

段落 {ATTR}
"""

def rec(front: str, body: str) -> str:
    return "---\n" + textwrap.dedent(front).strip("\n") + "\n---\n" + body


TREE = {
    "taxonomy.yml": f"""
        categories: [科技创新, '{TERM}']
        enterprise_types: [中小微企业, "<svg onload=alert('type')>"]
        support: [资金补贴, "<b onclick=alert(1)>补贴</b>"]
        issue_categories: [其他, "<script>alert('issuecat')</script>"]
        """,
    "policies/x-policy.md": rec(f"""
        title: '{BREAKOUT} {ATTR}'
        doc_number: '<img src=x onerror="{js("doc")}">'
        issuer: ['<svg onload="{js("issuer")}">']
        region: '天津市/<img src=x onerror="{js("region")}">'
        published: 2025-06-01
        categories: [科技创新, '{TERM}']
        enterprise_types: ["<svg onload=alert('type')>"]
        support: ["<b onclick=alert(1)>补贴</b>"]
        keywords: ['<script>{js("kw")}</script>']
        summary: '"><script>{js("summary")}</script><meta http-equiv="refresh" content="0;url=javascript:alert(1)">'
        apply:
          department: '<script>{js("dept")}</script>'
          phone: '"><script>{js("phone")}</script>'
          how: '<img src=x onerror="{js("how")}">'
          deadline: 2026-03-20
        """, BODY),
    "policies/x-second.md": rec(f"""
        title: '第二项政策 {ATTR}'
        published: 2025-07-01
        categories: ['{TERM}']
        summary: |
          正常摘要，后面换行试图结束 HTML 块

          {ATTR}

          [链接](javascript:{js("nl-link")})
        apply:
          how: |
            第一行

            <img src=x onerror="{js("nl-how")}">
            {ATTR}
        """, '正文。\n'),
    "faq/x-faq.md": rec(f"""
        question: '怎么申报？{ATTR} <script>{js("question")}</script>'
        aliases: ['<img src=x onerror="{js("alias")}">']
        categories: ['{TERM}']
        policies: [x-policy]
        department: '<script>{js("faqdept")}</script>'
        updated: 2026-01-10
        """, BODY),
    "issues/2026/2026-0001.md": rec(f"""
        title: '{BREAKOUT} {ATTR}'
        received: 2026-01-05
        category: "<script>alert('issuecat')</script>"
        status: in_progress
        enterprise: '<img src=x onerror="{js("enterprise")}">'
        contact: '<script>{js("contact")}</script>'
        department: '<svg onload="{js("idept")}">'
        service_group: '{ATTR}'
        due: 2026-03-03
        resolution: '<iframe src="javascript:{js("resolution")}"></iframe>'
        history:
          - date: 2026-01-05
            by: '<script>{js("by")}</script>'
            action: 受理
            note: '<img src=x onerror="{js("note")}">'
        """, BODY),
}

# Every script element a page may have: the theme's and ours, all from files, plus the config JSON.
ALLOWED_SCRIPT = re.compile(r"(assets/(theme-base|theme-palette|theme-content|countdown|catalog|ledger|calculator|search[\w.-]*)\.js"
                            r"|assets/javascripts/bundle\.[0-9a-f]+\.min\.js)$")

DOM_CHECK = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) bad.push(el.tagName + ' ' + a.name);
      if (/^(href|src|action|formaction|xlink:href)$/i.test(a.name) && /^\\s*(javascript|data|vbscript):/i.test(a.value)
          && !(el.tagName === 'IMG')) bad.push(el.tagName + ' ' + a.name + '=' + a.value.slice(0, 30));
    }
  }
  for (const el of document.querySelectorAll('iframe, object, embed, frame, base, meta[http-equiv=refresh]'))
    bad.push(el.tagName);
  for (const s of document.querySelectorAll('script')) {
    if (s.type === 'application/json') continue;
    if (!s.src) bad.push('inline script: ' + s.textContent.slice(0, 40));
    else if (!ALLOWED.test(new URL(s.src).pathname)) bad.push('script ' + s.src);
  }
  return bad;
}""".replace("ALLOWED", "new RegExp(" + repr(ALLOWED_SCRIPT.pattern) + ")")

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return write_tree(tmp_path_factory.mktemp("xss") / "content", TREE)


@pytest.fixture(scope="module")
def sites(tree):
    return {profile: build_site(tree, tree.parent / profile, profile=profile, today=TODAY).out
            for profile in ("public", "internal")}


def _visit_every_page(browser, site: Path, shots: str) -> list[str]:
    server, base = serve(site)
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    context.add_init_script("""
      window.__violations = [];
      document.addEventListener('securitypolicyviolation',
        e => window.__violations.push(e.effectiveDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));
      for (const f of ['alert', 'confirm', 'prompt', 'print']) window[f] = m => { window.__pwned = (window.__pwned || []).concat(f + ':' + m); };
    """)
    # admin/ is Decap CMS (internal profile, when vendored): not a generated page, with its own
    # policy; tests/test_cms.py covers it.
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                   if not p.relative_to(site).as_posix().startswith("admin/"))
    assert len(pages) >= 8, pages
    try:
        for rel in pages:
            pg = context.new_page()
            dialogs, errors = [], []
            pg.on("dialog", lambda d, seen=dialogs: (seen.append(d.message), d.dismiss()))
            pg.on("pageerror", lambda e, seen=errors: seen.append(str(e)))
            pg.goto(base + rel)
            pg.wait_for_load_state("load")
            pg.mouse.move(400, 400)  # hover handlers, if any survived
            pg.keyboard.press("Tab")  # focus handlers (autofocus/onfocus via attr_list)
            pg.wait_for_timeout(50)
            pwned = pg.evaluate("window.__pwned || null")
            violations = [v for v in pg.evaluate("window.__violations") if v.startswith("script")]
            bad = pg.evaluate(DOM_CHECK)
            # The theme still works under the policy: Material's bundle and our modules ran.
            works = pg.evaluate("typeof window.document$ !== 'undefined' && typeof window.__md_get === 'function'")
            for label, value in (("ran", pwned), ("dialog", dialogs), ("csp", violations), ("dom", bad),
                                 ("js errors", errors)):
                if value:
                    problems.append(f"{rel}: {label}: {value}")
            if not works:
                problems.append(f"{rel}: Material's JavaScript did not start")
            if rel in ("index.html", "policies/x-policy.html", "ledger/2026-0001.html"):
                (TEST_OUTPUT / "site").mkdir(parents=True, exist_ok=True)
                pg.screenshot(path=str(TEST_OUTPUT / "site" / f"xss-{shots}-{rel.replace('/', '-')}.png"), full_page=True)
            pg.close()
    finally:
        context.close()
        stop(server)
    return problems


def test_no_planted_script_runs_on_any_public_page(browser, sites):
    problems = _visit_every_page(browser, sites["public"], "public")
    assert not problems, "\n".join(problems)


def test_no_planted_script_runs_on_any_internal_page(browser, sites):
    assert (sites["internal"] / "ledger" / "2026-0001.html").is_file()
    problems = _visit_every_page(browser, sites["internal"], "internal")
    assert not problems, "\n".join(problems)


def test_payloads_stay_visible_as_text(sites):
    """Escaped, not dropped: a reader sees what the editor wrote (bodies are sanitised instead)."""
    page = (sites["public"] / "policies" / "x-policy.html").read_text(encoding="utf-8")
    assert "&lt;/title&gt;&lt;script&gt;" in page  # in <title> and the heading, as text
    assert "{: autofocus tabindex=0 onfocus=" in page  # attr_list syntax kept as text
    head = page.split("</head>")[0]
    assert head.count("<title>") == 1 and "<script>window.__pwned" not in head
    m = re.search(r'<meta name="description" content="([^"]*)"', head)
    assert m and "&lt;script&gt;" in m.group(1)
    nav = (sites["public"] / "index.html").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=" in nav  # the taxonomy term in the FAQ navigation, as text
    ledger = (sites["internal"] / "ledger" / "index.html").read_text(encoding="utf-8")
    assert "&lt;/title&gt;&lt;script&gt;" in ledger


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,<script>x</script>",
                                 "vbscript:x", "java\tscript:alert(1)", "//evil.example/x", "/relative"])
def test_only_http_urls_become_links(url):
    assert safe_url(url) == ""


def test_unsafe_apply_url_and_source_are_text_not_links(make_tree, tmp_path):
    """The validator refuses these; the renderer is safe on its own (generated pages checked
    without the validation gate)."""
    root = make_tree({"policies/p.md": "---\ntitle: 测试\napply:\n  url: 'javascript:alert(1)'\n"
                                       "source: 'data:text/html,<script>alert(1)</script>'\n---\n正文。\n"})
    content = load_content(root)
    docs = tmp_path / "docs"
    generate_docs(SiteInput(content=content, profile="public", today=TODAY, site_name="测试",
                            git=GitInfo(), figures=figures_of([], content.taxonomy, TODAY, "public")), docs)
    page = (docs / "policies" / "p.md").read_text(encoding="utf-8")
    assert "javascript:alert(1)" in page  # shown as text
    assert 'href="javascript:' not in page and 'href="data:' not in page
    assert safe_url("https://example.gov.cn/a?b=1") == "https://example.gov.cn/a?b=1"
