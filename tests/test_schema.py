"""JSON Schemas and `policykb new`: the schema and the validator agree.

Every bundled record's front matter (as the loader parses it) passes its schema; each planted
fault the schema can express is rejected by the schema and by `policykb validate --strict`.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import jsonschema
import pytest
from conftest import BUNDLED, NCP, run_policykb

from policykb.content.files import iter_record_files
from policykb.content.loader import _split_front_matter, load_content, parse_yaml
from policykb.content.models import KNOWN_FIELDS, MODELS, Record
from policykb.content.schema import all_schemas
from policykb.content.taxonomy import Taxonomy
from policykb.content.validate import validate

TODAY = dt.date(2026, 6, 1)


def _plain(v):
    """YAML values as an editor's YAML server sees them: dates are text."""
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def front_matter(path) -> dict:
    fm, _, _ = _split_front_matter(path.read_text(encoding="utf-8-sig"))
    data, _, _ = parse_yaml(fm, 2)
    return _plain(data or {})


def schema_errors(schemas, kind: str, data: dict) -> list[str]:
    v = jsonschema.Draft7Validator(schemas[f"{kind}.schema.json"], format_checker=jsonschema.FormatChecker())
    return [e.message for e in v.iter_errors(data)]


@pytest.mark.parametrize("root", [BUNDLED, NCP / "content"], ids=["bundled", "ncp"])
def test_every_record_passes_its_schema(root):
    if not (root / "policies").is_dir():
        pytest.skip(f"{root} not present")
    schemas = all_schemas(load_content(root).taxonomy)
    for s in schemas.values():
        jsonschema.Draft7Validator.check_schema(s)
    assert len(schemas) == 4
    checked = 0
    for path, rel, kind in iter_record_files(root):
        assert schema_errors(schemas, kind, front_matter(path)) == [], rel
        checked += 1
    assert checked >= 50


@pytest.mark.parametrize("text,ok", [("categories: [科技创新, 本区特色]\n", True), ("categories: 科技创新\n", False),
                                     ("support: [资金补贴, '']\n", False), ("support: [资金补贴, 3]\n", False),
                                     ("regions:\n  天津市/滨海新区: [滨海]\n", True),
                                     ("regions:\n  天津市/滨海新区: 滨海\n", False)])
def test_taxonomy_schema_agrees_with_the_loader(make_tree, text, ok):
    root = make_tree({"taxonomy.yml": text, "policies/p.md": "---\ntitle: 甲\n---\n正文\n"})
    loader_ok = not [d for d in load_content(root).diagnostics if d.path.endswith("taxonomy.yml")]
    v = jsonschema.Draft7Validator(all_schemas()["taxonomy.schema.json"])
    schema_ok = not list(v.iter_errors(parse_yaml(text, 1)[0]))
    assert (loader_ok, schema_ok) == (ok, ok)


def test_bundled_taxonomy_passes_its_schema():
    v = jsonschema.Draft7Validator(all_schemas()["taxonomy.schema.json"])
    assert not list(v.iter_errors(parse_yaml((BUNDLED / "taxonomy.yml").read_text(encoding="utf-8"), 1)[0]))


def test_schema_lists_every_model_key_and_the_taxonomy():
    tax = Taxonomy({**Taxonomy().vocabularies, "categories": ["科技创新", "新增的类别"]})
    schemas = all_schemas(tax)
    for kind in MODELS:
        s = schemas[f"{kind}.schema.json"]
        assert set(s["properties"]) == KNOWN_FIELDS[kind]
    policy = schemas["policy.schema.json"]
    assert policy["required"] == ["title"]
    assert policy["properties"]["categories"]["items"]["enum"] == ["科技创新", "新增的类别"]
    assert policy["properties"]["expires"]["format"] == "date"
    assert policy["properties"]["review"]["properties"]["last_reviewed"]["format"] == "date"
    deadline = policy["properties"]["apply"]["properties"]["deadline"]
    v = jsonschema.Draft7Validator(deadline, format_checker=jsonschema.FormatChecker())
    assert [v.is_valid(x) for x in ("2026-09-30", "常年受理", None, "2026-02-30", 20260930)] == [True, True, True, False, False]
    assert None in policy["properties"]["status"]["enum"] and "repealed" in policy["properties"]["status"]["enum"]
    issue = schemas["issue.schema.json"]
    assert issue["required"] == ["title", "received", "category", "status"]
    assert "其他" in issue["properties"]["category"]["enum"]
    assert issue["properties"]["history"]["items"]["properties"]["date"]["format"] == "date"


POLICY = """---
title: 测试政策
doc_number: 津高新管发〔2025〕8号
issuer: 区科技局
region: 天津市
published: 2025-03-01
expires: 2027-12-31
categories: [科技创新]
enterprise_types: [高新技术企业]
summary: 要点
source: https://example.gov.cn/a.html
apply:
  deadline: 2026-09-30
review:
  every: 6m
---
正文
"""
FAQ = """---
question: 怎么申请？
categories: [科技创新]
policies: [p]
draft: false
---
答案。
"""
ISSUE = """---
title: 企业反映用电问题
received: 2026-03-01
category: 生产配套
status: received
satisfaction:
history:
  - {date: 2026-03-01, action: 受理}
---
企业描述。
"""
BASE = {"policy": ("policies/p.md", POLICY), "faq": ("faq/f.md", FAQ), "issue": ("issues/i.md", ISSUE)}

# (kind, old text, new text, validator code): faults a single file's schema can express.
FAULTS = [
    ("policy", "title: 测试政策", "title: ''", "missing-required"),
    ("policy", "title: 测试政策\n", "", "missing-required"),
    ("policy", "title: 测试政策", "title: [甲, 乙]", "wrong-type"),
    ("policy", "published: 2025-03-01", "published: 2025-02-30", "bad-date"),
    ("policy", "published: 2025-03-01", "published: 2025年3月1日以前", "bad-date"),
    ("policy", "expires: 2027-12-31", "expires: true", "bad-date"),
    ("policy", "categories: [科技创新]", "categories: [科技创心]", "unknown-term"),
    ("policy", "categories: [科技创新]", "categories: 科技创新", "list-shorthand"),
    ("policy", "enterprise_types: [高新技术企业]", "enterprise_types: [大企业]", "unknown-term"),
    ("policy", "expires: 2027-12-31", "expires: 2027-12-31\nstatus: valid", "bad-value"),
    ("policy", "every: 6m", "every: 半年", "bad-period"),
    ("policy", "deadline: 2026-09-30", "deadline: 2026-09-31", "bad-date"),
    ("policy", "deadline: 2026-09-30", "deadline: 20260930", "bad-date"),
    ("policy", "source: https://example.gov.cn/a.html", "source: 见区政府网站", "bad-url"),
    ("policy", "apply:\n  deadline: 2026-09-30", "apply: 现场申报", "wrong-type"),
    ("policy", "summary: 要点", "summary: {a: 1}", "wrong-type"),
    ("faq", "question: 怎么申请？", "question:", "missing-required"),
    ("faq", "categories: [科技创新]", "categories: [不存在]", "unknown-term"),
    ("faq", "draft: false", "draft: 也许", "wrong-type"),
    ("faq", "policies: [p]", "policies: [不是 id]", "dangling-ref"),
    ("issue", "received: 2026-03-01\n", "", "missing-required"),
    ("issue", "category: 生产配套", "category: 用电", "unknown-term"),
    ("issue", "status: received", "status: done", "bad-value"),
    ("issue", "satisfaction:", "satisfaction: 很满意", "bad-value"),
    ("issue", "{date: 2026-03-01, action: 受理}", "{date: 2026-03-32, action: 受理}", "bad-date"),
]


def _tree(make_tree, name, kind=None, old="", new=""):
    files = {path: text for path, text in BASE.values()}
    if kind:
        path, text = BASE[kind]
        assert old in text, old
        files[path] = text.replace(old, new, 1)
    return make_tree(files, name=name)


def test_the_base_tree_passes_both(make_tree):
    root = _tree(make_tree, "base")
    content = load_content(root)
    assert [d for d in validate(content, TODAY) if d.severity != "info"] == []
    schemas = all_schemas(content.taxonomy)
    for kind, (path, _) in BASE.items():
        assert schema_errors(schemas, kind, front_matter(root / path)) == []


@pytest.mark.parametrize("kind,old,new,code", FAULTS, ids=[f"{f[0]}-{f[3]}-{i}" for i, f in enumerate(FAULTS)])
def test_planted_fault_is_rejected_by_schema_and_validator(make_tree, kind, old, new, code):
    root = _tree(make_tree, "bad", kind, old, new)
    path = root / BASE[kind][0]
    assert schema_errors(all_schemas(), kind, front_matter(path)), "schema accepted the fault"
    r = run_policykb("validate", "--content", root, "--today", TODAY.isoformat(), "--strict", "--format", "json")
    assert r.returncode == 1, r.stdout
    codes = {d["code"] for d in json.loads(r.stdout)["diagnostics"] if d["severity"] == "error"}
    assert code in codes


def test_schema_command_writes_three_schemas(tmp_path, make_tree):
    root = _tree(make_tree, "base")
    (root / "taxonomy.yml").write_text("categories: [科技创新, 本区特色]\n", encoding="utf-8")
    out = tmp_path / "schemas"
    r = run_policykb("schema", "--content", root, "--out", out)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ["faq.schema.json", "issue.schema.json", "policy.schema.json",
                                                     "taxonomy.schema.json"]
    policy = json.loads((out / "policy.schema.json").read_text(encoding="utf-8"))
    assert policy["properties"]["categories"]["items"]["enum"] == ["科技创新", "本区特色"]
    (root / "taxonomy.yml").write_text("categories: 科技创新\n", encoding="utf-8")
    r = run_policykb("schema", "--content", root, "--out", tmp_path / "none")
    assert r.returncode == 1 and "taxonomy.yml:1" in r.stderr and not (tmp_path / "none").exists()


def test_new_policy_has_every_key_in_order_and_validates(make_tree):
    root = _tree(make_tree, "base")
    r = run_policykb("new", "policy", "zone-new-2026", "--content", root, "--title", "新政策", "--dir", "zone")
    assert r.returncode == 0, r.stderr
    path = root / "policies" / "zone" / "zone-new-2026.md"
    text = path.read_text(encoding="utf-8")
    keys = re.findall(r"^(\w+):", text, re.M)
    assert keys == [k for k in MODELS["policy"].model_fields if k not in Record.model_fields]
    assert "可选词：科技创新、产业发展" in text and "repealed（已废止）" in text
    assert front_matter(path)["title"] == "新政策"
    assert schema_errors(all_schemas(), "policy", front_matter(path)) == []
    r = run_policykb("validate", "--content", root, "--today", TODAY.isoformat(), "--strict")
    assert r.returncode == 0, r.stdout
    # the id is taken now, and a bad id is refused: nothing is written either time
    r = run_policykb("new", "policy", "zone-new-2026", "--content", root)
    assert r.returncode == 2 and "已被" in r.stderr
    r = run_policykb("new", "faq", "Bad_Id", "--content", root)
    assert r.returncode == 2 and "不是合法的 id" in r.stderr and not list(root.rglob("Bad_Id.md"))


def test_new_faq_needs_its_question_and_answer(make_tree):
    root = _tree(make_tree, "base")
    r = run_policykb("new", "faq", "faq-new", "--content", root)
    assert r.returncode == 0
    text = (root / "faq" / "faq-new.md").read_text(encoding="utf-8")
    assert re.findall(r"^(\w+):", text, re.M) == [k for k in MODELS["faq"].model_fields if k not in Record.model_fields]
    r = run_policykb("validate", "--content", root, "--today", TODAY.isoformat())
    assert r.returncode == 1 and "faq-new.md:2: 错误[missing-required]" in r.stdout
