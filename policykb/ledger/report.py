"""The weekly reminder list a coordinator sends (`policykb report`)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from policykb.content.loader import Content
from policykb.ledger.stats import is_overdue

WEEK = 7


@dataclass
class Item:
    id: str
    title: str
    date: dt.date | None  # None for a rolling deadline (常年受理), which has no date
    detail: str = ""
    path: str = ""

    def as_json(self) -> dict:
        return {"id": self.id, "title": self.title, "date": self.date.isoformat() if self.date else None, "detail": self.detail,
                "path": self.path}


@dataclass
class Report:
    today: dt.date
    days: int
    expiring: list[Item] = field(default_factory=list)  # policies expiring within `days`
    deadlines: list[Item] = field(default_factory=list)  # application deadlines within `days`
    review_due: list[Item] = field(default_factory=list)  # review date on or before today
    overdue: list[Item] = field(default_factory=list)  # open problems past their due date
    due_this_week: list[Item] = field(default_factory=list)  # open problems due in the next 7 days
    outdated_status: list[Item] = field(default_factory=list)  # past expires, status still "effective"
    rolling: list[Item] = field(default_factory=list)  # current policies with a rolling deadline (常年受理)

    SECTIONS = {"expiring": "即将失效的政策", "deadlines": "即将截止申报的政策", "review_due": "到期待复核的政策",
                "overdue": "已超期未办结的诉求", "due_this_week": "本周到期的诉求",
                "outdated_status": "已过失效日期、状态仍写“有效”的政策（各处已按已失效处理，请编辑改 status）",
                "rolling": "常年受理的政策（无固定截止日期）"}

    def as_json(self) -> dict:
        return {"today": self.today.isoformat(), "days": self.days,
                **{k: [i.as_json() for i in getattr(self, k)] for k in self.SECTIONS}}


def build_report(content: Content, *, today: dt.date, days: int = 30) -> Report:
    rep = Report(today, days)
    try:
        horizon = today + dt.timedelta(days=days)
    except OverflowError:  # beyond year 9999: every future date is within the horizon
        horizon = dt.date.max
    for p in content.policies:
        if p.status_on(today) in ("draft", "repealed"):
            continue
        where = content.shown(p.relpath)
        if p.expires and today <= p.expires <= horizon:
            rep.expiring.append(Item(p.id, p.display_title, p.expires, f"{(p.expires - today).days} 天后失效", where))
        if p.status == "effective" and p.expires and p.expires < today:  # dates win; the file lags behind
            rep.outdated_status.append(Item(p.id, p.display_title, p.expires, f"已于 {p.expires} 失效", where))
        if p.apply and p.apply.rolling and p.is_current(today):
            dept = f"，{p.apply.department}" if p.apply.department else ""
            rep.rolling.append(Item(p.id, p.display_title, None, f"{p.apply.rolling}{dept}", where))
        deadline = p.apply.deadline_date if p.apply else None  # rolling deadlines (常年受理) have no date
        if deadline and today <= deadline <= horizon and p.is_current(today):
            rep.deadlines.append(Item(p.id, p.display_title, deadline,
                                      f"{(deadline - today).days} 天后截止" + (f"，{p.apply.department}" if p.apply.department else ""),
                                      where))
        try:
            nxt = p.review.next_due() if p.review else None
        except (ValueError, OverflowError):  # a review period that reaches past year 9999
            nxt = None
        if nxt and nxt <= today:
            owner = f"，负责人 {p.review.owner}" if p.review.owner else ""
            rep.review_due.append(Item(p.id, p.display_title, nxt, f"应于 {nxt} 复核{owner}", where))
    for i in content.issues:
        if i.is_closed or not i.due:
            continue
        where = content.shown(i.relpath)
        dept = i.department or "未交办"
        if is_overdue(i, today):
            rep.overdue.append(Item(i.id, i.display_title, i.due, f"超期 {(today - i.due).days} 天，{dept}", where))
        elif (i.due - today).days < WEEK:
            rep.due_this_week.append(Item(i.id, i.display_title, i.due, f"{(i.due - today).days} 天后到期，{dept}", where))
    for k in Report.SECTIONS:
        getattr(rep, k).sort(key=lambda it: (it.date or dt.date.min, it.id))
    return rep


def format_report(rep: Report) -> str:
    lines = [f"每周提醒清单（{rep.today}，政策提前 {rep.days} 天提醒）"]
    for key, label in Report.SECTIONS.items():
        items = getattr(rep, key)
        lines.append("")
        lines.append(f"{label}（{len(items)}）")
        lines += [f"  {it.date or '—'}  {it.id}  {it.title}  —— {it.detail}" for it in items] or ["  无"]
    return "\n".join(lines)
