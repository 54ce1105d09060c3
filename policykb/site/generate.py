"""Render the site's Markdown pages (Jinja2) into a docs folder for MkDocs.

Input is what the loader produced plus, for figures, aggregate dicts only. Problem records
reach this module only on the internal profile (`issues` is empty on the public one).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import posixpath
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from markupsafe import Markup

from policykb.content import eligibility, regions
from policykb.content.loader import Content
from policykb.content.models import Issue
from policykb.ledger.stats import FIGURES, RATES, format_figure
from policykb.site import charts
from policykb.site.gitdates import GitInfo
from policykb.site.sanitise import body_html, html_text, md_text
from policykb.site.sitesearch.page import write_search_page
from policykb.site.views import (
    NO_CATEGORY,
    ROLLING,
    SOON_DAYS,
    FaqView,
    PolicyView,
    category_slug,
    faq_views,
    issue_views,
    policy_views,
)

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
FILTERS = (("categories", "政策类别"), ("region", "适用于…的企业"), ("enterprise_types", "企业类型"),
           ("support", "支持方式"), ("status", "申报状态"))
STATUS_ORDER = ("即将截止", "申报中", ROLLING, "未设截止日期", "申报已截止")
PUBLIC_KPIS = ("collected", "within_remit", "escalated", "closed", "open", "median_days_to_close")
INTERNAL_KPIS = ("collected", "closed", "open", "overdue", "escalated", "median_days_to_close")
CATALOGUE_PAGE_ROWS = 500  # above this many rows the catalogue is split into static pages (index-2.html, …)
TABLE_KEYS = ("collected", "closed", "open", "overdue", "resolution_rate", "timely_rate", "satisfaction_rate")


@dataclass
class Figures:
    """Aggregates for the figures and ledger pages: numbers only, never records."""
    total: dict = field(default_factory=dict)
    by_category: dict[str, dict] = field(default_factory=dict)
    by_month: dict[str, dict] = field(default_factory=dict)
    by_department: dict[str, dict] = field(default_factory=dict)  # internal profile only
    by_group: dict[str, dict] = field(default_factory=dict)  # internal profile only


@dataclass
class SiteInput:
    content: Content
    profile: str
    today: dt.date
    site_name: str
    git: GitInfo
    edit_base: str = ""  # repo_url + edit_uri, or "" for no edit links
    figures: Figures = field(default_factory=Figures)
    issues: list[Issue] = field(default_factory=list)  # internal profile only
    editor_guide: Path | None = None  # the full guide: internal profile only
    build_date: dt.date | None = None  # "数据更新于": the day the site was built (defaults to today)


@pass_context
def _href(ctx, page: str, anchor: str = "") -> str:
    target = page[:-3] + ".html" if page.endswith(".md") else page
    rel = posixpath.relpath(target, posixpath.dirname(ctx["here"]) or ".")
    return rel + (f"#{anchor}" if anchor else "")


_NEWLINES = re.compile(r"\s*\n\s*")


def _one_line(value):
    """Every plain value is printed on one line: no content value can end the HTML block it sits
    in and start Markdown of its own (Markup from templates and the sanitiser passes unchanged)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return _NEWLINES.sub(" ", value)
    return value


def make_env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True, trim_blocks=True,
                      finalize=_one_line,
                      lstrip_blocks=True, keep_trailing_newline=True, undefined=StrictUndefined,
                      comment_start_string="{##", comment_end_string="##}")  # "{#id}" is Markdown
    env.filters["md"] = md_text  # content values in Markdown text (headings)
    env.globals.update(href=_href, fmt=format_figure, labels=FIGURES, table_keys=TABLE_KEYS,
                       gauge=lambda label, value: Markup(charts.rate_gauge(label, value)))
    return env


_HEADING = re.compile(r"^(#{1,6})(?=\s)", re.M)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)


def demote_headings(md: str, levels: int) -> str:
    """Push a body's headings down so they nest under the page's own (fences left alone)."""
    out, pos = [], 0
    for m in _FENCE.finditer(md):
        out.append(_HEADING.sub(lambda h: "#" * min(6, len(h.group(1)) + levels), md[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_HEADING.sub(lambda h: "#" * min(6, len(h.group(1)) + levels), md[pos:]))
    return "".join(out)


def _front(meta: dict) -> str:
    return "---\n" + yaml.safe_dump(meta, allow_unicode=True, sort_keys=False) + "---\n\n"


class _Writer:
    def __init__(self, env: Environment, docs: Path, common: dict):
        self.env, self.docs, self.common = env, docs, common
        self.pages: list[str] = []

    def page(self, path: str, template: str, meta: dict, **ctx) -> None:
        text = self.env.get_template(template).render(**self.common, here=path, **ctx)
        target = self.docs / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_front(meta) + re.sub(r"\n{3,}", "\n\n", text), encoding="utf-8")
        self.pages.append(path)


def _facets(rows: list[PolicyView]) -> dict[str, Counter]:
    counts: dict[str, Counter] = {key: Counter() for key, _ in FILTERS}
    for p in rows:
        counts["categories"].update(p.categories)
        counts["region"].update(p.applies)
        counts["enterprise_types"].update(p.enterprise_types)
        counts["support"].update(p.support)
        counts["status"][p.deadline_state] += 1
    return counts


def _ordered(counts: Counter, vocabulary: list[str]) -> list[str]:
    """Taxonomy order first (what editors expect), then anything else by frequency."""
    known = [t for t in vocabulary if counts.get(t)]
    return known + sorted((t for t in counts if t not in vocabulary), key=lambda t: (-counts[t], t))


def region_options(views) -> list[str]:
    """The company regions the catalogue offers: every level of every region a policy names."""
    return sorted({lv for v in views for lv in v.region_levels if lv != regions.NATIONAL})


def set_applies(views, options: list[str]) -> None:
    """For each policy, the offered company regions it applies to (the matcher's `--region`)."""
    for v in views:
        v.applies = [o for o in options if regions.applies_to(v.region, {o})]


def _meta(title: str, **more) -> dict:
    """Front matter: MkDocs and Material treat title and description as HTML, so they get escaped text."""
    meta = {"title": html_text(title), **more}
    if meta.get("description"):
        meta["description"] = html_text(meta["description"])
    if meta.get("tags"):
        meta["tags"] = [html_text(t) for t in meta["tags"]]
    return meta


def _calculator(w: _Writer, docs: Path, content: Content, views: dict, today: dt.date) -> None:
    """The calculator page and its rules (assets/calculator.json, what calculator.js evaluates)."""
    rules = eligibility.export_rules(content.policies, content.taxonomy, today)
    for r in rules["policies"]:
        r["href"] = views[r["id"]].page[:-3] + ".html" if r["id"] in views else ""
    used = {c["field"] for r in rules["policies"] for c in r["conditions"]}
    fields = [(name, spec) for name, spec in rules["fields"].items() if name in used]
    (docs / "assets" / "calculator.json").write_text(json.dumps(rules, ensure_ascii=False), encoding="utf-8")
    w.page("calculator.md", "calculator.md.j2", _meta("政策计算器", hide=["navigation", "toc"], search={"exclude": True}),
           fields=fields, regions=rules["regions"], types=rules["enterprise_types"],
           counted=sum(1 for r in rules["policies"] if r["conditions"]), total=len(rules["policies"]))


CATALOGUE_JSON_ROWS = 4000  # rows per catalogue data file (policies/catalogue-<k>.<hash>.json)


def catalogue_rows(rows: list[PolicyView]) -> dict:
    """The rows of a split catalogue's later pages as compact JSON, for catalog.js to filter
    (instead of fetching those pages' HTML). Repeated strings (issuers, regions, categories, …)
    sit once in `v`; a row is [page file, title, doc number, issuer, region, categories, applies,
    enterprise types, support, published, deadline, rolling deadline text, keywords], the lists
    and the single strings among them as indexes into `v`."""
    table: dict[str, int] = {}

    def ix(value: str) -> int:
        return table.setdefault(value, len(table))
    out = []
    for p in rows:
        out.append([posixpath.basename(p.page)[:-3] + ".html", p.title, p.doc_number, ix(p.issuer),
                    ix(p.region.split("/")[-1] if p.region else ""), [ix(c) for c in p.categories],
                    [ix(a) for a in p.applies], [ix(t) for t in p.enterprise_types], [ix(s) for s in p.support],
                    p.published.isoformat() if p.published else "", p.deadline.isoformat() if p.deadline else "",
                    p.deadline_text, " ".join(p.keywords)])
    return {"v": list(table), "rows": out}


def _catalogue(w: _Writer, current: list, facets: dict, counts: dict) -> None:
    """The catalogue: one page up to CATALOGUE_PAGE_ROWS rows, else a series of static pages
    (policies/index.md, index-2.md, …) linked by 上一页/下一页; the later pages' rows are also
    written as compact JSON (catalogue_rows), which catalog.js loads when the reader filters, so
    the filter covers every row."""
    size = max(1, CATALOGUE_PAGE_ROWS)
    chunks = [current[i:i + size] for i in range(0, len(current), size)] or [[]]
    paths = ["policies/index.md"] + [f"policies/index-{n}.md" for n in range(2, len(chunks) + 1)]
    data_files = []
    later = current[size:]
    for k in range(0, len(later), CATALOGUE_JSON_ROWS):
        data = json.dumps(catalogue_rows(later[k:k + CATALOGUE_JSON_ROWS]), ensure_ascii=False,
                          separators=(",", ":")).encode("utf-8")
        name = f"catalogue-{k // CATALOGUE_JSON_ROWS + 1}.{hashlib.sha256(data).hexdigest()[:10]}.json"
        (w.docs / "policies").mkdir(parents=True, exist_ok=True)
        (w.docs / "policies" / name).write_bytes(data)
        data_files.append(name)
    for n, (path, chunk) in enumerate(zip(paths, chunks), start=1):
        title = "政策目录" if n == 1 else f"政策目录（第 {n} 页）"
        w.page(path, "catalogue.md.j2", _meta(title, hide=["navigation", "toc"], search={"exclude": True}),
               rows=chunk, total=len(current), page_no=n, page_paths=paths, data_files=data_files,
               facets=facets, facet_counts=counts, filters=FILTERS)


def generate_docs(inp: SiteInput, docs: Path) -> dict:
    """Write every page into `docs` (emptied first). Returns the nav and the policy views for the feed."""
    if docs.exists():
        shutil.rmtree(docs)
    docs.mkdir(parents=True)
    shutil.copytree(ASSETS, docs / "assets")
    content, today = inp.content, inp.today
    published_faqs = [f for f in content.faqs if not f.draft]  # drafts wait for an editor's review
    views = policy_views(content.policies, published_faqs, today=today, git=inp.git, edit_base=inp.edit_base)
    faqs = faq_views(published_faqs, views, git=inp.git, edit_base=inp.edit_base)
    current = sorted((v for v in views.values() if v.current),
                     key=lambda v: (v.published or dt.date.min, v.id), reverse=True)
    archive = sorted((v for v in views.values() if not v.current),
                     key=lambda v: (v.expires or v.published or dt.date.min, v.id), reverse=True)
    tax = content.taxonomy
    set_applies(views.values(), region_options(current))
    counts = _facets(current)
    facets = {
        "categories": _ordered(counts["categories"], tax.terms("categories")),
        "enterprise_types": _ordered(counts["enterprise_types"], tax.terms("enterprise_types")),
        "support": _ordered(counts["support"], tax.terms("support")),
        "region": sorted(counts["region"]),
        "status": [s for s in STATUS_ORDER if counts["status"].get(s)],
    }
    env = make_env()
    w = _Writer(env, docs, {"site_name": inp.site_name, "today": today, "build_date": inp.build_date or today})
    internal = inp.profile == "internal"

    _catalogue(w, current, facets, counts)
    w.page("policies/archive.md", "archive.md.j2", _meta("已失效政策", hide=["toc"], search={"exclude": True}),
           rows=archive)
    for v in views.values():
        meta = _meta(v.title, hide=["navigation"], search={"boost": 2 if v.current else 0.5},
                     # tag listings must not mix expired policies in with current ones
                     tags=v.categories if v.current else None, description=v.summary or None)
        meta = {k: val for k, val in meta.items() if val is not None}
        w.page(v.page, "policy.md.j2", meta, p=v, body=body_html(demote_headings(v.body, 1)))

    # FAQs, one page per category (a FAQ sits under its first category).
    groups: dict[str, list[FaqView]] = {}
    for f in sorted(faqs, key=lambda f: f.id):
        groups.setdefault(f.category, []).append(f)
    order = [c for c in tax.terms("categories") if c in groups] + sorted(c for c in groups if c not in tax.terms("categories"))
    if NO_CATEGORY in order:
        order.remove(NO_CATEGORY)
        order.append(NO_CATEGORY)
    group_list = [{"name": c, "slug": category_slug(c), "faqs": groups[c]} for c in order]
    w.page("faq/index.md", "faq_index.md.j2", _meta("常见问题", search={"exclude": True}),
           groups=group_list, total=len(faqs))
    for g in group_list:
        w.page(f"faq/{g['slug']}.md", "faq_category.md.j2", _meta(f"常见问题：{g['name']}"),
               name=g["name"], faqs=g["faqs"],
               bodies={f.id: body_html(demote_headings(f.body, 2)) for f in g["faqs"]})

    # Figures: aggregates only.
    fig = inp.figures
    w.page("stats.md", "figures.md.j2", _meta("诉求办理数据", hide=["navigation", "toc"]),
           total=fig.total, kpis=PUBLIC_KPIS, rates=RATES, by_category=fig.by_category, by_month=fig.by_month,
           category_chart=Markup(charts.bar_rows(fig.by_category, caption="各类诉求收集与办结数")),
           month_chart=Markup(charts.month_columns(fig.by_month, caption="每月收集与办结数")))
    _calculator(w, docs, content, views, today)
    w.page("tags.md", "tags.md.j2", _meta("标签", hide=["navigation"], search={"exclude": True}))
    nav: list = [{"首页": "index.md"},
                 {"政策": [{"政策目录": "policies/index.md"}, {"已失效政策": "policies/archive.md"}]},
                 {"常见问题": ["faq/index.md"] + [{html_text(g["name"]): f"faq/{g['slug']}.md"} for g in group_list]},
                 {"政策计算器": "calculator.md"}, {"数据公开": "stats.md"}, {"标签": "tags.md"}]
    # Public readers get a short "how to propose a change"; the full editor guide (which
    # describes the private ledger fields) is for the internal site only.
    w.page("contribute.md", "contribute.md.j2", _meta("如何提出修改", hide=["navigation"]),
           has_edit_links=bool(inp.edit_base))
    nav.append({"如何提出修改": "contribute.md"})
    if internal and inp.editor_guide and inp.editor_guide.is_file():
        (docs / "guide.md").write_text(inp.editor_guide.read_text(encoding="utf-8"), encoding="utf-8")
        nav.append({"编辑指南": "guide.md"})

    write_search_page(docs, content, internal=internal)  # the site search's results page (sitesearch)
    # Home: search first, then deadlines, newest and changed, entry points.
    soon = sorted((v for v in current if v.days_left is not None and 0 <= v.days_left <= SOON_DAYS),
                  key=lambda v: (v.deadline, v.id))
    changed = sorted((v for v in current if v.updated), key=lambda v: (v.updated, v.id), reverse=True)[:8]
    w.page("index.md", "home.md.j2", _meta("首页", hide=["navigation", "toc"], search={"exclude": True}),
           soon=soon, soon_days=SOON_DAYS, newest=current[:8], changed=changed,
           counts={"current": len(current), "faqs": len(faqs)}, facets=facets, facet_counts=counts,
           feed_href="feed.xml")
    if internal:
        ivs = issue_views(inp.issues, views, faqs, today=today, git=inp.git, edit_base=inp.edit_base)
        by_recv = sorted(ivs, key=lambda i: (i.record.received or dt.date.min, i.id), reverse=True)
        w.page("ledger/index.md", "ledger_index.md.j2", _meta("诉求台账", hide=["navigation", "toc"]),
               total=fig.total, kpis=INTERNAL_KPIS, by_department=fig.by_department, by_group=fig.by_group,
               overdue=sorted((i for i in ivs if i.overdue), key=lambda i: -(i.days_overdue or 0)),
               due_week=sorted((i for i in ivs if i.due_this_week), key=lambda i: (i.record.due, i.id)),
               open=[i for i in by_recv if not i.closed], closed=[i for i in by_recv if i.closed])
        for i in ivs:
            w.page(i.page, "issue.md.j2", _meta(i.title, hide=["navigation"]), i=i, r=i.record,
                   body=body_html(demote_headings(i.record.body.strip(), 2) or "（未填写）"))
        nav.append({"诉求台账": "ledger/index.md"})
    return {"nav": nav, "views": views, "current": current, "pages": len(w.pages)}
