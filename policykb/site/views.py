"""What the templates see: plain dicts/dataclasses derived from loaded records.

Templates never receive problem records on the public profile; the internal profile adds
`IssueView`s. Every link is a path relative to the docs root ("policies/x.md"); templates
turn it into a relative .html link with `href()`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from policykb.content import regions
from policykb.content.models import ISSUE_STATUS_LABEL, POLICY_STATUS_LABEL, Faq, Issue, Policy
from policykb.ledger.stats import is_overdue
from policykb.site.gitdates import GitInfo

APPLY_KEYS = ("department", "phone", "url", "deadline", "how")
SOON_DAYS = 30  # "deadline in the next 30 days" on the home page and in the catalogue
WEEK_DAYS = 7  # internal ledger: "due this week"
ROLLING = "常年受理"  # the catalogue's state for a deadline written as text (常年受理, 按年度通知申报, …)
LINK_SCHEMES = ("http", "https")  # the only URLs from content that become links

# Readable URL slugs for the default FAQ categories; other terms get a short hash.
CATEGORY_SLUGS = {
    "科技创新": "innovation", "产业发展": "industry", "人才就业": "talent", "金融支持": "finance",
    "税费减免": "tax", "用地建设": "land", "审批服务": "approval", "市场开拓": "market",
    "生产配套": "production", "生活配套": "living", "营商环境": "environment",
}
NO_CATEGORY = "其他问题"


def category_slug(term: str) -> str:
    if term in CATEGORY_SLUGS:
        return CATEGORY_SLUGS[term]
    if re.fullmatch(r"[a-z0-9-]+", term):
        return term
    return "c-" + hashlib.sha1(term.encode()).hexdigest()[:8]


def policy_page(pid: str) -> str:
    return f"policies/{pid}.md"


def issue_page(iid: str) -> str:
    return f"ledger/{iid}.md"


def safe_url(url: str | None) -> str:
    """The URL when it is an absolute http(s) address, else "" (shown as text, never a link):
    `javascript:`, `data:` and the like never reach an href."""
    url = (url or "").strip()
    if not url or any(ord(c) < 33 for c in url):
        return ""
    return url if urlsplit(url).scheme.lower() in LINK_SCHEMES and urlsplit(url).netloc else ""


def deadline_state(deadline: dt.date | None, today: dt.date, text: str = "") -> tuple[str, int | None]:
    """(application status shown in the catalogue, days left)."""
    if deadline is None and text:
        return ROLLING, None
    if deadline is None:
        return "未设截止日期", None
    days = (deadline - today).days
    if days < 0:
        return "申报已截止", days
    if days <= SOON_DAYS:
        return "即将截止", days
    return "申报中", days


def days_left_text(days: int | None) -> str:
    if days is None:
        return ""
    if days < 0:
        return "已截止"
    if days == 0:
        return "今天截止"
    return f"剩余 {days} 天"


@dataclass
class Link:
    title: str
    page: str  # docs-relative .md path
    anchor: str = ""
    note: str = ""


@dataclass
class PolicyView:
    id: str
    title: str
    page: str
    relpath: str
    doc_number: str
    issuer: str
    region: str
    region_levels: list[str]  # every prefix of the region path: 天津市, 天津市/滨海新区, …
    published: dt.date | None
    effective: dt.date | None
    expires: dt.date | None
    status: str
    status_label: str
    current: bool
    categories: list[str]
    enterprise_types: list[str]
    support: list[str]
    keywords: list[str]
    summary: str
    apply: dict
    deadline: dt.date | None
    deadline_text: str  # a rolling deadline as written (常年受理), "" for a date or none
    deadline_state: str
    days_left: int | None
    days_left_text: str
    source: str
    body: str
    updated: dt.date | None  # from Git
    changed: dt.date | None  # newest of Git date and publication: for "recently changed" and the feed
    edit_url: str
    apply_url: str = ""  # apply.url / source when safe to link (http, https), else ""
    source_url: str = ""
    applies: list[str] = field(default_factory=list)  # company regions this applies to (site filter)
    replaced_by: list[Link] = field(default_factory=list)
    replaces: list[Link] = field(default_factory=list)
    related: list[Link] = field(default_factory=list)
    faqs: list[Link] = field(default_factory=list)

    @property
    def superseded(self) -> bool:
        return bool(self.replaced_by)


@dataclass
class FaqView:
    id: str
    question: str
    aliases: list[str]
    category: str
    page: str
    body: str
    policies: list[Link]
    department: str
    region: str
    updated: dt.date | None
    edit_url: str


@dataclass
class IssueView:  # internal profile only
    id: str
    page: str
    title: str
    record: Issue
    status_label: str
    closed: bool
    overdue: bool
    days_overdue: int | None
    due_this_week: bool  # open, due within WEEK_DAYS days (not yet overdue)
    policies: list[Link]
    faqs: list[Link]
    edit_url: str
    updated: dt.date | None


def edit_url(base: str, git: GitInfo, relpath: str) -> str:
    return f"{base}{git.repo_path(relpath)}" if base else ""


def policy_views(policies: list[Policy], faqs: list[Faq], *, today: dt.date, git: GitInfo,
                 edit_base: str) -> dict[str, PolicyView]:
    """Views of every publishable policy (drafts are dropped here, once)."""
    published = [p for p in policies if p.status_on(today) != "draft"]
    by_id = {p.id: p for p in published}
    views: dict[str, PolicyView] = {}
    for p in published:
        status = p.status_on(today)
        deadline = p.apply.deadline_date if p.apply else None  # rolling deadlines (常年受理) have no date
        deadline_text = (p.apply.rolling or "") if p.apply else ""
        state, days = deadline_state(deadline, today, deadline_text)
        updated = git.updated.get(p.relpath)
        views[p.id] = PolicyView(
            id=p.id, title=p.display_title, page=policy_page(p.id), relpath=p.relpath,
            doc_number=p.doc_number or "", issuer="、".join(p.issuer), region=p.region or "",
            region_levels=regions.levels(p.region), published=p.published, effective=p.effective,
            expires=p.expires, status=status, status_label=POLICY_STATUS_LABEL.get(status, status),
            current=p.is_current(today), categories=list(p.categories), enterprise_types=list(p.enterprise_types),
            support=list(p.support), keywords=list(p.keywords), summary=p.summary or "",
            apply={**dict.fromkeys(APPLY_KEYS), **(p.apply.model_dump(exclude_none=True, warnings=False) if p.apply else {})},
            deadline=deadline, deadline_text=deadline_text,
            apply_url=safe_url(p.apply.url if p.apply else None), source_url=safe_url(p.source),
            deadline_state=state, days_left=days, days_left_text=days_left_text(days), source=p.source or "",
            body=p.body.strip(), updated=updated,
            changed=max([d for d in (updated, p.published) if d], default=None),
            edit_url=edit_url(edit_base, git, p.relpath))
    # Supersession is one link with two ends; either end is enough to draw it.
    newer: dict[str, set[str]] = {pid: set(by_id[pid].superseded_by) for pid in by_id}
    for p in published:
        for old in p.supersedes:
            if old in newer:
                newer[old].add(p.id)
    for pid, news in newer.items():
        for nid in sorted(news):
            if nid in views and nid != pid:
                views[pid].replaced_by.append(Link(views[nid].title, views[nid].page, note=views[nid].doc_number))
                views[nid].replaces.append(Link(views[pid].title, views[pid].page, note=views[pid].doc_number))
    _relate(views)
    return views


def _relate(views: dict[str, PolicyView], limit: int = 5) -> None:
    """Related policies: current ones sharing categories (2 points each), enterprise types and
    support (1 each) and the exact region (1); at least 2 points; best score, then newest, then id.

    Computed once per distinct combination of those attributes from an inverted index of the
    current policies (policies with the same combination have the same related list, but for
    the ones each is linked with by supersession), so the cost follows the number of
    combinations and shared terms, not the square of the number of policies.
    """
    import heapq
    from collections import defaultdict
    current = [v for v in views.values() if v.current]
    index: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, o in enumerate(current):
        for kind, values in (("c", o.categories), ("e", o.enterprise_types), ("s", o.support)):
            for value in set(values):
                index[(kind, value)].append(i)
        if o.region:
            index[("r", o.region)].append(i)
    groups: dict[tuple, list[PolicyView]] = defaultdict(list)
    for v in views.values():
        groups[(frozenset(v.categories), frozenset(v.enterprise_types), frozenset(v.support), v.region)].append(v)
    for (cats, types, support, region), members in groups.items():
        scores: dict[int, int] = defaultdict(int)
        for kind, values, points in (("c", cats, 2), ("e", types, 1), ("s", support, 1)):
            for value in values:
                for i in index.get((kind, value), ()):
                    scores[i] += points
        if region:
            for i in index.get(("r", region), ()):
                scores[i] += 1
        cand = [(-sc, -(current[i].published or dt.date.min).toordinal(), current[i].id, i)
                for i, sc in scores.items() if sc >= 2]
        extra = max(len(v.replaced_by) + len(v.replaces) for v in members) + 1  # self and linked ones
        top = heapq.nsmallest(limit + extra, cand)
        for v in members:
            linked = {v.id} | {ln.page for ln in v.replaced_by + v.replaces}
            picked = [current[i] for *_, i in top if current[i].id not in linked and current[i].page not in linked]
            v.related = [Link(o.title, o.page, note=o.doc_number) for o in picked[:limit]]


def faq_views(faqs: list[Faq], policies: dict[str, PolicyView], *, git: GitInfo, edit_base: str) -> list[FaqView]:
    out = []
    for f in faqs:
        category = f.categories[0] if f.categories else NO_CATEGORY
        view = FaqView(
            id=f.id, question=f.display_title, aliases=list(f.aliases), category=category,
            page=f"faq/{category_slug(category)}.md", body=f.body.strip(),
            policies=[Link(policies[pid].title, policies[pid].page, note=policies[pid].doc_number)
                      for pid in f.policies if pid in policies],
            department=f.department or "", region=f.region or "",
            updated=f.updated or git.updated.get(f.relpath), edit_url=edit_url(edit_base, git, f.relpath))
        out.append(view)
        for pid in f.policies:
            if pid in policies:
                policies[pid].faqs.append(Link(view.question, view.page, anchor=f.id))
    return out


def issue_views(issues: list[Issue], policies: dict[str, PolicyView], faqs: list[FaqView], *, today: dt.date,
                git: GitInfo, edit_base: str) -> list[IssueView]:
    faq_by_id = {f.id: f for f in faqs}
    out = []
    for i in issues:
        overdue = is_overdue(i, today)
        out.append(IssueView(
            id=i.id, page=issue_page(i.id), title=i.display_title, record=i,
            status_label=ISSUE_STATUS_LABEL.get(i.status or "", i.status or "未填写"), closed=i.is_closed,
            overdue=overdue, days_overdue=(today - i.due).days if overdue else None,
            due_this_week=bool(i.due and not i.is_closed and not overdue and 0 <= (i.due - today).days <= WEEK_DAYS),
            policies=[Link(policies[p].title, policies[p].page) for p in i.policies if p in policies],
            faqs=[Link(faq_by_id[f].question, faq_by_id[f].page, anchor=f) for f in i.faq if f in faq_by_id],
            edit_url=edit_url(edit_base, git, i.relpath), updated=git.updated.get(i.relpath)))
    return out
