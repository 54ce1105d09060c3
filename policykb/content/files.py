"""Which files make up a content tree, and a fingerprint of them.

Kept free of the record models (and so of pydantic) because `policykb match` checks its
index's freshness on every start and must start fast. The loader re-exports both names.
"""
from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from policykb.fsio import write_atomic

TAXONOMY_FILE = "taxonomy.yml"
FOLDERS = {"policies": "policy", "faq": "faq", "issues": "issue"}
LOADER_VERSION = "2"  # bump when parsing changes what records contain (invalidates caches)
_SKIP_NAMES = {"readme.md"}  # editors' notes inside content folders are not records


class ContentRootError(Exception):
    """The content root itself is unusable (missing, not a folder, no content folders)."""


def require_content_root(root) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise ContentRootError(f"内容目录不存在或不是文件夹：{root}")
    if not any((root / folder).is_dir() for folder in FOLDERS):
        raise ContentRootError(f"内容目录 {root} 中没有 policies/、faq/ 或 issues/ 文件夹。"
                               f"请用 --content 指定正确的内容目录。")
    return root


@dataclass(frozen=True)
class TreeProblem:
    """Something about the tree itself (not a record's text): a file that cannot be read safely."""
    relpath: str  # relative to the content root, printable (undecodable bytes replaced)
    severity: str  # "error" or "warning", as in diagnostics
    code: str
    message: str


@dataclass
class TreeScan:
    files: list[tuple[Path, str, str]] = field(default_factory=list)  # (path, relpath, kind), safe to open
    problems: list[TreeProblem] = field(default_factory=list)
    unreadable_ids: dict[str, str] = field(default_factory=dict)  # id -> kind of record files not read


def printable(name: str) -> str:
    """A file name as it can be printed: bytes that are not UTF-8 shown as \\xNN."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")


def _inside(path: str, root_real: str) -> bool:
    return path == root_real or path.startswith(root_real.rstrip(os.sep) + os.sep)


def scan_record_files(root) -> TreeScan:
    """Every record file that is safe to open, in a stable order, and what was refused.

    Hidden folders and editors' README.md notes are skipped. Never opens a file: symlinks are
    resolved and must stay inside the tree, FIFOs and devices are skipped (opening one would
    hang), folders that cannot be listed and names that are not UTF-8 are reported.
    """
    root = Path(root)
    root_real = os.path.realpath(root)
    scan = TreeScan()
    problem = scan.problems.append
    for folder, kind in FOLDERS.items():
        base = os.path.join(root, folder)
        if not os.path.isdir(base):
            continue
        if os.path.islink(base) and not _inside(os.path.realpath(base), root_real):
            problem(TreeProblem(folder, "error", "symlink-outside",
                                f"{folder}/ 是指向内容目录之外的符号链接，里面的记录都没有读取。请把记录直接放进内容目录。"))
            continue
        found = []

        def unreadable(err: OSError) -> None:
            rel = os.path.relpath(err.filename, root).replace(os.sep, "/")
            problem(TreeProblem(printable(rel), "error", "unreadable",
                                f"无法读取这个文件夹（{err.strerror}），里面的记录都没有检查。"
                                f"请检查文件夹的权限（需要可读、可进入）。"))

        for dirpath, dirnames, filenames in os.walk(base, onerror=unreadable):
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            for d in list(dirnames):
                full = os.path.join(dirpath, d)
                if d.startswith("."):
                    dirnames.remove(d)
                elif os.path.islink(full):  # os.walk does not follow it: say so instead of skipping silently
                    target = os.path.realpath(full)
                    outside = not _inside(target, root_real)
                    problem(TreeProblem(printable(f"{rel_dir}/{d}"), "error" if outside else "warning",
                                        "symlink-outside" if outside else "ignored-file",
                                        "这个文件夹是指向内容目录之外的符号链接，没有读取。请把内容直接放进内容目录。"
                                        if outside else
                                        "这个文件夹是符号链接，没有读取。请把记录直接放在这里，不要用链接。"))
            for name in filenames:
                if not name.endswith(".md") or name.startswith(".") or name.lower() in _SKIP_NAMES:
                    continue
                rel = f"{rel_dir}/{name}"
                shown = printable(rel)
                if shown != rel:
                    problem(TreeProblem(shown, "error", "bad-filename",
                                        "文件名不是 UTF-8 编码，没有读取。请把文件改名，只用小写英文字母、数字和连字符。"))
                    continue
                why = _unsafe(os.path.join(dirpath, name), root_real)
                if why:
                    problem(TreeProblem(rel, *why))
                    if why[0] == "error":
                        scan.unreadable_ids.setdefault(name[:-3], kind)
                    continue
                found.append(rel)
        scan.files += [(root / rel, rel, kind) for rel in sorted(found)]
    return scan


def _unsafe(path: str, root_real: str) -> tuple[str, str, str] | None:
    """(severity, code, message) when a record file must not be opened, else None."""
    try:
        st = os.stat(path)  # follows symlinks
    except OSError as e:
        if os.path.islink(path):
            return ("error", "broken-link", f"这个文件是符号链接，但指向的文件不存在或链接成环（{e.strerror}）。"
                                            f"请删除这个链接，或换成真正的文件。")
        return ("error", "unreadable", f"无法读取这个文件（{e.strerror}）。请检查文件权限。")
    if os.path.islink(path) and not _inside(os.path.realpath(path), root_real):
        return ("error", "symlink-outside", "这个文件是指向内容目录之外的符号链接，没有读取，也不会发布。"
                                            "请把文件本身放进内容目录。")
    if not stat.S_ISREG(st.st_mode):
        return ("warning", "not-a-file", "这不是普通文件（可能是管道、设备或文件夹），已跳过，没有读取。"
                                         "请删除它，或换成普通的 .md 文件。")
    if not os.access(path, os.R_OK):
        return ("error", "unreadable", "没有读取这个文件的权限。请检查文件权限。")
    return None


def iter_record_files(root: Path):
    """(path, relpath, kind) for every record file that is safe to open, in a stable order."""
    yield from scan_record_files(root).files


def misnamed_record_files(root: Path) -> list[str]:
    """Relpaths that look like records but are skipped because the extension is not lower-case .md."""
    out = []
    for folder in FOLDERS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            out += [printable(f"{rel_dir}/{n}") for n in filenames if n.lower().endswith(".md") and not n.endswith(".md")]
    return sorted(out)


def _content_files(root: Path) -> list[tuple[Path, str]]:
    tax = root / TAXONOMY_FILE
    files = [(tax, TAXONOMY_FILE)] if tax.is_file() and stat.S_ISREG(os.stat(tax).st_mode) else []
    return files + [(p, rel) for p, rel, _ in iter_record_files(root)]


def fingerprint(root, *, memo_dir: Path | None = None) -> str:
    """Hash of everything the loader reads: changes whenever any record or the taxonomy changes.

    With `memo_dir`, the hash is remembered under a key of every file's path, size and
    modification time, so an unchanged tree is not read again (the matcher checks freshness on
    every start); any edit changes that key and the files are hashed afresh.
    """
    root = Path(root)
    files = _content_files(root)
    memo = None
    if memo_dir is not None:
        quick = hashlib.sha256(f"{LOADER_VERSION}\n{root.resolve()}\n".encode())
        for path, rel in files:
            try:
                st = os.stat(path)
            except OSError:  # vanished or unreadable since the scan: the loader will say so
                quick.update(f"{rel}\0gone\n".encode())
                continue
            quick.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        memo = Path(memo_dir) / quick.hexdigest()
        if memo.is_file():
            return memo.read_text(encoding="ascii").strip()
    h = hashlib.sha256(f"policykb-loader-{LOADER_VERSION}\n".encode())
    for path, rel in files:
        try:
            data = hashlib.sha256(path.read_bytes()).digest()
        except OSError:  # unreadable: the loader reports it; the hash still changes when it heals
            data = b"unreadable"
        h.update(rel.encode() + b"\0" + data)
    digest = h.hexdigest()
    if memo is not None:
        memo.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(memo, digest, encoding="ascii")
    return digest
