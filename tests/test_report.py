"""The weekly reminder list."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from policykb.content.loader import load_content
from policykb.ledger.report import build_report

TODAY = dt.date(2026, 11, 22)


def policy(title, extra=""):
    return f"---\ntitle: {title}\n{extra}---\n正文\n"


def issue(status, due, extra=""):
    return (f"---\ntitle: 诉求\nreceived: 2026-10-01\ncategory: 其他\nstatus: {status}\ndepartment: 区商务局\n"
            f"due: {due}\n{extra}---\n问题\n")


FILES = {
    "policies/p-expiring.md": policy("十天后失效", "expires: 2026-12-02\n"),
    "policies/p-expired.md": policy("已失效", "expires: 2026-11-01\n"),
    "policies/p-far.md": policy("很久以后失效", "expires: 2027-06-01\n"),
    "policies/p-deadline.md": policy("五天后截止", "apply:\n  department: 区科技局\n  deadline: 2026-11-27\n"),
    "policies/p-deadline-late.md": policy("四十天后截止", "apply:\n  deadline: 2027-01-01\n"),
    "policies/p-draft.md": policy("草稿", "status: draft\nexpires: 2026-11-30\n"),
    "policies/p-review.md": policy("待复核", "review:\n  owner: 区商务局\n  last_reviewed: 2026-05-01\n  every: 6m\n"),
    "policies/p-reviewed.md": policy("刚复核", "review:\n  last_reviewed: 2026-10-01\n  every: 6m\n"),
    "issues/2026-0001.md": issue("assigned", "2026-11-10"),
    "issues/2026-0002.md": issue("in_progress", "2026-11-25"),
    "issues/2026-0003.md": issue("assigned", "2026-12-10"),
    "issues/2026-0004.md": issue("resolved", "2026-11-10", "closed_on: 2026-11-15\nresolution: 已办\n"),
    "issues/2026-0005.md": issue("escalated", "2026-11-22", "escalated_to: 市平台\n"),
}


@pytest.fixture
def tree(make_tree):
    return make_tree(FILES)


def ids(items):
    return [i.id for i in items]


def test_report_sections(tree):
    rep = build_report(load_content(tree), today=TODAY, days=30)
    assert ids(rep.expiring) == ["p-expiring"]
    assert ids(rep.deadlines) == ["p-deadline"] and "区科技局" in rep.deadlines[0].detail
    assert ids(rep.review_due) == ["p-review"] and rep.review_due[0].date == dt.date(2026, 11, 1)
    assert ids(rep.overdue) == ["2026-0001"] and "超期 12 天" in rep.overdue[0].detail
    assert ids(rep.due_this_week) == ["2026-0005", "2026-0002"]  # due today is not yet overdue
    longer = build_report(load_content(tree), today=TODAY, days=45)
    assert ids(longer.deadlines) == ["p-deadline", "p-deadline-late"]


def test_report_cli(tree, cli):
    r = cli("report", "--content", tree, "--as-of", "2026-11-22", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["today"] == "2026-11-22" and [i["id"] for i in data["overdue"]] == ["2026-0001"]
    r = cli("report", "--content", tree, "--as-of", "2026-11-22")
    assert "已超期未办结的诉求（1）" in r.output and "本周到期的诉求（2）" in r.output and "p-review" in r.output


def test_report_lists_outdated_statuses_and_rolling_deadlines(make_tree, cli):
    tree = make_tree({
        "policies/p-lagging.md": policy("过期仍写有效", "status: effective\nexpires: 2026-10-31\n"),
        "policies/p-rolling.md": policy("常年受理的政策", "apply:\n  department: 区科技局\n  deadline: 常年受理\n"),
        "policies/p-rolling-old.md": policy("已失效的常年受理", "expires: 2026-01-01\napply:\n  deadline: 长期受理\n"),
        "policies/p-dated.md": policy("有截止日期", "apply:\n  deadline: 2027-03-01\n"),
    })
    rep = build_report(load_content(tree), today=TODAY, days=30)
    assert ids(rep.outdated_status) == ["p-lagging"] and rep.outdated_status[0].date == dt.date(2026, 10, 31)
    assert ids(rep.rolling) == ["p-rolling"] and rep.rolling[0].date is None
    assert rep.rolling[0].detail == "常年受理，区科技局"
    r = cli("report", "--content", tree, "--today", "2026-11-22")
    assert r.exit_code == 0, r.output
    assert "常年受理的政策（无固定截止日期）（1）" in r.output and "p-lagging" in r.output
    data = json.loads(cli("report", "--content", tree, "--today", "2026-11-22", "--json").output)
    assert data["rolling"][0]["date"] is None and data["outdated_status"][0]["id"] == "p-lagging"
