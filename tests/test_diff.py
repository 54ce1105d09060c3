"""`policykb diff`: a reviewer's summary of a real change in a real Git repository."""
from __future__ import annotations

import json

import pytest
from conftest import git, run_policykb, write_tree

TODAY = "2026-06-01"
BEFORE = {
    "policies/p-tech.md": """
        ---
        title: 技术改造补助办法
        issuer: [区经济发展局, 区财政局]
        region: 天津市/滨海新区
        published: 2025-01-10
        expires: 2026-12-31
        categories: [产业发展]
        summary: 按设备投资额的15%补助，单个项目最高500万元。
        apply:
          deadline: 2026-06-30
        ---
        ## 支持内容
        按投资额的15%补助。
        """,
    "policies/p-old.md": """
        ---
        title: 旧版技术改造办法
        published: 2022-01-01
        categories: [产业发展]
        ---
        旧办法正文。
        """,
    "policies/p-gone.md": """
        ---
        title: 宽带保障指引
        published: 2025-02-01
        categories: [生产配套]
        ---
        宽带保障正文。
        """,
    "policies/zone/p-housing.md": """
        ---
        title: 人才安居租房补贴实施办法
        published: 2025-03-01
        categories: [人才就业]
        summary: 每月补贴1500元，最长36个月。
        ---
        人才安居正文，申请条件与材料若干条。
        第二段：补贴按月发放，最长三年。
        """,
    "faq/f-broadband.md": """
        ---
        question: 宽带老断网找谁？
        categories: [生产配套]
        policies: [p-gone]
        ---
        先向运营商报障。
        """,
    "faq/f-housing.md": """
        ---
        question: 人才租房有补贴吗？
        categories: [人才就业]
        policies: [p-housing]
        ---
        有，每月1500元。
        """,
    "issues/2026-0001.md": """
        ---
        title: 企业反映宽带不稳定
        received: 2026-01-06
        category: 生产配套
        status: received
        enterprise: 天津某某科技有限公司
        ---
        企业说网络经常中断。
        """,
}


def edit(root, rel, old, new):
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def make_change(content):
    edit(content, "policies/p-tech.md", "expires: 2026-12-31", "expires: 2027-06-30")
    edit(content, "policies/p-tech.md", "deadline: 2026-06-30", "deadline: 2026-09-30")
    edit(content, "policies/p-tech.md", "最高500万元", "最高800万元")
    edit(content, "policies/p-tech.md", "issuer: [区经济发展局, 区财政局]", "issuer: [区经济发展局]")
    edit(content, "policies/p-tech.md", "categories: [产业发展]", "supersedes: [p-old]\ncategories: [产业发展]")
    edit(content, "policies/p-tech.md", "按投资额的15%补助。", "按投资额的15%补助。\n新增一条：首台套另奖。")
    edit(content, "policies/p-old.md", "categories: [产业发展]",
         "categories: [产业发展]\nstatus: repealed\nsuperseded_by: [p-tech]")
    (content / "policies/p-gone.md").unlink()
    (content / "policies/zone/p-housing.md").rename(content / "policies/zone/p-housing-2026.md")
    edit(content, "faq/f-housing.md", "policies: [p-housing]", "policies: [p-housing-2026]")
    edit(content, "issues/2026-0001.md", "天津某某科技有限公司", "天津另一家公司")


@pytest.fixture
def repo(git_repo):
    content = write_tree(git_repo / "content", BEFORE)
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "base")
    git(git_repo, "checkout", "-qb", "change")
    make_change(content)
    return git_repo


def diff_json(content, *revs):
    r = run_policykb("diff", *revs, "--content", content, "--today", TODAY, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def by_id(data):
    return {r["id"]: r for r in data["records"]}


def test_working_tree_change_in_json(repo):
    data = diff_json(repo / "content", "main")
    recs = by_id(data)
    assert data["counts"] == {"added": 0, "removed": 1, "renamed": 1, "moved": 0, "changed": 4}
    tech = recs["p-tech"]
    assert tech["change"] == "changed"
    fields = {f["key"]: (f["old"], f["new"]) for f in tech["fields"]}
    assert fields["expires"] == ("2026-12-31", "2027-06-30")
    assert fields["apply.deadline"] == ("2026-06-30", "2026-09-30")
    assert fields["issuer"] == (["区经济发展局", "区财政局"], ["区经济发展局"])
    assert fields["supersedes"] == (None, ["p-old"])
    assert "500万元" in fields["summary"][0] and "800万元" in fields["summary"][1]
    assert [f["key"] for f in tech["fields"]][:3] == ["expires", "apply.deadline", "summary"]  # key fields first
    assert (tech["body_added"], tech["body_removed"]) == (1, 0)
    assert "失效日期推迟：2026-12-31 → 2027-06-30（181 天）" in tech["notes"]
    assert "申报截止推迟：2026-06-30 → 2026-09-30（92 天）" in tech["notes"]
    assert "要点中的金额或比例：15%、500万元 → 15%、800万元" in tech["notes"]
    old = {f["key"]: f["new"] for f in recs["p-old"]["fields"]}
    assert old["status"] == "repealed" and "状态：（未写，按日期推定） → repealed（已废止）" in recs["p-old"]["notes"]
    assert recs["p-gone"]["change"] == "removed"
    ren = recs["p-housing-2026"]
    assert (ren["change"], ren["old_id"]) == ("renamed", "p-housing")
    assert ren["old_path"] == "policies/zone/p-housing.md" and ren["path"] == "policies/zone/p-housing-2026.md"
    assert {(r["id"], r["reason"]) for r in data["retired"]} == {("p-old", "repealed"), ("p-gone", "removed")}
    assert [(s["new"], s["old"]) for s in data["superseded"]] == [("p-tech", "p-old")]
    assert [(f["id"], f["policy"], f["reason"]) for f in data["orphaned_faqs"]] == [("f-broadband", "p-gone", "removed")]
    # the problem record's company name changed, but its value never reaches the summary
    issue = recs["2026-0001"]
    assert [(f["key"], f["old"], f["new"], f["private"]) for f in issue["fields"]] == [("enterprise", None, None, True)]
    assert "某某" not in json.dumps(data, ensure_ascii=False)
    pages = {p["page"]: p["change"] for p in data["pages"]}
    assert pages["policies/p-gone.html"] == "removed"
    assert pages["policies/p-housing-2026.html"] == "added" and pages["policies/p-housing.html"] == "removed"
    assert pages["policies/p-tech.html"] == "changed" and pages["policies/index.html"] == "changed"
    assert not any(p.startswith("ledger/") for p in pages)  # the public site only


def test_markdown_summary_for_a_pull_request(repo):
    r = run_policykb("diff", "main", "--content", repo / "content", "--today", TODAY)
    assert r.returncode == 0, r.stderr
    md = r.stdout
    assert md.startswith("## 内容改动摘要：main（")
    assert "→ 工作区" in md.splitlines()[0]
    assert "### 请审核人特别留意" in md
    assert "- 政策 `p-tech` 取代 `p-old`（旧版技术改造办法）" in md
    assert "- 问答 `f-broadband` 宽带老断网找谁？：引用的政策 p-gone 已删除，请改引用或删去这一项" in md
    assert "| 失效日期（`expires`） | 2026-12-31 | 2027-06-30 |" in md
    assert "| 发文机关（`issuer`） | 区经济发展局、区财政局 | 区经济发展局 |" in md
    assert "| 企业（`enterprise`） | （私密字段，不显示） | （私密字段，不显示） |" in md
    assert "正文：增加 1 行，删除 0 行" in md
    assert "### 改名（1）" in md and "`policies/zone/p-housing.md` → `policies/zone/p-housing-2026.md`" in md
    assert "### 公开网站会变化的页面" in md and "`policies/p-gone.html` 宽带保障指引（页面删除）" in md
    assert "某某" not in md and "另一家" not in md


def test_revisions_are_read_from_git_objects_not_the_work_tree(repo):
    content = repo / "content"
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")
    committed = diff_json(content, "main", "HEAD")
    # an uncommitted edit shows in a diff against the work tree, never in one between revisions
    edit(content, "faq/f-housing.md", "有，每月1500元。", "有，每月2000元。")
    between = by_id(diff_json(content, "main", "HEAD"))["f-housing"]
    assert [f["key"] for f in between["fields"]] == ["policies"] and between["body_added"] == 0
    assert by_id(diff_json(content, "main"))["f-housing"]["body_added"] == 1
    # nothing in the work tree or the index moved
    assert git(repo, "status", "--porcelain").split() == ["M", "content/faq/f-housing.md"]
    assert committed["counts"]["removed"] == 1 and committed["head"].startswith("HEAD（")
    assert by_id(diff_json(content, "HEAD", "HEAD~1"))["p-gone"]["change"] == "added"
    same = run_policykb("diff", "HEAD", "HEAD", "--content", content, "--today", TODAY)
    assert same.returncode == 0 and "没有改变任何政策、问答或诉求记录" in same.stdout


def test_content_added_in_the_change(git_repo):
    (git_repo / "README.md").write_text("x\n", encoding="utf-8")
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "no content yet")
    write_tree(git_repo / "content", {k: v for k, v in BEFORE.items() if k.startswith("policies/p-old")})
    data = diff_json(git_repo / "content", "HEAD", "--no-pages")
    assert [(r["id"], r["change"]) for r in data["records"]] == [("p-old", "added")] and data["pages"] == []


def test_bad_revision_and_no_repository_are_chinese_errors(repo, tmp_path):
    r = run_policykb("diff", "no-such-branch", "--content", repo / "content")
    assert r.returncode == 2 and "没有版本 “no-such-branch”" in r.stderr
    plain = write_tree(tmp_path / "plain", {"policies/a.md": "---\ntitle: 甲\n---\n正文\n"})
    r = run_policykb("diff", "main", "--content", plain)
    assert r.returncode == 2 and "不在 Git 仓库中" in r.stderr


def test_output_file_is_written_whole(repo, tmp_path):
    out = tmp_path / "summary" / "diff.md"
    r = run_policykb("diff", "main", "--content", repo / "content", "--today", TODAY, "--output", out)
    assert r.returncode == 0 and r.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("## 内容改动摘要")
    assert not list(out.parent.glob(".*.pkbtmp"))


def test_a_large_change_is_cut_to_fit_a_comment(git_repo):
    content = write_tree(git_repo / "content", {"policies/p-0.md": "---\ntitle: 政策 0\n---\n正文\n"})
    git(git_repo, "add", "-A")
    git(git_repo, "commit", "-qm", "base")
    write_tree(content, {f"policies/bulk/p-{i}.md": f"---\ntitle: 批量导入的政策 {i}\n---\n正文 {i}\n"
                         for i in range(1, 131)})
    r = run_policykb("diff", "HEAD", "--content", content, "--today", TODAY)
    assert r.returncode == 0
    assert "### 新增（130）" in r.stdout and "另有 30 项，完整内容见 `policykb diff --json`" in r.stdout
    assert r.stdout.count("- 政策 `p-") == 100 and len(r.stdout) < 60000
    assert len(diff_json(content, "HEAD")["records"]) == 130  # JSON keeps everything
