"""The problem ledger's lifecycle: one table of legal transitions, and the operations that
apply them to a record file (textual edit + history entry, optionally a Git commit)."""
from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from policykb.content.loader import iter_record_files
from policykb.content.models import CLOSED_STATUSES, ISSUE_STATUS_LABEL, OPEN_STATUSES, SATISFACTION, Issue
from policykb.ledger.recordedit import ISSUE_ORDER, EditError, FrontMatter, load_one, reload, save_edit, write_atomic


class LedgerError(EditError):
    """An illegal or impossible ledger operation (message in Chinese)."""


@dataclass(frozen=True)
class Transition:
    action: str  # history action word (the bundled content's vocabulary)
    label: str  # what the user reads
    sources: tuple[str, ...]  # statuses it is legal from
    target: str | None  # new status; None keeps the current one
    sets: tuple[str, ...] = ()  # fields the operation writes (values come from the caller)
    closes: bool = False  # sets closed_on to the operation's date


ANY = tuple(ISSUE_STATUS_LABEL)
_WORKING = ("assigned", "in_progress", "escalated")

# The one place that says which operation is legal from which status and what it writes.
TRANSITIONS: dict[str, Transition] = {
    "assign": Transition("交办", "交办", ("received", "assigned", "in_progress"), "assigned", ("department", "due")),
    "handle": Transition("办理", "开始办理", ("assigned",), "in_progress"),
    "note": Transition("备注", "备注", ANY, None),
    "chase": Transition("督办", "督办", OPEN_STATUSES, None),
    "feedback": Transition("反馈", "反馈", ANY, None),
    "escalate": Transition("上报", "上报", ("assigned", "in_progress"), "escalated", ("escalated_to",)),
    "resolve": Transition("办结", "办结", _WORKING, "resolved", ("resolution",), closes=True),
    "explain": Transition("解释", "解释办结", _WORKING, "explained", ("resolution",), closes=True),
    # 销号 follows 办结: closed_on keeps the 办结 date, which the timely-handling rate measures.
    "close": Transition("销号", "销号", ("resolved", "explained"), "closed"),
    "rate": Transition("评价", "评价", CLOSED_STATUSES, None, ("satisfaction",)),
}
NEW_ACTION = "受理"


def _status_list(statuses) -> str:
    return "、".join(ISSUE_STATUS_LABEL[s] for s in statuses)


def check_transition(issue: Issue, op: str, values: dict) -> Transition:
    """Raise LedgerError with a clear Chinese message when `op` is not legal for `issue`."""
    t = TRANSITIONS[op]
    status = issue.status or "received"
    where = f"{issue.id}（当前状态：{ISSUE_STATUS_LABEL.get(status, status)}）"
    if status not in t.sources:
        if op in ("resolve", "explain") and status in CLOSED_STATUSES:
            raise LedgerError(f"诉求 {where} 已经办结，不能再次{t.label}。")
        if op == "rate" and status not in CLOSED_STATUSES:
            raise LedgerError(f"诉求 {where} 尚未办结，不能评价。请先办结（resolve 或 explain）。")
        if op in ("escalate", "resolve", "explain") and status == "received":
            raise LedgerError(f"诉求 {where} 尚未交办，不能{t.label}。请先交办：policykb issue assign {issue.id} "
                              f"--department 承办单位 --due 日期")
        raise LedgerError(f"诉求 {where} 不能{t.label}：只有状态为 {_status_list(t.sources)} 的诉求可以{t.label}。")
    if op == "rate" and issue.satisfaction:
        raise LedgerError(f"诉求 {issue.id} 已有评价（{issue.satisfaction}），不能重复评价。")
    if op == "rate" and values.get("satisfaction") not in SATISFACTION:
        raise LedgerError(f"满意度只能是 {'、'.join(SATISFACTION)}。")
    for key in t.sets:
        if values.get(key) in (None, ""):
            raise LedgerError(f"{t.label}需要提供 {key}。")
    return t


def who(by: str | None, cwd: Path | None = None) -> str:
    """--by, else POLICYKB_USER, else git user.name, else the OS user."""
    if by:
        return by
    if os.environ.get("POLICYKB_USER"):
        return os.environ["POLICYKB_USER"]
    try:
        name = subprocess.run(["git", "config", "user.name"], cwd=cwd, capture_output=True, text=True).stdout.strip()
        if name:
            return name
    except OSError:
        pass
    return getpass.getuser()


def find_issue(content_root: Path, issue_id: str) -> Path:
    for path, _rel, kind in iter_record_files(Path(content_root)):
        if kind == "issue" and path.stem == issue_id:
            return path
    raise LedgerError(f"找不到诉求 {issue_id}（在 {Path(content_root) / 'issues'} 下）。请用 policykb issue list 查看编号。")


@dataclass
class Change:
    """What an operation did, for messages and the commit."""
    issue: Issue
    path: Path
    op: str
    action: str
    by: str
    old_status: str | None
    new_status: str | None
    note: str = ""
    extra_paths: list[Path] = field(default_factory=list)


def _history_note(op: str, values: dict, note: str | None) -> str:
    if note:
        return note
    if op == "assign":
        return f"交办{values['department']}，{values['due'].isoformat()}前办结"
    if op == "escalate":
        return f"上报{values['escalated_to']}"
    if op in ("resolve", "explain"):
        return values["resolution"]
    if op == "rate":
        return values["satisfaction"]
    return ""


def apply(path: Path, op: str, *, values: dict | None = None, note: str | None = None, by: str | None = None,
          date: dt.date | None = None) -> Change:
    """Apply one ledger operation to the record at `path` (textual edit, verified, atomic)."""
    values = {k: v for k, v in (values or {}).items() if v not in (None, "")}
    date = date or dt.date.today()
    issue = load_one(path, "issue")
    t = check_transition(issue, op, values)
    if issue.received and date < issue.received:
        raise LedgerError(f"日期 {date} 早于受理日期 {issue.received}，请检查 --date。")
    last = max((h.date for h in issue.history if h.date), default=None)
    if last and date < last:
        raise LedgerError(f"日期 {date} 早于最近一条办理记录（{last}），请检查 --date。")
    if op == "assign" and issue.received and values["due"] < issue.received:
        raise LedgerError(f"办结时限 {values['due']} 早于受理日期 {issue.received}。")
    if op in ("note", "chase", "feedback") and not note:
        raise LedgerError("请写明备注内容。")
    by = who(by, Path(path).parent)
    fm = FrontMatter.open(path)
    changed = set()
    for key in t.sets:
        fm.set(key, values[key], order=ISSUE_ORDER)
        changed.add(key)
    if t.closes:
        fm.set("closed_on", date, order=ISSUE_ORDER)
        changed.add("closed_on")
    if t.target and t.target != issue.status:
        fm.set("status", t.target, order=ISSUE_ORDER)
        changed.add("status")
    text_note = _history_note(op, values, note)
    fm.append_item("history", {"date": date, "by": by, "action": t.action, "note": text_note or None},
                   order=ISSUE_ORDER)
    changed.add("history")
    new = save_edit(fm, issue, changed)
    return Change(new, Path(path), op, t.action, by, issue.status, new.status, text_note)


class _NoAliases(yaml.SafeDumper):
    def ignore_aliases(self, data):  # the same date twice must not become &id001 / *id001
        return True


# -- new records ----------------------------------------------------------------------------
_ID = re.compile(r"^(\d{4})-(\d{4})$")


def next_id(content_root: Path, year: int) -> str:
    """Next `YYYY-NNNN` id for the year (ids are unique across the whole tree)."""
    numbers = [int(m.group(2)) for p, _r, _k in iter_record_files(Path(content_root))
               if (m := _ID.match(p.stem)) and int(m.group(1)) == year]
    return f"{year}-{max(numbers, default=0) + 1:04d}"


def new_issue_path(content_root: Path, issue_id: str, year: int) -> Path:
    """issues/<year>/ when the ledger is filed by year, else issues/."""
    base = Path(content_root) / "issues"
    by_year = base.is_dir() and any(p.is_dir() and re.fullmatch(r"\d{4}", p.name) for p in base.iterdir())
    return (base / str(year) if by_year else base) / f"{issue_id}.md"


def create(content_root: Path, fields: dict, body: str, *, by: str | None = None, date: dt.date | None = None,
           issue_id: str | None = None) -> Change:
    """Write a new problem record (status received, one 受理 history entry)."""
    date = date or dt.date.today()
    received = fields.get("received") or date
    issue_id = issue_id or next_id(content_root, received.year)
    path = new_issue_path(content_root, issue_id, received.year)
    if path.exists():
        raise LedgerError(f"{path} 已存在。")
    by = who(by, Path(content_root))
    data = {"title": fields["title"], "received": received, "category": fields["category"], "status": "received"}
    for key in ISSUE_ORDER:
        if key not in data and key != "history" and fields.get(key) not in (None, "", []):
            data[key] = fields[key]
    data["history"] = [{"date": date, "by": by, "action": NEW_ACTION, "note": fields.get("channel") or "受理"}]
    fm = yaml.dump(data, Dumper=_NoAliases, allow_unicode=True, sort_keys=False, default_flow_style=False,
                   width=10**9)
    text = f"---\n{fm}---\n{body.strip()}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    like = Issue(id=issue_id, relpath=path.relative_to(content_root).as_posix())
    holder = {}

    def verify(tmp: Path) -> None:
        rec, diags = reload(path, like, tmp)
        errors = [d.message for d in diags if d.severity == "error"]
        if rec is None or errors:
            raise LedgerError("新诉求无法通过读取检查：" + "；".join(errors))
        holder["rec"] = rec

    write_atomic(path, text, verify)
    return Change(holder["rec"], path, "new", NEW_ACTION, by, None, "received")


# -- Git ------------------------------------------------------------------------------------
def commit_message(change: Change) -> str:
    head = f"issue {change.issue.id}: {change.op}"
    lines = [f"Action: {change.action}", f"By: {change.by}",
             f"Status: {change.old_status or '-'} -> {change.new_status or '-'}"]
    if change.note:
        lines.append(f"Note: {' '.join(change.note.split())}")
    return head + "\n\n" + "\n".join(lines) + "\n"


def git_commit(change: Change, message: str | None = None) -> str:
    """Commit only the changed file(s) in the repository that holds them; returns the commit id."""
    where = change.path.parent
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=where, capture_output=True, text=True)
    if top.returncode != 0:
        raise LedgerError(f"{where} 不在 Git 仓库中，无法使用 --commit。文件已修改，但未提交。")
    paths = [str(p.resolve()) for p in [change.path, *change.extra_paths]]
    for cmd in (["git", "add", "--", *paths],
                ["git", "commit", "-q", "-m", message or commit_message(change), "--only", "--", *paths]):
        r = subprocess.run(cmd, cwd=where, capture_output=True, text=True)
        if r.returncode != 0:
            raise LedgerError(f"Git 提交失败（文件已修改，但未提交）：{(r.stderr or r.stdout).strip()}")
    return subprocess.run(["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True).stdout.strip()


def git_log(path: Path) -> list[str]:
    """One line per commit touching the file (empty when not in a repository)."""
    r = subprocess.run(["git", "log", "--follow", "--format=%h %ad %an %s", "--date=short", "--", str(path.resolve())],
                       cwd=path.parent, capture_output=True, text=True)
    return r.stdout.splitlines() if r.returncode == 0 else []
