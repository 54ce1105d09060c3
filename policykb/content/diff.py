"""What changed between two loaded content trees, as a reviewer needs it.

`diff_content(old, new, today)` pairs records by id (and finds renames by similar text),
lists per record the front-matter fields that changed (old -> new), and draws out what a
reviewer must not miss: policies this change retires or supersedes, FAQs whose cited
policies went away, moved expiry and deadline dates, changed amounts in a summary.
Rendering (Markdown for a PR comment, JSON for tools) lives in policykb.cli.diff.
"""
from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass, field

from policykb.content.labels import field_label
from policykb.content.loader import Content
from policykb.content.models import POLICY_STATUS_LABEL, Record

# Problem-record fields whose values never go into a summary that may be posted on a PR.
PRIVATE = {("issue", "enterprise"), ("issue", "contact")}
# Fields a reviewer of a policy change looks at first.
KEY_FIELDS = ("status", "expires", "apply.deadline", "summary", "issuer", "supersedes", "superseded_by")
AMOUNT = re.compile(r"\d+(?:[.,]\d+)*\s*(?:亿元|万元|千元|元|%|％|倍)")
RENAME_SIMILARITY = 0.6


@dataclass
class FieldChange:
    key: str  # "expires", "apply.deadline"
    label: str
    old: object
    new: object
    private: bool = False


@dataclass
class RecordChange:
    kind: str
    id: str
    title: str
    change: str  # added, removed, renamed, moved, changed
    path: str  # relpath on the new side (the old one for removed records)
    old_id: str | None = None
    old_path: str | None = None
    fields: list[FieldChange] = field(default_factory=list)
    body_added: int = 0  # lines
    body_removed: int = 0
    notes: list[str] = field(default_factory=list)  # Chinese, for the reviewer


@dataclass
class ContentDiff:
    base: str
    head: str
    today: dt.date
    records: list[RecordChange] = field(default_factory=list)
    retired: list[dict] = field(default_factory=list)  # policies that stop being current
    superseded: list[dict] = field(default_factory=list)  # new supersession links
    orphaned_faqs: list[dict] = field(default_factory=list)  # FAQs citing policies that went away
    pages: list[dict] = field(default_factory=list)  # filled by the site (policykb.site.pagediff)

    def count(self, change: str) -> int:
        return sum(1 for r in self.records if r.change == change)

    @property
    def empty(self) -> bool:
        return not (self.records or self.pages)


def _front(rec: Record) -> dict:
    """Front-matter values (dates as ISO text), nested mappings flattened to dotted keys."""
    data = rec.model_dump(mode="json", exclude=set(Record.model_fields), exclude_none=True)
    out = {}
    for key, value in data.items():
        if isinstance(value, dict) and key in ("apply", "review"):
            for sub, v in value.items():
                if v is not None:
                    out[f"{key}.{sub}"] = v
        elif value != []:
            out[key] = value
    return out


def _amounts(text) -> list[str]:
    return [re.sub(r"\s+", "", m) for m in AMOUNT.findall(text or "")]


def _show(value) -> str:
    if value is None:
        return "（无）"
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return f"{len(value)} 条"
        return "、".join(str(v) for v in value) or "（无）"
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _date(value):
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _notes(kind: str, changes: list[FieldChange]) -> list[str]:
    notes = []
    for c in changes:
        if kind == "policy" and c.key in ("expires", "apply.deadline"):
            what = "失效日期" if c.key == "expires" else "申报截止"
            old, new = _date(c.old), _date(c.new)
            if old and new:
                verb = "推迟" if new > old else "提前"
                notes.append(f"{what}{verb}：{c.old} → {c.new}（{abs((new - old).days)} 天）")
            elif c.old is None:
                notes.append(f"新设{what}：{_show(c.new)}")
            elif c.new is None:
                notes.append(f"删除了{what}（原为 {_show(c.old)}）")
            else:
                notes.append(f"{what}：{_show(c.old)} → {_show(c.new)}")
        elif kind == "policy" and c.key == "status":
            label = lambda s: f"{s}（{POLICY_STATUS_LABEL.get(s, s)}）" if s else "（未写，按日期推定）"  # noqa: E731
            notes.append(f"状态：{label(c.old)} → {label(c.new)}")
        elif kind == "policy" and c.key == "summary":
            old, new = _amounts(c.old), _amounts(c.new)
            if old != new:
                notes.append(f"要点中的金额或比例：{'、'.join(old) or '（无）'} → {'、'.join(new) or '（无）'}")
        elif kind == "policy" and c.key == "issuer":
            notes.append(f"发文机关：{_show(c.old)} → {_show(c.new)}")
    return notes


def _compare(old: Record, new: Record) -> tuple[list[FieldChange], int, int]:
    a, b = _front(old), _front(new)
    order = list(b) + [k for k in a if k not in b]
    rank = {k: i for i, k in enumerate(KEY_FIELDS)}
    keys = sorted((k for k in order if a.get(k) != b.get(k)), key=lambda k: (rank.get(k, len(rank)), order.index(k)))
    changes = [FieldChange(k, field_label(k, new.kind), a.get(k), b.get(k), (new.kind, k) in PRIVATE) for k in keys]
    added = removed = 0
    if old.body.strip() != new.body.strip():
        for line in difflib.ndiff(old.body.strip().splitlines(), new.body.strip().splitlines()):
            added += line.startswith("+ ")
            removed += line.startswith("- ")
    return changes, added, removed


def _similarity(a: Record, b: Record) -> float:
    text = lambda r: repr(sorted(_front(r).items())) + r.body  # noqa: E731
    return difflib.SequenceMatcher(None, text(a), text(b), autojunk=False).ratio()


def _change(kind, new: Record, change: str, old: Record | None = None) -> RecordChange:
    rc = RecordChange(kind=kind, id=new.id, title=new.display_title, change=change, path=new.relpath)
    if old is not None and change != "removed":
        rc.fields, rc.body_added, rc.body_removed = _compare(old, new)
        rc.notes = _notes(kind, rc.fields)
        if old.relpath != new.relpath:
            rc.old_path = old.relpath
        if old.id != new.id:
            rc.old_id = old.id
    return rc


def _by_id(records) -> dict[str, Record]:
    out: dict[str, Record] = {}
    for r in records:
        out.setdefault(r.id, r)
    return out


def diff_content(old: Content, new: Content, *, today: dt.date, base: str = "", head: str = "") -> ContentDiff:
    out = ContentDiff(base=base, head=head, today=today)
    for kind, a_list, b_list in (("policy", old.policies, new.policies), ("faq", old.faqs, new.faqs),
                                 ("issue", old.issues, new.issues)):
        a, b = _by_id(a_list), _by_id(b_list)
        gone = [a[i] for i in sorted(set(a) - set(b))]
        born = [b[i] for i in sorted(set(b) - set(a))]
        # Renames: a removed and an added record of one kind whose text is mostly the same.
        pairs = sorted(((_similarity(o, n), o.id, n.id) for o in gone for n in born), reverse=True)
        used_old, used_new = set(), set()
        for score, oid, nid in pairs:
            if score < RENAME_SIMILARITY or oid in used_old or nid in used_new:
                continue
            used_old.add(oid)
            used_new.add(nid)
            out.records.append(_change(kind, b[nid], "renamed", a[oid]))
        for n in born:
            if n.id not in used_new:
                out.records.append(_change(kind, n, "added"))
        for o in gone:
            if o.id not in used_old:
                out.records.append(_change(kind, o, "removed"))
        for rid in sorted(set(a) & set(b)):
            rc = _change(kind, b[rid], "changed", a[rid])
            if rc.fields or rc.body_added or rc.body_removed:
                out.records.append(rc)
            elif rc.old_path:
                rc.change = "moved"
                out.records.append(rc)
    order = {"removed": 0, "renamed": 1, "added": 2, "changed": 3, "moved": 4}
    kinds = {"policy": 0, "faq": 1, "issue": 2}
    out.records.sort(key=lambda r: (order[r.change], kinds[r.kind], r.id))
    _consequences(out, old, new, today)
    return out


def _consequences(out: ContentDiff, old: Content, new: Content, today: dt.date) -> None:
    a, b = _by_id(old.policies), _by_id(new.policies)
    renamed = {r.old_id: r.id for r in out.records if r.kind == "policy" and r.change == "renamed"}
    # Policies current before the change and not after it (status, dates, removal).
    for pid, p in sorted(a.items()):
        if not p.is_current(today):
            continue
        q = b.get(renamed.get(pid, pid))
        if q is None:
            out.retired.append({"id": pid, "title": p.display_title, "reason": "removed", "text": "文件被删除"})
        elif not q.is_current(today):
            st = q.status_on(today)
            out.retired.append({"id": q.id, "title": q.display_title, "reason": st,
                                "text": f"改为{POLICY_STATUS_LABEL.get(st, st)}"})
    # Supersession links that are new in this change (from either end).
    def links(policies) -> set[tuple[str, str]]:
        s = set()
        for p in policies.values():
            s |= {(p.id, o) for o in p.supersedes} | {(n, p.id) for n in p.superseded_by}
        return s
    for new_id, old_id in sorted(links(b) - links(a)):
        out.superseded.append({"new": new_id, "old": old_id,
                               "new_title": b[new_id].display_title if new_id in b else new_id,
                               "old_title": b[old_id].display_title if old_id in b else old_id})
    # FAQs whose cited policies went away (deleted or renamed without updating the FAQ) or retired.
    retired_ids = {r["id"] for r in out.retired if r["reason"] != "removed"}
    for f in sorted(new.faqs, key=lambda f: f.id):
        for pid in f.policies:
            if pid not in b and pid in a:
                why = f"已改名为 {renamed[pid]}" if pid in renamed else "已删除"
                out.orphaned_faqs.append({"id": f.id, "title": f.display_title, "path": f.relpath,
                                          "policy": pid, "reason": "removed", "text": f"引用的政策 {pid} {why}"})
            elif pid in retired_ids:
                out.orphaned_faqs.append({"id": f.id, "title": f.display_title, "path": f.relpath,
                                          "policy": pid, "reason": "retired", "text": f"引用的政策 {pid} 本次失效"})
