"""`policykb faq promote`: a resolved problem becomes a draft FAQ without the company's identity."""
from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from policykb import fsio
from policykb.content.loader import load_content
from policykb.content.models import CLOSED_STATUSES, ISSUE_STATUS_LABEL, Faq
from policykb.ledger.anonymise import IDENTITY_LABEL, anonymise, names_in
from policykb.ledger.lifecycle import (
    RETRIES,
    Change,
    LedgerError,
    _inside,
    _NoAliases,
    check_id,
    commit_change,
    find_issue,
    require_clean,
    who,
)
from policykb.ledger.recordedit import ISSUE_ORDER, FrontMatter, load_one, reload, save_edit, write_atomic

# Problem category (issue_categories) -> FAQ/policy category, when linked policies give none.
CATEGORY_FOR_FAQ = {"投资和政策环境": "营商环境", "审批": "审批服务", "人才就业": "人才就业", "市场": "市场开拓",
                    "生产配套": "生产配套", "生活配套": "生活配套", "税费": "税费减免"}


@dataclass
class Promotion:
    faq_id: str
    faq_path: Path
    change: Change
    removed: list = field(default_factory=list)


def _question(title: str, body: str) -> str:
    """The company's own words when short enough, else the summary."""
    text = " ".join(body.split())
    if text:
        sentences = re.findall(r"[^。！？!?]+[。！？!?]?", text)
        first = "".join(sentences[:2]).strip()
        if 6 <= len(first) <= 120:
            return first
    return title


def promote(content_root: Path, issue_id: str, *, faq_id: str | None = None, by: str | None = None,
            date: dt.date | None = None, commit: bool = False) -> Promotion:
    """Write the draft FAQ and link it from the problem record: both files change, or neither.

    Both files are locked for the whole operation. A promote killed between the two writes leaves
    a draft that names the record while the record does not name it; a retry recognises that draft
    as its own unfinished work and writes it again instead of refusing the id."""
    root = Path(content_root)
    if faq_id is not None:
        check_id(faq_id, "问答编号")
    path = find_issue(root, issue_id)
    faq_id = faq_id or f"faq-{issue_id}"
    check_id(faq_id, "问答编号")
    faq_dir = root / "faq"
    _inside(faq_dir, root)
    faq_path = faq_dir / f"{faq_id}.md"
    _inside(faq_path, faq_dir)
    made_dir = not faq_dir.exists()
    faq_dir.mkdir(parents=True, exist_ok=True)
    try:
        with fsio.lock(path), fsio.lock(faq_path):
            repo = require_clean([path]) if commit else None
            for attempt in range(RETRIES):
                try:
                    result = _promote_once(root, path, issue_id, faq_id, faq_path, by=by,
                                           date=date or dt.date.today())
                    break
                except fsio.Conflict:
                    if attempt == RETRIES - 1:
                        raise LedgerError(f"诉求文件 {path} 在修改期间反复被其他程序改动，已停止，没有写入。请重试。") from None
            if commit:
                commit_change(result.change, repo)
    except BaseException:
        if made_dir:  # a refused promote leaves the tree as it was
            with contextlib.suppress(OSError):
                faq_dir.rmdir()
        raise
    return result


def _unfinished(rec, issue, faq_path: Path) -> bool:
    """A draft left by an interrupted promote of this very record (the record never got its link)."""
    return (rec.kind == "faq" and getattr(rec, "draft", False) and list(rec.issues) == [issue.id]
            and rec.id not in issue.faq and Path(rec.path).resolve() == faq_path.resolve())


def removed_note(removed: list[tuple[str, str]]) -> list[str]:
    """YAML comment lines for the draft: what kinds of identity were taken out, and how often
    (never the removed text itself: the draft lives in the public folder)."""
    counts: dict[str, int] = {}
    for kind, _ in removed:
        counts[kind] = counts.get(kind, 0) + 1
    if not counts:
        return ["# 匿名化：没有发现需要去除的身份信息。请仍然通读核对。"]
    parts = "、".join(f"{IDENTITY_LABEL.get(k, k)} {n} 处" for k, n in counts.items())
    return [f"# 匿名化已去除：{parts}（已换成“某企业”“某某”“（电话略）”等）。",
            "# 请对照原诉求核对是否还有遗漏的身份信息；核对后可删除这两行注释和 draft 一行。"]


def _promote_once(root: Path, path: Path, issue_id: str, faq_id: str, faq_path: Path, *, by, date) -> Promotion:
    raw = path.read_bytes()
    issue = load_one(path, "issue")
    if issue.status not in CLOSED_STATUSES or not issue.resolution:
        label = ISSUE_STATUS_LABEL.get(issue.status, issue.status)
        raise LedgerError(f"诉求 {issue_id}（当前状态：{label}）尚未办结，不能整理成问答。请先办结（resolve 或 explain）。")
    content = load_content(root)
    leftover = None
    if faq_id in content.by_id:
        rec = content.by_id[faq_id]
        if not _unfinished(rec, issue, faq_path):
            raise LedgerError(f"编号 {faq_id} 已被 {rec.relpath} 使用。请用 --id 指定另一个编号。")
        leftover = faq_path.read_bytes()
    elif faq_path.exists():
        raise LedgerError(f"{faq_path} 已存在。请用 --id 指定另一个编号。")
    policies = [content.by_id[p] for p in issue.policies if p in content.by_id]
    keep = [issue.department, issue.escalated_to]
    for p in policies:
        keep += list(p.issuer) + ([p.apply.department] if p.apply and p.apply.department else [])
    people = names_in(issue.contact) + names_in(issue.officer) + [n for h in issue.history for n in names_in(h.by)]
    kw = {"enterprise": issue.enterprise, "people": people, "keep": [k for k in keep if k]}
    q = anonymise(_question(issue.title or "", issue.body or ""), **kw)
    title = anonymise(issue.title or "", **kw)
    answer = anonymise(issue.resolution, **kw)
    allowed = content.taxonomy.terms("categories")
    cats = [c for p in policies for c in p.categories if c in allowed]
    if not cats and CATEGORY_FOR_FAQ.get(issue.category) in allowed:
        cats = [CATEGORY_FOR_FAQ[issue.category]]
    # A draft until an editor has read it: the rewrite is rule-based and may miss an identity.
    data = {"draft": True, "question": q.text}
    if title.text and title.text != q.text:
        data["aliases"] = [title.text]
    data["categories"] = list(dict.fromkeys(cats))
    data["policies"] = list(issue.policies)
    data["issues"] = [issue_id]
    if issue.department:
        data["department"] = issue.department
    if issue.region:
        data["region"] = issue.region
    data["updated"] = date
    data = {k: v for k, v in data.items() if v not in ([], None, "")}
    removed = q.removed + title.removed + answer.removed
    fm = yaml.dump(data, Dumper=_NoAliases, allow_unicode=True, sort_keys=False, width=10**9)
    first, rest = fm.split("\n", 1)  # the note goes right under `draft: true`
    text = "---\n" + first + "\n" + "".join(line + "\n" for line in removed_note(removed)) + rest
    text += f"---\n{answer.text.strip()}\n"
    like = Faq(id=faq_id, relpath=faq_path.relative_to(root).as_posix())

    def verify(tmp: Path) -> None:
        rec, diags = reload(faq_path, like, tmp)
        errors = [d.message for d in diags if d.severity == "error"]
        if rec is None or errors or not rec.body.strip():
            raise LedgerError("生成的问答无法通过读取检查：" + "；".join(errors or ["答复为空"]))

    if leftover is None:
        try:
            write_atomic(faq_path, text, verify, exclusive=True)
        except FileExistsError:
            raise LedgerError(f"{faq_path} 已存在。请用 --id 指定另一个编号。") from None
    else:
        write_atomic(faq_path, text, verify, expect=leftover)
    try:
        fmobj = FrontMatter.open(path)
        if fmobj.raw != raw:
            raise fsio.Conflict(path)
        fmobj.set("faq", [*issue.faq, faq_id], order=ISSUE_ORDER)
        new_issue = save_edit(fmobj, issue, {"faq"})
    except BaseException:
        faq_path.unlink(missing_ok=True)  # both files change, or neither
        raise
    change = Change(new_issue, path, "faq-promote", "备注", who(by, path.parent), issue.status, issue.status,
                    f"整理为问答 {faq_id}", extra_paths=[faq_path])
    return Promotion(faq_id, faq_path, change, removed)
