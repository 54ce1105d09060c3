"""`policykb validate`: check a content tree against the content contract."""
from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import click

from policykb.console import EXIT_ERRORS, EXIT_OK, content_option, fail, print_diagnostics, today_option
from policykb.content.diagnostics import CALENDAR, ERROR, INFO, WARNING, sort_key
from policykb.content.loader import ContentRootError, load_content
from policykb.content.validate import count_files
from policykb.content.validate import validate as run_rules


def summary_line(files: int, counts: dict) -> str:
    return (f"检查了 {files} 个文件：{counts[ERROR]} 个错误，{counts[WARNING]} 个警告，"
            f"{counts[INFO]} 个提示。")


def _ci_report(diags, fmt: str, output: str | None) -> dict:
    """Annotations (github) or a Code Quality report (gitlab); a report file is written
    atomically, so a reader never sees half of it."""
    from policykb.cli.ci_formats import github_annotations, gitlab_report_json

    counts = {s: sum(1 for d in diags if d.severity == s) for s in (ERROR, WARNING, INFO)}
    if fmt == "github":
        for line in github_annotations(diags):
            click.echo(line)
        return counts
    report = gitlab_report_json(diags)
    if not output:
        click.echo(report, nl=False)
        return counts
    from policykb import fsio

    target = Path(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    fsio.write_atomic(target, report)
    print_diagnostics(diags)
    return counts


@click.command("validate", help="检查内容是否符合内容规范：逐条列出 文件:行号: 问题。怎么改。"
                                "有错误时退出码为 1，无法运行时为 2。")
@content_option
@click.option("--strict", is_flag=True, help="把警告也当作错误（提示不受影响）")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "gitlab"]), default="text",
              show_default=True,
              help="输出格式：text 给人看，json 给程序用，github 为 GitHub/Gitea 的行内标注，"
                   "gitlab 为 GitLab 代码质量报告（JSON）")
@click.option("--output", "output", type=click.Path(dir_okay=False), default=None,
              help="gitlab 格式：把报告写入此文件（默认写到标准输出）；写文件时问题清单照常打印")
@today_option("按这一天判断有效期等日期规则（默认今天），便于复现结果")
def validate(content_dir, strict, fmt, today, output):
    root = content_dir
    try:
        content = load_content(root)
    except ContentRootError as e:
        fail(str(e))
    diags = run_rules(content, today)
    if strict:
        # Calendar findings stay warnings: a PR never fails because a date has passed.
        diags = [dataclasses.replace(d, severity=ERROR) if d.severity == WARNING and d.code not in CALENDAR else d
                 for d in diags]
    files = count_files(content)
    if fmt == "json":
        counts = {s: sum(1 for d in diags if d.severity == s) for s in (ERROR, WARNING, INFO)}
        click.echo(json.dumps({"files": files, "errors": counts[ERROR], "warnings": counts[WARNING],
                               "infos": counts[INFO],
                               "diagnostics": [d.as_dict() for d in sorted(diags, key=sort_key)]},
                              ensure_ascii=False, indent=2))
    elif fmt in ("github", "gitlab"):
        counts = _ci_report(diags, fmt, output)
        click.echo(summary_line(files, counts), err=fmt == "gitlab" and not output)
    else:
        counts = print_diagnostics(diags)
        click.echo(summary_line(files, counts))
    sys.exit(EXIT_ERRORS if counts[ERROR] else EXIT_OK)
