"""`policykb new`: a record file with every key of its type, in order, and the allowed terms as comments.

The keys come from the record models (so a key added to a model appears here), the terms
from the content's taxonomy. The file loads as written; the editor fills in the values.
"""
from __future__ import annotations

from policykb.content.labels import known_field_label
from policykb.content.models import MODELS, REQUIRED, Apply, Record, Review
from policykb.content.schema import DESCRIPTION, STATUS_LABELS
from policykb.content.taxonomy import FIELD_VOCABULARY, Taxonomy

BODY = {
    "policy": "## 支持对象\n\n（写明哪些企业可以申请。）\n\n## 支持内容\n\n（写明支持方式和标准，金额写清单位。）\n\n"
              "## 申报条件\n\n## 申报材料\n\n## 办理流程\n",
    "faq": "（在这里写答案：先给结论，再写怎么办、找谁。）\n",
}
DATE_KEYS = {"published", "effective", "expires", "updated", "deadline", "last_reviewed"}
LIST_KEYS = {"issuer", "supersedes", "superseded_by", "categories", "enterprise_types", "support", "keywords",
             "aliases", "policies", "issues", "eligibility"}
NOTE = {"supersedes": "本政策取代的旧政策 id（文件名，不含 .md）", "superseded_by": "取代本政策的新政策 id",
        "policies": "答案依据的政策 id", "issues": "问答来源的诉求编号（不会公开）",
        "draft": "true 表示草稿，审核通过后删去这一行", "keywords": "检索词，帮助企业搜到这条政策",
        "aliases": "企业的其他问法，每行一种", "source": "政策原文网址",
        "apply.deadline": "YYYY-MM-DD；没有固定截止日期时写文字，例如 常年受理",
        "eligibility": "申报条件（政策计算器），每条写 field、op、value、text，见编辑指南；可不填"}


def _comment(kind: str, key: str, dotted: str, taxonomy: Taxonomy) -> str:
    parts = []
    label = known_field_label(dotted, key, kind=kind)
    if label:
        parts.append(("必填：" if key in REQUIRED[kind] and "." not in dotted else "") + label)
    vocab = FIELD_VOCABULARY.get((kind, key))
    if vocab:
        parts.append("可选词：" + "、".join(taxonomy.terms(vocab)))
    elif key == "status" and kind in STATUS_LABELS:
        parts.append("可选：" + "、".join(f"{k}（{v}）" for k, v in STATUS_LABELS[kind].items()))
    note = NOTE.get(dotted) or (DESCRIPTION.get(dotted) if key != "status" else None)
    if note is None and key in DATE_KEYS:
        note = "YYYY-MM-DD"
    if note:
        if parts and label and note.startswith(label):
            parts.pop(0)  # the note already names the field
        parts.append(note)
    return "  # " + "；".join(parts) if parts else ""


def scaffold(kind: str, taxonomy: Taxonomy | None = None, title: str = "") -> str:
    taxonomy = taxonomy or Taxonomy()
    model = MODELS[kind]
    lines = ["---"]
    first = "title" if kind == "policy" else "question"
    for key in model.model_fields:
        if key in Record.model_fields:
            continue
        sub = {"apply": Apply, "review": Review}.get(key)
        if sub is not None:
            lines.append(f"{key}:" + _comment(kind, key, key, taxonomy))
            for name in sub.model_fields:
                lines.append(f"  {name}:" + _comment(kind, name, f"{key}.{name}", taxonomy))
            continue
        if key == first:
            value = " " + _quote(title) if title else ""
        elif key in LIST_KEYS:
            value = " []"
        else:
            value = ""
        lines.append(f"{key}:{value}" + _comment(kind, key, key, taxonomy))
    lines.append("---")
    return "\n".join(lines) + "\n" + BODY.get(kind, "")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

