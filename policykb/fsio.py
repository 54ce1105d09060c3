"""The one way the tools write files: atomically, durably, inside the folder they belong to,
and under a per-file lock when several processes may write the same file.

- `write_atomic`: the new bytes go to a hidden temp file in the same folder (`.NAME.PID-XXXX.pkbtmp`,
  ignored by Git through .gitignore and by the loader because its name starts with a dot), are
  fsynced, optionally verified, then `os.replace`d over the target and the folder is fsynced.
  The temp file is removed on every exit path Python can see: exceptions, KeyboardInterrupt and
  SIGTERM/SIGHUP (turned into an exception while the write runs). A SIGKILL cannot be caught;
  what it leaves is hidden and ignored, and `clean_stale_temps` removes it at the next write.
- `lock`: an exclusive `fcntl.flock` on a hidden sidecar (`.NAME.pkblock`), removed on release.
- `inside`: a path resolved and checked to lie inside a folder, before anything is written.

Failures are `OSError`s carrying the target path (the CLI prints them in Chinese) or the typed
errors below.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import signal
import threading
from pathlib import Path

TMP_SUFFIX = ".pkbtmp"
LOCK_SUFFIX = ".pkblock"
_TMP_NAME = re.compile(r"^\..*\.(\d+)-[0-9a-f]+" + re.escape(TMP_SUFFIX) + r"$")


class Conflict(Exception):
    """The target changed between reading it and replacing it (someone wrote it meanwhile)."""

    def __init__(self, path: Path):
        super().__init__(f"{path} 在修改期间被其他程序改动，没有写入。请重新运行这条命令。")
        self.path = Path(path)


class Outside(ValueError):
    """A path that would be written outside the folder it belongs to."""

    def __init__(self, path: Path, folder: Path):
        super().__init__(f"路径 {path} 不在 {folder} 之内，拒绝写入。请检查编号或路径（不能含 “..”、“/” 或指向外部的符号链接）。")
        self.path, self.folder = Path(path), Path(folder)


class Terminated(SystemExit):
    """SIGTERM/SIGHUP arrived during a write: raised so that cleanup runs; the process then ends
    quietly with status 128 + signal number, as if the signal had killed it."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum


def inside(path: Path, folder: Path) -> Path:
    """`path` resolved (symlinks followed), refused with `Outside` unless it lies in `folder`."""
    folder_r = Path(folder).resolve()
    path_r = Path(path).resolve()
    if path_r != folder_r and folder_r not in path_r.parents:
        raise Outside(path, folder)
    return path_r


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temps(folder: Path) -> list[Path]:
    """Remove temp files in `folder` left by writers that no longer run (a SIGKILL, a power cut)."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = _TMP_NAME.match(name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))
                removed.append(Path(folder) / name)
    return removed


@contextlib.contextmanager
def _signals_raise():
    """While the block runs, SIGTERM and SIGHUP raise `Terminated` (main thread only), so the
    temp file is removed before the process ends; the old handlers come back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(signum)

    old = {}
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            old[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _with_path(e: OSError, path: Path) -> None:
    """Name the path in an OSError that lacks one, so the user's message says where."""
    if not e.filename:
        e.filename = str(path)


def write_atomic(path: Path, data: str | bytes, verify=None, *, expect: bytes | None = None,
                 exclusive: bool = False, mode: int | None = None, encoding: str = "utf-8") -> None:
    """Replace (or create) `path` with `data` in one step.

    verify(temp_path): called on the complete temp file before it replaces anything; raise to stop.
    expect: the bytes the caller read; if the file holds something else just before the replace,
      `Conflict` is raised and nothing is written.
    exclusive: create only; `FileExistsError` if `path` exists (atomically: hard link of the temp).
    mode: permissions of the result (default: the old file's, else 0o644).
    """
    path = Path(path)
    folder = path.parent
    raw = data.encode(encoding) if isinstance(data, str) else data
    clean_stale_temps(folder)
    tmp = folder / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}{TMP_SUFFIX}"
    with _signals_raise():
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as e:
            _with_path(e, path)
            raise
        try:
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(raw)
                    f.flush()
                    os.fsync(f.fileno())
                if mode is None:
                    try:
                        mode = os.stat(path).st_mode & 0o7777
                    except FileNotFoundError:
                        mode = 0o644
                os.chmod(tmp, mode)
            except OSError as e:
                _with_path(e, path)
                raise
            if verify is not None:
                verify(tmp)
            if exclusive:
                _link_new(tmp, path)
            else:
                if expect is not None:
                    try:
                        current = path.read_bytes()
                    except FileNotFoundError:
                        current = None
                    if current != expect:
                        raise Conflict(path)
                try:
                    os.replace(tmp, path)
                except OSError as e:
                    _with_path(e, path)
                    raise
            _fsync_dir(folder)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def _link_new(tmp: Path, path: Path) -> None:
    """Give the temp file its final name only if that name is free (atomic O_EXCL semantics)."""
    try:
        os.link(tmp, path)
        return
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "文件已存在", str(path)) from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            _with_path(e, path)
            raise
    # No hard links on this file system: claim the name with O_EXCL, then fill it by replace.
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, "文件已存在", str(path)) from None
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def lock_path(path: Path) -> Path:
    path = Path(path)
    return path.parent / f".{path.name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def lock(path: Path, *, timeout: float | None = 60.0):
    """Hold an exclusive lock for `path` (a record file, or any name standing for a resource).

    The lock lives on a hidden sidecar file that is removed on release; after acquiring we check
    the sidecar we locked is still the one on disk (another holder may have removed it), else retry.
    """
    import time
    sidecar = lock_path(path)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        try:
            fd = os.open(sidecar, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            _with_path(e, sidecar)
            raise
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() > deadline:
                        raise TimeoutError(errno.ETIMEDOUT, "等待文件锁超时（另一个操作仍在进行）", str(path)) from None
                    time.sleep(0.01)
            try:
                same = os.fstat(fd).st_ino == os.stat(sidecar).st_ino
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(sidecar)
        os.close(fd)
