"""The ledger under a busy office and a hostile hand: concurrent writers with real processes,
ids that try to leave their folder, killed writes, `--commit` that commits only its own change,
full disks, and figures computed only from valid content."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import PROJECT, git, run_policykb, write_tree

from policykb import fsio
from policykb.content.loader import load_content

RECORD = """\
---
title: 新厂区需要 35 千伏供电线路
received: 2026-03-02
category: 生产配套
status: received
history:
  - date: 2026-03-02
    by: 李明
    action: 受理
---
我们厂扩产，需要新建一条 35 千伏线路。
"""
POLICY = "---\ntitle: 用电报装服务\n---\n正文\n"
EXE = str(Path(sys.executable).parent / "policykb")


@pytest.fixture
def tree(make_tree):
    return make_tree({"issues/2026/2026-0001.md": RECORD, "policies/zone-power.md": POLICY})


def _spawn(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([EXE, *args], cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*") if p.is_file())


# -- concurrency ------------------------------------------------------------------------------
def test_concurrent_notes_on_one_record_keep_every_note(tree):
    n = 12
    procs = [_spawn(["issue", "note", "2026-0001", f"第{k}条备注", "--content", str(tree), "--by", f"专员{k}",
                     "--date", "2026-03-05"]) for k in range(n)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    issue = load_content(tree).by_id["2026-0001"]
    notes = [h.note for h in issue.history if h.action == "备注"]
    assert sorted(notes) == sorted(f"第{k}条备注" for k in range(n))
    assert len(issue.history) == n + 1
    assert _leftovers(tree) == []  # no lock or temp file stays behind


def test_concurrent_intake_gives_distinct_ids(tree):
    n = 8
    procs = [_spawn(["issue", "new", "--content", str(tree), "--title", f"诉求{k}", "--category", "其他",
                     "--by", "李明", "--date", "2026-04-01", "--no-interactive", "--no-similar"]) for k in range(n)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    issues = load_content(tree).issues
    assert len(issues) == n + 1
    assert len({i.id for i in issues}) == n + 1
    assert sorted(i.title for i in issues if i.id != "2026-0001") == sorted(f"诉求{k}" for k in range(n))
    assert sorted(i.id for i in issues) == [f"2026-{k:04d}" for k in range(1, n + 2)]
    assert _leftovers(tree) == []


def test_write_that_finds_the_record_changed_stops(tree):
    p = tree / "issues/2026/2026-0001.md"
    old = p.read_bytes()
    p.write_text(RECORD.replace("35 千伏", "10 千伏"), encoding="utf-8")  # someone else's edit meanwhile
    with pytest.raises(fsio.Conflict, match="被其他程序改动"):
        fsio.write_atomic(p, "---\ntitle: x\n---\n", expect=old)
    assert "10 千伏" in p.read_text(encoding="utf-8")  # their edit is not silently overwritten
    assert _leftovers(tree) == []


def test_exclusive_create_never_replaces(tmp_path):
    target = tmp_path / "a.md"
    target.write_text("first", encoding="utf-8")
    with pytest.raises(FileExistsError):
        fsio.write_atomic(target, "second", exclusive=True)
    assert target.read_text(encoding="utf-8") == "first"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.md"]


# -- containment ------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["../../policies/leak", "../x", "UPPER", "a b", "中文", "a/b", ".hidden", "-x"])
def test_bad_issue_ids_are_refused_before_any_path(tree, cli, bad):
    r = cli("issue", "new", "--content", tree, "--title", "泄露", "--category", "其他", "--id", bad,
            "--no-interactive", "--no-similar", "--by", "a", "--date", "2026-04-01")
    assert r.exit_code != 0 and "不合法" in r.output, r.output
    assert sorted(p.name for p in tree.rglob("*.md")) == ["2026-0001.md", "zone-power.md"]


def test_issue_id_is_checked_before_the_content_is_read(tmp_path, cli):
    r = cli("issue", "new", "--content", tmp_path / "missing", "--title", "x", "--category", "其他", "--id", "../x",
            "--no-interactive", "--no-similar", "--by", "a", "--date", "2026-04-01")
    assert r.exit_code != 0 and "不合法" in r.output, r.output


def test_promote_id_cannot_leave_the_tree(tree, cli, tmp_path):
    resolved = RECORD.replace("status: received", "status: resolved\ndepartment: 区供电公司\ndue: 2026-03-20\n"
                              "closed_on: 2026-03-10\nresolution: 已架设线路")
    (tree / "issues/2026/2026-0001.md").write_text(resolved, encoding="utf-8")
    before = (tree / "issues/2026/2026-0001.md").read_bytes()
    r = cli("faq", "promote", "2026-0001", "--content", tree, "--id", "../../../../tmp/y")
    assert r.exit_code != 0 and "不合法" in r.output
    assert not Path("/tmp/y.md").exists() and not (tree / "faq").exists()
    # A faq folder that is a symlink out of the tree is refused too.
    outside = tmp_path / "outside"
    outside.mkdir()
    (tree / "faq").symlink_to(outside)
    r = cli("faq", "promote", "2026-0001", "--content", tree)
    assert r.exit_code != 0 and "不在" in r.output and "拒绝写入" in r.output
    assert list(outside.iterdir()) == [] and (tree / "issues/2026/2026-0001.md").read_bytes() == before


def test_issue_folder_symlinked_outside_is_refused(make_tree, tmp_path, cli):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    root = make_tree({"policies/zone-power.md": POLICY})
    (root / "issues").symlink_to(outside)
    r = cli("issue", "new", "--content", root, "--title", "x", "--category", "其他", "--no-interactive",
            "--no-similar", "--by", "a", "--date", "2026-04-01")
    assert r.exit_code != 0 and "拒绝写入" in r.output
    assert list(outside.iterdir()) == []


def test_inside_helper(tmp_path):
    assert fsio.inside(tmp_path / "a" / "b.md", tmp_path) == (tmp_path / "a/b.md").resolve()
    with pytest.raises(fsio.Outside):
        fsio.inside(tmp_path / ".." / "b.md", tmp_path)


# -- killed writes ----------------------------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from policykb import fsio

    def slow(tmp):
        print("ready", tmp, flush=True)
        time.sleep(60)

    fsio.write_atomic(Path(sys.argv[1]), "新内容" * 1000, slow)
""")


def _writer(target: Path) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], cwd=PROJECT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    line = proc.stdout.readline()
    assert line.startswith("ready"), proc.stderr.read()
    return proc, Path(line.split(" ", 1)[1].strip())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_interrupted_write_removes_its_temp_file(tree, sig):
    target = tree / "issues/2026/2026-0001.md"
    proc, tmp = _writer(target)
    assert tmp.exists() and tmp.name.startswith(".") and tmp.name.endswith(fsio.TMP_SUFFIX)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert not tmp.exists() and _leftovers(tree) == []
    assert target.read_text(encoding="utf-8") == RECORD
    assert "Traceback" not in err or sig == signal.SIGINT  # SIGINT in a bare script is Python's own report


def test_killed_write_leaves_only_an_ignored_hidden_file_that_the_next_write_removes(tree):
    target = tree / "issues/2026/2026-0001.md"
    proc, tmp = _writer(target)
    proc.kill()  # SIGKILL: no cleanup can run
    proc.wait(timeout=30)
    assert tmp.exists() and target.read_text(encoding="utf-8") == RECORD
    # Git ignores it (the project's .gitignore) and the loader never reads it.
    rel = f"content/issues/2026/{tmp.name}"
    assert subprocess.run(["git", "-C", str(PROJECT), "check-ignore", "-q", "--no-index", rel]).returncode == 0
    lock_rel = f"content/issues/{fsio.lock_path(Path('2026-0001.md')).name}"
    assert subprocess.run(["git", "-C", str(PROJECT), "check-ignore", "-q", "--no-index", lock_rel]).returncode == 0
    content = load_content(tree)
    assert [i.id for i in content.issues] == ["2026-0001"] and not content.diagnostics
    # The next ledger write in that folder removes what the dead writer left.
    r = run_policykb("issue", "note", "2026-0001", "补充", "--content", tree, "--by", "a", "--date", "2026-03-03")
    assert r.returncode == 0, r.stderr
    assert not tmp.exists() and _leftovers(tree) == []


def test_a_live_writers_temp_file_is_not_cleaned(tree):
    target = tree / "issues/2026/2026-0001.md"
    proc, tmp = _writer(target)
    try:
        fsio.clean_stale_temps(target.parent)
        assert tmp.exists()
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_disk_full_is_a_chinese_message_with_the_path(tree):
    import resource

    def small_files():  # writes beyond 256 bytes fail with EFBIG, as a full disk fails a write
        resource.setrlimit(resource.RLIMIT_FSIZE, (256, 256))

    target = tree / "issues/2026/2026-0001.md"
    r = subprocess.run([EXE, "issue", "note", "2026-0001", "补充", "--content", str(tree), "--by", "a",
                        "--date", "2026-03-03"], cwd=PROJECT, capture_output=True, text=True, preexec_fn=small_files)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr and "错误：" in r.stderr and "2026-0001.md" in r.stderr
    assert target.read_text(encoding="utf-8") == RECORD and _leftovers(tree) == []


def test_folder_in_the_way_is_a_chinese_message(tree):
    resolved = RECORD.replace("status: received", "status: resolved\ndepartment: 区供电公司\ndue: 2026-03-20\n"
                              "closed_on: 2026-03-10\nresolution: 已架设线路")
    (tree / "issues/2026/2026-0001.md").write_text(resolved, encoding="utf-8")
    (tree / "faq").write_text("not a folder", encoding="utf-8")
    r = run_policykb("faq", "promote", "2026-0001", "--content", tree)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "错误：" in r.stderr and "faq" in r.stderr


# -- promote is all-or-nothing ------------------------------------------------------------------
RESOLVED = RECORD.replace("status: received", "status: resolved\nenterprise: 天津华兴精密机械有限公司\n"
                          "department: 区供电公司\ndue: 2026-03-20\nclosed_on: 2026-03-10\nresolution: 已架设线路")


def test_promote_interrupted_between_its_two_writes_can_be_retried(tree, cli):
    issue = tree / "issues/2026/2026-0001.md"
    issue.write_text(RESOLVED, encoding="utf-8")
    r = cli("faq", "promote", "2026-0001", "--content", tree, "--date", "2026-03-25", "--by", "李明")
    assert r.exit_code == 0, r.output
    # The state a kill after the first write leaves: the draft exists, the record does not link it.
    issue.write_text(RESOLVED, encoding="utf-8")
    r = cli("faq", "promote", "2026-0001", "--content", tree, "--date", "2026-03-26", "--by", "李明")
    assert r.exit_code == 0, r.output
    content = load_content(tree)
    assert content.by_id["2026-0001"].faq == ["faq-2026-0001"]
    assert content.by_id["faq-2026-0001"].updated.isoformat() == "2026-03-26"
    # Once linked, a second promote is refused as before.
    r = cli("faq", "promote", "2026-0001", "--content", tree)
    assert r.exit_code == 1 and "已被" in r.output


# -- --commit commits exactly this operation's change -------------------------------------------
@pytest.fixture
def repo_tree(git_repo):
    content = write_tree(git_repo / "content", {"issues/2026/2026-0001.md": RECORD, "policies/zone-power.md": POLICY})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "start")
    return git_repo, content


def test_commit_refuses_a_record_with_uncommitted_changes(repo_tree, cli):
    repo, content = repo_tree
    p = content / "issues/2026/2026-0001.md"
    p.write_text(RECORD.replace("35 千伏", "110 千伏"), encoding="utf-8")  # an editor's unfinished edit
    before = p.read_bytes()
    head = git(repo, "rev-parse", "HEAD")
    r = cli("issue", "note", "2026-0001", "补充", "--content", content, "--by", "a", "--date", "2026-03-03", "--commit")
    assert r.exit_code == 1 and "尚未提交的修改" in r.output and "没有做任何修改" in r.output
    assert p.read_bytes() == before and git(repo, "rev-parse", "HEAD") == head
    # Without --commit the operation runs (the officer decides what to commit).
    r = cli("issue", "note", "2026-0001", "补充", "--content", content, "--by", "a", "--date", "2026-03-03")
    assert r.exit_code == 0


def test_commit_holds_only_this_operations_hunk(repo_tree, cli):
    repo, content = repo_tree
    r = cli("issue", "note", "2026-0001", "第一条", "--content", content, "--by", "a", "--date", "2026-03-03",
            "--commit")
    assert r.exit_code == 0, r.output
    diff = git(repo, "show", "--format=", "HEAD")
    added = [ln for ln in diff.splitlines() if ln.startswith("+") and not ln.startswith("+++")]
    assert added == ["+  - date: 2026-03-03", "+    by: a", "+    action: 备注", "+    note: 第一条"]
    assert git(repo, "status", "--porcelain") == ""


def test_concurrent_commits_each_hold_their_own_note(repo_tree):
    repo, content = repo_tree
    n = 4
    procs = [_spawn(["issue", "note", "2026-0001", f"备注{k}", "--content", str(content), "--by", f"p{k}",
                     "--date", "2026-03-05", "--commit"]) for k in range(n)]
    outs = [p.communicate(timeout=180) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    log = git(repo, "log", "--format=%s").splitlines()
    assert log.count("issue 2026-0001: note") == n
    shas = git(repo, "log", "--format=%H", f"-{n}").split()
    for sha in shas:
        added = [ln for ln in git(repo, "show", "--format=", sha).splitlines() if ln.startswith("+    note: ")]
        assert len(added) == 1
    assert git(repo, "status", "--porcelain") == ""


def test_new_with_commit_commits_the_new_file_only(repo_tree, cli):
    repo, content = repo_tree
    (content / "policies/zone-power.md").write_text("---\ntitle: 用电（改）\n---\n正文\n", encoding="utf-8")
    r = cli("issue", "new", "--content", content, "--title", "员工子女入学", "--category", "生活配套", "--by", "a",
            "--date", "2026-04-01", "--no-interactive", "--no-similar", "--commit")
    assert r.exit_code == 0, r.output
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == ["content/issues/2026/2026-0002.md"]
    assert "zone-power.md" in git(repo, "status", "--porcelain")


# -- figures from valid content only ---------------------------------------------------------------
def test_stats_refuses_invalid_content_with_path_and_line(tree, cli):
    (tree / "issues/2026/2026-0002.md").write_text("", encoding="utf-8")
    r = cli("stats", "--content", tree, "--as-of", "2026-04-01", "--json")
    assert r.exit_code == 1
    assert "issues/2026/2026-0002.md:1:" in r.output and "没有计算统计数字" in r.output
    (tree / "issues/2026/2026-0002.md").unlink()
    r = cli("stats", "--content", tree, "--as-of", "2026-04-01", "--json")
    assert r.exit_code == 0 and '"collected": 1' in r.output


def test_report_refuses_invalid_content(tree, cli):
    (tree / "policies/broken.md").write_text("---\ntitle: [未闭合\n---\n正文\n", encoding="utf-8")
    r = cli("report", "--content", tree, "--as-of", "2026-04-01")
    assert r.exit_code == 1 and "policies/broken.md:2:" in r.output


@pytest.mark.parametrize("days", ["999999999", "-1"])
def test_report_days_out_of_range_is_a_chinese_message(tree, days):
    r = run_policykb("report", "--content", tree, "--as-of", "2026-04-01", "--days", days)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "--days 应在 0 到 36500 之间" in r.stderr


def test_report_far_horizon_works(tree, cli):
    from policykb.ledger.report import build_report
    rep = build_report(load_content(tree), today=__import__("datetime").date(2026, 4, 1), days=10**9)
    assert rep.days == 10**9
    r = cli("report", "--content", tree, "--as-of", "2026-04-01", "--days", "36500")
    assert r.exit_code == 0


def test_lock_is_exclusive_between_processes(tmp_path):
    target = tmp_path / "r.md"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from policykb import fsio
        with fsio.lock({str(target)!r}):
            print("held", flush=True)
            time.sleep(1.0)
    """)], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(PROJECT)})
    assert holder.stdout.readline().strip() == "held"
    start = time.monotonic()
    with fsio.lock(target):
        waited = time.monotonic() - start
    holder.wait(timeout=30)
    assert waited > 0.3
    with pytest.raises(TimeoutError):
        with fsio.lock(target):
            with fsio.lock(target, timeout=0.2):  # flock is per open file: a second holder waits too
                pass
    assert list(tmp_path.iterdir()) == []


def test_record_file_symlinked_outside_is_refused(make_tree, tmp_path, cli):
    outside = tmp_path / "secret.md"
    outside.write_text(RECORD, encoding="utf-8")
    root = make_tree({"policies/zone-power.md": POLICY})
    (root / "issues").mkdir()
    (root / "issues/2026-0001.md").symlink_to(outside)
    r = cli("issue", "note", "2026-0001", "x", "--content", root, "--by", "a", "--date", "2026-03-03")
    # The loader does not list a record that links out of the tree; were it listed, the write is refused.
    assert r.exit_code != 0 and ("拒绝写入" in r.output or "找不到诉求" in r.output)
    assert outside.read_text(encoding="utf-8") == RECORD
    with pytest.raises(fsio.Outside):  # the check every ledger write makes before it writes
        fsio.inside(root / "issues/2026-0001.md", root / "issues")


def test_commit_check_works_from_another_working_folder(repo_tree, tmp_path):
    repo, content = repo_tree
    p = content / "issues/2026/2026-0001.md"
    p.write_text(RECORD.replace("35 千伏", "110 千伏"), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = run_policykb("issue", "note", "2026-0001", "补充", "--content", os.path.relpath(content, elsewhere),
                     "--by", "a", "--date", "2026-03-03", "--commit", cwd=elsewhere)
    assert r.returncode == 1 and "尚未提交的修改" in r.stderr
