"""Chinese labels of record kinds and fields: one table for every stage (validator messages, site,
CLI). Status labels live with the status rules (statuses.py) and are re-exported here.

Plain data, no imports beyond the content stage, so the fast match path may use it.
"""
from __future__ import annotations

from policykb.content.statuses import ISSUE_STATUS_LABEL, POLICY_STATUS_LABEL  # noqa: F401 (re-exported)

# What a record kind is called in full sentences, and in tight places (lists, tags).
KIND_LABEL = {"policy": "政策", "faq": "常见问题", "issue": "企业诉求"}
KIND_SHORT_LABEL = {"policy": "政策", "faq": "问答", "issue": "诉求"}

# Field labels shared by the kinds; FIELD_LABEL_BY_KIND overrides where a key means something
# else in one kind. Nested keys are written with a dot (apply.deadline).
FIELD_LABEL = {
    # policy
    "title": "标题", "doc_number": "文号", "issuer": "发文机关", "region": "地区", "published": "发布日期",
    "effective": "施行日期", "expires": "失效日期", "status": "状态", "supersedes": "取代的旧政策",
    "superseded_by": "取代它的新政策", "categories": "类别", "enterprise_types": "适用对象", "support": "支持方式",
    "keywords": "检索词", "summary": "要点", "apply": "申报信息", "source": "原文链接", "review": "定期复核",
    "apply.department": "受理部门", "apply.phone": "咨询电话", "apply.url": "申报入口",
    "apply.deadline": "申报截止", "apply.how": "申报方式",
    "review.owner": "复核负责人", "review.last_reviewed": "最近复核日期", "review.every": "复核周期",
    "eligibility": "申报条件",
    # faq
    "question": "问题", "aliases": "其他问法", "policies": "相关政策", "issues": "来源诉求", "updated": "更新日期",
    "draft": "草稿",
    # issue
    "received": "受理日期", "category": "诉求类别", "enterprise": "企业", "contact": "联系人", "channel": "渠道",
    "service_group": "服务组", "officer": "服务专员", "department": "承办单位", "due": "办结时限",
    "closed_on": "办结日期", "escalated_to": "上报对象", "resolution": "办理结果", "satisfaction": "满意度",
    "faq": "相关问答", "public": "可公开", "history": "办理记录",
    "history.date": "日期", "history.by": "经办人", "history.action": "事项", "history.note": "备注",
}
FIELD_LABEL_BY_KIND = {
    ("policy", "title"): "政策名称",
    ("policy", "categories"): "政策类别",
    ("faq", "department"): "咨询部门",
    ("issue", "title"): "诉求概要",
    ("issue", "region"): "区域",
    ("issue", "status"): "办理状态",
}


def known_field_label(*keys: str, kind: str | None = None) -> str | None:
    """The label of the first of `keys` that has one (kind-specific first), or None."""
    for key in keys:
        label = FIELD_LABEL_BY_KIND.get((kind, key)) or FIELD_LABEL.get(key)
        if label:
            return label
    return None


def field_label(key: str, kind: str | None = None) -> str:
    """The Chinese label of a field ("apply.deadline" for nested ones); the key itself if unknown."""
    return known_field_label(key, kind=kind) or key
