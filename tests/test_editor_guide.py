"""docs/editor-guide.md stays in step with the models, the taxonomy and the validator."""
from __future__ import annotations

import re

import pytest
from conftest import PROJECT

from policykb.content.diagnostics import CODES, SEVERITY_LABEL
from policykb.content.models import (
    ISSUE_STATUSES,
    KNOWN_FIELDS,
    POLICY_STATUSES,
    REQUIRED,
    SATISFACTION,
    Apply,
    HistoryEntry,
    Review,
)
from policykb.content.taxonomy import DEFAULT

GUIDE = (PROJECT / "docs" / "editor-guide.md").read_text(encoding="utf-8")


def emitted_codes() -> dict[str, set[str]]:
    """code -> severities, from the registry every diagnostic is checked against."""
    return {code: set(severities) for code, (severities, _) in CODES.items()}


def guide_row(code: str) -> str:
    rows = [line for line in GUIDE.splitlines() if line.startswith(f"| `{code}` |")]
    assert len(rows) == 1, f"{code}: expected one row in the guide's rule tables, found {len(rows)}"
    return rows[0]


def test_registry_holds_the_codes():
    codes = emitted_codes()
    assert {"yaml-syntax", "bad-date", "bad-value", "unknown-term", "dangling-ref", "issue-status",
            "missing-recommended", "superseded-current"} <= set(codes)
    assert codes["date-order"] == {"error", "warning"}


@pytest.mark.parametrize("code", sorted(emitted_codes()))
def test_every_code_is_explained_with_its_severity(code):
    severity_cell = guide_row(code).split("|")[2]
    for sev in emitted_codes()[code]:
        assert SEVERITY_LABEL[sev] in severity_cell, f"{code}: guide must say it can be {SEVERITY_LABEL[sev]}"


def test_no_stale_codes_in_the_guide():
    listed = set(re.findall(r"^\| `([a-z]+(?:-[a-z]+)+|[a-z]+)` \| (?:错误|警告|提示)", GUIDE, re.M))
    assert listed == set(emitted_codes())


@pytest.mark.parametrize("kind", sorted(KNOWN_FIELDS))
def test_every_field_is_documented(kind):
    for key in KNOWN_FIELDS[kind]:
        assert f"| `{key}` |" in GUIDE, f"{kind}.{key} is missing from the guide's field tables"


def test_nested_fields_statuses_and_required_keys_are_documented():
    for model in (Apply, Review, HistoryEntry):
        for key in model.model_fields:
            assert f"| `{key}` |" in GUIDE, key
    for status in ISSUE_STATUSES:
        assert f"| `{status}` |" in GUIDE, status
    for value in (*POLICY_STATUSES, *SATISFACTION):
        assert value in GUIDE
    for kind, keys in REQUIRED.items():
        for key in keys:
            assert re.search(rf"^\| `{key}` \| [^|]+ \| 必填 \|", GUIDE, re.M), (kind, key)


def test_default_taxonomy_matches():
    for name, terms in DEFAULT.items():
        line = next(line for line in GUIDE.splitlines() if line.startswith(f"- {name}："))
        assert line.split("：", 1)[1].split("、") == terms, name


def test_diagnostics_outside_the_registry_cannot_be_made():
    from policykb.content.diagnostics import ERROR, INFO, WARNING, Diagnostic, diagnostic
    with pytest.raises(ValueError):
        Diagnostic("a.md", 1, ERROR, "no-such-code", "x")
    with pytest.raises(ValueError):
        Diagnostic("a.md", 1, ERROR, "missing-recommended", "x")  # an info code is never an error
    assert Diagnostic("a.md", 1, ERROR, "issue-due", "x").severity == ERROR  # --strict raises warnings
    assert diagnostic("a.md", 1, "status-dates", "x").severity == WARNING
    assert diagnostic("a.md", 1, "deadline-format", "x").severity == INFO


def test_every_registered_code_is_used_by_the_content_stage():
    sources = "".join((PROJECT / "policykb" / "content" / name).read_text(encoding="utf-8")
                      for name in ("files.py", "loader.py", "validate.py", "eligibility.py"))
    unused = [code for code in CODES if f'"{code}"' not in sources]
    assert unused == []


def test_every_field_has_one_chinese_label():
    from policykb.content.labels import FIELD_LABEL, KIND_LABEL, field_label
    assert set(KIND_LABEL) == set(KNOWN_FIELDS)
    for kind, keys in KNOWN_FIELDS.items():
        for key in keys:
            assert key in FIELD_LABEL and field_label(key, kind) != key, (kind, key)
    for parent, model in (("apply", Apply), ("review", Review), ("history", HistoryEntry)):
        for key in model.model_fields:
            assert f"{parent}.{key}" in FIELD_LABEL, (parent, key)
    assert field_label("apply.deadline") == "申报截止" and field_label("department", "issue") == "承办单位"
