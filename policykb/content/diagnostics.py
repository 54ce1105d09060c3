"""Diagnostics: one problem found in the content, pointing at `path:line`."""
from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"
INFO = "info"  # missing recommended keys: shown, never fails a run, not raised by --strict

SEVERITY_LABEL = {ERROR: "错误", WARNING: "警告", INFO: "提示"}
_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True)
class Diagnostic:
    path: str  # as shown to the user: relative to the content root's parent when possible
    line: int
    severity: str
    code: str  # stable machine-readable kind, e.g. "yaml-syntax", "unknown-term"
    message: str  # Chinese: what is wrong, then how to fix it

    def format(self) -> str:
        return f"{self.path}:{self.line}: {SEVERITY_LABEL[self.severity]}[{self.code}]: {self.message}"

    def as_dict(self) -> dict:
        return asdict(self)


class ContentInvalid(Exception):
    """Content with validation errors reached a step that must not use it (index, build)."""

    def __init__(self, diagnostics, what: str = "没有建立索引"):
        super().__init__(f"内容有 {len(diagnostics)} 处错误，{what}。请先修正上面列出的问题"
                         f"（policykb validate 可查看全部问题）。")
        self.diagnostics = diagnostics


def sort_key(d: Diagnostic):
    return (d.path, d.line, _ORDER[d.severity], d.code)


def has_errors(diags) -> bool:
    return any(d.severity == ERROR for d in diags)
