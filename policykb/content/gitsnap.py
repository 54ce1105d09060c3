"""A content tree as it stood at a Git revision, read from Git objects (not a checkout).

The loader reads folders, so `extract_tree` lists the revision's tree (`git ls-tree -r`) and
streams the blobs (`git cat-file --batch`) into a temporary folder that only the loader reads:
the work tree, the index and HEAD are never touched, and uncommitted edits do not leak in.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from policykb import gitutil
from policykb.gitutil import GitError  # noqa: F401 (the one Git error type; re-exported)


def _git(cwd: Path, *args: str, input: bytes | None = None) -> bytes:
    """gitutil.run with bytes in and out (blobs are not necessarily text)."""
    return gitutil.run(list(args), cwd, timeout=gitutil.TIMEOUT * 2, text=False, input=input).stdout


@dataclass(frozen=True)
class Location:
    toplevel: Path  # the repository's work tree
    prefix: str  # the content folder inside it, POSIX, "" or ending in "/"


def locate(content_dir) -> Location:
    """Where a content folder sits in its repository."""
    path = Path(content_dir)
    if not path.is_dir():
        raise GitError(f"内容目录不存在：{path}")
    try:
        top = _git(path, "rev-parse", "--show-toplevel").decode().strip()
        prefix = _git(path, "rev-parse", "--show-prefix").decode().strip()
    except GitError as e:
        raise GitError(f"{path} 不在 Git 仓库中，无法比较版本。请在仓库里运行，或用 --content 指向仓库中的内容目录。") from e
    return Location(Path(top), prefix)


def resolve(loc: Location, rev: str) -> str:
    """Full commit id of a revision (branch, tag, sha, HEAD~1, origin/main...)."""
    try:
        return _git(loc.toplevel, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
    except GitError as e:
        raise GitError(f"Git 仓库中没有版本 “{rev}”。请写分支名、标签或提交号"
                       f"（CI 中常见的是 origin/main；浅克隆时请先 git fetch 该分支）。") from e


def extract_tree(loc: Location, commit: str, dest: Path) -> int:
    """Write the content folder's files at `commit` under `dest`; returns how many."""
    listing = _git(loc.toplevel, "ls-tree", "-r", "-z", "--full-tree", commit, "--", loc.prefix or ".")
    entries = []
    for item in listing.split(b"\0"):
        if not item:
            continue
        meta, _, name = item.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        if kind != "blob" or mode not in ("100644", "100755"):
            continue  # symlinks and submodules are not content
        rel = name.decode("utf-8", "surrogateescape")
        if loc.prefix and not rel.startswith(loc.prefix):
            continue
        entries.append((sha, PurePosixPath(rel[len(loc.prefix):])))
    dest.mkdir(parents=True, exist_ok=True)
    if entries:
        data = _git(loc.toplevel, "cat-file", "--batch", input="".join(f"{sha}\n" for sha, _ in entries).encode())
        pos = 0
        for _sha, rel in entries:
            header_end = data.index(b"\n", pos)
            size = int(data[pos:header_end].split()[2])
            blob = data[header_end + 1: header_end + 1 + size]
            pos = header_end + 1 + size + 1
            target = dest.joinpath(*rel.parts)
            if ".." in rel.parts:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
    if not any((dest / f).is_dir() for f in ("policies", "faq", "issues")):
        (dest / "policies").mkdir(exist_ok=True)  # the content folder did not exist yet: an empty tree
    return len(entries)


def short(loc: Location, commit: str) -> str:
    return _git(loc.toplevel, "rev-parse", "--short", commit).decode().strip()
