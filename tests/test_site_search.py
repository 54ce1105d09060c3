"""The site's static search index and its Python reference (policykb/site/sitesearch), on real
builds of a fixture tree: privacy of the public index, what the internal one adds, and the
search behaviours the browser client shares (tests/test_site_search_browser.py runs those in
Chromium)."""
from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from conftest import write_tree

from policykb.site.build import build_site
from policykb.site.sitesearch import analysis as sa
from policykb.site.sitesearch.query import SiteIndex, parse_shard

TODAY = dt.date(2026, 3, 1)
CANARY = {"title": "CANARY-TITLE-厂房屋顶渗漏", "body": "CANARY-BODY-仓库地坪开裂严重", "resolution": "CANARY-RES-协调维修队",
          "enterprise": "CANARY-ENT-天鹅湖精密机械", "contact": "CANARY-CONTACT-王小明"}

TREE = {
    "policies/hitech-job-retention.md": """
        ---
        title: 滨海高新区稳岗返还实施细则
        region: 天津市/滨海新区/滨海高新区
        published: 2025-02-01
        categories: [人才就业]
        summary: 参保企业不裁员或少裁员的，返还上年度实际缴纳失业保险费的一定比例。
        ---
        高新区内参保企业申请稳岗返还，按上年度失业保险费的50%返还。
        """,
    "policies/tj-job-retention.md": """
        ---
        title: 天津市失业保险稳岗返还办法
        region: 天津市
        published: 2025-01-10
        categories: [人才就业]
        ---
        全市参保企业可申请稳岗返还，返还比例按企业规模确定。
        """,
    "policies/national-job-retention.md": """
        ---
        title: 关于延续实施失业保险稳岗返还政策的通知
        region: 全国
        published: 2024-12-20
        categories: [人才就业]
        ---
        各地继续实施失业保险稳岗返还政策，大型企业按30%返还，中小微企业按60%返还。
        """,
    "policies/liangjiang-job-retention.md": """
        ---
        title: 两江新区稳岗返还补贴办法
        region: 重庆市/两江新区
        published: 2025-03-01
        categories: [人才就业]
        ---
        两江新区参保企业稳岗返还，按失业保险费的60%返还，稳岗返还资金直接拨付。
        """,
    "policies/tech-upgrade-2022.md": """
        ---
        title: 高新区技改项目补助暂行办法（技改补助）
        region: 天津市/滨海新区/滨海高新区
        published: 2022-03-01
        expires: 2025-03-31
        superseded_by: [tech-upgrade-2025]
        categories: [产业发展]
        keywords: [技改, 技改补助]
        ---
        技改项目按设备投资额的8%给予技改补助，技改补助最高300万元。
        """,
    "policies/tech-upgrade-2025.md": """
        ---
        title: 高新区技术改造项目补助办法
        region: 天津市/滨海新区/滨海高新区
        published: 2025-03-10
        supersedes: [tech-upgrade-2022]
        categories: [产业发展]
        summary: 技术改造项目按设备投资额的10%补助。
        apply:
          deadline: 2026-12-15
        ---
        企业实施技术改造，按设备投资额的10%给予补助，单个项目最高500万元。
        """,
    "policies/hte-reward.md": """
        ---
        title: 高新技术企业认定奖励办法
        region: 天津市/滨海新区/滨海高新区
        published: 2025-04-01
        categories: [科技创新]
        ---
        首次通过高新技术企业认定的，一次性奖励30万元。
        """,
    "faq/faq-job-retention.md": """
        ---
        question: 稳岗返还的钱一直没到账怎么办？
        categories: [人才就业]
        policies: [hitech-job-retention]
        ---
        请先在人社局网站查询审核结果，审核通过后十五个工作日内拨付。
        """,
    "issues/2026-0001.md": f"""
        ---
        title: {CANARY['title']}
        received: 2026-01-05
        category: 生产配套
        status: resolved
        enterprise: {CANARY['enterprise']}
        contact: {CANARY['contact']}
        department: 区建设和交通局
        due: 2026-01-25
        resolution: {CANARY['resolution']}
        closed_on: 2026-01-20
        ---
        {CANARY['body']}
        """,
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    return write_tree(tmp_path_factory.mktemp("sitesearch") / "content", TREE)


@pytest.fixture(scope="module")
def public(tree) -> Path:
    return build_site(tree, tree.parent / "public", profile="public", today=TODAY).out


@pytest.fixture(scope="module")
def internal(tree) -> Path:
    return build_site(tree, tree.parent / "internal", profile="internal", today=TODAY).out


def ids(site, q, **kw):
    return [h["id"] for h in SiteIndex(site).search(q, today=TODAY, **kw)]


def all_terms(site: Path) -> set[str]:
    ix = SiteIndex(site)
    return {t for name in ix.manifest["shard"] for t in parse_shard((ix.root / name).read_bytes())}


# ------------------------------------------------------------------------- privacy

def test_public_index_holds_no_problem_record(public, tree, tmp_path):
    text = "\n".join(p.read_bytes().decode("utf-8", "ignore") for p in (public / "search").rglob("*") if p.is_file())
    for field, canary in CANARY.items():
        assert canary not in text, field
    assert "2026-0001" not in text and "canary" not in all_terms(public)
    # Stronger: the public index is byte for byte the one built from a tree without problem records.
    bare = tmp_path / "bare"
    shutil.copytree(tree, bare)
    shutil.rmtree(bare / "issues")
    other = build_site(bare, tmp_path / "site", profile="public", today=TODAY).out
    files = sorted(p.relative_to(public).as_posix() for p in (public / "search").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(other).as_posix() for p in (other / "search").rglob("*") if p.is_file())
    assert all((public / f).read_bytes() == (other / f).read_bytes() for f in files)
    assert 'value="issue"' not in (public / "search.html").read_text(encoding="utf-8")


def test_internal_index_holds_problem_records(internal):
    ix = SiteIndex(internal)
    assert ix.manifest["profile"] == "internal"
    hits = ix.search("厂房屋顶渗漏", today=TODAY)
    assert hits and hits[0]["id"] == "2026-0001" and hits[0]["type"] == "issue"
    assert hits[0]["url"] == "ledger/2026-0001.html"
    shown = ix.doc(next(r for r, _ in ix.ranked("厂房屋顶渗漏", today=TODAY)))
    assert CANARY["resolution"] in shown["text"] and shown["issue_status"] == "resolved"
    assert ids(internal, "协调维修队", type="issue") == ["2026-0001"]  # the resolution is searched
    assert 'value="issue"' in (internal / "search.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------------- layout

def test_only_the_manifest_has_a_fixed_name(public):
    root = public / "search"
    m = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    named = [m["res"], m["docs"], m["readings"], *m["shard"]]
    assert len(m["shard"]) == m["shards"] == 256 and all((root / n).is_file() for n in named)
    for n in named:  # name.<content hash>.ext
        stem = Path(n).name.split(".")
        assert len(stem) == 3 and len(stem[1]) == 10
    assert m["dir"].startswith(f"d/{m['generation']}/")
    assert {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()} == \
        {"manifest.json", *named, *(f"{m['dir']}{i}.json" for i in range(m["n"]))}


def test_a_term_lives_in_the_shard_its_hash_names(public):
    ix = SiteIndex(public)
    for term in ("稳岗", "返还", "技改"):
        shard = parse_shard((ix.root / ix.manifest["shard"][sa.fnv1a(term) % ix.manifest["shards"]]).read_bytes())
        assert term in shard and shard[term][1]


# ------------------------------------------------------------------------- behaviour

def test_traditional_question_finds_the_simplified_policy(public):
    assert ids(public, "穩崗返還的錢沒到賬怎麼辦")[:2] == ["faq-job-retention", "hitech-job-retention"]


def test_homophone_slip_is_fixed_only_where_the_corpus_has_no_such_word(public):
    assert ids(public, "鸡改项目补助")[0] == "tech-upgrade-2025"
    ix = SiteIndex(public)
    q = sa.analyse_query("鸡改项目补助", ix.res)
    assert "技改" not in q.terms  # typed as written; the fix comes from the shards' evidence
    ix.ranked("鸡改项目补助")
    assert ix.manifest["readings"] in ix.fetched  # readings fetched for it…
    fresh = SiteIndex(public)
    fresh.ranked("稳岗返还")
    assert fresh.manifest["readings"] not in fresh.fetched  # …and not for a question without slips


def test_abbreviation_finds_the_full_name(public):
    assert ids(public, "高企奖励")[0] == "hte-reward"


def test_region_applies_to_a_company_there(public):
    got = ids(public, "稳岗返还", region="滨海高新区")
    assert {"hitech-job-retention", "tj-job-retention", "national-job-retention"} <= set(got)
    assert "liangjiang-job-retention" not in got
    assert "liangjiang-job-retention" in ids(public, "稳岗返还")
    assert "hitech-job-retention" not in ids(public, "稳岗返还", region="两江新区")


def test_expired_policy_is_hidden_by_default_and_ranks_below_its_successor(public):
    assert "tech-upgrade-2022" not in ids(public, "技改补助")
    hits = SiteIndex(public).search("技改补助", include_expired=True, today=TODAY)
    order = [h["id"] for h in hits]
    assert order.index("tech-upgrade-2025") < order.index("tech-upgrade-2022")
    assert next(h for h in hits if h["id"] == "tech-upgrade-2022")["status"] == "expired"
    # Without the rule the old notice (its title says 技改补助 twice) would come first.
    assert ids(public, "技改补助", type="policy", include_expired=True)[0] == "tech-upgrade-2025"


def test_faq_takes_the_region_of_the_policies_it_cites(public):
    assert "faq-job-retention" not in ids(public, "稳岗返还", region="两江新区")
    assert "faq-job-retention" in ids(public, "稳岗返还", region="滨海高新区")


def test_query_analysis_never_crosses_stopwords_or_punctuation():
    res = sa.resources()
    q = sa.analyse_query("我们公司的稳岗返还，什么时候到账？", res)
    assert q.pieces == ["稳岗返还", "时候到账"]
    assert "司的" not in q.terms and "还时" not in q.terms and q.terms["稳岗"] == sa.WORD
    assert sa.normalise("ＡＢＣ穩崗", res) == "abc稳岗"


def test_fast_pieces_equal_the_browsers_scanning_loop():
    res = sa.resources()
    texts = ["我们公司的稳岗返还，什么时候到账？", "请问一下关于高新技术企业认定的具体情况有哪些", "给不给补贴？要不要材料",
             "这个那个这些是否可以可不可以申请", "abc 5g基站、ipo上市的话怎么办咋办"]
    for t in texts:
        n = sa.normalise(t, res)
        assert sa.pieces(n, res) == sa.pieces_scan(n, res), t


def test_fast_document_terms_equal_the_piece_by_piece_analysis():
    from collections import Counter

    from policykb.search import analysis as shared
    res = sa.resources()
    texts = [*(t.split("---")[-1] for t in TREE.values()), "我们公司的稳岗返还，什么时候到账？给不给补贴？",
             "ＡＢＣ穩崗返還，５Ｇ基站、IPO上市的话怎么办咋办　可不可以申请", "这个那个这些是否可以以及其他的",
             "的的的话了吗 a 1 中", "**加粗**和[链接](https://x.example)以及<b>标签</b>"]
    for t in texts:
        assert Counter(sa.document_terms(t, res)) == Counter(sa.text_terms(shared.normalize(t), res)), t


def test_large_corpora_get_more_shards_and_capped_postings(monkeypatch, tmp_path):
    from policykb.site.sitesearch import index
    monkeypatch.setattr(index, "CAP_MIN", 3)
    monkeypatch.setattr(index, "CAP_SHARE", 0.0)
    monkeypatch.setattr(index, "SHARD_TARGET", 0.3)
    root = write_tree(tmp_path / "content", {f"policies/p{i}.md": f"---\ntitle: 稳岗返还第{i}号\n---\n稳岗返还{'补贴' * i}\n"
                                                for i in range(6)})
    from policykb.site.sitesearch.evaluate import build_index_only
    build_index_only(root, tmp_path / "site")
    ix = SiteIndex(tmp_path / "site")
    assert ix.manifest["shards"] > 256 and len(ix.manifest["shard"]) == ix.manifest["shards"]
    idf, plist = ix.postings("稳岗")
    assert len(plist) == 3 and idf == index.idf1000(6, 6)  # kept the strongest three; idf from the true df
    assert [h["id"] for h in ix.search("补贴", top=3)] == ["p5", "p4", "p3"]


def test_a_zone_named_in_the_question_comes_first_and_aliases_name_regions(public):
    assert ids(public, "两江稳岗返还")[0] == "liangjiang-job-retention"
    got = ids(public, "滨海高新区稳岗返还怎么申请")
    assert got.index("liangjiang-job-retention") > got.index("tj-job-retention")
    ix = SiteIndex(public)
    q = sa.analyse_query("两江稳岗返还", ix.res, (ix.docs["alias_order"], ix.docs["aliases"]))
    assert q.zones == ["重庆市/两江新区"] and "两江" not in q.terms  # the zone's words don't also score
    # The short name works in the 适用于 filter too.
    assert "hitech-job-retention" not in ids(public, "稳岗返还", region="两江")
    assert "liangjiang-job-retention" in ids(public, "稳岗返还", region="两江")
