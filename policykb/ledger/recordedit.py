"""Textual edits of a record's front matter that keep every untouched byte.

We never re-dump a whole record: set/insert top-level keys and append history items by
editing lines, locating them with the loader's own line map (`parse_yaml`). The result is
re-loaded through the loader and checked before it atomically replaces the old file.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from policykb import fsio
from policykb.content.diagnostics import ERROR
from policykb.content.loader import load_record, parse_yaml
from policykb.content.models import Issue, Record

_EOL = re.compile(r"\r\n|\r|\n")
_FENCE = re.compile(r"^---[ \t]*$")


class EditError(Exception):
    """An edit that cannot be made safely (message in Chinese)."""


def split_lines(text: str) -> list[str]:
    """Lines with their own endings, split exactly where the loader splits (\\r\\n, \\r, \\n)."""
    out, start = [], 0
    for m in _EOL.finditer(text):
        out.append(text[start:m.end()])
        start = m.end()
    if start < len(text):
        out.append(text[start:])
    return out


def format_scalar(value) -> str:
    """One-line YAML for a value we write (text, date, bool, list of text)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(format_scalar(v) for v in value) + "]"
    dumped = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=10**9)
    return dumped.removesuffix("\n").removesuffix("\n...").strip()


@dataclass
class FrontMatter:
    """A record file opened for editing: raw lines plus where each top-level key sits."""
    path: Path
    prefix: str  # BOM, if any
    lines: list[str]  # raw lines, endings kept
    close: int  # index of the closing '---' line
    keys: dict[str, int] = field(default_factory=dict)  # top-level key -> line index
    data: dict = field(default_factory=dict)
    newline: str = "\n"
    set_values: dict = field(default_factory=dict)  # what we set, for verification
    appended: dict = field(default_factory=dict)  # key -> items we appended
    raw: bytes = b""  # the file as read: the write stops if the file holds anything else by then

    @classmethod
    def open(cls, path: Path) -> FrontMatter:
        raw = Path(path).read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise EditError(f"{path}: 文件不是 UTF-8 编码，无法修改。请先用 UTF-8 重新保存。") from None
        prefix = ""
        if text.startswith("\ufeff"):
            prefix, text = "\ufeff", text[1:]
        lines = split_lines(text)
        if not lines or not _FENCE.match(lines[0].rstrip("\r\n")):
            raise EditError(f"{path}:1: 文件开头没有 YAML 前置元数据，无法修改。")
        close = next((i for i in range(1, len(lines)) if _FENCE.match(lines[i].rstrip("\r\n"))), None)
        if close is None:
            raise EditError(f"{path}:1: 前置元数据没有以 “---” 结束，无法修改。")
        fm = "".join(lines[1:close]).replace("\r\n", "\n").replace("\r", "\n")
        try:
            data, linemap, _ = parse_yaml(fm, 2)
        except yaml.YAMLError as e:
            raise EditError(f"{path}: 前置元数据的 YAML 语法错误，请先修正再操作：{getattr(e, 'problem', e)}") from None
        if data is not None and not isinstance(data, dict):
            raise EditError(f"{path}:2: 前置元数据不是 “键: 值” 的映射，无法修改。")
        m = _EOL.search(text)
        fmobj = cls(Path(path), prefix, lines, close, newline=m.group(0) if m else "\n", data=data or {}, raw=raw)
        fmobj.keys = {k[0]: line - 1 for k, line in linemap.items() if len(k) == 1}
        return fmobj

    # -- spans -----------------------------------------------------------------------------
    def _span(self, key: str) -> tuple[int, int]:
        """[start, end) line indexes of a top-level key with its value, without trailing
        blank or column-0 comment lines (those belong to what follows)."""
        start = self.keys[key]
        later = [i for i in self.keys.values() if i > start]
        end = min(later) if later else self.close
        while end - 1 > start and (not self.lines[end - 1].strip() or self.lines[end - 1].startswith("#")):
            end -= 1
        return start, end

    def _shift(self, at: int, delta: int) -> None:
        self.keys = {k: (i + delta if i >= at else i) for k, i in self.keys.items()}
        self.close += delta

    def _line(self, text: str) -> str:
        return text + self.newline

    # -- edits -----------------------------------------------------------------------------
    def set(self, key: str, value, *, order: tuple[str, ...] = ()) -> None:
        """Replace a top-level key's value, or insert it after the nearest key that precedes it
        in `order` (else before `history`, else at the end of the front matter)."""
        new = self._line(f"{key}: {format_scalar(value)}")
        if key in self.keys:
            start, end = self._span(key)
            self.lines[start:end] = [new]
            self._shift(end, 1 - (end - start))
            self.keys[key] = start
        else:
            at = self._insert_point(key, order)
            self.lines.insert(at, new)
            self._shift(at, 1)
            self.keys[key] = at
        self.data[key] = value
        self.set_values[key] = value

    def _insert_point(self, key: str, order: tuple[str, ...]) -> int:
        if key in order:
            before = [k for k in order[: order.index(key)] if k in self.keys]
            if before:
                return self._span(before[-1])[1]
            after = [k for k in order[order.index(key) + 1:] if k in self.keys]
            if after:
                return min(self.keys[k] for k in after)
        if "history" in self.keys:
            return self.keys["history"]
        return self._end_of_keys()

    def _end_of_keys(self) -> int:
        if not self.keys:
            return self.close
        last = max(self.keys, key=self.keys.get)
        return self._span(last)[1]

    def append_item(self, key: str, item: dict, *, order: tuple[str, ...] = ()) -> None:
        """Append a mapping to a top-level block list (history), matching its indentation."""
        body = [f"{k}: {format_scalar(v)}" for k, v in item.items() if v is not None]
        if key in self.keys and self.data.get(key):
            start, end = self._span(key)
            item_lines = [ln for ln in self.lines[start + 1:end] if ln.lstrip().startswith("- ")]
            if self.lines[start].split(":", 1)[1].strip() or not item_lines:
                raise EditError(f"{self.path}:{start + 1}: “{key}” 不是逐行书写的列表（“- ” 开头），无法自动追加。"
                                f"请改成每项一行的写法后再操作。")
            indent = item_lines[0][: len(item_lines[0]) - len(item_lines[0].lstrip())]
            new = [self._line(f"{indent}- {body[0]}")] + [self._line(f"{indent}  {b}") for b in body[1:]]
            if not self.lines[end - 1].endswith(("\n", "\r")):
                self.lines[end - 1] += self.newline
            self.lines[end:end] = new
            self._shift(end, len(new))
        else:  # missing, empty or `[]`: (re)write the key as a block list
            new = [self._line(f"{key}:"), self._line(f"  - {body[0]}")] + [self._line(f"    {b}") for b in body[1:]]
            if key in self.keys:
                start, end = self._span(key)
                self.lines[start:end] = new
                self._shift(end, len(new) - (end - start))
            else:
                at = self._insert_point(key, order)
                self.lines[at:at] = new
                self._shift(at, len(new))
                self.keys[key] = at
        self.data[key] = [*(self.data.get(key) or []), item]
        self.appended.setdefault(key, []).append(item)

    def text(self) -> str:
        return self.prefix + "".join(self.lines)


def write_atomic(path: Path, text: str, verify=None, *, expect: bytes | None = None, exclusive: bool = False) -> None:
    """Write text next to path, let `verify(temp_path)` check it, then replace path in one step
    (`policykb.fsio.write_atomic`). Any failure leaves the old file untouched and removes the temp file;
    `expect` stops the write (fsio.Conflict) if the file no longer holds those bytes."""
    fsio.write_atomic(Path(path), text, verify, expect=expect, exclusive=exclusive)


def reload(path: Path, like: Record, at: Path | None = None) -> tuple[Record | None, list]:
    """Load `at` (default: path) through the loader as the same kind of record as `like`."""
    diags: list = []
    rec = load_record(Path(at or path), like.relpath, like.kind, str(path), diags)
    if rec is not None:  # the temp file's name must not leak into the id
        rec.id, rec.path = Path(path).stem, Path(path)
    return rec, diags


def _comparable(rec: Record) -> dict:
    return rec.model_dump(exclude={"lines", "path", "body_line"})


def save_edit(fm: FrontMatter, before: Record, changed: set[str]) -> Record:
    """Verify the edited text through the loader, then replace the file atomically.

    The check: no new loader errors, the body is unchanged, every key we did not touch
    loads to the same value as before, and every key we touched loads to what we meant."""
    result: dict = {}
    before_errors = len([d for d in reload(fm.path, before)[1] if d.severity == ERROR])

    def verify(tmp: Path) -> None:
        rec, diags = reload(fm.path, before, tmp)
        errors = [d for d in diags if d.severity == ERROR]
        if rec is None or len(errors) > before_errors:
            raise EditError("修改后的文件无法通过读取检查，已保留原文件：" + "；".join(d.message for d in errors))
        old, new = _comparable(before), _comparable(rec)
        for k in set(old) | set(new):
            if k not in changed and old.get(k) != new.get(k):
                raise EditError(f"修改意外改变了字段 “{k}”，已保留原文件。")
        for k, want in fm.set_values.items():
            got = new.get(k)
            want = want.strip() if isinstance(want, str) else want
            if got != want:
                raise EditError(f"字段 “{k}” 写入后读出的值不一致（{got!r} ≠ {want!r}），已保留原文件。")
        for k, items in fm.appended.items():
            got, had = new.get(k) or [], old.get(k) or []
            tail = [{kk: vv for kk, vv in g.items() if vv is not None} for g in got[len(had):]]
            want = [{kk: (vv.strip() if isinstance(vv, str) else vv) for kk, vv in i.items() if vv is not None}
                    for i in items]
            if got[:len(had)] != had or tail != want:
                raise EditError(f"“{k}” 追加后读出的内容不一致，已保留原文件。")
        result["record"] = rec

    write_atomic(fm.path, fm.text(), verify, expect=fm.raw)
    return result["record"]


def load_one(path: Path, kind: str = "issue") -> Record:
    """Load one record file for editing; refuses files the loader reports errors for."""
    path = Path(path)
    diags: list = []
    rec = load_record(path, path.name, kind, str(path), diags)
    errors = [d for d in diags if d.severity == ERROR]
    if rec is None or errors:
        raise EditError("；".join(d.format() for d in errors) or f"{path}: 无法读取")
    return rec


ISSUE_ORDER = tuple(k for k in Issue.model_fields if k not in Record.model_fields)
