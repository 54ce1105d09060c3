"""Content rules: every check beyond what the loader can see in one file.

`validate(content, today)` returns the loader's diagnostics plus the rule diagnostics,
sorted by place. The site build and the search index call it too (and stop on errors), so rules live only here.
Each rule's code, severity and reasoning are explained for editors in docs/editor-guide.md
(tests/test_validate.py keeps the two in step).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import re
from collections import defaultdict
from pathlib import Path

from policykb.content import eligibility
from policykb.content.diagnostics import ERROR, INFO, WARNING, ContentInvalid, Diagnostic, sort_key
from policykb.content.labels import FIELD_LABEL, KIND_LABEL  # noqa: F401 (KIND_LABEL/FIELD_LABEL re-exported)
from policykb.content.loader import TAXONOMY_FILE, Content, iter_record_files
from policykb.content.models import (
    AFTER_CLOSURE_ACTIONS,
    CLOSED_STATUSES,
    ISSUE_STATUS_LABEL,
    OPEN_STATUSES,
    PERIOD,
    POLICY_STATUS_LABEL,
    RECOMMENDED,
    REQUIRED,
    Faq,
    Issue,
    Policy,
    Record,
)
from policykb.content.taxonomy import FIELD_VOCABULARY

# (kind, key) -> kind the referenced id must have.
REFERENCES = {
    ("policy", "supersedes"): "policy",
    ("policy", "superseded_by"): "policy",
    ("faq", "policies"): "policy",
    ("faq", "issues"): "issue",
    ("issue", "policies"): "policy",
    ("issue", "faq"): "faq",
}

# Issue statuses in which the problem has been handed to someone: a department must be named.
DISPATCHED = ("assigned", "in_progress", "escalated", "resolved", "explained", "closed")
URL = re.compile(r"^https?://[^\s/]+\.[^\s]*$")
# Schemes a browser runs or renders inline; control characters and spaces are ignored by browsers.
SCRIPT_URL = re.compile(r"^[\x00-\x20]*(javascript|vbscript|data)[\x00-\x20]*:", re.I)


def _d(content: Content, rec: Record, where, severity: str, code: str, message: str) -> Diagnostic:
    """A diagnostic for `rec`; `where` is a key path tuple (line looked up) or a line number."""
    line = where if isinstance(where, int) else rec.line_of(*where)
    return Diagnostic(content.shown(rec.relpath), line, severity, code, message)


def _label(key: str) -> str:
    return f"“{key}”（{FIELD_LABEL[key]}）" if key in FIELD_LABEL else f"“{key}”"


def _status_label(rec: Record) -> str:
    labels = POLICY_STATUS_LABEL if rec.kind == "policy" else ISSUE_STATUS_LABEL
    return f"“{rec.status}”（{labels.get(rec.status, rec.status)}）"


def _empty(value) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _items(value) -> list[str]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------- per-record rules

def check_keys(content: Content, rec: Record, loader_lines: set = frozenset()) -> list[Diagnostic]:
    """Required keys (error) and recommended keys (one info line per file)."""
    out = []
    for key in REQUIRED[rec.kind]:
        if not _empty(getattr(rec, key, None)):
            continue
        if (key,) in rec.lines:
            if rec.was_rejected(key):
                continue  # the loader already said what is wrong with the value
            out.append(_d(content, rec, (key,), ERROR, "missing-required",
                          f"必填字段 {_label(key)} 是空的。请填写内容。"))
        else:
            out.append(_d(content, rec, (), ERROR, "missing-required",
                          f"缺少必填字段 {_label(key)}。请在前置元数据中加上 “{key}: …” 一行。"))
    missing = [k for k in RECOMMENDED[rec.kind] if _empty(getattr(rec, k, None)) and (k,) not in rec.lines]
    if missing:
        names = "、".join(_label(k) for k in missing)
        out.append(_d(content, rec, (), INFO, "missing-recommended",
                      f"建议填写的字段未填：{names}。补上后检索和网站展示会更完整；不影响检查通过。"))
    return out


def check_terms(content: Content, rec: Record) -> list[Diagnostic]:
    out = []
    tax = content.taxonomy
    where = f"分类表 {tax.path}" if tax.path else "默认分类表"
    for (kind, key), vocab in FIELD_VOCABULARY.items():
        if kind != rec.kind:
            continue
        for i, term in enumerate(_items(getattr(rec, key, None))):
            if tax.allows(vocab, term):
                continue
            hint = tax.closest(vocab, term)
            tip = f"是否应为 “{hint}”？" if hint else ""
            allowed = "、".join(tax.terms(vocab))
            out.append(_d(content, rec, (key, i), ERROR, "unknown-term",
                          f"“{key}” 中的 “{term}” 不在{where}的 {vocab} 词表中。{tip}"
                          f"请改为词表中的词（{allowed}），或先在 {TAXONOMY_FILE} 中增加这个词。"))
    return out


def check_policy(content: Content, p: Policy, today: dt.date) -> list[Diagnostic]:
    out = []
    iso = dt.date.isoformat
    # Content ages: a policy reaching its expiry is news, never bad input, so this only warns
    # (the tools already treat it as expired, see statuses.policy_status).
    if p.status == "effective" and p.expires and p.expires < today:
        out.append(_d(content, p, ("status",), WARNING, "status-dates",
                      f"状态为 {_status_label(p)}，但失效日期 expires 是 {iso(p.expires)}，已经过期，"
                      f"各处已按“已失效”展示。请把 status 改为 expired（或 repealed），或更正 expires。"))
    if p.status == "expired" and p.expires and p.expires > today:
        out.append(_d(content, p, ("status",), WARNING, "status-dates",
                      f"状态为 {_status_label(p)}，但失效日期 expires 是 {iso(p.expires)}，还没有到。"
                      f"若政策已提前废止，请把 status 改为 repealed；否则请更正 status 或 expires。"))
    start = p.effective or p.published
    if p.expires and start and p.expires < start:
        which = "effective（施行日期）" if p.effective else "published（发布日期）"
        out.append(_d(content, p, ("expires",), ERROR, "date-order",
                      f"失效日期 expires {iso(p.expires)} 早于 {which} {iso(start)}。请核对这两个日期。"))
    if p.effective and p.published and p.effective < p.published:
        # Retroactive start dates are normal for tax policies, so this is only a hint.
        out.append(_d(content, p, ("effective",), INFO, "retroactive",
                      f"施行日期 effective {iso(p.effective)} 早于发布日期 published {iso(p.published)}（追溯施行）。"
                      f"若政策原文如此可保留；否则请核对日期。"))
    deadline = p.apply.deadline_date if p.apply else None  # a rolling deadline (常年受理) has no date
    if deadline and p.published and deadline < p.published:
        out.append(_d(content, p, ("apply", "deadline"), WARNING, "date-order",
                      f"申报截止日期 apply.deadline {iso(deadline)} 早于发布日期 published "
                      f"{iso(p.published)}。请核对日期。"))
    if p.review:
        every = p.review.every
        if every is not None and not PERIOD.match(every):
            out.append(_d(content, p, ("review", "every"), ERROR, "bad-period",
                          f"复核周期 review.every 的值 “{every}” 看不懂。请写成 数字+单位，"
                          f"单位为 d（天）、w（周）、m（月）或 y（年），例如 6m、12m、1y、90d。"))
        if p.review.last_reviewed and p.review.last_reviewed > today:
            out.append(_d(content, p, ("review", "last_reviewed"), WARNING, "future-date",
                          f"最近复核日期 review.last_reviewed {iso(p.review.last_reviewed)} 晚于今天。请核对日期。"))
    urls = [(("source",), p.source)] + ([(("apply", "url"), p.apply.url)] if p.apply else [])
    for keys, url in urls:
        if url and SCRIPT_URL.match(url):
            out.append(_d(content, p, keys, ERROR, "bad-url",
                          f"“{'.'.join(keys)}” 的值以 “{url.split(':', 1)[0].strip()}:” 开头，这种网址会在浏览器里执行脚本，"
                          f"不允许使用。请写以 http:// 或 https:// 开头的网址。"))
        elif url and not URL.match(url):
            out.append(_d(content, p, keys, WARNING, "bad-url",
                          f"“{'.'.join(keys)}” 的值 “{url}” 不像网址。请写完整的网址，以 http:// 或 https:// 开头。"))
    if p.apply and p.apply.phone and not re.search(r"\d", p.apply.phone):
        out.append(_d(content, p, ("apply", "phone"), WARNING, "bad-phone",
                      f"咨询电话 apply.phone 的值 “{p.apply.phone}” 里没有号码。请写电话号码，例如 022-5866 1208。"))
    if not p.body.strip():
        out.append(_d(content, p, p.body_line, WARNING, "empty-body",
                      "政策正文是空的。请在前置元数据之后写政策原文或要点（支持对象、支持内容、申报条件……）。"))
    return out


def check_eligibility(content: Content, p: Policy) -> list[Diagnostic]:
    """The `eligibility` conditions (rules and messages live in content/eligibility.py)."""
    return [_d(content, p, where, severity, code, message)
            for where, severity, code, message in eligibility.check(p, content.taxonomy)]


def check_faq(content: Content, f: Faq) -> list[Diagnostic]:
    if f.body.strip():
        return []
    return [_d(content, f, f.body_line, ERROR, "empty-answer",
               "问答没有答案：前置元数据之后的正文是空的。请在结尾的 “---” 下面写出答案。")]


def check_issue(content: Content, r: Issue, today: dt.date, loader_lines: set = frozenset()) -> list[Diagnostic]:
    out = []
    iso = dt.date.isoformat
    st = r.status
    if st in CLOSED_STATUSES:
        if not r.closed_on:
            out.append(_d(content, r, ("status",), ERROR, "issue-status",
                          f"状态为 {_status_label(r)}，但没有填写办结日期 closed_on。"
                          f"请补上 closed_on，或把状态改回办理中的状态。"))
        if _empty(r.resolution):
            out.append(_d(content, r, ("status",), ERROR, "issue-status",
                          f"状态为 {_status_label(r)}，但没有填写办理结果 resolution。"
                          f"请写明如何解决或如何向企业解释。"))
    if st in OPEN_STATUSES:
        if r.closed_on:
            out.append(_d(content, r, ("closed_on",), ERROR, "issue-status",
                          f"状态为 {_status_label(r)}（尚未办结），却填写了办结日期 closed_on。"
                          f"若已办结，请把 status 改为 resolved、explained 或 closed；否则删除 closed_on。"))
        if r.satisfaction:
            out.append(_d(content, r, ("satisfaction",), ERROR, "issue-status",
                          f"状态为 {_status_label(r)}（尚未办结），却已有满意度评价 “{r.satisfaction}”。"
                          f"满意度在办结后填写；请删除这一行或更正 status。"))
    if st == "escalated" and _empty(r.escalated_to):
        out.append(_d(content, r, ("status",), ERROR, "issue-status",
                      "状态为 “escalated”（已上报），但没有写上报对象 escalated_to。请写明上报到哪个平台或部门。"))
    if st in DISPATCHED:
        if _empty(r.department):
            out.append(_d(content, r, ("status",), ERROR, "issue-department",
                          f"状态为 {_status_label(r)}，但没有写承办单位 department。请写明由哪个部门或服务组办理。"))
        if not r.due:
            out.append(_d(content, r, ("status",), WARNING, "issue-due",
                          f"状态为 {_status_label(r)}，但没有办结时限 due。"
                          f"请补上交办时约定的时限，否则无法统计及时办理率。"))
    if r.received:
        if r.received > today:
            out.append(_d(content, r, ("received",), WARNING, "future-date",
                          f"受理日期 received {iso(r.received)} 晚于今天。请核对日期。"))
        if r.closed_on and r.closed_on < r.received:
            out.append(_d(content, r, ("closed_on",), ERROR, "date-order",
                          f"办结日期 closed_on {iso(r.closed_on)} 早于受理日期 received {iso(r.received)}。请核对日期。"))
        if r.due and r.due < r.received:
            out.append(_d(content, r, ("due",), WARNING, "date-order",
                          f"办结时限 due {iso(r.due)} 早于受理日期 received {iso(r.received)}。请核对日期。"))
    if r.closed_on and r.closed_on > today:
        out.append(_d(content, r, ("closed_on",), WARNING, "future-date",
                      f"办结日期 closed_on {iso(r.closed_on)} 晚于今天。请核对日期。"))
    out += _check_history(content, r, today, loader_lines)
    return out


def _check_history(content: Content, r: Issue, today: dt.date, loader_lines: set) -> list[Diagnostic]:
    out = []
    iso = dt.date.isoformat
    previous = None
    for i, h in enumerate(r.history):
        if r.was_rejected("history", i):
            continue  # the loader already rejected this entry
        missing = [k for k in ("date", "action") if _empty(getattr(h, k))]
        if missing:
            out.append(_d(content, r, ("history", i), ERROR, "history-entry",
                          f"办理记录第 {i + 1} 条缺少 {'、'.join(missing)}。"
                          f"每条记录都要写日期（date）和做了什么（action）。"))
        if not h.date:
            continue
        at = ("history", i, "date")
        if r.received and h.date < r.received:
            out.append(_d(content, r, at, WARNING, "history-order",
                          f"办理记录第 {i + 1} 条的日期 {iso(h.date)} 早于受理日期 received {iso(r.received)}。请核对日期。"))
        if previous and h.date < previous:
            out.append(_d(content, r, at, WARNING, "history-order",
                          f"办理记录第 {i + 1} 条的日期 {iso(h.date)} 早于上一条 {iso(previous)}。"
                          f"请按时间先后排列办理记录。"))
        if r.closed_on and h.date > r.closed_on and h.action not in AFTER_CLOSURE_ACTIONS:
            out.append(_d(content, r, at, WARNING, "history-order",
                          f"办理记录第 {i + 1} 条的日期 {iso(h.date)} 晚于办结日期 closed_on {iso(r.closed_on)}。"
                          f"办结后只应有{'、'.join(AFTER_CLOSURE_ACTIONS)}。请核对日期或更正 closed_on。"))
        if h.date > today:
            out.append(_d(content, r, at, WARNING, "future-date",
                          f"办理记录第 {i + 1} 条的日期 {iso(h.date)} 晚于今天。请核对日期。"))
        previous = max(previous, h.date) if previous else h.date
    return out


# ---------------------------------------------------------------- cross-record rules

def check_duplicate_ids(content: Content) -> list[Diagnostic]:
    places: dict[str, list[Record]] = defaultdict(list)
    for rec in content.records():
        places[rec.id].append(rec)
    out = []
    for rid, recs in places.items():
        if len(recs) < 2:
            continue
        for rec in recs:
            others = "、".join(content.shown(o.relpath) for o in recs if o is not rec)
            out.append(_d(content, rec, 1, ERROR, "duplicate-id",
                          f"id “{rid}” 与 {others} 重复。id 在整个内容目录中必须唯一，请给其中一个文件改名。"))
    return out


def check_references(content: Content, today: dt.date) -> list[Diagnostic]:
    kinds: dict[str, dict[str, Record]] = defaultdict(dict)
    for rec in content.records():
        kinds[rec.id].setdefault(rec.kind, rec)
    skip_issues = not content.include_issues  # public builds never load problem records
    out = []
    for rec in content.records():
        for (kind, key), want in REFERENCES.items():
            if kind != rec.kind or (want == "issue" and skip_issues):
                continue
            for i, ref in enumerate(_items(getattr(rec, key, None))):
                where = (key, i)
                if ref == rec.id:
                    out.append(_d(content, rec, where, ERROR, "self-ref",
                                  f"“{key}” 引用了本文件自己（{ref}）。请删除这一项。"))
                elif want in kinds.get(ref, {}):
                    target = kinds[ref][want]
                    if rec.kind == "faq" and not rec.draft and target.kind == "policy" and target.status == "draft":
                        out.append(_d(content, rec, where, WARNING, "cites-draft",
                                      f"已发布的问答引用了草稿政策 “{ref}”，网站上不会显示这条政策，答案却可能在讲它。"
                                      f"请等政策发布后再引用，或把这条问答也标为 draft: true。"))
                elif ref in content.unloaded and ref not in kinds:
                    continue  # the file exists but could not be read: reported once, at that file
                elif ref in kinds:
                    other = next(iter(kinds[ref].values()))
                    out.append(_d(content, rec, where, ERROR, "wrong-ref-kind",
                                  f"“{key}” 应引用{KIND_LABEL[want]}，但 “{ref}” 是一条{KIND_LABEL[other.kind]}"
                                  f"（{content.shown(other.relpath)}）。请改为{KIND_LABEL[want]}的 id。"))
                else:
                    ids = [r.id for r in content.records() if r.kind == want and r.id != rec.id]
                    hint = difflib.get_close_matches(ref, ids, n=1, cutoff=0.6)
                    tip = f"是否应为 “{hint[0]}”？" if hint else ""
                    out.append(_d(content, rec, where, ERROR, "dangling-ref",
                                  f"“{key}” 引用的{KIND_LABEL[want]} “{ref}” 不存在。{tip}"
                                  f"请核对 id（即文件名，不含 .md），或删除这一项。"))
    out += _check_supersession(content, today)
    return out


def _check_supersession(content: Content, today: dt.date) -> list[Diagnostic]:
    """supersedes / superseded_by are two ends of one link: both files should say it."""
    policies = {p.id: p for p in content.policies}
    out = _check_supersession_cycles(content, policies)
    # A policy whose front matter could not be read says nothing (its file carries that error):
    # it neither lacks a mirror nor counts as current.
    loaded = {p.id: p for p in content.policies if p.front_matter_ok}
    for p in content.policies:
        if not p.front_matter_ok:
            continue
        for old_id in p.supersedes:
            old = loaded.get(old_id)
            if old and old is not p and p.id not in old.superseded_by:
                out.append(_d(content, old, ("superseded_by",), WARNING, "unmirrored-supersedes",
                              f"{content.shown(p.relpath)} 声明取代本政策，但本政策的 superseded_by 没有列出 “{p.id}”。"
                              f"请在 superseded_by 中加上 “- {p.id}”。"))
        for new_id in p.superseded_by:
            new = loaded.get(new_id)
            if not new or new is p:
                continue
            if p.id not in new.supersedes:
                out.append(_d(content, new, ("supersedes",), WARNING, "unmirrored-supersedes",
                              f"{content.shown(p.relpath)} 写明已被本政策取代，但本政策的 supersedes 没有列出 “{p.id}”。"
                              f"请在 supersedes 中加上 “- {p.id}”。"))
            if p.is_current(today) and new.is_current(today):
                where = ("status",) if p.status else ("superseded_by",)
                out.append(_d(content, p, where, WARNING, "superseded-current",
                              f"本政策已被现行政策 “{new.id}” 取代，却仍按有效政策展示。"
                              f"请把 status 改为 expired 或 repealed，或填写 expires。"))
    return out


def _check_supersession_cycles(content: Content, policies: dict[str, Policy]) -> list[Diagnostic]:
    """A policy cannot, through any chain of supersedes / superseded_by, replace itself."""
    newer: dict[str, set[str]] = defaultdict(set)  # old id -> ids that replace it
    for p in content.policies:
        for old in p.supersedes:
            if old != p.id and old in policies:
                newer[old].add(p.id)
        for new in p.superseded_by:
            if new != p.id and new in policies:
                newer[p.id].add(new)
    out, reported = [], set()
    for start in sorted(newer):
        if start in reported:
            continue
        # depth-first search for a path back to start
        stack, seen = [(start, [start])], set()
        while stack:
            node, chain = stack.pop()
            for nxt in sorted(newer.get(node, ())):
                if nxt == start:
                    cycle = chain
                    text = " → ".join([*cycle, start])
                    for pid in cycle:
                        if pid in reported:
                            continue
                        reported.add(pid)
                        p = policies[pid]
                        where = ("supersedes",) if p.supersedes else ("superseded_by",)
                        out.append(_d(content, p, where, ERROR, "supersedes-cycle",
                                      f"政策之间的替代关系成环：{text}。一条政策不能直接或间接取代自己；"
                                      f"请核对哪条是新政策，删掉方向写反的 supersedes 或 superseded_by。"))
                    stack = []
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, chain + [nxt]))
    return out


# ---------------------------------------------------------------- entry points

def validate(content: Content, today: dt.date | None = None) -> list[Diagnostic]:
    """Loader diagnostics + rule diagnostics for a loaded tree, sorted by path and line."""
    today = today or dt.date.today()
    diags = list(content.diagnostics)
    for rec in content.records():
        if rec.front_matter_ok:  # else: missing or unreadable, already reported by the loader
            diags += check_keys(content, rec)
            diags += check_terms(content, rec)
        if isinstance(rec, Policy):
            diags += check_policy(content, rec, today)
            diags += check_eligibility(content, rec)
        elif isinstance(rec, Faq):
            diags += check_faq(content, rec)
        elif isinstance(rec, Issue):
            diags += check_issue(content, rec, today)
    diags += check_duplicate_ids(content)
    diags += check_references(content, today)
    return sorted(diags, key=sort_key)


def load_valid(root, today: dt.date | None = None, *, what: str = "没有建立索引") -> tuple[Content, list[Diagnostic]]:
    """The one gate: load the whole tree once, validate it once, stop on errors.

    Returns the full content (take `.public()` for public outputs) and every finding (warnings
    and hints, for the caller to show); raises ContentInvalid with the errors, `what` saying
    what did not happen (e.g. "网站未生成")."""
    from policykb.content.loader import load_content
    content = load_content(root)
    diags = validate(content, today)
    errors = [d for d in diags if d.severity == ERROR]
    if errors:
        raise ContentInvalid(errors, what)
    return content, diags


def without_invalid(content: Content, diags: list[Diagnostic]) -> tuple[Content, list[Diagnostic]]:
    """For tools that must keep working with one bad file (the officers' matcher): the content
    without every record that has an error, and the first error of each dropped file (to name it
    as `path:line`). Errors outside records (taxonomy.yml, unreadable files) drop nothing more:
    those files were not records to begin with."""
    first: dict[str, Diagnostic] = {}
    for d in sorted(diags, key=sort_key):
        if d.severity == ERROR:
            first.setdefault(d.path, d)
    bad = set(first)

    def keep(recs):
        return [r for r in recs if content.shown(r.relpath) not in bad]

    kept = dataclasses.replace(content, policies=keep(content.policies), faqs=keep(content.faqs),
                               issues=keep(content.issues))
    return kept, sorted(first.values(), key=sort_key)


def count_files(content: Content) -> int:
    """Files the loader read: every record file plus the taxonomy."""
    n = sum(1 for _ in iter_record_files(content.root))
    return n + (1 if (Path(content.root) / TAXONOMY_FILE).is_file() else 0)

