"""`policykb validate`: check a content tree against the content contract."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys

import click

from policykb.console import EXIT_ERRORS, EXIT_OK, content_option, fail, print_diagnostics
from policykb.content.diagnostics import ERROR, INFO, WARNING, sort_key
from policykb.content.loader import ContentRootError, load_content
from policykb.content.validate import count_files
from policykb.content.validate import validate as run_rules


class _DateParam(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"“{value}” 不是有效日期，请写成 YYYY-MM-DD。", param, ctx)


def summary_line(files: int, counts: dict) -> str:
    return (f"检查了 {files} 个文件：{counts[ERROR]} 个错误，{counts[WARNING]} 个警告，"
            f"{counts[INFO]} 个提示。")


@click.command("validate", help="检查内容是否符合内容规范：逐条列出 文件:行号: 问题。怎么改。"
                                "有错误时退出码为 1，无法运行时为 2。")
@content_option
@click.option("--strict", is_flag=True, help="把警告也当作错误（提示不受影响）")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="输出格式：text 给人看，json 给程序用")
@click.option("--today", type=_DateParam(), default=None,
              help="按这一天判断有效期等日期规则（默认今天），便于复现结果")
def validate(content_dir, strict, fmt, today):
    root = content_dir
    try:
        content = load_content(root)
    except ContentRootError as e:
        fail(str(e))
    diags = run_rules(content, today)
    if strict:
        diags = [dataclasses.replace(d, severity=ERROR) if d.severity == WARNING else d for d in diags]
    files = count_files(content)
    if fmt == "json":
        counts = {s: sum(1 for d in diags if d.severity == s) for s in (ERROR, WARNING, INFO)}
        click.echo(json.dumps({"files": files, "errors": counts[ERROR], "warnings": counts[WARNING],
                               "infos": counts[INFO],
                               "diagnostics": [d.as_dict() for d in sorted(diags, key=sort_key)]},
                              ensure_ascii=False, indent=2))
    else:
        counts = print_diagnostics(diags)
        click.echo(summary_line(files, counts))
    sys.exit(EXIT_ERRORS if counts[ERROR] else EXIT_OK)
