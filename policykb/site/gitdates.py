"""Last-updated dates from Git, in one `git log` pass over the content folder."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from policykb import gitutil

_SEP = "\x1e"


@dataclass
class GitInfo:
    updated: dict[str, dt.date] = field(default_factory=dict)  # content relpath -> last commit date
    prefix: str = ""  # the content root's path inside the repository ("content/"), "" outside Git

    def repo_path(self, relpath: str) -> str:
        return self.prefix + relpath


def _git(root: Path, *args: str) -> str | None:
    return gitutil.output(list(args), root, timeout=120)


def read_git_info(root: Path) -> GitInfo:
    """Dates of the newest commit touching each file under root; empty outside a repository."""
    prefix = _git(root, "rev-parse", "--show-prefix")
    if prefix is None:
        return GitInfo()
    log = _git(root, "log", f"--format={_SEP}%cs", "--name-only", "--relative", "--no-renames", "--", ".")
    updated: dict[str, dt.date] = {}
    for chunk in (log or "").split(_SEP)[1:]:
        lines = [ln for ln in chunk.splitlines() if ln.strip()]
        if not lines:
            continue
        try:
            day = dt.date.fromisoformat(lines[0].strip())
        except ValueError:
            continue
        for name in lines[1:]:
            updated.setdefault(name.strip(), day)  # log is newest first
    return GitInfo(updated, prefix.strip())
