"""`policykb faq promote`: a resolved problem becomes a draft FAQ without the company's identity."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from policykb.ledger.anonymise import anonymise, names_in
from policykb.ledger.lifecycle import Change, LedgerError, _NoAliases, find_issue, who
from policykb.content.loader import load_content
from policykb.content.models import CLOSED_STATUSES, ISSUE_STATUS_LABEL, Faq
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
            date: dt.date | None = None) -> Promotion:
    date = date or dt.date.today()
    path = find_issue(content_root, issue_id)
    issue = load_one(path, "issue")
    if issue.status not in CLOSED_STATUSES or not issue.resolution:
        label = ISSUE_STATUS_LABEL.get(issue.status, issue.status)
        raise LedgerError(f"诉求 {issue_id}（当前状态：{label}）尚未办结，不能整理成问答。请先办结（resolve 或 explain）。")
    faq_id = faq_id or f"faq-{issue_id}"
    content = load_content(content_root)
    if faq_id in content.by_id:
        raise LedgerError(f"编号 {faq_id} 已被 {content.by_id[faq_id].relpath} 使用。请用 --id 指定另一个编号。")
    faq_path = Path(content_root) / "faq" / f"{faq_id}.md"
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
    fm = yaml.dump(data, Dumper=_NoAliases, allow_unicode=True, sort_keys=False, width=10**9)
    text = f"---\n{fm}---\n{answer.text.strip()}\n"
    faq_path.parent.mkdir(parents=True, exist_ok=True)
    if faq_path.exists():
        raise LedgerError(f"{faq_path} 已存在。请用 --id 指定另一个编号。")
    like = Faq(id=faq_id, relpath=faq_path.relative_to(content_root).as_posix())

    def verify(tmp: Path) -> None:
        rec, diags = reload(faq_path, like, tmp)
        errors = [d.message for d in diags if d.severity == "error"]
        if rec is None or errors or not rec.body.strip():
            raise LedgerError("生成的问答无法通过读取检查：" + "；".join(errors or ["答复为空"]))

    write_atomic(faq_path, text, verify)
    try:
        fmobj = FrontMatter.open(path)
        fmobj.set("faq", [*issue.faq, faq_id], order=ISSUE_ORDER)
        new_issue = save_edit(fmobj, issue, {"faq"})
    except BaseException:
        faq_path.unlink(missing_ok=True)  # both files change, or neither
        raise
    change = Change(new_issue, path, "faq-promote", "备注", who(by, path.parent), issue.status, issue.status,
                    f"整理为问答 {faq_id}", extra_paths=[faq_path])
    return Promotion(faq_id, faq_path, change, q.removed + title.removed + answer.removed)
