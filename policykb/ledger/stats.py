"""Ledger figures (诉求统计). Each figure is defined once, here; the CLI and the site's
figures page both call `compute_stats` / `group_stats`, so they can never disagree.

Records are counted by `received` within [since, until] (inclusive). `as_of` is "today"
(default: the real date) and only matters for `overdue`.
"""
from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable

from policykb.content.models import Issue

# The figures, in display order, with the label a reader sees (site and CLI).
FIGURES = {
    "collected": "收集诉求",
    "escalated": "上报诉求",
    "within_remit": "本级办理",
    "closed": "已办结",
    "open": "未办结",
    "overdue": "已超期",
    "resolution_rate": "办结率",
    "timely_rate": "按时办结率",
    "satisfaction_rate": "满意率",
    "median_days_to_close": "办结用时中位数（天）",
}
RATES = ("resolution_rate", "timely_rate", "satisfaction_rate")
GROUP_BY = {"category": "类别", "department": "承办单位", "service_group": "服务组", "month": "受理月份"}
UNSET = "未填写"  # group key for records without the grouping field
SATISFIED = ("满意", "基本满意")


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def is_escalated(i: Issue) -> bool:
    return bool(i.escalated_to) or i.status == "escalated"


def is_overdue(i: Issue, as_of: dt.date) -> bool:
    return not i.is_closed and i.due is not None and i.due < as_of


def in_period(issues: Iterable[Issue], since: dt.date | None = None, until: dt.date | None = None) -> list[Issue]:
    """Records whose `received` falls in the period; without bounds, every record."""
    out = []
    for i in issues:
        if since is None and until is None:
            out.append(i)
        elif i.received is not None and (since is None or i.received >= since) and (until is None or i.received <= until):
            out.append(i)
    return out


def compute_stats(issues: Iterable[Issue], *, since: dt.date | None = None, until: dt.date | None = None,
                  as_of: dt.date | None = None) -> dict:
    """The figures for one set of records (keys as in FIGURES; rates 0–1 or None)."""
    as_of = as_of or dt.date.today()
    recs = in_period(issues, since, until)
    closed = [i for i in recs if i.is_closed]
    with_due = [i for i in closed if i.due is not None]
    timely = [i for i in with_due if i.closed_on is not None and i.closed_on <= i.due]
    rated = [i for i in recs if i.satisfaction]
    satisfied = [i for i in rated if i.satisfaction in SATISFIED]
    days = [(i.closed_on - i.received).days for i in closed if i.closed_on and i.received]
    escalated = sum(1 for i in recs if is_escalated(i))
    return {
        "collected": len(recs),
        "escalated": escalated,
        "within_remit": len(recs) - escalated,
        "closed": len(closed),
        "open": len(recs) - len(closed),
        "overdue": sum(1 for i in recs if is_overdue(i, as_of)),
        "resolution_rate": _ratio(len(closed), len(recs)),
        "timely_rate": _ratio(len(timely), len(with_due)),
        "satisfaction_rate": _ratio(len(satisfied), len(rated)),
        "median_days_to_close": statistics.median(days) if days else None,
    }


def group_key(i: Issue, by: str) -> str:
    if by == "month":
        return i.received.strftime("%Y-%m") if i.received else UNSET
    if by not in GROUP_BY:
        raise ValueError(f"未知的分组方式 {by!r}，应为 category、department、service_group 或 month。")
    return getattr(i, by) or UNSET


def group_stats(issues: Iterable[Issue], by: str, *, since: dt.date | None = None, until: dt.date | None = None,
                as_of: dt.date | None = None) -> dict[str, dict]:
    """{group: figures}, groups sorted by name; the period filter applies before grouping."""
    if by not in GROUP_BY:
        raise ValueError(f"未知的分组方式 {by!r}，应为 category、department、service_group 或 month。")
    groups: dict[str, list[Issue]] = {}
    for i in in_period(issues, since, until):
        groups.setdefault(group_key(i, by), []).append(i)
    return {k: compute_stats(groups[k], as_of=as_of) for k in sorted(groups)}


def format_figure(key: str, value) -> str:
    """Human form of one figure: rates as percentages, missing as “—”."""
    if value is None:
        return "—"
    if key in RATES:
        return f"{value * 100:.1f}%"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
