"""Which files make up a content tree, and a fingerprint of them.

Kept free of the record models (and so of pydantic) because `policykb match` checks its
index's freshness on every start and must start fast. The loader re-exports both names.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

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


def iter_record_files(root: Path):
    """(path, relpath, kind) for every record file, in a stable order; hidden folders skipped."""
    root = Path(root)
    for folder, kind in FOLDERS.items():
        base = os.path.join(root, folder)
        if not os.path.isdir(base):
            continue
        found = []
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            for name in filenames:
                if name.endswith(".md") and not name.startswith(".") and name.lower() not in _SKIP_NAMES:
                    found.append(f"{rel_dir}/{name}")
        for rel in sorted(found):
            yield root / rel, rel, kind


def misnamed_record_files(root: Path) -> list[str]:
    """Relpaths that look like records but are skipped because the extension is not lower-case .md."""
    out = []
    for folder in FOLDERS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, folder)):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            out += [f"{rel_dir}/{n}" for n in filenames if n.lower().endswith(".md") and not n.endswith(".md")]
    return sorted(out)


def _content_files(root: Path) -> list[tuple[Path, str]]:
    files = [(root / TAXONOMY_FILE, TAXONOMY_FILE)] if (root / TAXONOMY_FILE).is_file() else []
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
            st = os.stat(path)
            quick.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
        memo = Path(memo_dir) / quick.hexdigest()
        if memo.is_file():
            return memo.read_text(encoding="ascii").strip()
    h = hashlib.sha256(f"policykb-loader-{LOADER_VERSION}\n".encode())
    for path, rel in files:
        h.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    digest = h.hexdigest()
    if memo is not None:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
        tmp.write_text(digest, encoding="ascii")
        os.replace(tmp, memo)
    return digest
