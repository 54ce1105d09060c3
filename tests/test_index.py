"""The index: fingerprint, stale detection, atomic generation swap, one writer at a time."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_policykb

from policykb.content.loader import fingerprint
from policykb.search import index_store, matcher

TREE = {
    "policies/zone-tech-upgrade.md": """
        ---
        title: 滨海高新区支持企业技术改造项目补助办法
        ---
        技术改造项目按设备投资额的10%给予补助。
        """,
    "faq/faq-parking.md": """
        ---
        question: 员工上班停车难怎么办？
        ---
        区里协调周边闲置地块建设临时停车场。
        """,
}


@pytest.fixture
def tree(make_tree):
    return make_tree(TREE)


def test_index_command_records_content_fingerprint(tree, tmp_path, cli):
    index = tmp_path / "idx"
    r = cli("index", "--content", tree, "--index", index)
    assert r.exit_code == 0, r.output
    assert "2 条记录" in r.output
    gen = index_store.current(index)
    assert gen.manifest["fingerprint"] == fingerprint(tree)
    assert (index / "CURRENT").read_text().strip() == gen.path.name
    [hits] = matcher.match(tree, ["停车难"], index_dir=index)
    assert hits[0].id == "faq-parking"


def test_stale_index_is_detected_and_rebuilt(tree, tmp_path):
    index = tmp_path / "idx"
    first = matcher.build_index(tree, index)
    key = matcher.index_key(tree)
    assert not matcher.is_stale(index, key)
    (tree / "faq" / "faq-broadband.md").write_text(
        "---\nquestion: 宽带经常断线找谁？\n---\n联系企业服务专员协调运营商。\n", encoding="utf-8")
    assert matcher.is_stale(index, matcher.index_key(tree))
    [hits] = matcher.match(tree, ["宽带断线"], index_dir=index)
    assert hits and hits[0].id == "faq-broadband"
    second = index_store.current(index)
    assert second.path != first.path and second.manifest["fingerprint"] == fingerprint(tree)


def test_cached_index_follows_content_changes(tree):
    [before] = matcher.match(tree, ["宽带断线"])
    assert before == []
    (tree / "faq" / "faq-broadband.md").write_text(
        "---\nquestion: 宽带经常断线找谁？\n---\n联系企业服务专员协调运营商。\n", encoding="utf-8")
    [after] = matcher.match(tree, ["宽带断线"])
    assert after[0].id == "faq-broadband"


def test_swap_keeps_old_generation_readable(tree, tmp_path):
    index = tmp_path / "idx"
    old = matcher.build_index(tree, index)
    reader = matcher.searcher_for(old)  # a reader that opened the old index
    (tree / "policies" / "zone-tech-upgrade.md").unlink()
    new = matcher.build_index(tree, index)
    assert index_store.current(index).path == new.path
    assert old.path.is_dir()  # the previous generation stays for readers like this one
    from policykb.search import analysis
    from policykb.search.engine import Filters
    hits = reader.search(analysis.analyze_query("技术改造"), Filters(), 5)
    assert hits[0].id == "zone-tech-upgrade"


def test_unpublished_generation_is_never_current(tree, tmp_path):
    index = tmp_path / "idx"
    good = matcher.build_index(tree, index)
    half = index_store.new_generation(index, "f" * 64)
    (half / "partial-file").write_text("half an index")
    assert index_store.current(index).path == good.path
    # A pointer at a folder without a complete manifest counts as no index, never as half a one.
    (index / "CURRENT").write_text(half.name + "\n")
    assert index_store.current(index) is None
    assert matcher.is_stale(index, matcher.index_key(tree))


def test_killed_build_leaves_previous_index_in_place(make_tree, tmp_path):
    from policykb.search.bench import generate_corpus
    small = make_tree(TREE, name="small")
    big = generate_corpus(Path(__file__).resolve().parent.parent / "content", tmp_path / "big", 6)
    index = tmp_path / "idx"
    good = matcher.build_index(small, index)
    exe = Path(sys.executable).parent / "policykb"
    proc = subprocess.Popen([str(exe), "index", "--content", str(big), "--index", str(index)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline and len(list(index.glob("gen-*"))) < 2 and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "the big build finished too fast to interrupt"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert index_store.current(index).path == good.path
    [hits] = matcher.match(small, ["技术改造"], index_dir=index)
    assert hits[0].id == "zone-tech-upgrade"


def test_second_writer_gets_a_clear_message(tree, tmp_path):
    index = tmp_path / "idx"
    with index_store.write_lock(index):
        with pytest.raises(index_store.IndexBusy):
            with index_store.write_lock(index):
                pass
        r = run_policykb("index", "--content", tree, "--index", index)
    assert r.returncode == 2
    assert "另一个进程正在建立索引" in r.stderr
    assert index_store.current(index) is None  # nothing was half-written meanwhile
    r = run_policykb("index", "--content", tree, "--index", index)  # lock released
    assert r.returncode == 0, r.stderr


def test_reader_waits_for_a_running_build_instead_of_failing(tree, tmp_path):
    import threading
    index = tmp_path / "idx"
    released = threading.Event()

    def hold():
        with index_store.write_lock(index):
            released.wait(5)
    t = threading.Thread(target=hold)
    t.start()
    try:
        time.sleep(0.2)
        timer = threading.Timer(0.5, released.set)
        timer.start()
        gen, built = matcher.ensure_index(tree, index)  # waits, then builds itself
        assert built and gen.manifest["fingerprint"] == fingerprint(tree)
    finally:
        released.set()
        t.join()


def test_bench_reports_every_figure_on_both_corpora(tmp_path):
    """`policykb bench` end to end on a small real tree: matcher, site and same-run ratios."""
    import json

    from conftest import BUNDLED, run_policykb
    r = run_policykb("bench", "--content", BUNDLED, "--scale", "2", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    small, big = report["runs"]
    assert big["documents"] == 2 * small["documents"]
    for run in (small, big):
        assert run["build_seconds"] > 0 and 0 < run["p50_ms"] <= run["p95_ms"] and run["cold_seconds"] > 0
        assert 0 < run["bm25_p50_ms"] <= run["bm25_p95_ms"]  # plain BM25 measured in the same run
        assert run["site"]["pages"] > 0 and run["site"]["search_index_bytes"] > 0
    assert report["ratios"]["documents"] == 2.0 and report["ratios"]["search_index_bytes"] > 1
    assert report["ratios"]["p95_vs_bm25"] > 0
    # The blend's figures are there exactly when it was measured; otherwise the report says why.
    assert report["semantic"]["measured"] == ("semantic" in small) == ("semantic" in big)
    assert report["semantic"]["measured"] or report["semantic"]["reason"] in ("switched-off", "not-installed")


def test_fingerprint_memo_never_hides_an_edit(make_tree, tmp_path):
    from policykb.content.files import fingerprint
    root = make_tree({"policies/a.md": "---\ntitle: 甲\n---\n正文\n"})
    memo = tmp_path / "memo"
    first = fingerprint(root, memo_dir=memo)
    assert first == fingerprint(root) and len(list(memo.iterdir())) == 1
    assert fingerprint(root, memo_dir=memo) == first  # answered from the memo
    (root / "policies/a.md").write_text("---\ntitle: 乙\n---\n正文\n", encoding="utf-8")
    assert fingerprint(root, memo_dir=memo) == fingerprint(root) != first
    (root / "faq").mkdir()
    (root / "faq/q.md").write_text("---\nquestion: 问？\n---\n答。\n", encoding="utf-8")
    assert fingerprint(root, memo_dir=memo) == fingerprint(root) != first


def test_no_index_is_built_from_content_that_fails_validation(make_tree, tmp_path):
    from conftest import run_policykb
    root = make_tree({"policies/p.md": "---\ntitle: 技术改造补助\ncategories: [科技创心]\n---\n正文\n"})
    index = tmp_path / "index"
    for args in (["index", "--index", index], ["match", "--index", index, "技术改造"]):
        r = run_policykb(*args, "--strict", "--content", root)  # --strict keeps the refusal
        assert r.returncode == 1, r.stderr
        assert "p.md:3: 错误[unknown-term]" in r.stderr and "没有建立索引" in r.stderr
    assert not index.exists() or not any(index.glob("gen-*"))


def test_a_folder_without_content_folders_is_refused(tmp_path):
    from conftest import run_policykb
    (tmp_path / "empty").mkdir()
    for cmd in (["index"], ["match", "技改"], ["validate"], ["build", "--out", tmp_path / "out"]):
        r = run_policykb(*cmd, "--content", tmp_path / "empty")
        assert r.returncode == 2 and "没有 policies/、faq/ 或 issues/" in r.stderr, (cmd, r.stderr)


def test_one_bad_file_never_takes_the_matcher_down(make_tree, tmp_path):
    from conftest import run_policykb
    root = make_tree({
        "policies/good.md": "---\ntitle: 技术改造补助办法\n---\n技术改造项目按投资额补助。\n",
        "policies/bad.md": "---\ntitle: 技术改造贴息办法\ncategories: [科技创心]\n---\n技术改造贷款贴息。\n",
        "faq/broken.md": "---\nquestion: [技术改造\n---\n答。\n",
    })
    index = tmp_path / "index"
    r = run_policykb("index", "--index", index, "--content", root)
    assert r.returncode == 0, r.stderr
    [warning] = [line for line in r.stderr.splitlines() if line.startswith("警告")]
    assert "policies/bad.md:3" in warning and "faq/broken.md:" in warning and "policykb validate" in warning
    assert "1 条记录" in r.stdout
    r = run_policykb("match", "--index", index, "--content", root, "--json", "技术改造")
    assert r.returncode == 0, r.stderr
    assert [h["id"] for h in json.loads(r.stdout)["results"]] == ["good"]
    assert r.stderr.count("警告") == 1 and "policies/bad.md:3" in r.stderr
    assert "Traceback" not in r.stderr


def test_unwritable_index_or_cache_gets_a_chinese_message(make_tree, tmp_path):
    from conftest import run_policykb
    root = make_tree({"policies/good.md": "---\ntitle: 技术改造补助办法\n---\n正文\n"})
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for args, env in ((["index", "--index", blocker / "idx"], None), (["match", "--index", "/proc/policykb-idx", "技改"], None),
                      (["match", "技改"], {"POLICYKB_CACHE": str(blocker / "cache")})):
        r = run_policykb(*args, "--content", root, env=env)
        assert r.returncode == 2, (args, r.stderr)
        assert "Traceback" not in r.stderr and "错误：无法写入" in r.stderr, (args, r.stderr)


def test_bad_top_and_unknown_region_are_told_in_chinese(make_tree):
    from conftest import run_policykb
    root = make_tree({"policies/zone.md": "---\ntitle: 滨海高新区技术改造补助办法\nregion: 天津市/滨海新区/滨海高新区\n"
                                          "apply:\n  deadline: 2026-12-15\n  department: 区经济发展局\n  phone: 022-1234\n"
                                          "---\n正文\n"})
    r = run_policykb("match", "--content", root, "--top", "abc", "技改")
    assert r.returncode == 2 and "不是整数" in r.stderr and "integer" not in r.stderr
    r = run_policykb("match", "--content", root, "--region", "滨海高兴区", "技术改造")
    assert r.returncode == 0 and "没有地区 “滨海高兴区”" in r.stderr and "滨海高新区" in r.stderr
    r = run_policykb("match", "--content", root, "--json", "技术改造")
    [hit] = json.loads(r.stdout)["results"]
    assert (hit["deadline"], hit["department"], hit["phone"], hit["status"]) == (
        "2026-12-15", "区经济发展局", "022-1234", "effective")
    text = run_policykb("match", "--content", root, "技术改造").stdout
    assert "申报截止：2026-12-15" in text and "区经济发展局，022-1234" in text
