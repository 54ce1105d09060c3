"""An index folder that is swapped whole: generations, a pointer file, a writer lock.

Layout of an index folder:
    CURRENT            name of the live generation (replaced atomically with os.replace)
    gen-<time>-<fp>/   one complete build; manifest.json written last
    .write.lock        held (flock) by the one process building

A build goes into a new generation folder; only when it is complete does CURRENT point at
it, so a failed build leaves the previous index untouched and readers never see half an
index. Older generations are removed after the swap (the previous one is kept for readers
that opened it a moment ago).
"""
from __future__ import annotations

import json
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from policykb.fsio import write_atomic

POINTER = "CURRENT"
MANIFEST = "manifest.json"
LOCK = ".write.lock"
KEEP_OLD = 1


class IndexBusy(Exception):
    """Another process is building this index."""


@dataclass
class Generation:
    path: Path
    manifest: dict


def current(index_dir: Path) -> Generation | None:
    """The live generation, or None when there is no complete index."""
    index_dir = Path(index_dir)
    try:
        name = (index_dir / POINTER).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    path = index_dir / name
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return Generation(path, manifest)


@contextmanager
def write_lock(index_dir: Path):
    """Exclusive, non-blocking: a second writer gets IndexBusy at once."""
    import fcntl
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(str(index_dir)) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def wait_for_writer(index_dir: Path, timeout: float = 300.0) -> None:
    """Block until no process holds the write lock (a reader waiting for a build to finish)."""
    import fcntl
    path = Path(index_dir) / LOCK
    if not path.exists():
        return
    deadline = time.monotonic() + timeout
    fd = os.open(path, os.O_RDONLY)
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise IndexBusy(str(index_dir)) from None
                time.sleep(0.1)
    finally:
        os.close(fd)


def new_generation(index_dir: Path, fingerprint: str) -> Path:
    base = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{fingerprint[:8]}"
    Path(index_dir).mkdir(parents=True, exist_ok=True)
    for n in range(1000):  # two builds of the same content in one second (an incremental rebuild)
        path = Path(index_dir) / (base if n == 0 else f"{base}-{n}")
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue
    raise FileExistsError(str(path))


def publish(index_dir: Path, gen_path: Path, manifest: dict) -> Generation:
    """Write the manifest, then point CURRENT at the new generation in one atomic step."""
    index_dir = Path(index_dir)
    write_atomic(gen_path / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1, default=str))
    write_atomic(index_dir / POINTER, gen_path.name + "\n")
    _prune(index_dir, keep=gen_path.name)
    return Generation(gen_path, manifest)


def discard(gen_path: Path) -> None:
    shutil.rmtree(gen_path, ignore_errors=True)


def _prune(index_dir: Path, keep: str) -> None:
    gens = sorted((p for p in index_dir.glob("gen-*") if p.is_dir() and p.name != keep),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in gens[KEEP_OLD:]:
        shutil.rmtree(old, ignore_errors=True)
