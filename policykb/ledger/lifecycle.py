"""The problem ledger's lifecycle: one table of legal transitions, and the operations that
apply them to a record file (textual edit + history entry, optionally a Git commit)."""
from __future__ import annotations

import datetime as dt
import getpass
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from policykb import fsio, gitutil
from policykb.content.loader import ID_PATTERN, iter_record_files
from policykb.content.models import CLOSED_STATUSES, ISSUE_STATUS_LABEL, OPEN_STATUSES, SATISFACTION, Issue
from policykb.ledger.recordedit import ISSUE_ORDER, EditError, FrontMatter, load_one, reload, save_edit, write_atomic


class LedgerError(EditError):
    """An illegal or impossible ledger operation (message in Chinese)."""


class CommitFailed(LedgerError):
    """The operation was written but `--commit` could not commit it (`change` says what was written)."""

    def __init__(self, message: str, change: Change):
        super().__init__(message)
        self.change = change


RETRIES = 3  # a record changed under a write (by a program that takes no lock) is read again this often


def check_id(record_id: str, what: str = "编号") -> str:
    """Refuse an id that is not the contract's (lowercase ASCII, digits, hyphens) before any path is made."""
    if not isinstance(record_id, str) or not ID_PATTERN.match(record_id):
        raise LedgerError(f"{what} “{record_id}” 不合法：只能用小写英文字母、数字和连字符（如 2026-0042、faq-parking），"
                          f"不能含 “/”、“..” 或空格。")
    return record_id


def _inside(path: Path, folder: Path) -> Path:
    try:
        return fsio.inside(path, folder)
    except fsio.Outside as e:
        raise LedgerError(str(e)) from None


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
    name = gitutil.config("user.name", cwd)
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "未知"


def find_issue(content_root: Path, issue_id: str) -> Path:
    check_id(issue_id, "诉求编号")
    for path, _rel, kind in iter_record_files(Path(content_root)):
        if kind == "issue" and path.stem == issue_id:
            _inside(path, Path(content_root) / "issues")
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
    commit: str | None = None  # the Git commit made for this change (--commit)


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
          date: dt.date | None = None, commit: bool = False) -> Change:
    """Apply one ledger operation to the record at `path` (textual edit, verified, atomic), holding
    the record's lock from the read to the write (and to the commit, with `commit`)."""
    path = Path(path)
    with fsio.lock(path):
        repo = require_clean([path]) if commit else None
        for attempt in range(RETRIES):
            try:
                change = _apply_once(path, op, values=values, note=note, by=by, date=date)
                break
            except fsio.Conflict:
                if attempt == RETRIES - 1:
                    raise LedgerError(f"诉求文件 {path} 在修改期间反复被其他程序改动，已停止，没有写入。"
                                      f"请关闭正在编辑它的程序后重试。") from None
        if commit:
            commit_change(change, repo)
    return change


def _apply_once(path: Path, op: str, *, values, note, by, date) -> Change:
    values = {k: v for k, v in (values or {}).items() if v not in (None, "")}
    date = date or dt.date.today()
    raw = path.read_bytes()
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
    by = who(by, path.parent)
    fm = FrontMatter.open(path)
    if fm.raw != raw:  # changed between the two reads
        raise fsio.Conflict(path)
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
    return Change(new, path, op, t.action, by, issue.status, new.status, text_note)


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
           issue_id: str | None = None, commit: bool = False) -> Change:
    """Write a new problem record (status received, one 受理 history entry).

    Ids are allocated under one lock for the ledger, and the file is created only if its name is
    free (an atomic exclusive create), so concurrent intakes never share an id or overwrite each other."""
    if issue_id is not None:
        check_id(issue_id, "诉求编号")
    root = Path(content_root)
    date = date or dt.date.today()
    received = fields.get("received") or date
    issues_dir = root / "issues"
    _inside(issues_dir, root)
    issues_dir.mkdir(parents=True, exist_ok=True)
    by = who(by, root)
    with fsio.lock(issues_dir / "ids"):
        wanted = issue_id or next_id(root, received.year)
        for _ in range(1000):
            if issue_id is not None:
                used = next((p for p, _r, _k in iter_record_files(root) if p.stem == issue_id), None)
                if used is not None:
                    raise LedgerError(f"编号 {issue_id} 已被 {used} 使用。请换一个编号，或不写 --id 自动编号。")
            path = new_issue_path(root, wanted, received.year)
            _inside(path, issues_dir)
            try:
                change = _write_new(root, path, wanted, fields, body, by=by, date=date, received=received)
                break
            except FileExistsError:
                if issue_id is not None:
                    raise LedgerError(f"{path} 已存在。请换一个编号。") from None
                year, number = wanted.split("-")
                wanted = f"{year}-{int(number) + 1:04d}"
        else:  # pragma: no cover - a thousand taken names in a row
            raise LedgerError("无法分配新的诉求编号。")
        if commit:  # the file did not exist a moment ago (exclusive create): all of it is this change
            commit_change(change)
    return change


def _write_new(root: Path, path: Path, issue_id: str, fields: dict, body: str, *, by, date, received) -> Change:
    data = {"title": fields["title"], "received": received, "category": fields["category"], "status": "received"}
    for key in ISSUE_ORDER:
        if key not in data and key != "history" and fields.get(key) not in (None, "", []):
            data[key] = fields[key]
    data["history"] = [{"date": date, "by": by, "action": NEW_ACTION, "note": fields.get("channel") or "受理"}]
    fm = yaml.dump(data, Dumper=_NoAliases, allow_unicode=True, sort_keys=False, default_flow_style=False,
                   width=10**9)
    text = f"---\n{fm}---\n{body.strip()}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    like = Issue(id=issue_id, relpath=path.relative_to(root).as_posix())
    holder = {}

    def verify(tmp: Path) -> None:
        rec, diags = reload(path, like, tmp)
        errors = [d.message for d in diags if d.severity == "error"]
        if rec is None or errors:
            raise LedgerError("新诉求无法通过读取检查：" + "；".join(errors))
        holder["rec"] = rec

    write_atomic(path, text, verify, exclusive=True)
    return Change(holder["rec"], path, "new", NEW_ACTION, by, None, "received")


# -- Git ------------------------------------------------------------------------------------
def commit_message(change: Change) -> str:
    head = f"issue {change.issue.id}: {change.op}"
    lines = [f"Action: {change.action}", f"By: {change.by}",
             f"Status: {change.old_status or '-'} -> {change.new_status or '-'}"]
    if change.note:
        lines.append(f"Note: {' '.join(change.note.split())}")
    return head + "\n\n" + "\n".join(lines) + "\n"


def require_clean(paths: list[Path]) -> Path | None:
    """Before an operation with --commit: the files it will change must hold no uncommitted change,
    so that the commit holds this operation's change and nothing else. Returns the work tree, or
    None outside Git (the operation then runs and the commit step reports the problem)."""
    top = gitutil.toplevel(paths[0])
    if top is None:
        return None
    try:
        dirty = gitutil.dirty(paths, top)
    except gitutil.GitError as e:
        raise LedgerError(str(e)) from None
    if dirty:
        raise LedgerError(f"{'、'.join(dirty)} 有尚未提交的修改。--commit 只提交这次操作的修改，不能把之前的修改一并提交："
                          f"请先提交或撤销这些修改（git diff -- 文件 可查看），或不加 --commit 运行。没有做任何修改。")
    return top


def commit_change(change: Change, repo: Path | None = None, message: str | None = None) -> str:
    """Commit the change's file(s), and only them; sets and returns `change.commit`."""
    paths = [change.path, *change.extra_paths]
    repo = repo or gitutil.toplevel(change.path)
    if repo is None:
        raise CommitFailed(f"{change.path.parent} 不在 Git 仓库中，无法使用 --commit。文件已修改，但未提交。", change)
    try:
        change.commit = gitutil.commit_paths(paths, message or commit_message(change), repo)
    except gitutil.GitError as e:
        raise CommitFailed(f"Git 提交失败（文件已修改，但未提交）：{e}", change) from None
    return change.commit


def git_log(path: Path) -> list[str]:
    """One line per commit touching the file (empty when not in a repository)."""
    return gitutil.log_lines(path)
