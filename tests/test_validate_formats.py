"""`policykb validate --format github|gitlab`: findings where CI platforms show them."""
from __future__ import annotations

import json

from conftest import BUNDLED, run_policykb

TODAY = "2026-06-01"
TREE = {
    "policies/p-ok.md": """
        ---
        title: 好政策
        doc_number: 津高新管发〔2025〕8号
        issuer: 区科技局
        region: 天津市
        published: 2025-01-01
        categories: [科技创新]
        summary: 要点
        ---
        正文
        """,
    "policies/p-bad.md": """
        ---
        title: 坏政策
        doc_number: 津高新管发〔2025〕9号
        issuer: 区科技局
        region: 天津市
        published: 2025-01-01
        categories: [科技创心]
        summary: "百分号 100% 与逗号, 冒号: 都要转义"
        source: 不是网址
        ---
        正文
        """,
    "faq/f.md": """
        ---
        question: 问什么？
        categories: [科技创新]
        policies: [p-ok]
        ---
        答案。
        """,
}


def test_github_annotations_point_at_file_and_line(make_tree):
    root = make_tree(TREE)
    r = run_policykb("validate", "--content", root, "--today", TODAY, "--format", "github")
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    bad = f"{root}/policies/p-bad.md".replace(":", "%3A").replace(",", "%2C")
    term = [ln for ln in lines if "title=unknown-term" in ln]
    assert len(term) == 1 and term[0].startswith(f"::error file={bad},line=7,title=unknown-term::")
    assert "“科技创心”" in term[0] and "是否应为 “科技创新”" in term[0]
    url = [ln for ln in lines if "title=bad-url" in ln]
    assert len(url) == 1 and url[0].startswith(f"::warning file={bad},line=9,")
    assert lines[-1].startswith("检查了 3 个文件：1 个错误，1 个警告")
    # --strict turns the warning into an error annotation too
    r = run_policykb("validate", "--content", root, "--today", TODAY, "--format", "github", "--strict")
    assert any(ln.startswith("::error ") and "title=bad-url" in ln for ln in r.stdout.splitlines())


def test_github_escapes_newlines_and_percent():
    from policykb.cli.ci_formats import github_annotations
    from policykb.content.diagnostics import Diagnostic

    [line] = github_annotations([Diagnostic("a,b:c.md", 3, "info", "missing-recommended", "100% 对\n第二行")])
    assert line == "::notice file=a%2Cb%3Ac.md,line=3,title=missing-recommended::100%25 对%0A第二行"


def test_gitlab_code_quality_report(make_tree, tmp_path):
    root = make_tree(TREE)
    out = tmp_path / "reports" / "gl-code-quality.json"
    r = run_policykb("validate", "--content", root, "--today", TODAY, "--format", "gitlab", "--output", out)
    assert r.returncode == 1
    assert "错误[unknown-term]" in r.stdout  # with --output the job log still lists the problems
    report = json.loads(out.read_text(encoding="utf-8"))
    by_check = {i["check_name"]: i for i in report}
    assert set(by_check) >= {"unknown-term", "bad-url"}
    term = by_check["unknown-term"]
    assert term["severity"] == "major" and by_check["bad-url"]["severity"] == "minor"
    assert term["location"] == {"path": f"{root}/policies/p-bad.md", "lines": {"begin": 7}}
    assert "科技创心" in term["description"]
    assert all(set(i) >= {"description", "check_name", "fingerprint", "severity", "location"} for i in report)
    assert len({i["fingerprint"] for i in report}) == len(report)
    assert not list(out.parent.glob(".*.pkbtmp"))
    # to stdout: nothing but the JSON (the summary goes to stderr)
    r = run_policykb("validate", "--content", root, "--today", TODAY, "--format", "gitlab")
    assert json.loads(r.stdout) == report and "检查了 3 个文件" in r.stderr


def test_fingerprint_survives_a_moved_line(make_tree):
    root = make_tree(TREE)
    first = json.loads(run_policykb("validate", "--content", root, "--today", TODAY, "--format", "gitlab").stdout)
    path = root / "policies" / "p-bad.md"
    path.write_text(path.read_text(encoding="utf-8").replace("---\n", "---\nkeywords: [新增一行]\n", 1),
                    encoding="utf-8")
    second = json.loads(run_policykb("validate", "--content", root, "--today", TODAY, "--format", "gitlab").stdout)
    a = {i["check_name"]: i for i in first}
    b = {i["check_name"]: i for i in second}
    assert b["unknown-term"]["location"]["lines"]["begin"] == a["unknown-term"]["location"]["lines"]["begin"] + 1
    assert b["unknown-term"]["fingerprint"] == a["unknown-term"]["fingerprint"]


def test_bundled_content_is_clean_in_every_format():
    for fmt in ("github", "gitlab"):
        r = run_policykb("validate", "--content", BUNDLED, "--strict", "--format", fmt, "--today", "2026-12-01")  # pinned: the bundled content ages
        assert r.returncode == 0, r.stdout[-3000:]
        if fmt == "github":
            assert not any(ln.startswith(("::error", "::warning")) for ln in r.stdout.splitlines())
        else:
            assert all(i["severity"] == "info" for i in json.loads(r.stdout))
