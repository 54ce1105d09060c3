"""The pull-request plumbing: CI workflow files, the content job's script, editor wiring."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import PROJECT, git, write_tree

WORKFLOWS = [".github/workflows/content.yml", ".gitea/workflows/content.yml", ".forgejo/workflows/content.yml"]
TREE = {
    "content/policies/p.md": "---\ntitle: 甲政策\nissuer: 区科技局\nregion: 天津市\npublished: 2025-01-01\n"
                             "doc_number: 津高新管发〔2025〕1号\ncategories: [科技创新]\nsummary: 最高50万元。\n---\n正文\n",
    "content/faq/f.md": "---\nquestion: 问？\ncategories: [科技创新]\npolicies: [p]\n---\n答。\n",
}


def _runs(job: dict) -> str:
    return "\n".join(str(s.get("run", "")) for s in job.get("steps", []))


def test_every_platform_runs_the_content_job_and_the_tests_apart():
    for rel in WORKFLOWS:
        wf = yaml.safe_load((PROJECT / rel).read_text(encoding="utf-8"))
        jobs = wf["jobs"]
        assert set(jobs) == {"content", "tests"}, rel
        assert "bash scripts/ci-content github" in _runs(jobs["content"]), rel
        assert "scripts/test" in _runs(jobs["tests"]), rel
        checkout = jobs["content"]["steps"][0]
        assert checkout["uses"].endswith("actions/checkout@v4") and checkout["with"]["fetch-depth"] == 0
    gl = yaml.safe_load((PROJECT / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert "bash scripts/ci-content gitlab \"${CI_MERGE_REQUEST_DIFF_BASE_SHA:-}\"" in gl["content"]["script"]
    assert gl["content"]["artifacts"]["reports"]["codequality"] == "build/gl-code-quality.json"
    assert gl["tests"]["stage"] != gl["content"]["stage"] and "bash scripts/test -q" in gl["tests"]["script"]


def test_content_job_script_end_to_end(tmp_path):
    """scripts/ci-content in a repository of its own: a failing check, then a passing one."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(PROJECT / "scripts" / "ci-content", repo / "scripts" / "ci-content")
    write_tree(repo, TREE)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "user.email=a@b.invalid", "-c", "user.name=t", "add", "-A")
    git(repo, "-c", "user.email=a@b.invalid", "-c", "user.name=t", "commit", "-qm", "base")
    policy = repo / "content" / "policies" / "p.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace("最高50万元", "最高80万元")
                      .replace("categories: [科技创新]", "categories: [科技创心]"), encoding="utf-8")
    env = {**os.environ, "POLICYKB": str(Path(sys.executable).parent / "policykb"),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    run = lambda: subprocess.run(["bash", "scripts/ci-content", "github", "main"], cwd=repo, env=env,  # noqa: E731
                                 capture_output=True, text=True, timeout=300)
    r = run()
    assert r.returncode == 1
    assert re.search(r"^::error file=content/policies/p\.md,line=7,title=unknown-term::", r.stdout, re.M)
    assert "内容检查没有通过，跳过网站生成。" in r.stderr and not (repo / "build" / "site").exists()
    assert "要点中的金额或比例：50万元 → 80万元" in (repo / "build" / "pr-summary.md").read_text(encoding="utf-8")
    assert (tmp_path / "summary.md").read_text(encoding="utf-8").startswith("## 内容改动摘要：main（")
    policy.write_text(policy.read_text(encoding="utf-8").replace("科技创心", "科技创新"), encoding="utf-8")
    r = run()
    assert r.returncode == 0, r.stderr
    assert (repo / "build" / "site" / "index.html").is_file()
    for label in ("内容检查", "生成公开网站", "改动摘要"):
        assert re.search(rf"\[{label}：\d+\.\d\d 秒，退出码 0\]", r.stderr), label


def test_vscode_task_reads_the_validators_lines(make_tree):
    tasks = json.loads((PROJECT / ".vscode" / "tasks.json").read_text(encoding="utf-8"))["tasks"]
    check = next(t for t in tasks if "validate" in t["command"])
    patterns = {m["severity"]: re.compile(m["pattern"]["regexp"]) for m in check["problemMatcher"]}
    line = "content/policies/p.md:7: 错误[unknown-term]: “类别” 中的 “科技创心” 不在默认分类表的 categories 词表中。"
    m = patterns["error"].match(line)
    assert m and (m.group(1), m.group(2), m.group(3)) == ("content/policies/p.md", "7", "unknown-term")
    assert not patterns["warning"].match(line)
    settings = json.loads((PROJECT / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    assert set(settings["yaml.schemas"]) == {f"./.schemas/{k}.schema.json" for k in ("policy", "faq", "issue", "taxonomy")}


def test_templates_hooks_and_owners():
    for rel in (".github/pull_request_template.md", ".gitea/pull_request_template.md",
                ".gitlab/merge_request_templates/Default.md"):
        text = (PROJECT / rel).read_text(encoding="utf-8")
        assert "policykb validate --strict" in text and "内容改动摘要" in text, rel
    hooks = yaml.safe_load((PROJECT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hooks[0]["entry"] == "policykb validate --strict" and hooks[0]["pass_filenames"] is False
    local = yaml.safe_load((PROJECT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert local["repos"][0]["hooks"][0]["entry"].endswith("policykb validate --strict")
    owned = [ln.split()[0] for ln in (PROJECT / "CODEOWNERS").read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    for path in owned:
        assert path == "*" or (PROJECT / path.strip("/")).exists(), path
