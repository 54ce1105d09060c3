"""The one loader: content tree -> typed records + diagnostics with `path:line`.

Every tool reads content only through `load_content` (and `fingerprint`). It never raises
for bad content: each problem becomes a Diagnostic and the record still loads with what
could be read, so later checks see the whole tree in one run.
"""
from __future__ import annotations

import copy
import datetime as dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml
from pydantic import ValidationError

from policykb.content.files import (LOADER_VERSION, TAXONOMY_FILE, ContentRootError,  # noqa: F401 (re-exported)
                           fingerprint, iter_record_files, misnamed_record_files, require_content_root)
from policykb.content.diagnostics import ERROR, WARNING, Diagnostic
from policykb.content.models import KNOWN_FIELDS, LIST_FIELDS, MODELS, RESERVED, Faq, Issue, Policy, Record
from policykb.content.taxonomy import CONDITION_FIELDS, DEFAULT, Taxonomy

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?)^---[ \t]*$\n?", re.S | re.M)


class _InvalidDate(str):
    """A YAML timestamp that is not a real date (2025-02-30): kept as text for a precise error."""


class _LineLoader(yaml.SafeLoader):
    pass


def _timestamp(loader, node):
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        return _InvalidDate(node.value)


_LineLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


@dataclass
class Content:
    root: Path
    shown_root: PurePosixPath  # the root as the user named it, for messages
    taxonomy: Taxonomy
    policies: list[Policy] = field(default_factory=list)
    faqs: list[Faq] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    include_issues: bool = True  # False for public builds: problem records were never read

    def records(self) -> list[Record]:
        return [*self.policies, *self.faqs, *self.issues]

    @property
    def by_id(self) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for r in self.records():
            out.setdefault(r.id, r)  # duplicates are the validator's to report
        return out

    def shown(self, relpath: str) -> str:
        return str(self.shown_root / relpath)


def parse_yaml(text: str, first_line: int):
    """YAML -> (data, {key path: file line}, [(line, message)] duplicate-key problems).

    Raises yaml.YAMLError for syntax errors (caller maps its mark to a file line).
    """
    loader = _LineLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {(): first_line}, []
        data = loader.construct_document(node)
    finally:
        loader.dispose()
    lines: dict[tuple, int] = {}
    dups: list[tuple[int, str]] = []

    def walk(n, path):
        lines[path] = n.start_mark.line + first_line
        if isinstance(n, yaml.MappingNode):
            seen = set()
            for k, v in n.value:
                key = k.value
                if key in seen:
                    dups.append((k.start_mark.line + first_line, key))
                seen.add(key)
                lines[path + (key,)] = k.start_mark.line + first_line
                walk(v, path + (key,))
                lines[path + (key,)] = k.start_mark.line + first_line  # key line beats value line
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                walk(v, path + (i,))

    walk(node, ())
    lines[()] = first_line
    return data, lines, dups


# (words in the YAML context or problem, Chinese explanation, report where the construct opened?)
_YAML_HINTS = (
    ("flow sequence", "方括号 “[” 没有闭合", True),
    ("flow mapping", "花括号 “{” 没有闭合", True),
    ("quoted scalar", "引号没有闭合", True),
    ("simple key", "这一行缺少冒号，应写成 “键: 值”", True),
    ("mapping values are not allowed", "这里不能出现 “键: 值”，常见原因是缩进不对，或值里有未加引号的冒号", False),
    ("expected <block end>", "缩进不一致，同一层的键或列表项要左端对齐", False),
    ("'\\t'", "不能用 Tab 缩进，请改用空格", False),
)


def _yaml_hint(err: yaml.YAMLError):
    text = f"{getattr(err, 'context', '') or ''} {getattr(err, 'problem', '') or ''}"
    for words, hint, at_open in _YAML_HINTS:
        if words in text:
            return hint, at_open
    return f"无法解析（{getattr(err, 'problem', None) or err}）", False


def _yaml_error_line(err: yaml.YAMLError, first_line: int) -> int:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    problem = str(getattr(err, "problem", "") or "")
    at_open = _yaml_hint(err)[1]
    if ("stream end" in problem or "document end" in problem or at_open) and getattr(err, "context_mark", None):
        mark = err.context_mark  # an unclosed bracket or quote: point at where it opened
    return (mark.line + first_line) if mark is not None else first_line


def read_text(path: Path, shown: str, diags: list[Diagnostic]) -> str | None:
    """UTF-8 text with BOM and CRLF normalised, or None (with a diagnostic)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        diags.append(Diagnostic(shown, line, ERROR, "encoding",
                                f"文件不是 UTF-8 编码（第 {e.start + 1} 个字节无法解码）。请用 UTF-8 重新保存此文件。"))
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_taxonomy(root: Path, shown_root: PurePosixPath, diags: list[Diagnostic]) -> Taxonomy:
    path = root / TAXONOMY_FILE
    if not path.is_file():
        return Taxonomy()
    shown = str(shown_root / TAXONOMY_FILE)
    text = read_text(path, shown, diags)
    if text is None:
        return Taxonomy(path=shown)
    try:
        data, lines, dups = parse_yaml(text, 1)
    except yaml.YAMLError as e:
        diags.append(Diagnostic(shown, _yaml_error_line(e, 1), ERROR, "yaml-syntax",
                                f"YAML 语法错误：{_yaml_hint(e)[0]}。请检查缩进、冒号和引号。"))
        return Taxonomy(path=shown)
    for line, key in dups:
        diags.append(Diagnostic(shown, line, ERROR, "duplicate-key", f"键 “{key}” 重复出现。请删除或合并重复的键。"))
    vocab = {k: list(v) for k, v in DEFAULT.items()}
    if data is None:
        return Taxonomy(vocab, shown)
    if not isinstance(data, dict):
        diags.append(Diagnostic(shown, 1, ERROR, "wrong-type", "分类表应为“名称: 词表”的映射。请按默认分类表的格式书写。"))
        return Taxonomy(vocab, shown)
    fields = None
    for name, terms in data.items():
        if name == "condition_fields":  # a mapping of field definitions, not a word list
            from policykb.content.eligibility import parse_fields
            fields, problems = parse_fields(terms, lines, shown, CONDITION_FIELDS)
            diags.extend(problems)
            continue
        if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
            diags.append(Diagnostic(shown, lines.get((name,), 1), ERROR, "wrong-type",
                                    f"词表 “{name}” 应为非空文本组成的列表。请改为 “- 词条” 的列表形式。"))
            continue
        vocab[str(name)] = [t.strip() for t in terms]
    return Taxonomy(vocab, shown, fields) if fields is not None else Taxonomy(vocab, shown)


def _split_front_matter(text: str):
    """-> (front matter text or None, body, body's first line)."""
    m = _FRONT.match(text)
    if not m:
        return None, text, 1
    fm = m.group(1)
    body_line = 1 + m.group(0).count("\n") + (0 if m.group(0).endswith("\n") else 1)
    return fm, text[m.end():], body_line


def _keypath(loc) -> str:
    return ".".join(str(p) for p in loc)


def _delete(data: dict, loc: tuple) -> None:
    """Drop the value at loc so the record can load without it. A bad list item becomes an
    empty one rather than vanishing, so later items keep their numbers in messages."""
    try:
        target = data
        for p in loc[:-1]:
            target = target[p]
        if isinstance(target, list):
            target[loc[-1]] = {}
        else:
            del target[loc[-1]]
    except (KeyError, IndexError, TypeError):
        data.pop(loc[0], None)


def _type_message(err: dict) -> tuple[str, str]:
    kind, key = err["type"], _keypath(err["loc"])
    if kind == "pkb_date":
        return "bad-date", f"“{key}” 的值 “{err['input']}” 不是有效日期。请写成 YYYY-MM-DD，例如 2025-03-01。"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        allowed = [s.strip(" '") for s in re.split(r",| or ", expected) if s.strip(" '")]
        hint = difflib.get_close_matches(str(err["input"]), allowed, n=1, cutoff=0.3)
        tip = f"是否应为 “{hint[0]}”？" if hint else ""
        return "bad-value", f"“{key}” 的值 “{err['input']}” 不在允许范围内（{'、'.join(allowed)}）。{tip}请改为其中之一。"
    if kind == "pkb_text" and isinstance(err.get("input"), (dt.date, bool)):
        return "wrong-type", (f"“{key}” 应为文本，但 “{err['input']}” 被 YAML 读成了日期或真假值。"
                              f"请给这个值加上引号，例如 {key}: \"{err['input']}\"。")
    if kind in ("pkb_text",):
        return "wrong-type", f"“{key}” 应为文本，不能是列表或映射。请写成一行文字。"
    if kind in ("pkb_text_list", "list_type"):
        return "wrong-type", f"“{key}” 应为列表，每项一行，以 “- ” 开头。"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "wrong-type", f"“{key}” 应为映射（下一级的 “键: 值”）。请参照内容规范书写。"
    if kind.startswith("bool"):
        return "wrong-type", f"“{key}” 应为 true 或 false。"
    return "wrong-type", f"“{key}” 的值类型不对（{err['msg']}）。请参照内容规范修改。"


def _check_keys(kind: str, data: dict, lines: dict, shown: str, diags: list[Diagnostic]) -> None:
    known = KNOWN_FIELDS[kind]
    for key in list(data):
        if key in RESERVED:
            diags.append(Diagnostic(shown, lines.get((key,), 1), WARNING, "reserved-key",
                                    f"“{key}” 由文件名和位置决定，不能在前置元数据里设置，已忽略。请删除这一行。"))
            data.pop(key)
        elif key not in known:
            hint = difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6)
            if hint:
                diags.append(Diagnostic(shown, lines.get((key,), 1), WARNING, "unknown-key",
                                        f"未知字段 “{key}”，是否应为 “{hint[0]}”？请更正拼写。"))
        elif key in LIST_FIELDS and isinstance(data[key], str) and not (kind == "policy" and key == "issuer"):
            diags.append(Diagnostic(shown, lines.get((key,), 1), WARNING, "list-shorthand",
                                    f"“{key}” 应为列表，这里写成了单个文本，已按一项处理。请改为 “- {data[key]}”。"))


def load_record(path: Path, relpath: str, kind: str, shown: str, diags: list[Diagnostic]) -> Record | None:
    model = MODELS[kind]
    text = read_text(path, shown, diags)
    if text is None:
        return None
    fm, body, body_line = _split_front_matter(text)
    base = {"id": path.stem, "kind": kind, "relpath": relpath, "path": path, "body": body, "body_line": body_line}
    if fm is None:
        message = ("前置元数据只有开头的 “---”，没有结束的 “---”。请在最后一个字段之后另起一行写 “---”。"
                   if text.startswith("---") else
                   "文件开头没有 YAML 前置元数据。请在第一行写 “---”，随后写字段，再以 “---” 结束。")
        diags.append(Diagnostic(shown, 1, ERROR, "no-front-matter", message))
        return model.model_validate({**base, "lines": {(): 1}, "body_line": 1})
    try:
        data, lines, dups = parse_yaml(fm, 2)
    except yaml.YAMLError as e:
        diags.append(Diagnostic(shown, _yaml_error_line(e, 2), ERROR, "yaml-syntax",
                                f"前置元数据的 YAML 语法错误：{_yaml_hint(e)[0]}。请检查缩进、冒号和引号。"))
        return model.model_validate({**base, "lines": {(): 1}})
    for line, key in dups:
        diags.append(Diagnostic(shown, line, ERROR, "duplicate-key", f"字段 “{key}” 重复出现。请只保留一个。"))
    if data is None:
        data = {}
    if not isinstance(data, dict):
        diags.append(Diagnostic(shown, 2, ERROR, "wrong-type", "前置元数据应为 “键: 值” 的映射。请参照内容规范书写。"))
        data = {}
    data = {str(k): v for k, v in data.items()}
    _check_keys(kind, data, lines, shown, diags)
    record_kw = {**base, "lines": lines}
    for _ in range(8):  # each pass drops the values that failed; every key is optional, so this ends
        try:
            return model.model_validate({**data, **record_kw})
        except ValidationError as e:
            data = copy.deepcopy(data)
            for err in e.errors():
                loc = tuple(p for p in err["loc"])
                code, msg = _type_message(err)
                diags.append(Diagnostic(shown, lines.get(loc, lines.get(loc[:1], 2)), ERROR, code, msg))
                _delete(data, loc)
    return model.model_validate(record_kw)


def load_content(root, *, include_issues: bool = True) -> Content:
    """Load a content tree. `include_issues=False` skips problem records (public builds)."""
    shown_root = PurePosixPath(str(root))
    root = require_content_root(root)
    diags: list[Diagnostic] = []
    content = Content(root=root.resolve(), shown_root=shown_root, taxonomy=load_taxonomy(root, shown_root, diags),
                      include_issues=include_issues)
    buckets = {"policy": content.policies, "faq": content.faqs, "issue": content.issues}
    for path, rel, kind in iter_record_files(root):
        if kind == "issue" and not include_issues:
            continue
        shown = str(shown_root / rel)
        if not ID_PATTERN.match(path.stem):
            diags.append(Diagnostic(shown, 1, ERROR, "bad-id",
                                    f"文件名 “{path.stem}” 不是合法的 id。请只用小写英文字母、数字和连字符，例如 tj-tech-upgrade-2025.md。"))
        record = load_record(path, rel, kind, shown, diags)
        if record is not None:
            buckets[kind].append(record)
    for rel in misnamed_record_files(root):
        diags.append(Diagnostic(str(shown_root / rel), 1, WARNING, "ignored-file",
                                "扩展名不是小写的 .md，这个文件没有被读取。请把扩展名改为 .md。"))
    content.diagnostics = diags
    return content
