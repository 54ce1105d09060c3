"""Decap CMS at /admin/ of the internal site: its config generated from the content model.

The collections (policies, FAQs) are built from the record models and the taxonomy: a select
widget for every controlled field, date widgets for dates, relation widgets for `supersedes`,
`superseded_by` and a FAQ's `policies`. The backend (GitLab, Gitea/Forgejo, GitHub) comes from
the project's cms.yml. Decap itself is vendored from npm by scripts/vendor-cms into
.cache/npm (never a CDN); without it the internal build says so and leaves /admin/ out.
"""
from __future__ import annotations

import html
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from policykb.content.labels import FIELD_LABEL, field_label
from policykb.content.models import POLICY_STATUS_LABEL
from policykb.content.taxonomy import FIELD_VOCABULARY, Taxonomy
from policykb.paths import PROJECT_ROOT

DECAP_VERSION = "3.16.3"  # keep in step with scripts/vendor-cms
CMS_CONFIG = PROJECT_ROOT / "cms.yml"
ADMIN_JS = Path(__file__).resolve().parent / "admin" / "policykb-admin.js"
LOCAL_BACKEND = "http://localhost:8081/api/v1"
DATE = {"widget": "datetime", "format": "YYYY-MM-DD", "date_format": "YYYY-MM-DD", "time_format": False,
        "picker_utc": True, "required": False, "default": ""}


def vendored_cms() -> Path:
    base = os.environ.get("POLICYKB_DECAP_DIR") or PROJECT_ROOT / ".cache" / "npm" / f"decap-cms-{DECAP_VERSION}"
    return Path(base) / "decap-cms.js"


def _label(key: str) -> str:
    return FIELD_LABEL.get(key, key)


def _terms(kind: str, key: str, taxonomy: Taxonomy) -> dict:
    return {"widget": "select", "multiple": True, "required": False,
            "options": taxonomy.terms(FIELD_VOCABULARY[(kind, key)])}


def _relation(multiple: bool = True) -> dict:
    return {"widget": "relation", "collection": "policies", "search_fields": ["title", "doc_number"],
            "value_field": "{{filename}}", "display_fields": ["title"], "multiple": multiple, "required": False}


def _f(name: str, spec: dict | None = None, label_key: str | None = None, **extra) -> dict:
    out = {"label": _label(label_key or name), "name": name, "widget": "string", "required": False}
    out.update(spec or {})
    out.update(extra)
    return out


def policy_fields(taxonomy: Taxonomy) -> list[dict]:
    return [
        _f("title", required=True, hint="政策全称"),
        _f("doc_number", hint="例如 津高新管发〔2025〕8号"),
        _f("issuer", {"widget": "list"}, hint="每个发文机关一项"),
        _f("region", hint="从大到小，用 / 分隔：天津市/滨海新区/滨海高新区"),
        _f("published", DATE), _f("effective", DATE), _f("expires", DATE),
        _f("status", {"widget": "select", "options": [{"label": f"{v}（{k}）", "value": k}
                                                       for k, v in POLICY_STATUS_LABEL.items()]},
           hint="不选则按日期推定；过了失效日期的政策一律按已失效展示"),
        _f("supersedes", _relation()), _f("superseded_by", _relation()),
        _f("categories", _terms("policy", "categories", taxonomy)),
        _f("enterprise_types", _terms("policy", "enterprise_types", taxonomy)),
        _f("support", _terms("policy", "support", taxonomy)),
        _f("keywords", {"widget": "list"}),
        _f("summary", {"widget": "text"}, hint="一句话要点，金额写清单位"),
        {"label": "申报", "name": "apply", "widget": "object", "required": False, "collapsed": True, "fields": [
            _f("department", label_key="apply.department"), _f("phone", label_key="apply.phone"),
            _f("url", label_key="apply.url"), _f("deadline", DATE, label_key="apply.deadline"),
            _f("how", {"widget": "text"}, label_key="apply.how")]},
        _f("source", hint="以 http:// 或 https:// 开头"),
        {"label": "复核", "name": "review", "widget": "object", "required": False, "collapsed": True, "fields": [
            _f("owner", label_key="review.owner"), _f("last_reviewed", DATE, label_key="review.last_reviewed"),
            _f("every", label_key="review.every", pattern=[r"^\d+[dwmy]$", "写成 数字+单位，例如 6m、1y、90d"])]},
        {"label": _label("eligibility"), "name": "eligibility", "widget": "list", "required": False,
         "collapsed": True, "hint": "政策计算器逐条核对的条件，只写原文明确写了的（见编辑指南）", "fields": [
             _f("field", {"widget": "select", "options": [{"label": f"{s.label}（{n}）", "value": n}
                                                          for n, s in taxonomy.condition_fields.items()]},
                label="条件字段"),
             _f("op", {"widget": "select", "options": [">=", ">", "<=", "<", "==", "!=", "in", "not_in"]},
                label="比较"),
             _f("value", label="值", hint="数字（按字段的单位）、true / false、YYYY-MM-DD，或用顿号分隔的可选值"),
             _f("text", label="给企业看的说明", hint="照政策原文写，例如 企业上年度营业收入不低于2000万元")]},
        {"label": "正文", "name": "body", "widget": "markdown",
         "hint": "支持对象、支持内容、申报条件、申报材料、办理流程"},
    ]


def faq_fields(taxonomy: Taxonomy) -> list[dict]:
    return [
        _f("question", required=True, hint="企业会怎么问，就怎么写"),
        _f("aliases", {"widget": "list"}),
        _f("categories", _terms("faq", "categories", taxonomy)),
        _f("policies", _relation()),
        _f("department", label=field_label("department", "faq")), _f("region"), _f("updated", DATE),
        _f("draft", {"widget": "boolean", "default": True}, hint="草稿不在网站上显示；审核通过后关掉"),
        {"label": "答案", "name": "body", "widget": "markdown", "required": True},
    ]


def _collection(name, label, folder, prefix, fields) -> dict:
    return {"name": name, "label": label, "label_singular": label, "folder": folder, "create": True,
            "extension": "md", "format": "frontmatter", "nested": {"depth": 6, "subfolders": False},
            # ids are lowercase ASCII and titles are Chinese: new files get a dated id, which a
            # reviewer may rename in the merge request (docs/pr-workflow.md)
            "slug": prefix + "-{{year}}{{month}}{{day}}-{{hour}}{{minute}}{{second}}",
            "identifier_field": fields[0]["name"], "summary": "{{" + fields[0]["name"] + "}}",
            "fields": fields}


def read_cms_settings(path: Path = CMS_CONFIG) -> dict:
    if not path.is_file():
        return {"backend": {"name": "git-gateway"}, "publish_mode": "editorial_workflow", "local_backend": True}
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def decap_config(taxonomy: Taxonomy, content_prefix: str, settings: dict | None = None) -> dict:
    """The Decap config.yml: settings (backend...) + collections from the content model."""
    settings = dict(settings if settings is not None else read_cms_settings())
    prefix = content_prefix.strip("/")
    base = f"{prefix}/" if prefix else ""
    cfg = {"locale": "zh_Hans", **settings,
           "media_folder": f"{base}.uploads", "public_folder": "/uploads",
           "collections": [
               _collection("policies", "政策", f"{base}policies", "policy", policy_fields(taxonomy)),
               _collection("faq", "常见问题", f"{base}faq", "faq", faq_fields(taxonomy)),
           ]}
    cfg.setdefault("publish_mode", "editorial_workflow")
    return cfg


def _origins(cfg: dict) -> list[str]:
    out = []
    backend = cfg.get("backend") or {}
    local = cfg.get("local_backend")
    urls = [backend.get("api_root"), backend.get("base_url"), backend.get("auth_endpoint")]
    urls.append(local.get("url") if isinstance(local, dict) else (LOCAL_BACKEND if local else None))
    defaults = {"github": ["https://api.github.com", "https://github.com"], "gitlab": ["https://gitlab.com"]}
    urls += defaults.get(backend.get("name"), []) if not backend.get("api_root") else []
    for url in urls:
        if url:
            parts = urlsplit(str(url))
            if parts.scheme in ("http", "https") and parts.netloc:
                origin = f"{parts.scheme}://{parts.netloc}"
                if origin not in out:
                    out.append(origin)
    return out


def index_html(cfg: dict) -> str:
    """The admin page. It has its own Content-Security-Policy: Decap needs inline styles and
    'unsafe-eval' (its config validator compiles code), which no other page of the site allows."""
    connect = " ".join(["'self'", *_origins(cfg)])
    csp = (f"default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
           f"img-src 'self' data: blob: https:; font-src 'self' data:; connect-src {connect}; "
           f"frame-src 'self' {' '.join(_origins(cfg))}; object-src 'none'; base-uri 'self'; form-action 'self'")
    return ("<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{html.escape(csp)}\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta name=\"robots\" content=\"noindex\">\n<title>内容编辑（Decap CMS）</title>\n"
            "</head>\n<body>\n<noscript>内容编辑需要启用 JavaScript。</noscript>\n"
            "<script src=\"decap-cms.js\"></script>\n"
            "<script type=\"module\" src=\"policykb-admin.js\"></script>\n</body>\n</html>\n")


@dataclass
class CmsResult:
    written: bool
    message: str  # Chinese, for the build's output


def write_admin(site: Path, taxonomy: Taxonomy, content_prefix: str, settings: dict | None = None) -> CmsResult:
    """Write site/admin/ (index.html, config.yml, decap-cms.js) or explain why not."""
    js = vendored_cms()
    if not js.is_file():
        return CmsResult(False, f"没有找到 Decap CMS（{js}），内部网站不含 /admin/ 编辑页面。"
                                f"如需在浏览器里编辑内容，请先运行 scripts/vendor-cms 再生成。")
    cfg = decap_config(taxonomy, content_prefix, settings)
    admin = site / "admin"
    admin.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(js, admin / "decap-cms.js")
    shutil.copyfile(ADMIN_JS, admin / "policykb-admin.js")
    (admin / "config.yml").write_text("# 由 policykb build 按内容模型和分类表生成；后端设置改项目根目录的 cms.yml。\n"
                                      + yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (admin / "index.html").write_text(index_html(cfg), encoding="utf-8")
    return CmsResult(True, f"已加入内容编辑页面 /admin/（Decap CMS {DECAP_VERSION}，后端 "
                           f"{(cfg.get('backend') or {}).get('name', '?')}，设置见 cms.yml）")
