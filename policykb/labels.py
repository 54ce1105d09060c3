"""What users read for status values (kept free of pydantic: the match path imports it)."""

POLICY_STATUS_LABEL = {"effective": "有效", "expired": "已失效", "repealed": "已废止", "draft": "草稿"}
ISSUE_STATUS_LABEL = {"received": "已受理", "assigned": "已交办", "in_progress": "办理中",
                      "resolved": "已解决", "explained": "已解释办结", "escalated": "已上报",
                      "closed": "已销号"}
