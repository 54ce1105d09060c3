"""Category and department suggestions, measured against the majority-class baseline."""
from __future__ import annotations

import json

import pytest
from conftest import SHARED

from policykb.content.loader import load_content
from policykb.ledger.suggest import Suggester, cross_validate, evaluate_gov, evaluate_ledger

GOV = SHARED / "eval" / "gov-messages"

# Three kinds of problems with their own words; "其他" is the biggest class (the baseline's guess).
KINDS = {
    ("生产配套", "区供电公司"): ["扩产需要增加用电容量，变压器不够", "新厂房需要架设供电线路", "工厂经常停电影响生产",
                               "申请电力增容进度慢", "配电设施老化需要改造"],
    ("人才就业", "区人社局"): ["招不到技术工人，技工缺口大", "员工落户手续怎么办", "高校毕业生招聘补贴",
                             "技能人才培训补贴申请", "引进人才的住房补贴"],
    ("其他", "区商务局"): ["想对接本地采购商", "希望参加展会拓展市场", "寻找汽车整车厂配套机会", "出口订单下降",
                          "产品进入政府采购目录", "外贸企业出口信用保险"],
}


def _files():
    files, n = {}, 0
    for (cat, dept), texts in KINDS.items():
        for text in texts:
            n += 1
            files[f"issues/2026-{n:04d}.md"] = (f"---\ntitle: {text}\nreceived: 2026-03-02\ncategory: {cat}\n"
                                                f"status: assigned\ndepartment: {dept}\ndue: 2026-04-01\n---\n{text}。\n")
    return files


@pytest.fixture
def tree(make_tree):
    return make_tree(_files())


def test_suggester_learns_from_past_records(tree):
    s = Suggester(load_content(tree).issues).suggest("我们厂用电负荷上不去，想申请增容")
    assert s.category[0][0] == "生产配套" and s.department[0][0] == "区供电公司"
    s = Suggester(load_content(tree).issues).suggest("技术工人招聘困难")
    assert s.category[0][0] == "人才就业"
    assert len(s.category) == 3 and s.category[0][1] >= s.category[1][1]


def test_ledger_evaluation_beats_baseline(tree):
    out = evaluate_ledger(load_content(tree).issues)
    for field in ("category", "department"):
        r = out[field]
        assert r["n"] == 16 and r["classes"] == 3 and r["method"] == "留一法"
        # leave-one-out: the baseline always guesses the training part's majority
        assert r["baseline"]["accuracy"] <= 6 / 16
        assert r["model"]["accuracy"] > r["baseline"]["accuracy"] + 0.2
        assert r["model"]["macro_f1"] > r["baseline"]["macro_f1"]


def test_single_class_is_handled():
    r = cross_validate([("甲", "a"), ("乙", "a"), ("丙", "a")])
    assert r["model"]["accuracy"] == 1.0 and r["baseline"]["accuracy"] == 1.0


def test_cli_suggest_eval(tree, cli):
    r = cli("issue", "suggest-eval", "--content", tree, "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert set(data["ledger"]) == {"category", "department"}
    r = cli("issue", "suggest-eval", "--content", tree)
    assert "台账·类别" in r.output and "基线" in r.output


@pytest.mark.skipif(not (GOV / "messages.jsonl").is_file(), reason="gov-messages evaluation data not present")
def test_gov_messages_routing_beats_majority():
    out = evaluate_gov(GOV)
    m = out["messages_domain"]
    assert m["n_test"] > 1000 and m["classes"] == 13
    assert m["model"]["accuracy"] > m["baseline"]["accuracy"] + 0.2
    assert m["model"]["macro_f1"] > m["baseline"]["macro_f1"] + 0.3
    f = out["faq_department"]
    assert f["model"]["accuracy"] > f["baseline"]["accuracy"] + 0.4


SIMILAR = {
    "issues/2026-0001.md": ("---\ntitle: 扩产需要新建35千伏供电线路\nreceived: 2026-03-02\ncategory: 生产配套\n"
                            "status: resolved\ndepartment: 区供电公司\ndue: 2026-04-01\nclosed_on: 2026-03-20\n"
                            "resolution: 供电公司开辟绿色通道，三周内完成线路架设\n---\n新厂房投产需要35千伏供电线路。\n"),
    "issues/2026-0002.md": ("---\ntitle: 员工子女入学难\nreceived: 2026-03-05\ncategory: 生活配套\nstatus: received\n"
                            "---\n外地员工的孩子上学找不到学位。\n"),
    "policies/power.md": "---\ntitle: 用电报装服务实施方案\n---\n高压供电线路报装，35千伏线路审批提速。\n",
}


def test_similar_lists_past_problems_with_their_resolution(make_tree, cli):
    root = make_tree(SIMILAR)
    r = cli("issue", "new", "--content", root, "--title", "新车间供电线路不够，需要架设35千伏线路",
            "--category", "生产配套", "--no-interactive", "--date", "2026-04-02", "--by", "李明")
    assert r.exit_code == 0, r.output
    assert "建议类别" not in r.output and "提示：" not in r.output  # the category was given and agrees
    assert "[诉求] 2026-0001" in r.output and "三周内完成线路架设" in r.output  # the internal index has problems
    assert "[政策] power" in r.output
    r = cli("issue", "similar", "2026-0003", "--content", root)
    assert r.exit_code == 0, r.output
    assert "2026-0001" in r.output and "2026-0003 " not in r.output  # never itself
    r = cli("issue", "similar", "2099-0001", "--content", root)
    assert r.exit_code == 1 and "找不到诉求" in r.output


def test_new_suggests_a_category_only_when_none_was_given_or_it_differs(make_tree, cli):
    root = make_tree(SIMILAR)
    new = ("issue", "new", "--content", root, "--title", "新车间供电线路不够，需要架设35千伏线路",
           "--no-interactive", "--date", "2026-04-02", "--by", "李明", "--no-similar")
    r = cli(*new)  # no category: the suggestion is shown and taken (a plain string in the record)
    assert r.exit_code == 0, r.output
    assert "建议类别：生产配套" in r.output
    assert "category: 生产配套" in (root / "issues" / "2026-0003.md").read_text(encoding="utf-8")
    r = cli(*new, "--category", "生活配套")  # given but unlike the past problems: said plainly
    assert r.exit_code == 0, r.output
    assert "建议类别：" not in r.output
    assert "所填类别 “生活配套” 与以往同类诉求的类别 “生产配套” 不同" in r.output
    r = cli(*new, "--category", "生产配套")
    assert r.exit_code == 0, r.output
    assert "建议类别" not in r.output and "提示：" not in r.output
