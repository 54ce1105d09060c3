"""The one way the tools call Git: every call has a timeout, and every failure becomes a
`GitError` with a Chinese message (a missing `git`, a hung hook, a locked index).
"""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

TIMEOUT = 60  # seconds for one git call; a commit hook that hangs must not hang the ledger


class GitError(Exception):
    """A Git operation that failed (message in Chinese)."""


def run(args: list[str], cwd: Path, *, timeout: float = TIMEOUT, check: bool = True, text: bool = True,
        input: str | bytes | None = None) -> subprocess.CompletedProcess:
    """`git -c core.quotepath=off ARGS` in `cwd`; GitError when git is missing, times out or (check) fails.
    With text=False, input and output are bytes (blobs are not necessarily text)."""
    cmd = ["git", "-c", "core.quotepath=off", *args]
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=text, timeout=timeout, input=input,
                           stdin=subprocess.DEVNULL if input is None else None)
    except FileNotFoundError:
        raise GitError("找不到 git 命令。请先安装 Git。") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"git {' '.join(args[:1])} 超过 {timeout:g} 秒没有结束，已停止。请检查仓库（钩子、锁文件）后重试。") from None
    except OSError as e:
        raise GitError(f"无法运行 git：{e.strerror or e}（{cwd}）") from None
    if check and r.returncode != 0:
        err = r.stderr or r.stdout
        if isinstance(err, bytes):
            err = err.decode("utf-8", "replace")
        raise GitError(f"git {' '.join(args[:1])} 失败：{err.strip()}")
    return r


def output(args: list[str], cwd: Path, **kw) -> str | None:
    """Stdout of a git call, or None when it fails (not a repository, git missing, timeout)."""
    try:
        r = run(args, cwd, check=False, **kw)
    except GitError:
        return None
    return r.stdout if r.returncode == 0 else None


def toplevel(path: Path) -> Path | None:
    """The work tree holding `path` (a file or folder), None outside Git."""
    where = Path(path) if Path(path).is_dir() else Path(path).parent
    out = output(["rev-parse", "--show-toplevel"], where)
    return Path(out.strip()) if out else None


def git_dir(path: Path) -> Path | None:
    where = Path(path) if Path(path).is_dir() else Path(path).parent
    out = output(["rev-parse", "--absolute-git-dir"], where)
    return Path(out.strip()) if out else None


def config(key: str, cwd: Path | None = None) -> str | None:
    out = output(["config", key], cwd or Path.cwd())
    return out.strip() or None if out is not None else None


def dirty(paths: list[Path], cwd: Path) -> list[str]:
    """Of `paths`, those with changes Git has not committed (modified, staged or untracked).
    A path that does not exist and is not tracked is clean."""
    names = [str(Path(p).resolve()) for p in paths]  # relative paths would be read from cwd, not ours
    r = run(["status", "--porcelain", "--untracked-files=all", "--", *names], cwd)
    return [line[3:] for line in r.stdout.splitlines() if line.strip()]


def commit_paths(paths: list[Path], message: str, cwd: Path, *, retries: int = 20) -> str:
    """Commit exactly `paths` (their working-tree state) and nothing else that may be staged;
    returns the new commit id. Serialised per repository; waits out a briefly locked index."""
    from policykb import fsio
    gd = git_dir(cwd)
    if gd is None:
        raise GitError(f"{cwd} 不在 Git 仓库中。")
    names = [str(Path(p).resolve()) for p in paths]
    with fsio.lock(gd / "policykb-commit"):
        for attempt in range(retries):
            try:
                run(["add", "--", *names], cwd)
                run(["commit", "-q", "--only", "-m", message, "--", *names], cwd)
                break
            except GitError as e:
                if "index.lock" not in str(e) or attempt == retries - 1:
                    raise
                time.sleep(0.1 * (attempt + 1))
        return run(["rev-parse", "HEAD"], cwd).stdout.strip()


def log_lines(path: Path, fmt: str = "%h %ad %an %s") -> list[str]:
    """One line per commit touching the file (empty outside a repository)."""
    out = output(["log", "--follow", f"--format={fmt}", "--date=short", "--", str(Path(path).resolve())],
                 Path(path).parent)
    return out.splitlines() if out else []
