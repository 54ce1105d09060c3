"""Loader: one small fixture tree per kind of bad input, asserting path, line and code."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from policykb.content.diagnostics import ERROR, WARNING
from policykb.content.loader import ContentRootError, fingerprint, load_content

GOOD_POLICY = """
---
title: 技术改造补助办法
published: 2025-03-10
categories: [产业发展, 科技创新]
apply:
  phone: 022-12345678
  deadline: 2026-12-15
---
## 支持内容
按设备投资额的10%给予补助。
"""


def found(content) -> set[tuple]:
    """Diagnostics as (path relative to the root, line, severity, code)."""
    return {(Path(d.path).relative_to(content.shown_root).as_posix(), d.line, d.severity, d.code)
            for d in content.diagnostics}


def test_good_tree_loads_typed_records_with_lines(make_tree):
    root = make_tree({"policies/zone/zone-tech-2025.md": GOOD_POLICY})
    content = load_content(root)
    assert content.diagnostics == []
    [p] = content.policies
    assert (p.id, p.kind, p.relpath) == ("zone-tech-2025", "policy", "policies/zone/zone-tech-2025.md")
    assert p.published == dt.date(2025, 3, 10)
    assert p.categories == ["产业发展", "科技创新"]
    assert p.apply.phone == "022-12345678" and p.apply.deadline == dt.date(2026, 12, 15)
    assert p.line_of("title") == 2
    assert p.line_of("categories", 1) == 4  # flow list: items share the key's line
    assert p.line_of("apply", "deadline") == 7
    assert p.line_of("apply", "nope") == 5  # falls back to the parent key
    assert p.body_line == 9 and p.body.startswith("## 支持内容")


def test_malformed_yaml(make_tree):
    root = make_tree({"policies/p-bad.md": """
        ---
        title: 技术改造
        categories: [产业发展, 科技创新
        summary: 要点
        ---
        正文
        """})
    content = load_content(root)
    assert found(content) == {("policies/p-bad.md", 3, ERROR, "yaml-syntax")}
    assert "YAML 语法错误：方括号 “[” 没有闭合" in content.diagnostics[0].message
    assert [p.id for p in content.policies] == ["p-bad"]  # still loaded, so references to it resolve


def test_bad_indentation_points_at_the_line(make_tree):
    root = make_tree({"policies/p-indent.md": "---\ntitle: 甲\napply:\n  phone: 1\n    url: x\n---\n正文\n"})
    assert found(load_content(root)) == {("policies/p-indent.md", 5, ERROR, "yaml-syntax")}


def test_tab_indentation_is_explained(make_tree):
    root = make_tree({"policies/p-tab.md": "---\ntitle: 甲\napply:\n\tphone: 1\n---\n正文\n"})
    [d] = load_content(root).diagnostics
    assert (d.line, d.code) == (4, "yaml-syntax") and "Tab" in d.message


def test_wrong_types(make_tree):
    root = make_tree({"policies/p-types.md": """
        ---
        title: [不该是列表]
        categories:
          - 产业发展
          - {a: b}
        apply: 区科技局
        ---
        正文
        """})
    content = load_content(root)
    assert found(content) == {
        ("policies/p-types.md", 2, ERROR, "wrong-type"),
        ("policies/p-types.md", 3, ERROR, "wrong-type"),
        ("policies/p-types.md", 6, ERROR, "wrong-type"),
    }
    [p] = content.policies
    assert p.title is None and p.apply is None  # bad values dropped, record kept


def test_bad_dates(make_tree):
    root = make_tree({"policies/p-dates.md": """
        ---
        title: 甲
        published: 2025-02-30
        effective: 2025/03/01
        apply:
          deadline: 2025/13/01
        ---
        正文
        """})
    content = load_content(root)
    assert found(content) == {
        ("policies/p-dates.md", 3, ERROR, "bad-date"),
        ("policies/p-dates.md", 4, ERROR, "bad-date"),
        ("policies/p-dates.md", 6, ERROR, "bad-date"),
    }
    msgs = {d.line: d.message for d in content.diagnostics}
    assert "2025-02-30" in msgs[3] and "YYYY-MM-DD" in msgs[3]
    # (a deadline in words, such as 明年三月 or 常年受理, is a rolling deadline: see below)


def test_bad_status_value_suggests_the_closest(make_tree):
    root = make_tree({"policies/p-status.md": "---\ntitle: 甲\nstatus: efective\n---\n正文\n"})
    [d] = load_content(root).diagnostics
    assert (d.line, d.severity, d.code) == (3, ERROR, "bad-value")
    assert "“effective”" in d.message


def test_non_utf8_bytes(make_tree):
    root = make_tree({"faq/q-gbk.md": "---\nquestion: 设备补贴怎么申请？\n---\n答案\n".encode("gbk")})
    content = load_content(root)
    assert found(content) == {("faq/q-gbk.md", 2, ERROR, "encoding")}
    assert "UTF-8" in content.diagnostics[0].message
    assert content.faqs == []


def test_bom_and_crlf_load_with_right_lines(make_tree):
    text = "---\r\ntitle: 甲\r\n\r\npublished: 2025-01-02\r\n---\r\n正文\r\n"
    root = make_tree({"policies/p-bom.md": b"\xef\xbb\xbf" + text.encode("utf-8")})
    content = load_content(root)
    assert content.diagnostics == []
    [p] = content.policies
    assert p.title == "甲" and p.line_of("published") == 4 and p.body_line == 6 and p.body == "正文\n"


def test_duplicate_key_and_missing_front_matter(make_tree):
    root = make_tree({
        "policies/p-dup.md": "---\ntitle: 甲\nsummary: 一\nsummary: 二\n---\n正文\n",
        "policies/p-none.md": "只有正文，没有前置元数据。\n",
    })
    assert found(load_content(root)) == {
        ("policies/p-dup.md", 4, ERROR, "duplicate-key"),
        ("policies/p-none.md", 1, ERROR, "no-front-matter"),
    }


def test_bad_id_unknown_key_reserved_key_and_list_shorthand(make_tree):
    root = make_tree({
        "policies/Bad_Name.md": "---\ntitle: 甲\n---\n正文\n",
        "policies/p-keys.md": "---\ntitle: 甲\ncategoris: [产业发展]\nid: other\nkeywords: 技改\nnote_for_me: 自定义字段\n---\n正文\n",
    })
    content = load_content(root)
    assert found(content) == {
        ("policies/Bad_Name.md", 1, ERROR, "bad-id"),
        ("policies/p-keys.md", 3, WARNING, "unknown-key"),
        ("policies/p-keys.md", 4, WARNING, "reserved-key"),
        ("policies/p-keys.md", 5, WARNING, "list-shorthand"),
    }
    p = next(p for p in content.policies if p.id == "p-keys")
    assert p.keywords == ["技改"]  # shorthand still understood
    assert "“categories”" in next(d.message for d in content.diagnostics if d.code == "unknown-key")


def test_taxonomy_file_overrides_and_errors(make_tree):
    root = make_tree({
        "taxonomy.yml": "categories: [新类别]\nsupport: 资金补贴\n",
        "policies/p.md": "---\ntitle: 甲\n---\n正文\n",
    })
    content = load_content(root)
    assert found(content) == {("taxonomy.yml", 2, ERROR, "wrong-type")}
    assert content.taxonomy.terms("categories") == ["新类别"]
    assert "资金补贴" in content.taxonomy.terms("support")  # default kept for the broken list


def test_readme_and_hidden_files_are_not_records(make_tree):
    root = make_tree({"policies/README.md": "# 说明\n", "policies/.draft/p.md": "x", "policies/p.md": GOOD_POLICY})
    assert [p.id for p in load_content(root).policies] == ["p"]


def test_skip_issues_for_public_builds(make_tree):
    root = make_tree({"issues/i-1.md": "---\ntitle: 甲\n---\n正文\n", "policies/p.md": GOOD_POLICY})
    assert load_content(root, include_issues=False).issues == []
    assert [i.id for i in load_content(root).issues] == ["i-1"]


def test_missing_root_raises(tmp_path):
    with pytest.raises(ContentRootError, match="内容目录不存在"):
        load_content(tmp_path / "nope")


def test_fingerprint_follows_content(make_tree):
    root = make_tree({"policies/p.md": GOOD_POLICY})
    before = fingerprint(root)
    assert fingerprint(root) == before
    (root / "policies" / "p.md").write_text(GOOD_POLICY.replace("10%", "12%"), encoding="utf-8")
    assert fingerprint(root) != before


def test_messages_for_common_slips_point_at_the_right_place(make_tree):
    from policykb.content.loader import load_content
    from policykb.content.validate import validate
    root = make_tree({
        "policies/a.md": "---\ntitle: 2025-01-01\n---\n正文\n",
        "policies/b.md": "---\ntitle: 没有结尾\n正文\n",
        "issues/2026-0001.md": ("---\ntitle: t\nreceived: 2026-01-01\ncategory: 税费\nstatus: received\n"
                                "history:\n  - foo\n  - date: 2026-01-02\n---\nx\n"),
        "issues/2026-0002.md": ("---\ntitle: t\nreceived: 2026-01-01\ncategory: 税费\nstatus: received\n"
                                "history: 已受理\n---\nx\n"),
    })
    got = {(d.path.split("/")[-1], d.line, d.code, d.severity): d.message
           for d in validate(load_content(root)) if d.severity != "info"}
    keys = sorted(got)
    assert keys == [("2026-0001.md", 7, "wrong-type", "error"),        # the bad entry itself
                    ("2026-0001.md", 8, "history-entry", "error"),     # the next one keeps its number
                    ("2026-0002.md", 6, "wrong-type", "error"),        # one message, not a contradiction
                    ("a.md", 2, "wrong-type", "error"),
                    ("b.md", 1, "no-front-matter", "error")]
    assert "第 2 条" in got[("2026-0001.md", 8, "history-entry", "error")]
    assert "加上引号" in got[("a.md", 2, "wrong-type", "error")]
    assert "没有结束的" in got[("b.md", 1, "no-front-matter", "error")]


def test_upper_case_extension_is_reported_not_silently_skipped(make_tree):
    from policykb.content.loader import load_content
    root = make_tree({"policies/a.md": "---\ntitle: 甲\n---\n正文\n", "policies/sub/b.MD": "---\ntitle: 乙\n---\n正文\n"})
    content = load_content(root)
    assert [p.id for p in content.policies] == ["a"]
    assert [(d.path[len(str(root)) + 1:], d.line, d.code, d.severity) for d in content.diagnostics] == [
        ("policies/sub/b.MD", 1, "ignored-file", "warning")]


@pytest.mark.parametrize("written", ["2025年3月1日", "2025.3.1", "2025/3/1", "２０２５年３月１日"])
def test_a_deadline_written_the_chinese_way_is_read_as_that_date_with_a_hint(make_tree, written):
    from policykb.content.diagnostics import INFO
    root = make_tree({"policies/p.md": GOOD_POLICY.replace("deadline: 2026-12-15", f"deadline: {written}")})
    content = load_content(root)
    [p] = content.policies
    assert p.apply.deadline == dt.date(2025, 3, 1) == p.apply.deadline_date and p.apply.rolling is None
    assert found(content) == {("policies/p.md", 7, INFO, "deadline-format")}
    assert "YYYY-MM-DD" in content.diagnostics[0].message and "2025-03-01" in content.diagnostics[0].message


@pytest.mark.parametrize("text", ["常年受理", "长期受理", "按年度通知申报"])
def test_a_text_deadline_is_a_rolling_one_kept_as_written(make_tree, text):
    from policykb.content.validate import validate
    root = make_tree({"policies/p.md": GOOD_POLICY.replace("deadline: 2026-12-15", f"deadline: {text}")})
    content = load_content(root)
    [p] = content.policies
    assert p.apply.deadline == text == p.apply.rolling == p.apply.deadline_text and p.apply.deadline_date is None
    assert [d for d in validate(content, dt.date(2026, 1, 1)) if d.severity != "info"] == []


def test_an_impossible_written_deadline_is_an_error(make_tree):
    root = make_tree({"policies/p.md": GOOD_POLICY.replace("deadline: 2026-12-15", "deadline: 2025年2月30日")})
    content = load_content(root)
    assert found(content) == {("policies/p.md", 7, ERROR, "bad-date")}
    assert content.policies[0].apply.deadline is None
