"""The one loader: content tree -> typed records + diagnostics with `path:line`.

Every tool reads content only through `load_content` (and `fingerprint`). It never raises
for bad content: each problem becomes a Diagnostic and the record still loads with what
could be read, so later checks see the whole tree in one run.

YAML is parsed and composed by libyaml (`yaml.CSafeLoader`, whose nodes keep their marks, so
every key path gets its file line); the pure-Python parser only re-reads a text libyaml
rejected, to word the error. Untrusted input is bounded: aliases/anchors and merge keys are
refused, nesting (MAX_DEPTH), file size (MAX_FILE_BYTES) and values (MAX_VALUE_CHARS) capped,
and files.scan_record_files decides which files are safe to open at all.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import difflib
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml
from pydantic import ValidationError

from policykb.content.diagnostics import ERROR, INFO, WARNING, Diagnostic, diagnostic
from policykb.content.files import (  # noqa: F401 (re-exported)
    LOADER_VERSION,
    TAXONOMY_FILE,
    ContentRootError,
    fingerprint,
    iter_record_files,
    misnamed_record_files,
    printable,
    require_content_root,
    scan_record_files,
)
from policykb.content.models import KNOWN_FIELDS, LIST_FIELDS, MODELS, RESERVED, Faq, InvalidDate, Issue, Policy, Record
from policykb.content.taxonomy import CONDITION_FIELDS, DEFAULT, REGIONS_KEY, Taxonomy, parse_regions
from policykb.gcpause import paused

ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FRONT = re.compile(r"\A---[ \t]*\n(.*?)^---[ \t]*$\n?", re.S | re.M)

# Bounds on what one file may make the tools do (records are a few KB, nesting 3 levels).
MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 20
MAX_VALUE_CHARS = 20_000
# Cheap signs that a text might nest deeper than libyaml's recursive composer can take.
_MAYBE_DEEP = re.compile(r"^[ \t]{500,}|(?:[-?:][ \t]+){100,}", re.M)
_MERGE_TAG = "tag:yaml.org,2002:merge"
# Where an anchor (&a) or alias (*a) may start: after a space, a line start or a flow indicator.
_MAYBE_ALIAS = re.compile(r"(?:^|[\s\[\{,])[&*][^\s,\[\]\{\}]", re.M)


def _timestamp(loader, node):
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, TypeError, AttributeError, OverflowError):  # also an explicit !!timestamp on any text
        return InvalidDate(node.value)


class _LineLoader(yaml.CSafeLoader):
    """libyaml parses and composes (it keeps every node's mark); Python constructs."""


class _WordingLoader(yaml.SafeLoader):
    """The pure-Python parser, used only to word a syntax error libyaml found."""


for _cls in (_LineLoader, _WordingLoader):
    _cls.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


class YamlRefused(yaml.YAMLError):
    """Valid YAML the contract refuses (aliases, too deep): stops reading that file's YAML."""

    def __init__(self, line: int, code: str, message: str):
        super().__init__(message)
        self.line, self.code, self.problem = line, code, message


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
    # Record files that exist but could not be read (bad encoding, unreadable, broken link...):
    # id -> kind. Their own file carries the error; references to them are not reported again.
    unloaded: dict[str, str] = field(default_factory=dict)

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

    def public(self) -> Content:
        """The same tree as the public site may see it: no problem records, no FAQ links to them,
        no diagnostics about them. Validate the full tree first; build public views from this."""
        issue_paths = {self.shown(i.relpath) for i in self.issues}
        return dataclasses.replace(
            self, policies=list(self.policies),
            faqs=[f.model_copy(update={"issues": []}) if f.issues else f for f in self.faqs],
            issues=[], include_issues=False,
            diagnostics=[d for d in self.diagnostics if d.path not in issue_paths],
            unloaded={k: v for k, v in self.unloaded.items() if v != "issue"})


_TOO_DEEP = f"嵌套超过 {MAX_DEPTH} 层。内容规范最多用到三层（如 history 下的每条记录），请检查缩进和括号。"


def _deep(text: str, first_line: int) -> None:
    """Refuse nesting deeper than MAX_DEPTH before libyaml's recursive composer sees it."""
    depth = 0
    for ev in yaml.parse(text, Loader=_WordingLoader):  # event stream: no recursion, no objects
        if isinstance(ev, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise YamlRefused(ev.start_mark.line + first_line, "too-deep", _TOO_DEEP)
        elif isinstance(ev, yaml.CollectionEndEvent):
            depth -= 1


def _no_aliases(text: str, first_line: int) -> None:
    for ev in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
            raise YamlRefused(ev.start_mark.line + first_line, "yaml-alias",
                              "用了 YAML 锚点或别名（“&名字” 或 “*名字”），内容规范不使用它们。"
                              "请把要重复的内容直接写出来；值里确实有 & 或 * 时，请给整个值加上引号。")


def _worded(err: yaml.YAMLError, text: str) -> yaml.YAMLError:
    """The pure-Python parser's account of a syntax error (its messages are the ones hinted)."""
    loader = _WordingLoader(text)
    try:
        loader.get_single_node()
    except yaml.YAMLError as e:
        return e
    finally:
        loader.dispose()
    return err


def parse_yaml(text: str, first_line: int):
    """YAML -> (data, {key path: file line}, [(line, code, message, key path)] problems).

    Problems are duplicate keys, merge keys and over-long values (the value is dropped, the rest
    loads). Raises yaml.YAMLError for syntax errors (caller maps its mark to a file line) and
    YamlRefused (a YAMLError with .line, .code) for aliases and too deep nesting.
    """
    try:
        if _MAYBE_DEEP.search(text) or text.count("[") + text.count("{") > 200:
            _deep(text, first_line)
        if _MAYBE_ALIAS.search(text):
            _no_aliases(text, first_line)
        loader = _LineLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {(): first_line}, []
            lines, problems = _walk(node, first_line)
            try:
                data = loader.construct_document(node)
            except (ValueError, TypeError, AttributeError, OverflowError) as e:  # a value under an odd tag
                raise YamlRefused(first_line, "yaml-syntax", f"前置元数据里有无法读取的值（{e}）。"
                                  f"请删除 “!!” 开头的类型标记，按内容规范书写。") from None
        finally:
            loader.dispose()
    except YamlRefused:
        raise
    except yaml.YAMLError as e:
        raise _worded(e, text) from None
    return data, lines, problems


def _walk(root, first_line: int):
    """Lines of every key path; duplicate keys, merge keys and over-long values (dropped)."""
    lines: dict[tuple, int] = {}
    problems: list[tuple[int, str, str, tuple]] = []
    stack = [(root, ())]
    while stack:
        n, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise YamlRefused(n.start_mark.line + first_line, "too-deep", _TOO_DEEP)
        lines.setdefault(path, n.start_mark.line + first_line)  # a key's own line was set first
        if isinstance(n, yaml.MappingNode):
            seen = set()
            kept = []
            for k, v in n.value:
                key, line = k.value, k.start_mark.line + first_line
                if not isinstance(k, yaml.ScalarNode):
                    problems.append((line, "wrong-type", "键必须是一个词，不能是列表或映射，已忽略这一项。"
                                                         "请写成 “键: 值”。", path))
                    continue
                if k.tag == _MERGE_TAG:
                    problems.append((line, "merge-key", "用了 YAML 合并键 “<<”，内容规范不使用它，已忽略这一项。"
                                                        "请把要合并的字段直接写在这里。", path))
                    continue
                if key in seen:
                    problems.append((line, "duplicate-key", f"“{key}” 重复出现。请只保留一个。", path + (key,)))
                seen.add(key)
                lines[path + (key,)] = line  # key line beats value line
                kept.append((k, v))
                stack.append((v, path + (key,)))
            n.value = kept
        elif isinstance(n, yaml.SequenceNode):
            stack.extend((v, path + (i,)) for i, v in enumerate(n.value))
        elif len(n.value) > MAX_VALUE_CHARS:
            problems.append((n.start_mark.line + first_line, "field-too-long",
                             f"“{'.'.join(map(str, path))}” 的值超过 {MAX_VALUE_CHARS} 个字，已忽略。"
                             f"前置元数据只写要点，长文请写在正文里。", path))
            n.tag, n.value = "tag:yaml.org,2002:null", ""
    lines[()] = first_line
    return lines, problems


# (words in the YAML context or problem, Chinese explanation, report where the construct opened?)
_YAML_HINTS = (
    ("flow sequence", "方括号 “[” 没有闭合", True),
    ("flow mapping", "花括号 “{” 没有闭合", True),
    ("quoted scalar", "引号没有闭合", True),
    ("simple key", "这一行缺少冒号，应写成 “键: 值”", True),
    ("mapping values are not allowed", "这里不能出现 “键: 值”，常见原因是缩进不对，或值里有未加引号的冒号", False),
    ("sequence entries are not allowed", "这里不能出现列表项 “- ”，常见原因是缩进不对，或把列表写在了 “键:” 的同一行", False),
    ("constructor for the tag", "不支持 “!” 开头的类型标记，请删除它", False),
    ("unhashable key", "键必须是一个词，不能是列表或映射", False),
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
    """UTF-8 text with BOM and CRLF normalised, or None (with a diagnostic).

    Opened without blocking and checked to be a regular file before reading, so a FIFO or a
    device put in place of a record never hangs a tool; size bounded by MAX_FILE_BYTES."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        code = "broken-link" if os.path.islink(path) else "unreadable"
        diags.append(diagnostic(shown, 1, code, f"无法读取这个文件（{e.strerror}）。请检查文件是否存在、权限是否可读。"))
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            diags.append(diagnostic(shown, 1, "not-a-file", "这不是普通文件（可能是管道、设备或文件夹），没有读取。"
                                                            "请换成普通的 UTF-8 文本文件。", ERROR))
            return None
        if st.st_size > MAX_FILE_BYTES:
            diags.append(diagnostic(shown, 1, "file-too-large",
                                    f"文件有 {st.st_size // 1024} KB，超过上限 {MAX_FILE_BYTES // 1024} KB，没有读取。"
                                    f"一条记录一个文件；请把过长的附件、原文另存，只在这里写要点。"))
            return None
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        diags.append(diagnostic(shown, 1, "unreadable", f"无法读取这个文件（{e.strerror}）。请检查文件权限。"))
        return None
    finally:
        os.close(fd)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        diags.append(diagnostic(shown, line, "encoding",
                                f"文件不是 UTF-8 编码（第 {e.start + 1} 个字节无法解码）。请用 UTF-8 重新保存此文件。"))
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _yaml_failure(e: yaml.YAMLError, shown: str, first_line: int, what: str) -> Diagnostic:
    if isinstance(e, YamlRefused):
        return diagnostic(shown, e.line, e.code, e.problem)
    return diagnostic(shown, _yaml_error_line(e, first_line), "yaml-syntax",
                      f"{what}YAML 语法错误：{_yaml_hint(e)[0]}。请检查缩进、冒号和引号。")


def load_taxonomy(root: Path, shown_root: PurePosixPath, diags: list[Diagnostic]) -> Taxonomy:
    path = root / TAXONOMY_FILE
    shown = str(shown_root / TAXONOMY_FILE)
    if not os.path.lexists(path):
        return Taxonomy()
    if os.path.islink(path) and os.path.exists(path) and not _inside_root(path, root):
        diags.append(diagnostic(shown, 1, "symlink-outside", "分类表是指向内容目录之外的符号链接，没有读取，已按默认分类表检查。"
                                                             "请把分类表文件本身放进内容目录。"))
        return Taxonomy(path=shown)
    if os.path.isdir(path):
        diags.append(diagnostic(shown, 1, "not-a-file", f"{TAXONOMY_FILE} 是一个文件夹，不是文件，已按默认分类表检查。"
                                                        f"请删除这个文件夹，或换成分类表文件。", ERROR))
        return Taxonomy(path=shown)
    text = read_text(path, shown, diags)
    if text is None:
        return Taxonomy(path=shown)
    try:
        data, lines, problems = parse_yaml(text, 1)
    except yaml.YAMLError as e:
        diags.append(_yaml_failure(e, shown, 1, ""))
        return Taxonomy(path=shown)
    for line, code, message, _ in problems:
        diags.append(diagnostic(shown, line, code, message))
    vocab = {k: list(v) for k, v in DEFAULT.items()}
    if data is None:
        return Taxonomy(vocab, shown)
    if not isinstance(data, dict):
        diags.append(diagnostic(shown, 1, "wrong-type", "分类表应为“名称: 词表”的映射。请按默认分类表的格式书写。"))
        return Taxonomy(vocab, shown)
    region_aliases, problems = parse_regions(data.pop(REGIONS_KEY, None))
    for keys, message in problems:
        diags.append(diagnostic(shown, lines.get(keys, lines.get((REGIONS_KEY,), 1)), "wrong-type", message))
    fields = None
    for name, terms in data.items():
        if name == "condition_fields":  # a mapping of field definitions, not a word list
            from policykb.content.eligibility import parse_fields
            fields, problems = parse_fields(terms, lines, shown, CONDITION_FIELDS)
            diags.extend(problems)
            continue
        if not isinstance(terms, list) or not all(isinstance(t, str) and t.strip() for t in terms):
            diags.append(diagnostic(shown, lines.get((name,), 1), "wrong-type",
                                    f"词表 “{name}” 应为非空文本组成的列表。请改为 “- 词条” 的列表形式。"))
            continue
        vocab[str(name)] = [t.strip() for t in terms]
    extra = {"condition_fields": fields} if fields is not None else {}
    return Taxonomy(vocab, shown, region_aliases, **extra)


def _inside_root(path, root) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


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


def _hint_written_dates(record: Record, data: dict, shown: str, diags: list[Diagnostic]) -> None:
    """A deadline written the Chinese way was read as a date: tell the editor the standard form."""
    apply = data.get("apply")
    raw = apply.get("deadline") if isinstance(apply, dict) else None
    read = getattr(getattr(record, "apply", None), "deadline_date", None)
    if isinstance(raw, str) and read and raw.strip() != read.isoformat():
        diags.append(Diagnostic(shown, record.line_of("apply", "deadline"), INFO, "deadline-format",
                                f"申报截止日期 “{raw.strip()}” 已按 {read.isoformat()} 读取。"
                                f"请写成 YYYY-MM-DD，例如 deadline: {read.isoformat()}。"))


def load_record(path: Path, relpath: str, kind: str, shown: str, diags: list[Diagnostic]) -> Record | None:
    """One record file -> a record (None when the file itself cannot be read), with diagnostics.

    The record says what the loader found: `front_matter_ok` is False when there was no usable
    front matter (nothing in it was checked), `rejected` holds the key paths whose values were
    reported and dropped (the validator does not report them again)."""
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
        diags.append(diagnostic(shown, 1, "no-front-matter", message))
        return model.model_validate({**base, "lines": {(): 1}, "body_line": 1, "front_matter_ok": False})
    try:
        data, lines, problems = parse_yaml(fm, 2)
    except yaml.YAMLError as e:
        diags.append(_yaml_failure(e, shown, 2, "前置元数据的 "))
        return model.model_validate({**base, "lines": {(): 1}, "front_matter_ok": False})
    rejected: set[tuple] = set()
    for line, code, message, keys in problems:
        diags.append(diagnostic(shown, line, code, message))
        if code == "field-too-long":
            rejected.add(keys)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        diags.append(diagnostic(shown, 2, "wrong-type", "前置元数据应为 “键: 值” 的映射。请参照内容规范书写。"))
        data = {}
    data = {str(k): v for k, v in data.items()}
    _check_keys(kind, data, lines, shown, diags)
    for _ in range(8):  # each pass drops the values that failed; every key is optional, so this ends
        try:
            record = model.model_validate({**data, **base, "lines": lines, "rejected": frozenset(rejected)})
            _hint_written_dates(record, data, shown, diags)
            return record
        except ValidationError as e:
            data = copy.deepcopy(data)
            for err in e.errors():
                loc = tuple(p for p in err["loc"])
                code, msg = _type_message(err)
                diags.append(diagnostic(shown, lines.get(loc, lines.get(loc[:1], 2)), code, msg))
                rejected.add(loc)
                _delete(data, loc)
    return model.model_validate({**base, "lines": lines, "rejected": frozenset(rejected)})


def load_content(root, *, include_issues: bool = True) -> Content:
    """Load a content tree. `include_issues=False` skips problem records (public builds);
    prefer loading the whole tree once and taking `Content.public()`."""
    shown_root = PurePosixPath(printable(str(root)))  # a root named in bytes that are not UTF-8 still prints
    root = require_content_root(root)
    diags: list[Diagnostic] = []
    content = Content(root=root.resolve(), shown_root=shown_root, taxonomy=load_taxonomy(root, shown_root, diags),
                      include_issues=include_issues)
    buckets = {"policy": content.policies, "faq": content.faqs, "issue": content.issues}
    scan = scan_record_files(root)
    for problem in scan.problems:
        if problem.relpath.startswith("issues/") and not include_issues:
            continue
        diags.append(Diagnostic(str(shown_root / problem.relpath), 1, problem.severity, problem.code, problem.message))
    content.unloaded.update({k: v for k, v in scan.unreadable_ids.items() if include_issues or v != "issue"})
    with paused():  # records are trees: see policykb.gcpause
        for path, rel, kind in scan.files:
            if kind == "issue" and not include_issues:
                continue
            shown = str(shown_root / rel)
            if not ID_PATTERN.match(path.stem):
                diags.append(diagnostic(shown, 1, "bad-id",
                                        f"文件名 “{path.stem}” 不是合法的 id。请只用小写英文字母、数字和连字符，例如 tj-tech-upgrade-2025.md。"))
            record = load_record(path, rel, kind, shown, diags)
            if record is not None:
                buckets[kind].append(record)
            else:
                content.unloaded.setdefault(path.stem, kind)
    for rel in misnamed_record_files(root):
        diags.append(diagnostic(str(shown_root / rel), 1, "ignored-file",
                                "扩展名不是小写的 .md，这个文件没有被读取。请把扩展名改为 .md。"))
    content.diagnostics = diags
    return content
