"""JSON Schemas of the front matter, generated from the record models and the taxonomy.

One schema per record type (policy, faq, issue). Types come from each model field's own
validator (a date field gets `format: date`), choices from the models' Literal types, terms
from the content's taxonomy, required keys from models.REQUIRED. The schemas say what
`policykb validate --strict` says about a single file; rules that need the whole tree (a
dangling reference, a duplicate id, dates that contradict each other) stay the validator's.
"""
from __future__ import annotations

import typing

from policykb.content import models
from policykb.content.labels import KIND_LABEL, known_field_label
from policykb.content.loader import ID_PATTERN
from policykb.content.models import MODELS, PERIOD, REQUIRED, Record
from policykb.content.statuses import ISSUE_STATUS_LABEL, POLICY_STATUS_LABEL
from policykb.content.taxonomy import FIELD_VOCABULARY, REGIONS_KEY, Taxonomy

DRAFT = "https://json-schema.org/draft-07/schema#"  # what VS Code's YAML extension reads best
ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
TEXT = {"type": ["string", "number"]}  # phone numbers and years may be written unquoted
URL_PATTERN = r"^https?://[^\s/]+\.[^\s]*$"  # policykb.content.validate.URL
REFERENCES = {("policy", "supersedes"), ("policy", "superseded_by"), ("faq", "policies"),
              ("faq", "issues"), ("issue", "policies"), ("issue", "faq")}
# A single text where a list is expected loads with a warning (an error under --strict),
# except a policy's issuer, which the contract allows as one text.
LIST_OR_TEXT = {("policy", "issuer")}
DESCRIPTION = {
    "region": "地区，从大到小用 / 分隔，例如 天津市/滨海新区/滨海高新区",
    "doc_number": "文号，例如 津高新管发〔2025〕8号",
    "review.every": "复核周期：数字+单位（d 天、w 周、m 月、y 年），例如 6m",
    "status": "不写则按日期推定；过了失效日期的政策无论写什么都按已失效展示",
}
STATUS_LABELS = {"policy": POLICY_STATUS_LABEL, "issue": ISSUE_STATUS_LABEL}


def _validator_funcs(info) -> set:
    return {getattr(m, "func", None) for m in info.metadata}


def _literal(annotation):
    for arg in typing.get_args(annotation) or (annotation,):
        if typing.get_origin(arg) is typing.Literal:
            return list(typing.get_args(arg))
    return None


def _field_schema(kind: str, name: str, info, taxonomy: Taxonomy, label_key: str) -> dict:
    funcs = _validator_funcs(info)
    ann = info.annotation
    if models._date in funcs:
        out = {"type": "string", "format": "date", "pattern": ISO_DATE}
    elif getattr(models, "_deadline", None) in funcs:
        # a date, or the text of a rolling scheme (常年受理); a text shaped like a date must be one
        out = {"anyOf": [{"type": "string", "format": "date", "pattern": ISO_DATE},
                         {"type": "string", "pattern": r"\S", "not": {"pattern": ISO_DATE}}],
               "description": "YYYY-MM-DD；没有固定截止日期时写文字，例如 常年受理"}
    elif models._text_list in funcs:
        item: dict = dict(TEXT)
        vocab = FIELD_VOCABULARY.get((kind, name))
        if vocab:
            item = {"type": "string", "enum": taxonomy.terms(vocab)}
        elif (kind, name) in REFERENCES:
            item = {"type": "string", "pattern": ID_PATTERN.pattern}
        out = {"type": "array", "items": item}
        if (kind, name) in LIST_OR_TEXT:
            out = {"anyOf": [item, out]}
    elif models._text in funcs:
        vocab = FIELD_VOCABULARY.get((kind, name))
        out = {"type": "string", "enum": taxonomy.terms(vocab)} if vocab else dict(TEXT)
    elif _literal(ann):
        out = {"type": "string", "enum": _literal(ann)}
    elif ann in (bool, typing.Optional[bool]):
        out = {"type": "boolean"}
    else:
        sub = next((a for a in (typing.get_args(ann) or (ann,)) if isinstance(a, type) and issubclass(a, models.BaseModel)), None)
        inner = typing.get_args(ann)[0] if typing.get_origin(ann) is list else None
        if inner is not None and isinstance(inner, type) and issubclass(inner, models.BaseModel):
            out = {"type": "array", "items": _object(kind, inner, taxonomy, prefix=f"{name}.")}
        elif sub is not None:
            out = _object(kind, sub, taxonomy, prefix=f"{name}.")
        else:
            out = {}  # a type this generator does not know yet: accept anything rather than lie
    label = known_field_label(label_key, name, kind=kind)
    if label:
        out["title"] = label
    text = DESCRIPTION.get(label_key)
    if name == "status" and kind in STATUS_LABELS:
        text = "；".join(f"{k}：{v}" for k, v in STATUS_LABELS[kind].items()) + ("。" + text if text and kind == "policy" else "")
    if text:
        out["description"] = text
    return out


def _nullable(prop: dict) -> dict:
    """An empty value (`key:` with nothing after it) reads as null and means "not filled in"."""
    if "anyOf" in prop:
        prop["anyOf"].append({"type": "null"})
    elif "type" in prop:
        types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
        prop["type"] = [*types, "null"]
        if "enum" in prop:
            prop["enum"] = [*prop["enum"], None]
    return prop


def _object(kind: str, model, taxonomy: Taxonomy, prefix: str = "") -> dict:
    props = {}
    for name, info in model.model_fields.items():
        if not prefix and name in Record.model_fields:
            continue  # id, path, body...: from the file, not the front matter
        props[name] = _field_schema(kind, name, info, taxonomy, prefix + name)
    if prefix == "review." or "every" in props:
        props["every"]["pattern"] = PERIOD.pattern
    for key in ("source", "url"):
        if key in props and (kind == "policy"):
            props[key]["pattern"] = URL_PATTERN
            props[key]["type"] = "string"
    required = () if prefix else REQUIRED[kind]
    for name, prop in props.items():
        if name not in required and not (kind == "issue" and name == "history"):
            _nullable(prop)
    return {"type": "object", "properties": props, "additionalProperties": True}


def record_schema(kind: str, taxonomy: Taxonomy | None = None) -> dict:
    taxonomy = taxonomy or Taxonomy()
    out = {"$schema": DRAFT, "$id": f"https://policykb.invalid/schemas/{kind}.schema.json",
           "title": KIND_LABEL[kind] + "的前置元数据",
           **_object(kind, MODELS[kind], taxonomy)}
    out["required"] = list(REQUIRED[kind])
    for key in REQUIRED[kind]:
        prop = out["properties"][key]
        if prop.get("type") in ("string", ["string", "number"]) and "enum" not in prop and "format" not in prop:
            prop["minLength"] = 1
            prop["pattern"] = r"\S"  # a required text must not be blank
    return out


def taxonomy_schema() -> dict:
    """content/taxonomy.yml: vocabulary name -> list of non-empty terms (a .yml file, so VS Code's
    YAML extension checks it as you type)."""
    terms = {"type": "array", "items": {"type": "string", "pattern": r"\S"}}
    from policykb.content.eligibility import TYPES
    props = {name: {**terms, "title": title} for name, title in
             (("categories", "政策类别"), ("enterprise_types", "企业类型"), ("support", "支持方式"),
              ("issue_categories", "诉求类别"))}
    props[REGIONS_KEY] = {"type": "object", "title": "地区别名", "additionalProperties": terms,
                          "description": "地区路径: [简称, 别称]，例如 天津市/滨海新区/滨海高新区: [高新区]"}
    field_def = {"type": "object", "required": ["label", "type"], "additionalProperties": False,
                 "properties": {"label": {"type": "string", "pattern": r"\S"}, "type": {"enum": list(TYPES)},
                                "unit": {"type": "string"}, "values": terms}}
    props["condition_fields"] = {"type": "object", "title": "政策计算器的条件字段", "additionalProperties": field_def}
    return {"$schema": DRAFT, "$id": "https://policykb.invalid/schemas/taxonomy.schema.json", "title": "分类表",
            "type": "object", "additionalProperties": terms, "properties": props}


def all_schemas(taxonomy: Taxonomy | None = None) -> dict[str, dict]:
    """{"policy.schema.json": {...}, ..., "taxonomy.schema.json": {...}}"""
    out = {f"{kind}.schema.json": record_schema(kind, taxonomy) for kind in MODELS}
    out["taxonomy.schema.json"] = taxonomy_schema()
    return out
