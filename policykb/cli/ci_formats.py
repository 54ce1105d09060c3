"""Diagnostics as CI platforms show them on a pull request's changed lines.

- GitHub Actions (and Gitea/Forgejo Actions, which read the same commands): one
  `::error file=PATH,line=N,title=CODE::MESSAGE` workflow command per diagnostic.
- GitLab: a Code Quality report (JSON list; description, check_name, fingerprint, severity,
  location.path, location.lines.begin), uploaded with `artifacts:reports:codequality`.
"""
from __future__ import annotations

import hashlib
import json

from policykb.content.diagnostics import ERROR, INFO, WARNING, Diagnostic, sort_key

GITHUB_COMMAND = {ERROR: "error", WARNING: "warning", INFO: "notice"}
# Code Quality severities: info, minor, major, critical, blocker.
GITLAB_SEVERITY = {ERROR: "major", WARNING: "minor", INFO: "info"}


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(diags: list[Diagnostic]) -> list[str]:
    """One workflow command line per diagnostic, in place order."""
    out = []
    for d in sorted(diags, key=sort_key):
        props = f"file={_escape_property(d.path)},line={d.line},title={_escape_property(d.code)}"
        out.append(f"::{GITHUB_COMMAND[d.severity]} {props}::{_escape_data(d.message)}")
    return out


def gitlab_code_quality(diags: list[Diagnostic]) -> list[dict]:
    """Code Quality issues. The fingerprint leaves the line out, so a finding that only moved
    is not reported as new; repeats of one message in one file are told apart by their rank."""
    seen: dict[str, int] = {}
    out = []
    for d in sorted(diags, key=sort_key):
        key = f"{d.path}\0{d.code}\0{d.message}"
        seen[key] = seen.get(key, 0) + 1
        fp = hashlib.md5(f"{key}\0{seen[key]}".encode()).hexdigest()
        out.append({"description": d.message, "check_name": d.code, "fingerprint": fp,
                    "severity": GITLAB_SEVERITY[d.severity], "type": "issue", "categories": ["Style"],
                    "location": {"path": d.path, "lines": {"begin": d.line}}})
    return out


def gitlab_report_json(diags: list[Diagnostic]) -> str:
    return json.dumps(gitlab_code_quality(diags), ensure_ascii=False, indent=2) + "\n"
