"""Shared CLI plumbing: content option, diagnostics printing, exit codes."""
from __future__ import annotations

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
