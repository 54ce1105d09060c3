"""Policy calculator (政策计算器): evaluator table tests, validator faults with path:line, a zone's
own condition field, and `policykb eligible` on the bundled sample profiles (verdicts worked out
by hand, written in each profile file)."""
from __future__ import annotations

import datetime as dt
import json

import pytest
import yaml
from conftest import BUNDLED, PROJECT

from policykb.content import eligibility as el
from policykb.content.loader import load_content
from policykb.content.taxonomy import Taxonomy
from policykb.content.validate import validate

TODAY = dt.date(2026, 6, 1)
PROFILES = sorted((PROJECT / "tests" / "profiles").glob("*.yml"))
FIELDS = Taxonomy().condition_fields


def rule(conditions=(), *, region="天津市/滨海新区/滨海高新区", types=(), status="effective", expires=None, pid="p"):
    return {"id": pid, "title": pid, "status": status, "expires": expires, "region": region,
            "enterprise_types": list(types), "conditions": list(conditions), "support": [], "summary": "",
            "amount": None, "deadline": None}


def cond(field, op, value, text="条件"):
    value, problem = el.coerce(FIELDS[field], value)
    assert problem is None
    return {"field": field, "op": op, "value": value, "text": text}


def run(r, profile, known=("天津市/滨海新区/滨海高新区",)):
    fields = {n: s.as_dict() for n, s in FIELDS.items()}
    prof = el.normalise_profile(profile, FIELDS)
    return el.evaluate_one(r, fields, prof, list(known), TODAY)


# ---------------------------------------------------------------- evaluator tables

@pytest.mark.parametrize("field, op, want, have, verdict", [
    ("employees", "<=", 500, 500, "met"),
    ("employees", "<=", 500, 501, "unmet"),
    ("employees", "<", 500, 500, "unmet"),
    ("revenue", ">=", 2000, "2000万元", "met"),
    ("revenue", ">", 2000, 2000, "unmet"),
    ("rd_ratio", ">=", 3, 2.9, "unmet"),
    ("rd_ratio", "!=", 3, 2.9, "met"),
    ("employees", "<=", 500, None, "unclear"),  # a value the profile lacks is unclear, never unmet
    ("own_ip", "==", True, True, "met"),
    ("own_ip", "==", True, False, "unmet"),
    ("own_ip", "==", True, None, "unclear"),
    ("years_founded", "<", 3, 2, "met"),
    ("years_founded", "<", 3, dt.date(2023, 6, 1), "unmet"),  # exactly three years on TODAY
    ("years_founded", "<", 3, dt.date(2023, 6, 2), "met"),  # one day short of three years
    ("years_founded", ">=", 1, "2025-06-01", "met"),
    ("project_started", ">=", "2024-01-01", dt.date(2024, 1, 1), "met"),
    ("project_started", ">=", "2024-01-01", dt.date(2023, 12, 31), "unmet"),
    ("industry", "in", ["工业制造", "软件和信息技术服务"], "软件和信息技术服务", "met"),
    ("industry", "in", ["工业制造"], "批发和零售", "unmet"),
    ("industry", "not_in", ["批发和零售", "房地产"], "工业制造", "met"),
    ("industry", "not_in", ["批发和零售", "房地产"], ["工业制造", "房地产"], "unmet"),
    ("vat_payer", "==", "小规模纳税人", "小规模纳税人", "met"),
    ("vat_payer", "!=", "小规模纳税人", "小规模纳税人", "unmet"),
    ("own_ip", "==", "true", True, "met"),  # as the CMS writes a form value
    ("industry", "in", "工业制造、软件和信息技术服务", "工业制造", "met"),
])
def test_condition_table(field, op, want, have, verdict):
    profile = {"region": "滨海高新区"} | ({field: have} if have is not None else {})
    r = run(rule([cond(field, op, want, "按原文的条件")]), profile)
    c = r.conditions[-1]
    assert c.verdict == verdict, c
    assert c.text == "按原文的条件"
    if verdict == "unclear":
        assert "未填写" in c.reason and FIELDS[field].label in c.reason
    if verdict == "unmet":
        assert "不满足" in c.reason


@pytest.mark.parametrize("policy_region, company, verdict", [
    ("天津市", "滨海高新区", "met"),  # a company in the zone qualifies for Tianjin-wide policies
    ("天津市/滨海新区", "天津市/滨海新区/滨海高新区", "met"),
    ("全国", "重庆市/两江新区", "met"),
    ("天津市/滨海新区/滨海高新区", "滨海高新区", "met"),
    ("天津市/滨海新区/滨海高新区", "天津市", "unclear"),  # only the city is known: the zone must be checked
    ("天津市/滨海新区/滨海高新区", "重庆市/两江新区", "unmet"),
    ("天津市/滨海新区/滨海高新区", None, "unclear"),
])
def test_region_has_the_region_option_meaning(policy_region, company, verdict):
    profile = {"region": company} if company else {}
    r = run(rule(region=policy_region), profile, known=["天津市/滨海新区/滨海高新区", "天津市"])
    assert r.conditions[0].verdict == verdict, r.conditions[0]


@pytest.mark.parametrize("have, verdict", [
    (["中小微企业"], "met"), (["高新技术企业", "外资企业"], "met"), (["总部企业"], "unmet"), ([], "unclear"), (None, "unclear"),
])
def test_enterprise_types_are_a_condition(have, verdict):
    profile = {"region": "滨海高新区"} | ({"enterprise_types": have} if have is not None else {})
    r = run(rule(types=["中小微企业", "高新技术企业"]), profile)
    assert r.conditions[1].verdict == verdict


def test_policy_verdict_combines_conditions():
    conds = [cond("employees", "<=", 500), cond("own_ip", "==", True)]
    assert run(rule(conds), {"region": "滨海高新区", "employees": 10, "own_ip": True}).verdict == "eligible"
    assert run(rule(conds), {"region": "滨海高新区", "employees": 10}).verdict == "unclear"
    assert run(rule(conds), {"region": "滨海高新区", "employees": 900}).verdict == "ineligible"
    # No conditions written: never 符合, the officer is told to read the text.
    r = run(rule(), {"region": "滨海高新区"})
    assert r.verdict == "unclear" and "原文" in r.conditions[-1].reason


@pytest.mark.parametrize("status, expires", [("expired", None), ("repealed", None), ("draft", None),
                                             ("effective", "2026-05-31")])
def test_non_current_policies_are_never_eligible(status, expires):
    r = run(rule([cond("employees", "<=", 500)], status=status, expires=expires), {"region": "滨海高新区", "employees": 1})
    assert r.verdict == "ineligible"
    assert r.status == (status if status != "effective" else "expired")  # dates win
    assert r.conditions[0].text == "政策在有效期内" and r.conditions[0].verdict == "unmet"


def test_order_and_all():
    rules = {"fields": {n: s.as_dict() for n, s in FIELDS.items()}, "regions": ["天津市/滨海新区/滨海高新区"],
             "policies": [
                 rule([cond("employees", "<=", 500), cond("own_ip", "==", True), cond("rd_ratio", ">=", 3)], pid="b-two-met"),
                 rule([cond("employees", "<=", 5)], pid="c-no"),
                 rule([cond("employees", "<=", 500)], pid="d-yes"),
                 rule([cond("own_ip", "==", True)], pid="a-one-met"),
                 rule([cond("employees", "<=", 500)], pid="e-old", status="expired"),
             ]}
    profile = el.normalise_profile({"region": "滨海高新区", "employees": 10, "rd_ratio": 5}, FIELDS)
    got = el.evaluate(rules, profile, TODAY)
    assert [r.id for r in got] == ["d-yes", "b-two-met", "a-one-met", "c-no"]
    assert [r.verdict for r in got] == ["eligible", "unclear", "unclear", "ineligible"]
    every = el.evaluate(rules, profile, TODAY, include_all=True)
    assert [r.id for r in every][-1] == "e-old" and every[-1].status == "expired"


def test_amount_is_read_from_the_summary():
    assert el.amount_of("按投资额的10%给予补助，单个项目最高500万元。") == "最高500万元"
    assert el.amount_of("提供免费服务。") is None


# ---------------------------------------------------------------- validator

POLICY = """
---
title: 测试政策
region: 天津市/滨海新区/滨海高新区
eligibility:
  - field: employeez
    op: "<="
    value: 500
    text: 职工不超过500人
  - field: revenue
    op: ">="
    value: 2亿元
    text: 营收不低于2亿元
  - field: own_ip
    op: ">="
    value: true
    text: 有知识产权
  - field: rd_ratio
    op: ">="
    value: 120
    text: 研发占比不低于120%
  - field: employees
    op: ">="
    value: 600
    text: 不少于600人
  - field: employees
    op: "<="
    value: 100
    text: 不超过100人
  - field: industry
    op: "in"
    value: [造船]
    text: 造船企业
  - field: revenue
    op: ">="
    value: 100
    unit: 亿元
    text: 营收
  - field: assets
    op: "<="
    value: 30
---
正文。
"""


def test_validator_reports_each_fault_with_its_line(make_tree):
    root = make_tree({"policies/p.md": POLICY})
    diags = [d for d in validate(load_content(root), TODAY) if d.code.startswith("eligibility")]
    got = {(d.line, d.code, d.severity) for d in diags}
    assert (5, "eligibility-field", "error") in got  # unknown field, at its `field:` line
    assert (11, "eligibility-unit", "error") in got  # 2亿元 for a 万元 field, at `value:`
    assert (14, "eligibility-op", "error") in got  # >= on a yes/no field, at `op:`
    assert (19, "eligibility-value", "error") not in got
    assert (19, "eligibility-impossible", "error") in got  # over 100 %
    assert (27, "eligibility-impossible", "error") in got  # >= 600 and <= 100 on the same field
    assert (31, "eligibility-value", "error") in got  # not one of the enum values
    assert (36, "eligibility-unit", "error") in got  # unit key disagrees
    assert (38, "eligibility-text", "warning") in got  # no sentence for the company
    assert len(diags) == 8, diags
    for d in diags:
        assert d.path.endswith("policies/p.md") and d.message.endswith("。")
    assert "是否应为 “employees”" in next(d for d in diags if d.code == "eligibility-field").message


def test_a_zone_adds_its_own_field(make_tree):
    root = make_tree({
        "taxonomy.yml": """
            condition_fields:
              output_value: {label: 上年度工业总产值, type: number, unit: 万元}
              bad: {type: colour}
            """,
        "policies/p.md": """
            ---
            title: 产值奖励
            eligibility:
              - field: output_value
                op: ">="
                value: 50000
                text: 上年度工业总产值不低于5亿元
            ---
            正文。
            """})
    content = load_content(root)
    diags = validate(content, TODAY)
    assert [(d.path.endswith("taxonomy.yml"), d.line, d.code) for d in diags if d.severity == "error"] == [
        (True, 3, "condition-field")]
    assert "employees" in content.taxonomy.condition_fields  # defaults stay
    res = el.evaluate_content(content.policies, content.taxonomy, {"output_value": 60000}, TODAY)
    assert res[0].verdict == "eligible" and res[0].conditions[0].text == "上年度工业总产值不低于5亿元"


def test_bundled_taxonomy_lists_the_default_fields():
    assert load_content(BUNDLED, include_issues=False).taxonomy.condition_fields == FIELDS


def test_bundled_content_has_conditions_on_25_policies():
    content = load_content(BUNDLED, include_issues=False)
    with_conditions = [p for p in content.policies if p.eligibility]
    assert len(with_conditions) >= 25
    assert not [d for d in validate(content, TODAY) if d.code.startswith("eligibility")]


# ---------------------------------------------------------------- CLI

@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_cli_gives_the_hand_worked_verdicts(cli, profile):
    expected = yaml.safe_load(profile.read_text(encoding="utf-8"))["expected"]
    res = cli("eligible", "--content", BUNDLED, "--profile", profile, "--json", "--today", TODAY)
    assert res.exit_code == 0, res.output
    results = json.loads(res.output)["results"]
    got = {r["id"]: r["verdict"] for r in results}
    assert {k: got.get(k) for k in expected} == expected
    for r in results:
        assert set(r) >= {"id", "title", "verdict", "conditions"}
        assert all(set(c) == {"text", "verdict", "reason"} for c in r["conditions"])
        assert r["status"] == "effective"  # without --all only current policies come back
    ranks = [{"eligible": 0, "unclear": 1, "ineligible": 2}[r["verdict"]] for r in results]
    assert ranks == sorted(ranks)
    unclear = [r["met"] for r in results if r["verdict"] == "unclear"]
    assert unclear == sorted(unclear, reverse=True)


def test_cli_text_and_all(cli):
    profile = PROJECT / "tests" / "profiles" / "hitech-manufacturer.yml"
    res = cli("eligible", "--content", BUNDLED, "--profile", profile, "--today", TODAY)
    assert res.exit_code == 0
    out = res.output
    assert out.index("【符合】") < out.index("【待确认】") < out.index("【不符合】")
    assert "zone-tech-upgrade-2025" in out and "最高500万元" in out
    assert "zone-tech-upgrade-2022" not in out and "zone-green-lowcarbon-draft-2026" not in out
    every = json.loads(cli("eligible", "--content", BUNDLED, "--profile", profile, "--today", TODAY, "--json",
                           "--all").output)["results"]
    old = {r["id"]: r for r in every}
    assert old["zone-tech-upgrade-2022"]["status"] == "expired"
    assert old["zone-tech-upgrade-2022"]["verdict"] == "ineligible"
    assert old["zone-listing-support-2021"]["status"] == "repealed"
    assert old["zone-green-lowcarbon-draft-2026"]["verdict"] != "eligible"
    assert all(r["status"] != "effective" for r in every[len(every) - 3:])


def test_cli_bad_profile_lists_every_problem(cli, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("region: 滨海高新区\nemployees: 很多\nrevenue: 3亿元\ncolour: red\nenterprise_types: [高新企业]\n",
                   encoding="utf-8")
    res = cli("eligible", "--content", BUNDLED, "--profile", bad, "--today", TODAY)
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if "错误[bad-profile]" in ln]
    assert [ln.split(":")[1] for ln in lines] == ["2", "3", "4", "5"]
    assert "万元" in lines[1] and "未知字段 “colour”" in lines[2] and "高新企业" in lines[3]


def test_issue_show_points_at_the_calculator(cli, make_tree):
    root = make_tree({"issues/2026-0001.md": """
        ---
        title: 想了解技改补贴
        received: 2026-03-02
        category: 投资和政策环境
        status: received
        enterprise: 天津某某精密机械有限公司
        ---
        企业想知道能申报哪些补贴。
        """})
    out = cli("issue", "show", "2026-0001", "--content", root).output
    assert "policykb eligible --profile" in out


def test_a_region_alias_names_the_zone(cli, tmp_path):
    profile = tmp_path / "p.yml"
    profile.write_text("region: 高新区\nenterprise_types: [高新技术企业]\n", encoding="utf-8")
    rows = json.loads(cli("eligible", "--content", BUNDLED, "--profile", profile, "--json", "--today", TODAY).output)
    zone = next(r for r in rows["results"] if r["id"] == "zone-hightech-enterprise-reward-2025")
    assert zone["conditions"][0]["verdict"] == "met", zone["conditions"][0]


# ---------------------------------------------------------------- one home for labels, dates and regions

def test_the_evaluator_uses_the_shared_status_labels_dates_and_region_rule():
    from policykb.cli import eligible as cli_eligible
    from policykb.content import regions
    from policykb.content.statuses import POLICY_STATUS_LABEL
    assert not hasattr(el, "STATUS_LABEL") and not hasattr(el, "CONDITION_LABEL")
    assert cli_eligible.HEADING is el.VERDICT_LABEL and cli_eligible.STATUS_LABEL is POLICY_STATUS_LABEL
    # Rules built on one day, evaluated on a later one (the page runs long after the build):
    # the status is what Policy.status_on says on the later day.
    content = load_content(BUNDLED, include_issues=False)
    built, later = dt.date(2020, 1, 1), dt.date(2027, 1, 1)
    rules = el.export_rules(content.policies, content.taxonomy, built)
    got = {r.id: r.status for r in el.evaluate(rules, {}, later, include_all=True)}
    want = {p.id: p.status_on(later) for p in content.policies if p.status_on(built) != "draft"}
    assert got == want and "expired" in got.values()
    # The region verdict is met/unclear exactly where regions.applies_to says the policy applies.
    known = ["天津市/滨海新区/滨海高新区", "重庆市/两江新区"]
    for policy_region in ("天津市", "天津市/滨海新区/滨海高新区", "重庆市/两江新区"):
        for company in ("滨海高新区", "天津市", "两江新区", "重庆市"):
            verdict = run(rule(region=policy_region), {"region": company}, known=known).conditions[0].verdict
            applies = regions.applies_to(policy_region, regions.resolve(company, known))
            assert (verdict != "unmet") == applies, (policy_region, company, verdict)


def test_cli_refuses_an_impossible_profile_naming_every_line(cli, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("name: 某公司\nregion: 火星\nyears_founded: 2030-01-01\nemployees: -5\nrd_ratio: 450\n"
                   "revenue: 800万元\n", encoding="utf-8")
    res = cli("eligible", "--content", BUNDLED, "--profile", bad, "--today", TODAY)
    assert res.exit_code == 1, res.output
    lines = [ln for ln in res.output.splitlines() if "错误[bad-profile]" in ln]
    assert [ln.split(":")[1] for ln in lines] == ["2", "3", "4", "5"], res.output
    assert "火星" in lines[0] and "滨海高新区" in lines[0]  # names the content's regions
    assert "晚于今天（2026-06-01）" in lines[1] and "负数" in lines[2] and "100" in lines[3]
    assert "符合" not in res.output.replace("不符合", "")  # nothing computed
    # A near miss of a known region names it; a founding date up to today is fine.
    near = tmp_path / "near.yml"
    near.write_text("region: 滨海高兴区\nyears_founded: 2026-06-01\nrd_ratio: 100\nemployees: 0\n", encoding="utf-8")
    res = cli("eligible", "--content", BUNDLED, "--profile", near, "--today", TODAY)
    assert res.exit_code == 1 and "是不是 “滨海高新区”" in res.output, res.output
    assert len([ln for ln in res.output.splitlines() if "错误[bad-profile]" in ln]) == 1
    near.write_text("region: 泰达\nyears_founded: 2026-06-01\nrd_ratio: 100\nemployees: 0\n", encoding="utf-8")
    assert cli("eligible", "--content", BUNDLED, "--profile", near, "--today", TODAY).exit_code == 0


GOOD_POLICY = """
---
title: 好政策
region: 天津市/滨海新区/滨海高新区
eligibility:
  - field: employees
    op: "<="
    value: 500
    text: 职工不超过500人
---
正文。
"""


def test_cli_skips_a_bad_policy_file_like_match_and_strict_refuses(cli, make_tree, tmp_path):
    root = make_tree({"policies/good.md": GOOD_POLICY, "policies/bad.md": POLICY})
    profile = tmp_path / "p.yml"
    profile.write_text("region: 滨海高新区\nemployees: 10\n", encoding="utf-8")
    res = cli("eligible", "--content", root, "--profile", profile, "--json", "--today", TODAY)
    assert res.exit_code == 0, res.output
    warnings = [ln for ln in res.stderr.splitlines() if ln.startswith("警告")]
    assert len(warnings) == 1 and "bad.md:5" in warnings[0] and "policykb validate" in warnings[0], res.stderr
    results = json.loads(res.stdout)["results"]
    assert [r["verdict"] for r in results] == ["eligible"] and results[0]["title"] == "好政策"
    res = cli("eligible", "--content", root, "--profile", profile, "--today", TODAY, "--strict")
    assert res.exit_code == 1 and "没有计算" in res.output and "bad.md:5" in res.output


def test_a_region_the_taxonomy_names_or_a_path_under_a_known_region_is_accepted(cli, tmp_path):
    profile = tmp_path / "p.yml"
    for region in ("重庆市/两江新区", "两江", "天津市/河西区", "全国"):
        profile.write_text(f"region: {region}\n", encoding="utf-8")
        res = cli("eligible", "--content", BUNDLED, "--profile", profile, "--json", "--today", TODAY)
        assert res.exit_code == 0, (region, res.output)
    profile.write_text("region: 火星/某区\n", encoding="utf-8")
    assert cli("eligible", "--content", BUNDLED, "--profile", profile, "--today", TODAY).exit_code == 1
