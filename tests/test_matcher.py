"""The matcher: ranking, filters, the fixed JSON-lines interface, internal profile, eval."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import run_policykb

from policykb.search import matcher

TREE = {
    "policies/zone-tech-upgrade-2025.md": """
        ---
        title: 滨海高新区支持企业技术改造项目补助办法
        region: 天津市/滨海新区/滨海高新区
        effective: 2025-04-01
        expires: 2099-12-31
        keywords: [技改, 设备更新]
        summary: 工业企业实施技术改造，按设备投资额的10%给予补助。
        ---
        对完成备案并已竣工的技术改造项目，按生产性设备投资额的10%给予补助，单个项目最高500万元。
        """,
    "policies/zone-tech-upgrade-2022.md": """
        ---
        title: 滨海高新区技术改造项目补助暂行办法
        region: 天津市/滨海新区/滨海高新区
        expires: 2025-03-31
        ---
        技术改造项目按设备投资额的8%给予补助。
        """,
    "policies/zone-green-draft.md": """
        ---
        title: 绿色低碳技术改造奖励办法（征求意见稿）
        status: draft
        ---
        节能技术改造项目按节能量给予奖励。
        """,
    "policies/tj-loan-interest.md": """
        ---
        title: 天津市科技型企业贷款贴息办法
        region: 天津市
        ---
        科技型中小企业获得银行贷款的，按贷款市场报价利率的50%给予贴息。
        """,
    "faq/faq-new-equipment.md": """
        ---
        question: 厂里要更新一批生产设备，政府有没有补贴？
        aliases: [买新设备能补多少]
        policies: [zone-tech-upgrade-2025]
        ---
        可以申报区级技术改造补助，按设备投资额的10%补助。
        """,
    "issues/2026/2026-0001.md": """
        ---
        title: 扩产需新建35千伏供电线路
        received: 2026-01-05
        category: 生产配套
        status: resolved
        department: 供电公司
        due: 2026-04-30
        closed_on: 2026-03-30
        enterprise: 某某精密机械有限公司
        resolution: 协调供电公司开辟绿色通道，三个月内完成线路接入。
        ---
        企业扩产后用电负荷增加，需要新建一条35千伏线路，审批涉及多个部门。
        """,
}


@pytest.fixture
def tree(make_tree):
    return make_tree(TREE)


def ids(hits):
    return [h.id for h in hits]


def test_policies_and_faqs_in_one_ranked_list_with_reasons(tree):
    [hits] = matcher.match(tree, ["我们厂想换一批新设备，区里能补多少？"])
    assert {"faq-new-equipment", "zone-tech-upgrade-2025"} <= set(ids(hits[:2]))
    assert {h.type for h in hits} == {"policy", "faq"}
    assert all(hits[i].score >= hits[i + 1].score for i in range(len(hits) - 1))
    top = hits[0]
    assert top.matched and "<mark>" in top.snippet
    assert any(w in top.snippet for w in top.matched)


def test_expired_and_draft_left_out_unless_all(tree):
    [current] = matcher.match(tree, ["技术改造补助"])
    assert "zone-tech-upgrade-2022" not in ids(current)
    assert "zone-green-draft" not in ids(current)
    [everything] = matcher.match(tree, ["技术改造补助"], include_all=True)
    assert {"zone-tech-upgrade-2022", "zone-green-draft"} <= set(ids(everything))
    old = next(h for h in everything if h.id == "zone-tech-upgrade-2022")
    assert old.status == "expired"


def test_type_filter(tree):
    [faqs] = matcher.match(tree, ["设备补贴"], types="faq")
    assert ids(faqs) == ["faq-new-equipment"]


def test_region_filter_keeps_what_applies_to_a_company_there(make_tree):
    def policy(region):
        line = f"region: {region}\n" if region else ""
        return f"---\ntitle: 企业贷款贴息办法\n{line}---\n企业获得银行贷款的给予贴息。\n"
    root = make_tree({
        "policies/national.md": policy("全国"),
        "policies/city.md": policy("天津市"),
        "policies/district.md": policy("天津市/滨海新区"),
        "policies/zone.md": policy("天津市/滨海新区/滨海高新区"),
        "policies/other-district.md": policy("天津市/和平区"),
        "policies/other-city.md": policy("北京市"),
        "policies/unspecified.md": policy(None),
    })
    [zone] = matcher.match(root, ["贷款贴息"], region="滨海高新区")
    assert set(ids(zone)) == {"national", "city", "district", "zone", "unspecified"}
    [by_path] = matcher.match(root, ["贷款贴息"], region="天津市/滨海新区/滨海高新区")
    assert set(ids(by_path)) == set(ids(zone))
    [city] = matcher.match(root, ["贷款贴息"], region="天津市")  # the city and everything under it
    assert set(ids(city)) == {"national", "city", "district", "zone", "other-district", "unspecified"}


def test_issues_only_in_the_internal_profile(tree):
    q = ["新建35千伏供电线路"]
    [public] = matcher.match(tree, q)
    assert "2026-0001" not in ids(public)
    [internal] = matcher.match(tree, q, internal=True)
    assert ids(internal)[0] == "2026-0001" and internal[0].type == "issue"
    # Resolution text is searchable internally; company names never enter the index text.
    [by_resolution] = matcher.match(tree, ["绿色通道"], internal=True)
    assert "2026-0001" in ids(by_resolution)
    [by_name] = matcher.match(tree, ["某某精密机械"], internal=True)
    assert "2026-0001" not in ids(by_name)


def test_match_on_never_indexed_tree_builds_cache_outside_content(tree):
    before = sorted(p.relative_to(tree) for p in tree.rglob("*"))
    [hits] = matcher.match(tree, ["技改"])
    assert hits
    assert sorted(p.relative_to(tree) for p in tree.rglob("*")) == before
    cache = Path(os.environ["POLICYKB_CACHE"]) / "index"
    assert any(p.name.startswith("public-") for p in cache.iterdir())


def test_json_lines_interface(tree):
    questions = "技改补助\n\n请问我们公司怎么样\n银行贷款贴息\n"
    r = run_policykb("match", "--content", tree, "--json", "-", input=questions)
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["q"] for o in lines] == ["技改补助", "", "请问我们公司怎么样", "银行贷款贴息"]
    assert lines[1]["results"] == [] and lines[2]["results"] == []
    first = lines[0]["results"][0]
    # The original fields, plus what an officer reads out (status, region) and the confidence.
    assert {"id", "type", "title", "score", "snippet", "matched"} <= set(first)
    assert {"confident", "strength", "status", "region"} <= set(first)
    assert isinstance(first["confident"], bool) and first["strength"] > 0
    assert first["id"] in ("zone-tech-upgrade-2025", "faq-new-equipment")
    assert lines[3]["results"][0]["id"] == "tj-loan-interest"
    top1 = run_policykb("match", "--content", tree, "--json", "--top", "1", "-", input="技术改造\n")
    assert len(json.loads(top1.stdout)["results"]) == 1


def test_json_default_is_ten_results(make_tree):
    files = {f"policies/p{i:02d}.md": f"---\ntitle: 第{i}号技术改造补助办法\n---\n技术改造补助第{i}条。\n"
             for i in range(14)}
    root = make_tree(files)
    r = run_policykb("match", "--content", root, "--json", "技术改造补助")
    assert len(json.loads(r.stdout)["results"]) == 10


def test_text_output_and_no_match(tree, cli):
    r = cli("match", "--content", tree, "--top", "2", "技改补助")
    assert r.exit_code == 0
    assert "匹配词" in r.output and "【" in r.output
    none = cli("match", "--content", tree, "离婚房子分割")
    assert "没有找到" in none.output


def test_weak_match_is_labelled_and_nothing_is_said_clearly(tree, cli):
    strong = cli("match", "--content", tree, "技改补助")
    assert "没有找到有把握的匹配" not in strong.output and "[弱匹配]" not in strong.output
    weak = cli("match", "--content", tree, "项目")  # one common word: a candidate, not an answer
    assert weak.exit_code == 0
    assert weak.output.splitlines()[0].startswith("没有找到有把握的匹配")
    assert "[弱匹配]" in weak.output and "zone-tech-upgrade-2025" in weak.output
    none = cli("match", "--content", tree, "离婚房子分割")
    assert "没有找到匹配的政策或问答" in none.output
    # The JSON interface keeps its fields: weak candidates are still listed, and say they are weak.
    js = cli("match", "--content", tree, "--json", "项目")
    [result] = json.loads(js.output)["results"]
    assert {"id", "type", "title", "score", "snippet", "matched"} <= set(result)
    assert result["confident"] is False


def test_policy_is_found_through_the_phrasing_of_the_faq_citing_it(make_tree):
    same = "对完成备案的项目，按投资额的10%给予补助，单个项目最高500万元。"
    root = make_tree({
        "policies/p-cited.md": f"---\ntitle: 工业企业项目补助办法\n---\n{same}\n",
        "policies/p-other.md": f"---\ntitle: 服务企业项目补助办法\n---\n{same}\n",
        "faq/faq-robots.md": "---\nquestion: 机器换人有没有钱补？\npolicies: [p-cited]\n---\n可以申报项目补助。\n",
    })
    [hits] = matcher.match(root, ["机器换人"], types="policy")
    assert ids(hits) == ["p-cited"]  # neither policy says 机器换人; only the FAQ citing one does
    assert "机器换人" not in hits[0].snippet  # the FAQ's wording is evidence, never shown as policy text


def test_faq_lifts_the_policy_it_cites(make_tree):
    same = "对完成备案的项目，按投资额的10%给予补助。"
    root = make_tree({
        "policies/p-a.md": f"---\ntitle: 甲类企业补助办法\n---\n{same}\n",
        "policies/p-b.md": f"---\ntitle: 乙类企业补助办法\n---\n{same}\n",
        "faq/faq-x.md": "---\nquestion: 机器换人有没有钱？\npolicies: [p-b]\n---\n备案项目可以申请补助。\n",
    })
    [hits] = matcher.match(root, ["备案项目补助"])
    order = [i for i in ids(hits) if i.startswith("p-")]
    assert order == ["p-b", "p-a"]  # same text; p-b is cited by the FAQ that matches the question
    [plain] = matcher.match(root, ["备案项目补助"], types="policy")  # the FAQ filtered out: no lift
    assert plain[0].score == pytest.approx(plain[1].score)


def test_missing_content_dir_is_a_clear_error(tmp_path, cli):
    r = cli("match", "--content", tmp_path / "nope", "技改")
    assert r.exit_code == 2 and "内容目录不存在" in r.output


def test_eval_reports_matcher_and_baseline(tree, tmp_path, cli):
    qfile = tmp_path / "q.yml"
    qfile.write_text(
        "- {q: 技改补助, expect: [zone-tech-upgrade-2025, faq-new-equipment], style: abbreviation}\n"
        "- {q: 科技型企业贷款贴息, expect: [tj-loan-interest], style: colloquial}\n"
        "- {q: 离婚房子分割, expect: [], style: none}\n", encoding="utf-8")
    r = cli("eval", "--content", tree, "--questions", qfile, "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    allg = report["groups"]["all"]
    assert allg["matcher"]["recall@1"] == 1.0 and allg["matcher"]["questions"] == 2
    assert set(allg["bm25"]) >= {"recall@1", "recall@5", "mrr@10"}
    assert "style:colloquial" in report["groups"]
    assert allg["matcher"]["no_answer"] == 1
    # No-answer recognition, both ways, in the same run.
    assert allg["matcher"]["no_answer_recognised"] == 1 and allg["matcher"]["no_answer_recognised_rate"] == 1.0
    assert allg["matcher"]["answerable_flagged"] == 0 and allg["matcher"]["answerable_flagged_rate"] == 0.0
    assert "answerable_flagged" not in allg["bm25"]  # the baseline has no confidence to judge
    text = cli("eval", "--content", tree, "--questions", qfile)
    assert "识别为“没有有把握的匹配” 1 个" in text.output and "被误判" in text.output


def test_eval_distractors_join_the_index(tree, make_tree, tmp_path, cli):
    other = make_tree({"policies/d-1.md": "---\ntitle: 外地技术改造补助办法\n---\n技术改造补助。\n"}, name="other")
    qfile = tmp_path / "q.jsonl"
    qfile.write_text(json.dumps({"q": "外地技术改造", "expect": ["d-1"]}, ensure_ascii=False) + "\n", encoding="utf-8")
    r = cli("eval", "--content", tree, "--questions", qfile, "--distractors", other, "--json")
    report = json.loads(r.output)
    assert report["groups"]["all"]["matcher"]["recall@1"] == 1.0


def test_bad_question_file_is_reported(tree, tmp_path, cli):
    qfile = tmp_path / "q.jsonl"
    qfile.write_text('{"q": "技改", "expect": []}\n{not json}\n', encoding="utf-8")
    r = cli("eval", "--content", tree, "--questions", qfile)
    assert r.exit_code == 2 and "q.jsonl:2" in r.output


ZONES = {
    "taxonomy.yml": "regions:\n  天津市/滨海新区/天津经济技术开发区: [泰达, TEDA]\n",
    "policies/teda-talent.md": "---\ntitle: 天津经济技术开发区人才公寓租金补贴办法\nregion: 天津市/滨海新区/天津经济技术开发区\n"
                               "published: 2025-03-01\n---\n引进人才租住人才公寓的，按月给予租金补贴。\n",
    "policies/liangjiang-talent.md": "---\ntitle: 两江新区人才公寓租金补贴实施细则\nregion: 重庆市/两江新区\n"
                                     "published: 2025-03-01\n---\n引进人才租住人才公寓的，按月给予租金补贴，两江新区企业可申请。\n",
    "policies/gxq-land.md": "---\ntitle: 滨海高新区工业用地标准地出让办法\nregion: 天津市/滨海新区/滨海高新区\n"
                           "published: 2025-03-01\n---\n工业项目用地按投资强度出让。\n",
    "policies/old-notice.md": "---\ntitle: 关于人才公寓租金补贴的通知\n---\n引进人才租住人才公寓的，按月给予租金补贴。\n",
    "faq/faq-teda-rent.md": "---\nquestion: 人才公寓租金能补多少？\npolicies: [teda-talent]\nupdated: 2025-04-01\n---\n按月补贴。\n",
}


def test_region_aliases_from_taxonomy_and_region_names():
    from policykb.content import regions
    table = regions.alias_table({"天津市/滨海新区/天津经济技术开发区": ["泰达", "TEDA"]},
                                ["重庆市/两江新区", "天津市/滨海新区/滨海高新区", "天津市"])
    assert regions.regions_in_text("泰达的企业", table) == ["天津市/滨海新区/天津经济技术开发区"]
    assert regions.regions_in_text("teda", table) == ["天津市/滨海新区/天津经济技术开发区"]
    assert regions.regions_in_text("两江的企业", table) == ["重庆市/两江新区"]  # short name
    # One name, longest first: 滨海高新区 is not 滨海 + 高新区, and 高新区 never yields 新区.
    assert regions.regions_in_text("滨海高新区的企业", table) == ["天津市/滨海新区/滨海高新区"]
    assert regions.regions_in_text("天津的企业", table) == ["天津市"]  # not 天津经济技术开发区
    assert regions.regions_in_text("发放津贴", table) == []


def test_taxonomy_regions_section_is_read_and_checked(make_tree):
    from policykb.content.loader import load_content
    from policykb.content.validate import validate
    good = load_content(make_tree(ZONES, name="good"))
    assert good.taxonomy.regions == {"天津市/滨海新区/天津经济技术开发区": ["泰达", "TEDA"]}
    assert not [d for d in validate(good) if d.severity == "错误"]
    bad = load_content(make_tree({**ZONES, "taxonomy.yml": "regions:\n  天津市: 泰达\n"}, name="bad"))
    assert any(d.code == "wrong-type" and "泰达" not in d.message and "天津市" in d.message
               for d in validate(bad))


def test_question_naming_a_zone_gets_that_zone_first(make_tree):
    root = make_tree(ZONES)
    [teda] = matcher.match(root, ["泰达的人才公寓租金补贴"], types="policy")
    assert teda[0].id == "teda-talent"
    [lj] = matcher.match(root, ["两江人才公寓租金补贴"], types="policy")
    assert lj[0].id == "liangjiang-talent"
    # 高新区 is a zone name here, never the word 新区 that would match 两江新区.
    [gxq] = matcher.match(root, ["高新区的人才公寓租金补贴"], types="policy")
    assert gxq[0].id != "liangjiang-talent" and "新区" not in gxq[0].matched


def test_faq_takes_the_region_of_the_policies_it_cites(make_tree):
    root = make_tree(ZONES)
    [hits] = matcher.match(root, ["人才公寓租金"], types="faq", region="两江新区")
    assert hits == []  # the FAQ answers for 泰达, where the policy it cites applies
    [hits] = matcher.match(root, ["人才公寓租金"], types="faq", region="泰达")  # an alias works as --region
    assert ids(hits) == ["faq-teda-rent"] and hits[0].region == "天津市/滨海新区/天津经济技术开发区"


def test_undated_regionless_notice_ranks_below_current_scheme(make_tree):
    root = make_tree({k: v for k, v in ZONES.items() if k != "policies/liangjiang-talent.md"})
    [hits] = matcher.match(root, ["人才公寓租金补贴"], types="policy")
    assert ids(hits).index("teda-talent") < ids(hits).index("old-notice")


def test_long_message_is_answered_for_its_need_not_its_small_talk(make_tree, monkeypatch):
    root = make_tree({
        "policies/tech.md": "---\ntitle: 技术改造项目补助办法\n---\n企业实施技术改造、更换生产设备的，按设备投资额给予补助。\n",
        "policies/canteen.md": "---\ntitle: 园区职工食堂和宿舍管理办法\n---\n园区企业职工食堂、职工宿舍、班车和员工活动中心由园区统一管理，"
                               "员工食堂宿舍班车按月结算。\n",
    })
    message = ("您好，我们公司在园区开了八年了，员工食堂还不错，宿舍也够住，班车每天准点，员工活动中心也常去，"
               "今年打算更换生产设备搞技术改造，想问问有没有补助")
    [hits] = matcher.match(root, [message])
    assert hits[0].id == "tech"
    monkeypatch.setattr(matcher, "LONG_CHARS", 0)  # without finding the need, small talk wins
    [plain] = matcher.match(root, [message])
    assert plain[0].id == "canteen"


def test_resolved_problem_wording_expands_cited_policy_in_internal_index_only(make_tree):
    root = make_tree({
        "policies/p-power.md": "---\ntitle: 工业企业供电扩容服务办法\n---\n供电公司为扩产企业办理增容报装。\n",
        "policies/p-other.md": "---\ntitle: 工业企业用水服务办法\n---\n水务公司为企业办理报装。\n",
        "issues/2026/2026-0001.md": "---\ntitle: 车间新上机器后电闸总跳\nreceived: 2026-01-05\ncategory: 生产配套\n"
                                    "status: resolved\ndepartment: 供电公司\nclosed_on: 2026-02-01\n"
                                    "resolution: 协调供电公司增容。\npolicies: [p-power]\n---\n新上机器后电闸总跳，变压器带不动。\n",
    })
    [internal] = matcher.match(root, ["电闸总跳"], types="policy", internal=True)
    assert ids(internal)[:1] == ["p-power"]  # neither policy says 电闸; the resolved problem citing one does
    assert "电闸" not in internal[0].snippet
    [public] = matcher.match(root, ["电闸总跳"], types="policy")
    assert public == []  # private wording never reaches the public index


def test_questions_that_are_not_utf8_are_answered_not_crashed(tree, tmp_path):
    import subprocess
    import sys
    exe = Path(sys.executable).parent / "policykb"
    env = {**__import__("os").environ, "POLICYKB_CACHE": str(tmp_path / "cache")}
    r = subprocess.run([str(exe), "match", "--content", str(tree), "--json", "--top", "1", "-"],
                       input=b"\xff\xfe\xe6\x8a\x80\xe6\x94\xb9\n", capture_output=True, env=env, timeout=120)
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr.decode("utf-8", "replace")
    line = json.loads(r.stdout.decode("utf-8").splitlines()[0])
    assert line["q"].endswith("技改") and line["results"]
    r = subprocess.run([str(exe), "match", "--content", str(tree), b"\xff\xe6\x8a\x80\xe6\x94\xb9"],
                       capture_output=True, env=env, timeout=120)
    assert r.returncode == 0 and b"Traceback" not in r.stderr, r.stderr.decode("utf-8", "replace")
