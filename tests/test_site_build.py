"""The published site: real MkDocs builds of fixture trees and of the bundled content."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from conftest import BUNDLED, PROJECT, git, write_tree

from policykb.content.loader import load_content
from policykb.site.build import build_site

TODAY = dt.date(2026, 3, 1)

# Planted in every private place of a problem record; none may reach the public site.
CANARIES = {
    "enterprise": "CANARY-ENT-天鹅湖精密机械有限公司",
    "contact": "CANARY-CONTACT-王小明13800000000",
    "history_note": "CANARY-HISTORY-NOTE-回访记录",
    "history_by": "CANARY-HISTORY-BY-李专员",
    "body": "CANARY-BODY-企业反映厂房漏水严重",
    "title": "CANARY-TITLE-厂房漏水",
    "resolution": "CANARY-RESOLUTION-已协调维修",
    "officer": "CANARY-OFFICER-赵专员",
    "escalated_to": "CANARY-ESCALATED-市平台",
}
DRAFT_CANARY = "CANARY-DRAFT-草稿政策"

TREE = {
    "policies/zone/zone-tech-upgrade-2025.md": """
        ---
        title: 高新区支持企业技术改造项目补助办法
        doc_number: 高新管发〔2025〕8号
        issuer: 高新区管理委员会
        region: 天津市/滨海新区/滨海高新区
        published: 2025-03-10
        effective: 2025-04-01
        expires: 2027-12-31
        supersedes: [zone-tech-upgrade-2022]
        categories: [产业发展, 科技创新]
        enterprise_types: [规模以上工业企业]
        support: [资金补贴]
        keywords: [技改, 设备更新]
        summary: 技术改造项目按设备投资额的10%补助，最高500万元。
        apply:
          department: 区经济发展局产业服务科
          phone: 022-5866 1208
          deadline: 2026-03-15
          how: 登录政策兑现平台在线填报。
        source: https://example.gov.cn/jsgz.html
        ---
        ## 支持内容
        按生产性设备投资额的10%给予补助。
        """,
    "policies/zone/zone-tech-upgrade-2022.md": """
        ---
        title: 高新区技术改造项目补助暂行办法
        doc_number: 高新管发〔2022〕15号
        issuer: 高新区管理委员会
        region: 天津市/滨海新区/滨海高新区
        published: 2022-05-20
        expires: 2025-03-31
        status: expired
        superseded_by: [zone-tech-upgrade-2025]
        categories: [产业发展]
        summary: 已失效的旧办法。
        ---
        原办法正文。
        """,
    "policies/zone/zone-loan-interest-2025.md": """
        ---
        title: 科技型企业贷款贴息办法
        doc_number: 高新管发〔2025〕25号
        issuer: 高新区管理委员会
        region: 天津市/滨海新区
        published: 2025-06-01
        categories: [金融支持]
        enterprise_types: [科技型中小企业]
        support: [贷款贴息]
        summary: 流动资金贷款按付息额的50%贴息。
        apply:
          deadline: 2026-05-20
        ---
        贷款贴息的具体办法。
        """,
    "policies/zone/zone-old-rent-2020.md": """
        ---
        title: 孵化器租金减免旧办法
        published: 2020-01-01
        status: repealed
        categories: [生活配套]
        summary: 已废止。
        ---
        旧的租金减免办法。
        """,
    "policies/zone/zone-draft-2026.md": f"""
        ---
        title: {DRAFT_CANARY}
        status: draft
        categories: [产业发展]
        ---
        尚未发布的草稿。
        """,
    "policies/national/plain-title-only.md": """
        ---
        title: 只有标题和正文的政策
        ---
        正文。
        """,
    "faq/faq-tech-upgrade-stack.md": """
        ---
        question: 区里的技改补贴和市里的能同时拿吗？
        aliases: [技改补贴可以叠加吗]
        categories: [产业发展]
        policies: [zone-tech-upgrade-2025]
        issues: [2026-0001]
        department: 区经济发展局
        updated: 2026-01-10
        ---
        可以叠加，但合计不超过设备投资额的30%。
        """,
    "issues/2026/2026-0001.md": f"""
        ---
        title: {CANARIES['title']}
        received: 2026-01-05
        category: 生产配套
        status: in_progress
        enterprise: {CANARIES['enterprise']}
        contact: {CANARIES['contact']}
        channel: 走访
        service_group: 第一服务组
        officer: {CANARIES['officer']}
        department: 区建设和交通局
        due: 2026-02-01
        escalated_to: {CANARIES['escalated_to']}
        resolution: {CANARIES['resolution']}
        history:
          - date: 2026-01-05
            by: {CANARIES['history_by']}
            action: 受理
            note: {CANARIES['history_note']}
        ---
        {CANARIES['body']}
        """,
    "issues/2026/2026-0002.md": """
        ---
        title: 宽带不稳定
        received: 2026-02-03
        category: 生产配套
        status: resolved
        department: 区工信局
        resolution: 协调运营商更换光缆。
        due: 2026-02-20
        closed_on: 2026-02-10
        satisfaction: 满意
        ---
        厂区宽带经常掉线。
        """,
}


def _all_text(site: Path) -> dict[str, str]:
    """Every output file as text (gzip files unpacked), keyed by relative path."""
    out = {}
    for path in site.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            text = data.decode("utf-8", errors="ignore")
            # The search index is JSON with \\uXXXX escapes: compare decoded text too.
            if path.name.endswith(".json"):
                try:
                    text += json.dumps(json.loads(text), ensure_ascii=False)
                except ValueError:
                    pass
            out[path.relative_to(site).as_posix()] = text.replace("\u200b", "")
    return out


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return write_tree(tmp_path_factory.mktemp("site") / "content", TREE)


@pytest.fixture(scope="module")
def public(tree) -> Path:
    return build_site(tree, tree.parent / "public", profile="public", today=TODAY).out


@pytest.fixture(scope="module")
def internal(tree) -> Path:
    return build_site(tree, tree.parent / "internal", profile="internal", today=TODAY).out


def _page(site: Path, rel: str) -> str:
    return (site / rel).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- privacy

def test_public_output_has_no_private_value_anywhere(public):
    files = _all_text(public)
    assert "search/manifest.json" in files and "feed.xml" in files
    assert "sitemap.xml" not in files  # no site_url configured: no sitemap of empty addresses (issue 9)
    for name, text in files.items():
        for field, canary in CANARIES.items():
            assert canary not in text, f"{field} leaked into {name}"
        assert "2026-0001" not in text, f"problem id leaked into {name}"
    assert not (public / "ledger").exists()


def test_internal_output_has_the_ledger_with_private_values(internal):
    files = _all_text(internal)
    page = files["ledger/2026-0001.html"]
    for field in ("enterprise", "contact", "history_note", "history_by", "body", "title", "resolution"):
        assert CANARIES[field] in page, field
    ledger = files["ledger/index.html"]
    assert "已超期未办结" in ledger and CANARIES["title"] in ledger and "超期 28 天" in ledger
    assert "第一服务组" in ledger and "区建设和交通局" in ledger  # by service group and department
    assert any(CANARIES["body"] in text for name, text in files.items() if name.startswith("search/"))


# --------------------------------------------------------------------------- pages

def test_drafts_are_never_built(public, internal):
    for site in (public, internal):
        assert not (site / "policies" / "zone-draft-2026.html").exists()
        assert not any(DRAFT_CANARY in t for t in _all_text(site).values())


def test_catalogue_lists_current_policies_apart_from_expired_ones(public):
    cat = _page(public, "policies/index.html")
    rows = re.findall(r'<tr data-categories=.*?</tr>', cat, re.S)
    assert len(rows) == 3  # tech upgrade 2025, loan interest, title-only; not expired, repealed, draft
    assert "高新区支持企业技术改造项目补助办法" in cat and "只有标题和正文的政策" in cat
    assert "高新区技术改造项目补助暂行办法" not in cat and "孵化器租金减免旧办法" not in cat
    row = next(r for r in rows if "技术改造" in r)
    assert 'data-categories="产业发展|科技创新"' in row
    assert 'data-region="天津市|天津市/滨海新区|天津市/滨海新区/滨海高新区"' in row
    assert 'data-status="即将截止"' in row and 'data-published="2025-03-10"' in row
    assert 'data-status="申报中"' in next(r for r in rows if "贴息" in r)  # 80 days left
    archive = _page(public, "policies/archive.html")
    assert "高新区技术改造项目补助暂行办法" in archive and "孵化器租金减免旧办法" in archive
    assert "科技型企业贷款贴息办法" not in archive
    assert (public / "assets" / "catalog.js").is_file()
    tags = _page(public, "tags.html")  # category tags list current policies only
    assert "高新区支持企业技术改造项目补助办法" in tags and "高新区技术改造项目补助暂行办法" not in tags


def test_policy_page_card_banner_and_links(public):
    page = _page(public, "policies/zone-tech-upgrade-2025.html")
    for text in ("高新管发〔2025〕8号", "高新区管理委员会", "天津市/滨海新区/滨海高新区", "2025-03-10", "2025-04-01",
                 "2027-12-31", "有效", "规模以上工业企业", "资金补贴", "区经济发展局产业服务科", "022-5866 1208",
                 "剩余 14 天", "https://example.gov.cn/jsgz.html", "技改"):
        assert text in page, text
    assert "pkb-banner" not in page
    assert 'href="../faq/industry.html#faq-tech-upgrade-stack"' in page  # related FAQ
    assert 'href="zone-tech-upgrade-2022.html"' in page  # the one it replaces
    old = _page(public, "policies/zone-tech-upgrade-2022.html")
    assert "pkb-banner" in old and "本政策已失效" in old
    m = re.search(r'class="pkb-replacement" href="([^"]+)"', old)
    assert m and m.group(1) == "zone-tech-upgrade-2025.html"
    assert (public / "policies" / m.group(1)).is_file()
    assert "本政策已废止" in _page(public, "policies/zone-old-rent-2020.html")


def test_home_lists_deadlines_in_the_next_30_days(public):
    home = _page(public, "index.html")
    deadlines = home.split('id="deadlines"')[1].split('id="newest"')[0]
    assert "高新区支持企业技术改造项目补助办法" in deadlines and "剩余 14 天" in deadlines
    assert "科技型企业贷款贴息办法" not in deadlines  # 80 days away
    assert 'policies/index.html?categories=%E4%BA%A7%E4%B8%9A%E5%8F%91%E5%B1%95' in home  # 产业发展 entry point
    assert 'name="q"' in home  # search first


def test_faq_page_links_the_policies_it_relies_on(public):
    page = _page(public, "faq/industry.html")
    assert 'id="faq-tech-upgrade-stack"' in page and "技改补贴可以叠加吗" in page
    assert 'href="../policies/zone-tech-upgrade-2025.html"' in page
    assert "区经济发展局" in page


def test_figures_page_is_aggregate_only(public):
    page = _page(public, "stats.html")
    assert "<svg" in page and "pkb-bars" in page  # charts rendered at build time
    assert "生产配套" in page and "2026-01" in page and "2026-02" in page
    values = {label: value for value, label in re.findall(r'pkb-kpi-value">([^<]+)</div><div class="pkb-kpi-label">([^<]+)<', page)}
    assert values["收集诉求"] == "2" and values["已办结"] == "1" and values["未办结"] == "1"
    assert "100.0%" in page  # satisfaction among rated records


def test_search_index_finds_policies_by_word_and_card_metadata(public):
    # Was a check of Material's jieba index; the site's own index (sitesearch) is checked the same way.
    from policykb.site.sitesearch.query import SiteIndex
    ix = SiteIndex(public)
    assert ix.manifest["profile"] == "public"
    assert [h["id"] for h in ix.search("技改", top=3)][0] == "zone-tech-upgrade-2025"  # one word
    for metadata in ("高新管发〔2025〕8号", "区经济发展局产业服务科"):  # card metadata is searchable
        assert "zone-tech-upgrade-2025" in [h["id"] for h in ix.search(metadata, top=3)], metadata
    pages = {h["url"].split("#")[0] for q in ("技改", "贴息", "补助") for h in ix.search(q, top=20)}
    assert "policies/index.html" not in pages and "index.html" not in pages  # listings excluded


def test_feed_is_atom_of_policies(public):
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.fromstring((public / "feed.xml").read_bytes())
    entries = feed.findall("a:entry", ns)
    titles = [e.findtext("a:title", namespaces=ns) for e in entries]
    assert titles[0] == "科技型企业贷款贴息办法"  # newest first
    assert "【已失效】高新区技术改造项目补助暂行办法" in titles
    assert all(DRAFT_CANARY not in t for t in titles)
    link = entries[0].find("a:link", ns).get("href")
    assert (public / link).is_file()
    assert 'type="application/atom+xml"' in _page(public, "index.html")


def test_pages_load_nothing_from_the_internet(public):
    remote = re.compile(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//', re.I)
    for name, text in _all_text(public).items():
        if name.endswith(".html"):
            assert not remote.search(text), name
            assert "fonts.googleapis" not in text and "fonts.gstatic" not in text, name


def test_project_mkdocs_yml_is_plain_static_yaml():
    config = yaml.safe_load((PROJECT / "mkdocs.yml").read_text(encoding="utf-8"))  # no python tags
    assert "hooks" not in config and config["theme"]["font"] is False and config["theme"]["language"] == "zh"
    # The site has its own static search (policykb/site/sitesearch), not Material's.
    assert not any(p == "search" or (isinstance(p, dict) and "search" in p) for p in config["plugins"])
    assert (PROJECT / "search/userdict.txt").is_file()
    assert "tags" in config["plugins"]


# --------------------------------------------------------------------------- git, edit links, failures

def test_git_dates_and_edit_links(git_repo, tmp_path):

    content = write_tree(git_repo / "content", TREE)
    git(git_repo, "add", "-A")
    env = {**os.environ, "GIT_AUTHOR_DATE": "2025-07-01T10:00:00", "GIT_COMMITTER_DATE": "2025-07-01T10:00:00"}
    subprocess.run(["git", "-C", str(git_repo), "commit", "-qm", "内容"], check=True, env=env)
    config = yaml.safe_load((PROJECT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["repo_url"] = "https://git.example.invalid/zone/kb"
    config["edit_uri"] = "-/edit/main/"
    config["theme"]["custom_dir"] = str(PROJECT / config["theme"]["custom_dir"])
    for p in config["plugins"]:
        if isinstance(p, dict) and "search" in p:
            p["search"]["jieba_dict_user"] = str(PROJECT / p["search"]["jieba_dict_user"])
    cfg = tmp_path / "mkdocs.yml"
    cfg.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    site = build_site(content, tmp_path / "site", today=TODAY, config_file=cfg).out
    page = _page(site, "policies/zone-tech-upgrade-2025.html")
    assert "最后更新：2025-07-01" in page
    assert 'href="https://git.example.invalid/zone/kb/-/edit/main/content/policies/zone/zone-tech-upgrade-2025.md"' in page


def test_no_edit_links_or_dates_outside_git(public):
    page = _page(public, "policies/zone-tech-upgrade-2025.html")
    assert "编辑此页" not in page and "最后更新" not in page


def test_invalid_content_fails_and_keeps_the_old_site(tree, tmp_path, cli):
    broken = tmp_path / "content"
    shutil.copytree(tree, broken)
    out = tmp_path / "site"
    assert cli("build", "--content", broken, "--out", out, "--today", "2026-03-01").exit_code == 0
    before = (out / "index.html").read_bytes()
    bad = broken / "policies" / "zone" / "zone-loan-interest-2025.md"
    bad.write_text(bad.read_text(encoding="utf-8").replace("categories: [金融支持]", "categories: [金融服务]\npublished: 2025-13-45"),
                   encoding="utf-8")
    result = cli("build", "--content", broken, "--out", out, "--today", "2026-03-01")
    assert result.exit_code == 1
    assert "zone-loan-interest-2025.md:" in result.output and "网站未生成" in result.output
    assert (out / "index.html").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.tmp-")]


def test_a_failing_search_index_stops_the_build_and_keeps_the_old_site(tree, tmp_path, monkeypatch):
    # The index is written in a forked process beside MkDocs: its failure must still stop the build.
    import policykb.site.build as build
    out = build_site(tree, tmp_path / "site", today=TODAY).out
    before = (out / "index.html").read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError("磁盘已满")
    monkeypatch.setattr(build, "write_index", full_disk)
    with pytest.raises(build.BuildError, match="网站搜索索引生成失败.*磁盘已满"):
        build_site(tree, out, today=TODAY)
    assert (out / "index.html").read_bytes() == before and (out / "search" / "manifest.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site.tmp-")]


def test_unknown_content_root_is_a_clear_error(cli, tmp_path):
    result = cli("build", "--content", tmp_path / "missing", "--out", tmp_path / "site")
    assert result.exit_code == 2 and "内容目录不存在" in result.output


# --------------------------------------------------------------------------- bundled content

@pytest.mark.skipif(not (BUNDLED / "policies").is_dir(), reason="bundled content not present")
def test_bundled_content_builds_without_private_data(tmp_path):
    result = build_site(BUNDLED, tmp_path / "site", today=dt.date(2026, 11, 22))
    assert result.policies >= 10 and result.search_index_bytes > 0
    files = _all_text(result.out)
    private = set()
    for issue in load_content(BUNDLED).issues:
        private |= {v for v in (issue.enterprise, issue.contact) if v and len(v) >= 4}
        private |= {h.note for h in issue.history if h.note and len(h.note) >= 12}
        body = issue.body.strip()
        if len(body) >= 20:
            private.add(body[:40])
    for name, text in files.items():
        for value in private:
            assert value not in text, f"{value!r} leaked into {name}"


def test_bench_site_reports_build_time_and_index_size(tree):
    from policykb.site.bench import bench_site
    figures = bench_site(tree)
    assert figures["site_build_seconds"] > 0 and figures["search_index_bytes"] > 1000
    assert figures["policies"] == 5  # drafts are not built


def test_bench_site_ranks_the_given_questions_and_reports_the_index_figures(tree):
    from policykb.site.bench import bench_site
    figures = bench_site(tree, questions=["技改补助", "贷款贴息"])
    assert [ids[0] for ids in figures["ranked"]] == ["zone-tech-upgrade-2025", "zone-loan-interest-2025"]
    assert 0 < figures["first_search_gzip_median"] <= figures["first_search_gzip_max"]
    assert figures["search_index_gzip_per_1000"] == int(figures["search_index_gzip"] * 1000 / figures["search_records"])
    assert figures["largest_page"].endswith(".html") and 0 < figures["largest_page_bytes"] < 1_000_000
    assert figures["search_index_seconds"] > 0 and figures["search_wait_seconds"] >= 0


def test_build_never_replaces_a_folder_it_did_not_build(tree, tmp_path, cli):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "notes.txt").write_text("重要", encoding="utf-8")
    r = cli("build", "--content", tree, "--out", victim, "--today", "2026-11-22")
    assert r.exit_code != 0 and "不是 policykb build 生成的网站" in r.output
    assert (victim / "notes.txt").read_text(encoding="utf-8") == "重要"
    site = tmp_path / "site"
    for _ in range(2):  # an earlier build may be replaced
        r = cli("build", "--content", tree, "--out", site, "--today", "2026-11-22")
        assert r.exit_code == 0, r.output
    assert (site / "index.html").is_file() and (site / ".policykb-site").is_file()


def test_public_build_checks_faq_links_into_problem_records(make_tree, tmp_path, cli):
    root = make_tree({"faq/q.md": "---\nquestion: 问？\nissues: [2099-9999]\n---\n答。\n",
                      "issues/.keep": ""})
    for profile in ("public", "internal"):
        r = cli("build", "--content", root, "--profile", profile, "--out", tmp_path / profile, "--today", "2026-11-22")
        assert r.exit_code == 1 and "q.md:3: 错误[dangling-ref]" in r.output, (profile, r.output)
        assert r.output.count("dangling-ref") == 1
