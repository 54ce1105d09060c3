"""Diagnostics: one problem found in the content, pointing at `path:line`.

Every diagnostic code, with the severities it may have and a short Chinese description, lives in
`CODES`; a Diagnostic with an unregistered code or severity cannot be made. docs/editor-guide.md
explains each code to editors (tests/test_editor_guide.py reads `CODES` to keep the two in step).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"
INFO = "info"  # missing recommended keys: shown, never fails a run, not raised by --strict

SEVERITY_LABEL = {ERROR: "错误", WARNING: "警告", INFO: "提示"}
_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}

_E, _W, _I = (ERROR,), (WARNING,), (INFO,)
# Findings that a date passing can bring about (a policy reaching its expiry, a successor taking
# effect). Content ages: they are news for the editor, so they stay warnings even under --strict,
# and a PR check never fails because of the calendar.
CALENDAR = frozenset({"status-dates", "superseded-current"})
# code -> (severities it may be reported with, what it means)
CODES: dict[str, tuple[tuple[str, ...], str]] = {
    # files and the tree
    "encoding": (_E, "文件不是 UTF-8 编码"),
    "unreadable": (_E, "文件或文件夹无法读取"),
    "not-a-file": (_E + _W, "不是普通文件（管道、设备、文件夹）"),
    "broken-link": (_E, "符号链接指向的文件不存在或链接成环"),
    "symlink-outside": (_E, "符号链接指向内容目录之外"),
    "bad-filename": (_E, "文件名不是 UTF-8 编码"),
    "file-too-large": (_E, "文件太大"),
    "ignored-file": (_W, "文件没有被读取（扩展名、符号链接文件夹）"),
    "bad-id": (_E, "文件名不是合法的 id"),
    # YAML
    "no-front-matter": (_E, "没有前置元数据"),
    "yaml-syntax": (_E, "YAML 语法错误"),
    "yaml-alias": (_E, "用了 YAML 锚点或别名（& 和 *）"),
    "merge-key": (_E, "用了 YAML 合并键 “<<”"),
    "too-deep": (_E, "嵌套层数太多"),
    "field-too-long": (_E, "字段的值太长"),
    "duplicate-key": (_E, "同一个键写了两次"),
    # values
    "wrong-type": (_E, "值的类型不对"),
    "bad-date": (_E, "日期无效"),
    "deadline-format": (_I, "申报截止日期不是 YYYY-MM-DD 写法"),
    "bad-value": (_E, "取值不在允许范围内"),
    "unknown-key": (_W, "字段名像是拼错了"),
    "reserved-key": (_W, "由文件名决定的字段写进了前置元数据"),
    "list-shorthand": (_W, "列表字段只写了一个文本"),
    "missing-required": (_E, "缺少必填字段"),
    "missing-recommended": (_I, "建议填写的字段未填"),
    "unknown-term": (_E, "分类词不在分类表中"),
    # references
    "duplicate-id": (_E, "id 重复"),
    "dangling-ref": (_E, "引用的 id 不存在"),
    "cites-draft": (_W, "已发布的问答引用了草稿政策"),
    "wrong-ref-kind": (_E, "引用的记录类型不对"),
    "self-ref": (_E, "引用了自己"),
    "supersedes-cycle": (_E, "政策之间的替代关系成环"),
    "unmirrored-supersedes": (_W, "替代关系只在一端写明"),
    "superseded-current": (_W, "已被取代的政策仍按有效处理"),
    # policy dates and fields
    "status-dates": (_W, "状态与失效日期不符"),
    "date-order": (_E + _W, "日期先后不对"),
    "retroactive": (_I, "追溯施行"),
    "bad-period": (_E, "复核周期写法不对"),
    "future-date": (_W, "日期晚于今天"),
    "bad-url": (_E + _W, "网址不对（javascript:、data: 等会执行脚本的网址是错误）"),
    "bad-phone": (_W, "电话里没有号码"),
    "empty-body": (_W, "政策正文为空"),
    "empty-answer": (_E, "问答没有答案"),
    # problem records
    "issue-status": (_E, "诉求状态与其他字段不符"),
    "issue-department": (_E, "已交办的诉求没有承办单位"),
    "issue-due": (_W, "已交办的诉求没有办结时限"),
    "history-entry": (_E, "办理记录缺少日期或事项"),
    "history-order": (_W, "办理记录的日期先后不对"),
    # eligibility conditions (政策计算器, content/eligibility.py) and company profiles
    "eligibility-field": (_E, "申报条件的字段不在分类表中"),
    "eligibility-op": (_E, "申报条件的比较符不适用于字段类型"),
    "eligibility-unit": (_E, "申报条件的单位与字段不一致"),
    "eligibility-value": (_E, "申报条件的值类型不对"),
    "eligibility-impossible": (_E, "申报条件没有企业能满足"),
    "eligibility-text": (_W, "申报条件没有给企业看的说明"),
    "condition-field": (_E, "分类表的条件字段定义不对"),
    "bad-profile": (_E, "企业信息文件写得不对（policykb eligible）"),
}
del _E, _W, _I


@dataclass(frozen=True)
class Diagnostic:
    path: str  # as shown to the user: relative to the content root's parent when possible
    line: int
    severity: str
    code: str  # stable machine-readable kind, registered in CODES
    message: str  # Chinese: what is wrong, then how to fix it

    def __post_init__(self):
        allowed = CODES.get(self.code, ((),))[0]
        strict = self.severity == ERROR and WARNING in allowed  # `validate --strict` raises warnings
        if self.severity not in allowed and not strict:
            raise ValueError(f"diagnostic code {self.code!r} with severity {self.severity!r} is not in CODES")

    def format(self) -> str:
        return f"{self.path}:{self.line}: {SEVERITY_LABEL[self.severity]}[{self.code}]: {self.message}"

    def as_dict(self) -> dict:
        return asdict(self)


def diagnostic(path: str, line: int, code: str, message: str, severity: str | None = None) -> Diagnostic:
    """A Diagnostic whose severity defaults to the code's only one in CODES."""
    if severity is None:
        severities = CODES[code][0]
        if len(severities) != 1:
            raise ValueError(f"diagnostic code {code!r} has several severities: name one")
        severity = severities[0]
    return Diagnostic(path, line, severity, code, message)


class ContentInvalid(Exception):
    """Content with validation errors reached a step that must not use it (index, build).
    The one exception for "content is invalid": raised by any stage, caught once in the CLI."""

    def __init__(self, diagnostics, what: str = "没有建立索引"):
        super().__init__(f"内容有 {len(diagnostics)} 处错误，{what}。请先修正上面列出的问题"
                         f"（policykb validate 可查看全部问题）。")
        self.diagnostics = diagnostics


def sort_key(d: Diagnostic):
    return (d.path, d.line, _ORDER[d.severity], d.code)

