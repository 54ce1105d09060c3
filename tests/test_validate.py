"""Validator: one small fixture tree per kind of breakage, asserting path, line, severity and
code; then the real CLI (exit codes, --strict, --format json) on fixture, bundled and NCP trees."""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from conftest import BUNDLED, NCP, run_policykb

from policykb.content.diagnostics import ERROR, INFO, WARNING
from policykb.content.loader import load_content
from policykb.content.validate import validate

TODAY = dt.date(2026, 11, 22)

NEW_POLICY = """
---
title: 技术改造补助办法
doc_number: 津高新管发〔2025〕8号
issuer: 区管委会
region: 天津市/滨海新区
published: 2025-03-10
effective: 2025-04-01
expires: 2027-12-31
status: effective
supersedes: [zone-tech-2022]
categories: [产业发展, 科技创新]
enterprise_types: [中小微企业]
support: [资金补贴]
summary: 按设备投资额的10%给予补助。
apply:
  phone: 022-12345678
  url: https://example.gov.cn/jsgz
  deadline: 2026-12-15
source: https://example.gov.cn/zcwj/jsgz.html
review:
  last_reviewed: 2026-06-20
  every: 6m
---
## 支持内容
按设备投资额的10%给予补助。
"""

OLD_POLICY = """
---
title: 技术改造补助办法（2022年版）
doc_number: 津高新管发〔2022〕3号
issuer: 区管委会
region: 天津市/滨海新区
published: 2022-01-05
expires: 2024-12-31
status: expired
superseded_by:
  - zone-tech-2025
categories: [产业发展]
summary: 旧版技改补助。
---
旧版正文。
"""

FAQ = """
---
question: 我们厂想换一批新设备，区里能补多少？
aliases: [技改补贴多少]
categories: [产业发展]
policies: [zone-tech-2025]
issues: [iss-2025-001]
department: 区经济发展局
updated: 2026-01-10
---
按设备投资额的10%补助，单个项目最高500万元。
"""

ISSUE = """
---
title: 设备更新能否获得补助
received: 2025-05-06
category: 生产配套
status: resolved
enterprise: 某精密机械有限公司
channel: 走访
department: 区经济发展局
due: 2025-05-20
closed_on: 2025-05-15
resolution: 已讲解技改补助政策并协助申报。
satisfaction: 满意
policies: [zone-tech-2025]
faq: [faq-equipment]
history:
  - date: 2025-05-06
    by: 服务专员
    action: 受理
  - date: 2025-05-08
    action: 交办区经济发展局
  - date: 2025-05-15
    action: 办结
---
企业计划更新生产线设备，询问补助。
"""

GOOD = {
    "policies/zone/zone-tech-2025.md": NEW_POLICY,
    "policies/old/zone-tech-2022.md": OLD_POLICY,
    "faq/faq-equipment.md": FAQ,
    "issues/2025/iss-2025-001.md": ISSUE,
}
P, OLD, F, I = GOOD  # the four paths  # noqa: E741


def ln(text: str, needle: str, nth: int = 1) -> int:
    """1-based file line of the nth line containing needle (as make_tree writes the text)."""
    hits = [i for i, line in enumerate(text.lstrip("\n").splitlines(), 1) if needle in line]
    return hits[nth - 1]


def edit(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def check(make_tree, changes: dict | None = None, today=TODAY) -> set[tuple]:
    """Validate GOOD with `changes` applied -> {(relpath, line, severity, code)}."""
    root = make_tree({**GOOD, **(changes or {})})
    content = load_content(root)
    return {(Path(d.path).relative_to(content.shown_root).as_posix(), d.line, d.severity, d.code)
            for d in validate(content, today)}


def messages(make_tree, changes: dict, today=TODAY) -> list[str]:
    root = make_tree({**GOOD, **changes})
    return [d.message for d in validate(load_content(root), today)]


def test_good_tree_is_clean(make_tree):
    assert check(make_tree) == set()


# ---------------------------------------------------------------- keys and terms

def test_missing_required_keys(make_tree):
    assert check(make_tree, {
        P: edit(NEW_POLICY, "title: 技术改造补助办法\n", ""),
        F: edit(FAQ, "question: 我们厂想换一批新设备，区里能补多少？", "question: ''"),
        I: edit(edit(ISSUE, "category: 生产配套\n", ""), "received: 2025-05-06\n", ""),
    }) == {
        (P, 2, ERROR, "missing-required"),
        (F, 2, ERROR, "missing-required"),  # present but empty: at its own line
        (I, 2, ERROR, "missing-required"),  # received and category, both at the front matter
    }


def test_missing_required_counts_each_key(make_tree):
    root = make_tree({**GOOD, I: edit(edit(ISSUE, "category: 生产配套\n", ""), "received: 2025-05-06\n", "")})
    diags = [d for d in validate(load_content(root), TODAY) if d.code == "missing-required"]
    assert len(diags) == 2 and all(d.line == 2 for d in diags)
    assert {"received" in d.message or "category" in d.message for d in diags} == {True}


def test_wrong_type_is_not_also_reported_missing(make_tree):
    assert check(make_tree, {P: edit(NEW_POLICY, "title: 技术改造补助办法", "title: [甲, 乙]")}) == {
        (P, 2, ERROR, "wrong-type")}


def test_missing_recommended_is_one_info_per_file(make_tree):
    got = check(make_tree, {"policies/p-title-only.md": "---\ntitle: 只有标题\n---\n正文\n"})
    assert got == {("policies/p-title-only.md", 2, INFO, "missing-recommended")}


def test_unknown_taxonomy_terms_with_suggestion(make_tree):
    changes = {
        P: edit(edit(NEW_POLICY, "categories: [产业发展, 科技创新]", "categories: [产业发展, 科技创型]"),
                "support: [资金补贴]", "support:\n  - 资金补助"),
        F: edit(FAQ, "categories: [产业发展]", "categories: [工业]"),
        I: edit(ISSUE, "category: 生产配套", "category: 生产配套服务"),
    }
    assert check(make_tree, changes) == {
        (P, 11, ERROR, "unknown-term"),
        (P, 14, ERROR, "unknown-term"),  # the list item's own line
        (F, 4, ERROR, "unknown-term"),
        (I, 4, ERROR, "unknown-term"),
    }
    text = "\n".join(messages(make_tree, changes))
    assert "“科技创型”" in text and "是否应为 “科技创新”" in text
    assert "是否应为 “资金补贴”" in text and "是否应为 “生产配套”" in text


def test_project_taxonomy_file_is_used(make_tree):
    tax = "categories: [产业发展, 科技创新, 绿色低碳]\n"
    got = check(make_tree, {"taxonomy.yml": tax,
                            P: edit(NEW_POLICY, "categories: [产业发展, 科技创新]", "categories: [绿色低碳]")})
    assert got == set()
    got = check(make_tree, {"taxonomy.yml": tax, F: edit(FAQ, "categories: [产业发展]", "categories: [生产配套]")})
    assert got == {(F, 4, ERROR, "unknown-term")}  # the file replaced the default list


# ---------------------------------------------------------------- identity and references

def test_duplicate_id_reports_both_places(make_tree):
    dup = "faq/more/zone-tech-2025.md"
    got = check(make_tree, {dup: edit(FAQ, "policies: [zone-tech-2025]", "policies: []")})
    assert got == {(P, 1, ERROR, "duplicate-id"), (dup, 1, ERROR, "duplicate-id")}


def test_dangling_references(make_tree):
    changes = {
        P: edit(NEW_POLICY, "supersedes: [zone-tech-2022]", "supersedes: [zone-tech-2022, zone-tech-2021]"),
        F: edit(FAQ, "policies: [zone-tech-2025]", "policies:\n  - zone-tech-2025\n  - zone-tech-2052"),
        I: edit(ISSUE, "faq: [faq-equipment]", "faq: [faq-equip]"),
    }
    assert check(make_tree, changes) == {
        (P, ln(changes[P], "zone-tech-2021"), ERROR, "dangling-ref"),
        (F, ln(changes[F], "- zone-tech-2052"), ERROR, "dangling-ref"),  # the list item's own line
        (I, ln(changes[I], "faq: [faq-equip]"), ERROR, "dangling-ref"),
    }
    assert ln(changes[F], "- zone-tech-2052") == 7
    text = "\n".join(messages(make_tree, changes))
    assert "“zone-tech-2052” 不存在。是否应为 “zone-tech-2025”" in text
    assert "是否应为 “faq-equipment”" in text


def test_reference_to_wrong_kind_says_what_it_is(make_tree):
    changes = {OLD: edit(OLD_POLICY, "status: expired\n", "status: expired\nsupersedes: [faq-equipment]\n"),
               F: edit(FAQ, "issues: [iss-2025-001]", "issues: [zone-tech-2022]")}
    assert check(make_tree, changes) == {(OLD, ln(changes[OLD], "supersedes:"), ERROR, "wrong-ref-kind"),
                                         (F, ln(changes[F], "issues:"), ERROR, "wrong-ref-kind")}
    text = "\n".join(messages(make_tree, changes))
    assert "“supersedes” 应引用政策，但 “faq-equipment” 是一条常见问题" in text
    assert "“issues” 应引用企业诉求，但 “zone-tech-2022” 是一条政策" in text


def test_self_reference(make_tree):
    got = check(make_tree, {P: edit(NEW_POLICY, "supersedes: [zone-tech-2022]",
                                    "supersedes: [zone-tech-2022, zone-tech-2025]")})
    assert got == {(P, 10, ERROR, "self-ref")}


def test_unmirrored_supersession_is_reported_where_the_fix_goes(make_tree):
    got = check(make_tree, {OLD: edit(OLD_POLICY, "superseded_by:\n  - zone-tech-2025\n", "")})
    assert got == {(OLD, 2, WARNING, "unmirrored-supersedes")}  # no superseded_by key: front matter
    got = check(make_tree, {P: edit(NEW_POLICY, "supersedes: [zone-tech-2022]\n", "")})
    assert got == {(P, 2, WARNING, "unmirrored-supersedes")}


@pytest.mark.parametrize("broken", [
    edit(OLD_POLICY, "summary: 旧版技改补助。", "summary: [旧版技改补助。"),  # YAML that does not parse
    "旧版正文，没有前置元数据。\n",
])
def test_a_record_that_failed_to_load_gets_no_supersession_knock_on(make_tree, broken):
    # the new policy still says it replaces the old one; the old file only carries its own error
    got = check(make_tree, {OLD: broken})
    assert {code for path, _, _, code in got if path == OLD} <= {"yaml-syntax", "no-front-matter"}
    assert len(got) == 1 and not any(code.startswith(("unmirrored", "superseded")) for *_, code in got)
    # and the other way round: the old policy names a successor whose front matter is broken
    got = check(make_tree, {P: edit(NEW_POLICY, "summary: 按设备投资额的10%给予补助。", "summary: [按设备")})
    assert {code for *_, code in got} == {"yaml-syntax"}


def test_superseded_policy_still_current(make_tree):
    got = check(make_tree, {OLD: edit(OLD_POLICY, "expires: 2024-12-31\nstatus: expired\n", "")})
    assert got == {(OLD, 7, WARNING, "superseded-current")}  # at superseded_by: there is no status


def test_public_build_does_not_flag_issue_references(make_tree):
    root = make_tree(GOOD)
    content = load_content(root, include_issues=False)
    assert validate(content, TODAY) == []


# ---------------------------------------------------------------- policy dates and fields

def test_effective_status_with_past_expiry_is_a_warning(make_tree):
    # content ages: a policy reaching its expiry is news, not bad input (issue 9)
    text = edit(NEW_POLICY, "expires: 2027-12-31", "expires: 2026-09-30")
    assert check(make_tree, {P: text}) == {(P, ln(text, "status:"), WARNING, "status-dates")}
    # same file, judged on an earlier day: fine (this is what --today is for)
    assert check(make_tree, {P: text}, today=dt.date(2026, 7, 1)) == set()


def test_expired_status_with_future_expiry_is_a_warning(make_tree):
    got = check(make_tree, {OLD: edit(OLD_POLICY, "expires: 2024-12-31", "expires: 2027-01-01")})
    assert got == {(OLD, 8, WARNING, "status-dates")}


def test_derived_status_and_drafts_are_fine(make_tree):
    # no status, expiry past: derived expired, no complaint; a draft with future dates is fine too
    got = check(make_tree, {
        "policies/p-old.md": "---\ntitle: 甲\nexpires: 2020-01-01\n---\n正文\n",
        "policies/p-draft.md": "---\ntitle: 乙\nstatus: draft\neffective: 2027-01-01\n---\n正文\n",
    })
    assert {c for _, _, _, c in got} == {"missing-recommended"}


def test_date_order(make_tree):
    text = edit(edit(NEW_POLICY, "expires: 2027-12-31", "expires: 2025-01-01"),
                "deadline: 2026-12-15", "deadline: 2025-01-15")
    assert check(make_tree, {P: text}) == {
        (P, ln(text, "expires:"), ERROR, "date-order"),  # before effective
        (P, ln(text, "deadline:"), WARNING, "date-order"),  # before published
        (P, ln(text, "status:"), WARNING, "status-dates"),  # and so "effective" is outdated too
    }
    assert ln(text, "deadline:") == 18
    got = check(make_tree, {P: edit(NEW_POLICY, "effective: 2025-04-01", "effective: 2025-01-01")})
    assert got == {(P, 7, INFO, "retroactive")}


def test_review_period_urls_phone_and_empty_body(make_tree):
    changes = {P: edit(edit(edit(edit(NEW_POLICY, "every: 6m", "every: 半年"),
                                 "url: https://example.gov.cn/jsgz", "url: example.gov.cn/jsgz"),
                            "phone: 022-12345678", "phone: 见官网"),
                       "## 支持内容\n按设备投资额的10%给予补助。\n", "")}
    text = changes[P]
    assert check(make_tree, changes) == {
        (P, ln(text, "every:"), ERROR, "bad-period"),
        (P, ln(text, "url:"), WARNING, "bad-url"),
        (P, ln(text, "phone:"), WARNING, "bad-phone"),
        (P, ln(text, "---", 2) + 1, WARNING, "empty-body"),  # where the body would start
    }
    assert any("6m、12m、1y、90d" in m for m in messages(make_tree, changes))


@pytest.mark.parametrize("url", ["javascript:alert(1)", " JavaScript :alert(1)", "data:text/html,<script>x</script>",
                                 "vbscript:msgbox"])
def test_script_urls_are_errors(make_tree, url):
    text = edit(NEW_POLICY, "url: https://example.gov.cn/jsgz", f"url: '{url}'")
    assert check(make_tree, {P: text}) == {(P, ln(text, "url:"), ERROR, "bad-url")}


def test_strict_never_fails_because_a_date_passed(make_tree, cli):
    # effective, expiring 2027-12-31: on 2028-06-01 that is news (a warning), even with --strict
    root = make_tree({P: NEW_POLICY, OLD: OLD_POLICY})
    assert cli("validate", "--content", root, "--strict", "--today", "2026-07-01").exit_code == 0
    r = cli("validate", "--content", root, "--strict", "--today", "2028-06-01")
    assert r.exit_code == 0, r.output
    assert "警告[status-dates]" in r.output


# ---------------------------------------------------------------- FAQ

@pytest.mark.parametrize("body", ["", "\n   \n\t\n"])
def test_empty_faq_answer(make_tree, body):
    text = FAQ.split("---\n按设备")[0] + "---\n" + body
    assert check(make_tree, {F: text}) == {(F, 10, ERROR, "empty-answer")}


# ---------------------------------------------------------------- issues

def test_closed_status_needs_closed_on_and_resolution(make_tree):
    text = edit(edit(ISSUE, "closed_on: 2025-05-15\n", ""), "resolution: 已讲解技改补助政策并协助申报。\n", "")
    got = check(make_tree, {I: text})
    assert got == {(I, 5, ERROR, "issue-status")}
    assert len([m for m in messages(make_tree, {I: text}) if "closed_on" in m or "resolution" in m]) == 2


def test_open_status_with_closed_fields(make_tree):
    got = check(make_tree, {I: edit(ISSUE, "status: resolved", "status: in_progress")})
    assert got == {(I, ln(ISSUE, "closed_on:"), ERROR, "issue-status"),
                   (I, ln(ISSUE, "satisfaction:"), ERROR, "issue-status")}
    assert (ln(ISSUE, "closed_on:"), ln(ISSUE, "satisfaction:")) == (10, 12)


def test_escalated_needs_escalated_to_and_department(make_tree):
    text = ("---\ntitle: 35千伏线路\nreceived: 2025-06-01\ncategory: 生产配套\nstatus: escalated\n"
            "due: 2025-07-01\n---\n需要新建线路。\n")
    got = check(make_tree, {"issues/iss-2025-002.md": text})
    assert got == {("issues/iss-2025-002.md", 5, ERROR, "issue-status"),
                   ("issues/iss-2025-002.md", 5, ERROR, "issue-department")}


def test_dispatched_issue_without_due_is_a_warning(make_tree):
    assert check(make_tree, {I: edit(ISSUE, "due: 2025-05-20\n", "")}) == {(I, 5, WARNING, "issue-due")}


def test_received_issue_needs_nothing_more(make_tree):
    text = "---\ntitle: 宽带不稳定\nreceived: 2026-11-20\ncategory: 生产配套\nstatus: received\n---\n网络经常断。\n"
    assert check(make_tree, {"issues/iss-2026-001.md": text}) == set()


def test_issue_date_order(make_tree):
    text = edit(edit(ISSUE, "closed_on: 2025-05-15", "closed_on: 2025-05-01"), "due: 2025-05-20", "due: 2025-05-01")
    got = check(make_tree, {I: text})
    assert got == {
        (I, ln(text, "closed_on:"), ERROR, "date-order"),  # closed before received
        (I, ln(text, "due:"), WARNING, "date-order"),  # due before received
        # every history date is after closed_on: reported at each entry's date line
        (I, ln(text, "- date:", 1), WARNING, "history-order"),
        (I, ln(text, "- date:", 2), WARNING, "history-order"),
        (I, ln(text, "- date:", 3), WARNING, "history-order"),
    }


def test_history_entries(make_tree):
    text = edit(edit(ISSUE, "  - date: 2025-05-08\n    action: 交办区经济发展局\n", "  - by: 服务专员\n"),
                "  - date: 2025-05-15\n    action: 办结\n", "  - date: 2025-05-05\n    action: 走访\n")
    got = check(make_tree, {I: text})
    assert got == {
        (I, ln(text, "- by: 服务专员"), ERROR, "history-entry"),  # the item's own line
        (I, ln(text, "- date: 2025-05-05"), WARNING, "history-order"),
    }
    root = make_tree({**GOOD, I: text}, name="again")
    order = [d.message for d in validate(load_content(root), TODAY) if d.code == "history-order"]
    assert len(order) == 2  # before received, and before the previous entry
    assert any("早于受理日期" in m for m in order) and any("早于上一条" in m for m in order)


def test_future_dates_warn(make_tree):
    text = edit(ISSUE, "  - date: 2025-05-15\n    action: 办结\n", "  - date: 2027-05-15\n    action: 回访\n")
    line = ln(text, "2027-05-15")
    assert check(make_tree, {I: text}) == {(I, line, WARNING, "history-order"), (I, line, WARNING, "future-date")}


# ---------------------------------------------------------------- all at once, and the CLI

BROKEN = {
    "policies/bad-yaml.md": "---\ntitle: 甲\ncategories: [产业发展\n---\n正文\n",
    "policies/bad-date.md": "---\ntitle: 乙\npublished: 2025-13-01\n---\n正文\n",
    "policies/bad-type.md": "---\ntitle: 丙\napply: 区科技局\n---\n正文\n",
    "policies/bad-term.md": "---\ntitle: 丁\ncategories: [科技]\n---\n正文\n",
    "faq/bad-ref.md": "---\nquestion: 能补多少？\ncategories: [产业发展]\npolicies: [no-such-policy]\n---\n答案\n",
    "faq/dup/zone-tech-2022.md": "---\nquestion: 重复？\ncategories: [产业发展]\n---\n答案\n",
    "faq/bad-bytes.md": "---\nquestion: 编码？\n---\n答案\n".encode("gb18030"),
    "faq/empty-answer.md": "---\nquestion: 没有答案？\ncategories: [产业发展]\n---\n",
    "issues/bad-issue.md": ("---\ntitle: 停车难\nreceived: 2025-03-01\ncategory: 生活配套\nstatus: received\n"
                            "closed_on: 2025-03-09\n---\n员工停车难。\n"),
}
EXPECTED = {
    ("policies/bad-yaml.md", 3, "yaml-syntax"),
    ("policies/bad-date.md", 3, "bad-date"),
    ("policies/bad-type.md", 3, "wrong-type"),
    ("policies/bad-term.md", 3, "unknown-term"),
    ("faq/bad-ref.md", 4, "dangling-ref"),
    ("faq/dup/zone-tech-2022.md", 1, "duplicate-id"),
    ("faq/bad-bytes.md", 2, "encoding"),
    ("faq/empty-answer.md", 5, "empty-answer"),
    ("issues/bad-issue.md", 6, "issue-status"),
}
LINE = re.compile(r"^(?P<path>.+?):(?P<line>\d+): (?P<sev>错误|警告|提示)\[(?P<code>[a-z-]+)\]: (?P<msg>.+)$")


def parse_text(stdout: str, root: Path) -> set[tuple]:
    out = set()
    for line in stdout.splitlines():
        m = LINE.match(line)
        if m and m["sev"] == "错误":
            out.add((Path(m["path"]).relative_to(root).as_posix(), int(m["line"]), m["code"]))
    return out


def test_every_breakage_reported_in_one_run(make_tree, cli):
    root = make_tree({**GOOD, **BROKEN})
    r = cli("validate", "--content", root, "--today", TODAY)
    assert r.exit_code == 1
    assert parse_text(r.output, root) == EXPECTED | {(OLD, 1, "duplicate-id")}
    last = r.output.strip().splitlines()[-1]
    assert re.fullmatch(r"检查了 13 个文件：10 个错误，0 个警告，\d+ 个提示。", last), last
    for line in r.output.strip().splitlines()[:-1]:
        m = LINE.match(line)
        assert m and m["msg"].endswith("。") and "。" in m["msg"][:-1], line  # 问题。怎么改。


def test_exit_codes_and_strict(make_tree, tmp_path):
    root = make_tree(GOOD)
    r = run_policykb("validate", "--content", root, "--today", TODAY)
    assert (r.returncode, r.stdout.strip()) == (0, "检查了 4 个文件：0 个错误，0 个警告，0 个提示。")
    warn = make_tree({**GOOD, I: edit(ISSUE, "due: 2025-05-20\n", "")}, name="warn")
    assert run_policykb("validate", "--content", warn, "--today", TODAY).returncode == 0
    r = run_policykb("validate", "--content", warn, "--today", TODAY, "--strict")
    assert r.returncode == 1 and "错误[issue-due]" in r.stdout and "1 个错误，0 个警告" in r.stdout
    info = make_tree({**GOOD, "policies/t.md": "---\ntitle: 只有标题\n---\n正文\n"}, name="info")
    r = run_policykb("validate", "--content", info, "--today", TODAY, "--strict")
    assert r.returncode == 0 and "1 个提示" in r.stdout  # infos never fail, even strictly
    r = run_policykb("validate", "--content", tmp_path / "missing")
    assert r.returncode == 2 and "内容目录不存在" in r.stderr
    (tmp_path / "empty").mkdir()
    r = run_policykb("validate", "--content", tmp_path / "empty")
    assert r.returncode == 2 and "没有 policies/" in r.stderr
    r = run_policykb("validate", "--content", root, "--today", "2026-13-01")
    assert r.returncode == 2 and "不是有效日期" in r.stderr


def test_json_format(make_tree, cli):
    root = make_tree({**GOOD, **BROKEN})
    r = cli("validate", "--content", root, "--today", TODAY, "--format", "json")
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert (data["files"], data["errors"], data["warnings"]) == (13, 10, 0)
    assert data["infos"] == sum(1 for d in data["diagnostics"] if d["severity"] == INFO)
    assert set(data["diagnostics"][0]) == {"path", "line", "severity", "code", "message"}
    got = {(Path(d["path"]).relative_to(root).as_posix(), d["line"], d["code"])
           for d in data["diagnostics"] if d["severity"] == ERROR}
    assert got == EXPECTED | {(OLD, 1, "duplicate-id")}


def test_bom_crlf_file_validates_clean(make_tree, cli):
    crlf = FAQ.lstrip("\n").replace("\n", "\r\n").encode("utf-8")
    root = make_tree({**GOOD, F: b"\xef\xbb\xbf" + crlf})
    r = cli("validate", "--content", root, "--today", TODAY)
    assert r.exit_code == 0 and r.output.strip() == "检查了 4 个文件：0 个错误，0 个警告，0 个提示。"
    broken = crlf.replace("categories: [产业发展]".encode(), "categories: [产业]".encode())
    root = make_tree({**GOOD, F: b"\xef\xbb\xbf" + broken}, name="broken")
    assert check_root(root) == {(F, 4, ERROR, "unknown-term")}


def check_root(root: Path) -> set[tuple]:
    content = load_content(root)
    return {(Path(d.path).relative_to(content.shown_root).as_posix(), d.line, d.severity, d.code)
            for d in validate(content, TODAY)}


# ---------------------------------------------------------------- real corpora

def test_ncp_corpus_passes(cli):
    content = NCP / "content"
    if not content.is_dir():
        pytest.skip("../shared/eval/ncp not present")
    r = cli("validate", "--content", content, "--strict", "--format", "json")
    data = json.loads(r.output)
    assert r.exit_code == 0 and data["errors"] == 0 and data["files"] >= 500
    assert {d["code"] for d in data["diagnostics"]} <= {"missing-recommended"}


def test_bundled_content_validates_strictly():
    assert any(BUNDLED.glob("policies/**/*.md")), "content/ has no policies yet"
    r = run_policykb("validate", "--strict", "--today", "2026-12-01")  # strict: warnings count, so pin the day
    assert r.returncode == 0, r.stdout[-4000:]
    assert ": 错误[" not in r.stdout


@pytest.mark.parametrize("today", ["2027-06-01", "2027-12-01", "2031-12-01"])
def test_bundled_content_still_validates_years_ahead(today):
    """Content ages without breaking anything: a year and five years on, policies have expired
    (binhai-job-retention-2025 on 2026-12-31) and validate still passes, with warnings at most."""
    r = run_policykb("validate", "--today", today, "--format", "json")
    data = json.loads(r.stdout)
    assert r.returncode == 0 and data["errors"] == 0, r.stdout[-4000:]
    codes = {d["code"] for d in data["diagnostics"] if d["severity"] == "warning"}
    assert "status-dates" in codes  # the editor is told, as a warning


def test_no_rule_that_depends_on_today_is_an_error(make_tree):
    """Whatever the day, the date-driven rules only warn: judged far in the future or far in the
    past, a tree valid today gains no error."""
    root = make_tree(GOOD)
    for day in (dt.date(1990, 1, 1), dt.date(2100, 1, 1)):
        errors = [d for d in validate(load_content(root), day) if d.severity == ERROR]
        assert errors == [], (day, errors)


def test_bundled_copy_reports_each_breakage(bundled_copy, cli):
    before = parse_text(cli("validate", "--content", bundled_copy).output, bundled_copy)
    first = sorted(bundled_copy.glob("policies/**/*.md"))[0]
    dup_rel = "faq/dup/zone-tech-2022.md"
    files = {**{k: v for k, v in BROKEN.items() if k != dup_rel}, f"faq/dup/{first.stem}.md": BROKEN[dup_rel]}
    for rel, data in files.items():
        path = bundled_copy / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    r = cli("validate", "--content", bundled_copy)
    assert r.exit_code == 1
    expected = {e for e in EXPECTED if e[0] != dup_rel}
    expected |= {(f"faq/dup/{first.stem}.md", 1, "duplicate-id"),
                 (first.relative_to(bundled_copy).as_posix(), 1, "duplicate-id")}
    # whatever state the bundled content is in, exactly these new errors appear
    assert parse_text(r.output, bundled_copy) - before == expected


def test_published_faq_citing_a_draft_policy_is_a_warning(make_tree):
    from policykb.content.loader import load_content
    from policykb.content.validate import validate
    root = make_tree({
        "policies/p-draft.md": "---\ntitle: 征求意见稿\nstatus: draft\n---\n正文\n",
        "faq/q-pub.md": "---\nquestion: 问？\npolicies:\n  - p-draft\n---\n答。\n",
        "faq/q-draft.md": "---\nquestion: 问？\ndraft: true\npolicies: [p-draft]\n---\n答。\n",
    })
    found = [(d.path.split("/")[-1], d.line, d.severity) for d in validate(load_content(root))
             if d.code == "cites-draft"]
    assert found == [("q-pub.md", 4, "warning")]


def test_dates_win_over_an_outdated_status(make_tree):
    from policykb.content.statuses import policy_status
    root = make_tree({P: edit(NEW_POLICY, "expires: 2027-12-31", "expires: 2026-09-30")})
    [p] = load_content(root).policies
    assert p.status == "effective" and p.status_on(dt.date(2026, 9, 30)) == "effective"
    assert p.status_on(dt.date(2026, 10, 1)) == "expired" and not p.is_current(dt.date(2026, 10, 1))
    assert policy_status("draft", dt.date(2020, 1, 1), TODAY) == "draft"
    assert policy_status("repealed", None, TODAY) == "repealed"
    assert policy_status(None, None, TODAY) == "effective"


def test_dates_win_in_the_matcher_too(make_tree):
    """A policy still marked effective past its expiry is left out of current matches, like one
    whose status is derived (search filters use the same rule as statuses.policy_status)."""
    from policykb.search import matcher
    root = make_tree({"policies/p-late.md": "---\ntitle: 技术改造补助办法\nstatus: effective\nexpires: 2026-06-30\n"
                                            "---\n技术改造项目按设备投资额的8%给予补助。\n"})
    [before] = matcher.match(root, ["技术改造补助"], today=dt.date(2026, 6, 30))
    [after] = matcher.match(root, ["技术改造补助"], today=dt.date(2026, 7, 1))
    [everything] = matcher.match(root, ["技术改造补助"], today=dt.date(2026, 7, 1), include_all=True)
    assert [h.id for h in before] == ["p-late"] and after == []
    assert [(h.id, h.status) for h in everything] == [("p-late", "expired")]


def test_load_valid_is_one_gate(make_tree):
    from policykb.content.diagnostics import ContentInvalid
    from policykb.content.validate import load_valid
    content, diags = load_valid(make_tree(GOOD), TODAY)
    assert [i.id for i in content.issues] == ["iss-2025-001"] and content.public().issues == []
    assert all(d.severity != ERROR for d in diags)
    broken = make_tree({**GOOD, F: edit(FAQ, "categories: [产业发展]", "categories: [产业]")}, name="broken")
    with pytest.raises(ContentInvalid, match="网站未生成") as e:
        load_valid(broken, TODAY, what="网站未生成")
    assert [d.code for d in e.value.diagnostics] == ["unknown-term"]


def test_dangling_ref_never_suggests_the_file_itself(make_tree):
    root = make_tree({"policies/zone-tech-2025.md": "---\ntitle: 甲\nsupersedes: [zone-tech-2024]\n---\n正文\n"})
    [d] = [d for d in validate(load_content(root), TODAY) if d.code == "dangling-ref"]
    assert "是否应为" not in d.message


def test_without_invalid_keeps_every_valid_record_and_names_each_dropped_file(make_tree):
    from policykb.content.validate import without_invalid
    root = make_tree({**GOOD, F: edit(FAQ, "categories: [产业发展]", "categories: [产业]"),
                      "policies/gbk.md": "---\ntitle: 甲\n---\n正文\n".encode("gbk")})
    content = load_content(root)
    kept, dropped = without_invalid(content, validate(content, TODAY))
    assert sorted(r.id for r in kept.records()) == ["iss-2025-001", "zone-tech-2022", "zone-tech-2025"]
    assert [(Path(d.path).relative_to(content.shown_root).as_posix(), d.line, d.code) for d in dropped] == [
        (F, 4, "unknown-term"), ("policies/gbk.md", 2, "encoding")]
    assert len(content.faqs) == 1  # the loaded tree itself is untouched
