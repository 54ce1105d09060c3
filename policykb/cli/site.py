"""`policykb build` and `policykb serve`: the published site."""
from __future__ import annotations

import functools
import http.server
import sys
from pathlib import Path

import click

from policykb.console import EXIT_ERRORS, content_option, fail, print_diagnostics
from policykb.console import today_option as shared_today_option

profile_option = click.option("--profile", type=click.Choice(["public", "internal"]), default="public",
                              show_default=True, help="public：公开网站（不含任何诉求记录）；internal：含诉求台账的内部网站")
today_option = shared_today_option("按此日期计算政策状态和申报剩余天数（默认今天），格式 YYYY-MM-DD")
out_option = click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
                          help="输出目录（默认 build/site，内部网站为 build/site-internal）")


def _build(content_dir: str, out_dir: str | None, profile: str, today, verbose: bool):
    from policykb.content.loader import ContentRootError
    from policykb.site.build import BuildError, build_site

    day = today
    try:
        result = build_site(content_dir, Path(out_dir) if out_dir else None, profile=profile, today=day,
                            verbose=verbose)
    except ContentRootError as e:
        fail(str(e))
    except BuildError as e:
        if e.diagnostics:
            print_diagnostics(e.diagnostics, stream="err")
        click.echo(f"错误：{e}", err=True)
        sys.exit(EXIT_ERRORS)
    from policykb.content.diagnostics import WARNING

    warnings = sum(1 for d in result.diagnostics if d.severity == WARNING)
    if warnings:
        click.echo(f"内容有 {warnings} 个警告（不影响生成），运行 policykb validate 查看详情。", err=True)
    for notice in result.notices:
        click.echo(notice, err=True)
    kb = result.search_index_bytes / 1024
    click.echo(f"已生成{'内部' if profile == 'internal' else '公开'}网站：{result.out}（{result.pages} 个页面，"
               f"{result.policies} 项政策，检索索引 {kb:.0f} KB，用时 {result.seconds:.1f} 秒）")
    return result


@click.command("build")
@content_option
@out_option
@profile_option
@today_option
@click.option("-v", "--verbose", is_flag=True, help="显示 MkDocs 的详细输出")
def build_cmd(content_dir, out_dir, profile, today, verbose):
    """生成静态网站（先检查内容，有错误则不生成）。"""
    _build(content_dir, out_dir, profile, today, verbose)


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """The preview server: the site's own 404.html (Chinese, themed) for a missing path."""

    def send_error(self, code, message=None, explain=None):
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            return super().send_error(code, message, explain)
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@click.command("serve")
@content_option
@out_option
@profile_option
@today_option
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8000, show_default=True, type=int, help="端口")
@click.option("--no-build", is_flag=True, help="不重新生成，直接预览已有的输出目录")
def serve_cmd(content_dir, out_dir, profile, today, host, port, no_build):
    """生成网站并在本地预览（默认 http://127.0.0.1:8000）。"""
    from policykb.site.build import DEFAULT_OUT

    out = Path(out_dir) if out_dir else DEFAULT_OUT[profile]
    if not no_build:
        out = _build(content_dir, out_dir, profile, today, False).out
    elif not (out / "index.html").is_file():
        fail(f"{out} 中没有已生成的网站，请去掉 --no-build 重新运行。")
    handler = functools.partial(SiteHandler, directory=str(out))
    try:
        server = http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as e:
        fail(f"无法在 {host}:{port} 上启动预览服务：{e.strerror or e}。请换一个端口（--port）。")
    click.echo(f"预览地址：http://{host}:{port}/ （按 Ctrl+C 停止）")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("已停止预览。")
    finally:
        server.server_close()
