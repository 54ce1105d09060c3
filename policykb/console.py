"""Shared CLI plumbing: content option, diagnostics printing, exit codes."""
from __future__ import annotations

import datetime as dt
import sys

import click

from policykb.content.diagnostics import ERROR, INFO, WARNING, sort_key
from policykb.paths import DEFAULT_CONTENT

EXIT_OK, EXIT_ERRORS, EXIT_CANNOT_RUN = 0, 1, 2

content_option = click.option(
    "--content", "content_dir", type=click.Path(file_okay=False), default=str(DEFAULT_CONTENT),
    show_default=True, help="内容目录（含 policies/、faq/、issues/）")


def fail(message: str, code: int = EXIT_CANNOT_RUN):
    """Print a Chinese message to stderr and exit (2 = could not run)."""
    click.echo(f"错误：{message}", err=True)
    sys.exit(code)


def print_diagnostics(diags, *, stream=None) -> dict:
    """Print diagnostics sorted by place; return counts per severity."""
    counts = {ERROR: 0, WARNING: 0, INFO: 0}
    for d in sorted(diags, key=sort_key):
        counts[d.severity] += 1
        click.echo(d.format(), err=stream == "err")
    return counts


class DateParam(click.ParamType):
    """A YYYY-MM-DD option value, refused in Chinese (click's DateTime answers in English)."""
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"“{value}” 不是有效日期，请写成 YYYY-MM-DD。", param, ctx)


DATE = DateParam()


def today_option(help: str = "以哪天为“今天”（默认今天），格式 YYYY-MM-DD，便于复现结果"):
    """The one name for "today" across commands: `--today`, with `--as-of` kept as an alias.
    The command receives `today` as a date (never None)."""
    def callback(ctx, param, value):
        return value or dt.date.today()
    return click.option("--today", "--as-of", "today", type=DATE, default=None, callback=callback, help=help)


_OS_REASONS = {
    "ENOSPC": "磁盘空间已满", "EDQUOT": "磁盘配额已满", "EACCES": "没有权限", "EPERM": "没有权限",
    "ENOENT": "文件或目录不存在", "ENOTDIR": "路径中有一段不是目录", "EISDIR": "这是一个目录",
    "ELOOP": "符号链接形成循环", "EROFS": "文件系统只读", "EIO": "读写出错", "ENAMETOOLONG": "路径太长",
    "EEXIST": "文件已存在", "EFBIG": "文件超过允许的大小（磁盘或配额限制）", "EMFILE": "打开的文件过多", "EBUSY": "文件正被占用",
}


def os_error_message(e: OSError) -> str:
    """A Chinese sentence for an operating-system error, naming the path."""
    import errno
    reason = _OS_REASONS.get(errno.errorcode.get(e.errno or 0, ""), e.strerror or "系统错误")
    where = "、".join(str(p) for p in (e.filename, getattr(e, "filename2", None)) if p)
    return f"{reason}：{where}。请检查该路径后重试。" if where else f"{reason}。请检查后重试。"


def clean_text(text: str) -> str:
    """Text from argv or stdin with bytes that were not UTF-8 (kept by Python as surrogates)
    replaced by U+FFFD, so nothing downstream fails on them."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace") if text else text
