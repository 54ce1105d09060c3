"""Status values: how a policy's status follows from its dates, and what users read for each.

Kept free of pydantic: the match path uses it.
"""
from __future__ import annotations

import datetime as dt

POLICY_STATUS_LABEL = {"effective": "有效", "expired": "已失效", "repealed": "已废止", "draft": "草稿"}
ISSUE_STATUS_LABEL = {"received": "已受理", "assigned": "已交办", "in_progress": "办理中",
                      "resolved": "已解决", "explained": "已解释办结", "escalated": "已上报",
                      "closed": "已销号"}


def policy_status(status: str | None, expires: dt.date | None, today: dt.date) -> str:
    """A policy's status on `today`. Dates win: past `expires` a policy is expired whatever
    `status` says (the validator warns the editor); drafts and repealed policies stay so.
    Without a status the contract's default follows from the dates."""
    if status in ("draft", "repealed"):
        return status
    if expires and expires < today:
        return "expired"
    return status or "effective"
