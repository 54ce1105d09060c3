"""Ledger figures against a fixture whose figures are worked out by hand below."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from policykb.content.loader import load_content
from policykb.ledger.stats import FIGURES, compute_stats, group_stats

D = dt.date


def _issue(rid, received, status, *, due=None, closed_on=None, sat=None, esc=None, cat="其他", dept=None,
           group=None):
    lines = ["---", f"title: 诉求{rid}", f"received: {received}", f"category: {cat}", f"status: {status}"]
    for key, value in (("department", dept), ("service_group", group), ("due", due), ("closed_on", closed_on),
                       ("escalated_to", esc), ("satisfaction", sat)):
        if value:
            lines.append(f"{key}: {value}")
    if closed_on:
        lines.append("resolution: 已处理")
    return "\n".join(lines) + "\n---\n问题描述\n"


# Seven records. As of 2026-03-15:
#   A resolved  rec 01-10 due 01-31 closed 01-20 满意     -> closed, timely, 10 days
#   B explained rec 01-15 due 01-25 closed 01-30 不满意   -> closed, late, 15 days
#   C closed    rec 02-01 due 02-28 closed 02-10 基本满意 -> closed, timely, 9 days
#   D escalated rec 02-05 due 03-01 (to 市平台)          -> open, overdue, escalated
#   E in_progress rec 02-20 due 03-20                     -> open, not yet overdue
#   F received  rec 03-01 no due, no department           -> open, never overdue
#   G resolved  rec 03-02 due 03-10 closed 03-12 (escalated_to set) -> closed, late, 10 days, escalated
FILES = {
    "issues/2026-0001.md": _issue("A", "2026-01-10", "resolved", due="2026-01-31", closed_on="2026-01-20", sat="满意",
                                  cat="生产配套", dept="供电公司", group="一组"),
    "issues/2026-0002.md": _issue("B", "2026-01-15", "explained", due="2026-01-25", closed_on="2026-01-30",
                                  sat="不满意", dept="商务局", group="一组"),
    "issues/2026-0003.md": _issue("C", "2026-02-01", "closed", due="2026-02-28", closed_on="2026-02-10",
                                  sat="基本满意", cat="人才就业", dept="人社局", group="二组"),
    "issues/2026-0004.md": _issue("D", "2026-02-05", "escalated", due="2026-03-01", esc="市平台", cat="审批",
                                  dept="审批局", group="二组"),
    "issues/2026-0005.md": _issue("E", "2026-02-20", "in_progress", due="2026-03-20", cat="生产配套", dept="供电公司",
                                  group="一组"),
    "issues/2026-0006.md": _issue("F", "2026-03-01", "received"),
    "issues/2026-0007.md": _issue("G", "2026-03-02", "resolved", due="2026-03-10", closed_on="2026-03-12",
                                  esc="区平台", cat="审批", dept="审批局", group="二组"),
}
AS_OF = D(2026, 3, 15)


@pytest.fixture
def ledger(make_tree):
    root = make_tree(FILES)
    content = load_content(root)
    assert not [d for d in content.diagnostics if d.severity == "error"]
    return root, content.issues


def test_whole_ledger_by_hand(ledger):
    _, issues = ledger
    s = compute_stats(issues, as_of=AS_OF)
    assert list(s) == list(FIGURES)
    assert s == {"collected": 7, "escalated": 2, "within_remit": 5, "closed": 4, "open": 3, "overdue": 1,
                 "resolution_rate": pytest.approx(4 / 7), "timely_rate": 0.5,
                 "satisfaction_rate": pytest.approx(2 / 3), "median_days_to_close": 10}


def test_period_counts_by_received(ledger):
    _, issues = ledger
    s = compute_stats(issues, since=D(2026, 2, 1), until=D(2026, 2, 28), as_of=AS_OF)  # C, D, E
    assert s == {"collected": 3, "escalated": 1, "within_remit": 2, "closed": 1, "open": 2, "overdue": 1,
                 "resolution_rate": pytest.approx(1 / 3), "timely_rate": 1.0, "satisfaction_rate": 1.0,
                 "median_days_to_close": 9}


def test_as_of_moves_overdue(ledger):
    _, issues = ledger
    assert compute_stats(issues, as_of=D(2026, 3, 1))["overdue"] == 0  # D is due that day: not yet late
    assert compute_stats(issues, as_of=D(2026, 3, 2))["overdue"] == 1
    assert compute_stats(issues, as_of=D(2026, 3, 21))["overdue"] == 2  # E too; F has no due date


def test_empty_denominators_are_none():
    s = compute_stats([], as_of=AS_OF)
    assert s["collected"] == 0 and s["resolution_rate"] is None and s["timely_rate"] is None
    assert s["satisfaction_rate"] is None and s["median_days_to_close"] is None


def test_groups(ledger):
    _, issues = ledger
    months = group_stats(issues, "month", as_of=AS_OF)
    assert list(months) == ["2026-01", "2026-02", "2026-03"]
    assert months["2026-01"]["median_days_to_close"] == 12.5  # 10 and 15
    assert months["2026-01"]["timely_rate"] == 0.5 and months["2026-01"]["satisfaction_rate"] == 0.5
    assert months["2026-03"] == {"collected": 2, "escalated": 1, "within_remit": 1, "closed": 1, "open": 1,
                                 "overdue": 0, "resolution_rate": 0.5, "timely_rate": 0.0,
                                 "satisfaction_rate": None, "median_days_to_close": 10}
    depts = group_stats(issues, "department", as_of=AS_OF)
    assert depts["供电公司"]["collected"] == 2 and depts["未填写"]["collected"] == 1
    assert sum(g["collected"] for g in depts.values()) == 7
    groups = group_stats(issues, "service_group", since=D(2026, 2, 1), as_of=AS_OF)
    assert groups["二组"]["collected"] == 3 and groups["一组"]["collected"] == 1
    with pytest.raises(ValueError):
        group_stats(issues, "colour")


def test_cli_json(ledger, cli):
    root, _ = ledger
    r = cli("stats", "--content", root, "--as-of", "2026-03-15", "--json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert list(data) == list(FIGURES)
    assert data["collected"] == 7 and data["timely_rate"] == 0.5 and data["median_days_to_close"] == 10
    r = cli("stats", "--content", root, "--as-of", "2026-03-15", "--by", "category", "--json",
            "--since", "2026-01-01", "--until", "2026-01-31")
    data = json.loads(r.output)
    assert data["collected"] == 2
    assert set(data["groups"]) == {"生产配套", "其他"}
    assert data["groups"]["其他"]["timely_rate"] == 0.0


def test_cli_table(ledger, cli):
    root, _ = ledger
    r = cli("stats", "--content", root, "--as-of", "2026-03-15")
    assert r.exit_code == 0
    assert "收集诉求：7" in r.output and "按时办结率：50.0%" in r.output and "满意率：66.7%" in r.output
    r = cli("stats", "--content", root, "--as-of", "2026-03-15", "--by", "month")
    assert "2026-02" in r.output and "合计" in r.output
