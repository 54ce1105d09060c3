"""`policykb schema` (JSON Schemas for editors' editors) and `policykb new` (a record scaffold)."""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from policykb.console import EXIT_OK, content_option, fail

FOLDER = {"policy": "policies", "faq": "faq"}


def _taxonomy(content_dir: str):
    from pathlib import PurePosixPath

    from policykb.content.loader import load_taxonomy

    diags: list = []
    root = Path(content_dir)
    tax = load_taxonomy(root, PurePosixPath(str(root)), diags) if root.is_dir() else None
    return tax, diags


def _write(path: Path, text: str, *, exclusive: bool = False) -> None:
    from policykb import fsio

    path.parent.mkdir(parents=True, exist_ok=True)
    fsio.write_atomic(path, text, exclusive=exclusive)


@click.command("schema")
@content_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=".schemas", show_default=True,
              help="写入的目录：policy、faq、issue 三种记录和分类表（taxonomy）各一个 .schema.json")
def schema_cmd(content_dir, out_dir):
    """按记录模型和分类表生成前置元数据的 JSON Schema，供 VS Code 等编辑器补全和检查。"""
    from policykb.console import print_diagnostics
    from policykb.content.schema import all_schemas

    tax, diags = _taxonomy(content_dir)
    if diags:
        print_diagnostics(diags, stream="err")
        fail("分类表有错误，没有生成 Schema。请先修正分类表。", 1)
    out = Path(out_dir)
    for name, schema in all_schemas(tax).items():
        _write(out / name, json.dumps(schema, ensure_ascii=False, indent=2) + "\n")
    click.echo(f"已生成 4 个 Schema：{out}/（policy、faq、issue、taxonomy）。分类表改动后请重新运行本命令。")
    sys.exit(EXIT_OK)


@click.command("new")
@click.argument("kind", type=click.Choice(["policy", "faq"]))
@click.argument("record_id")
@content_option
@click.option("--title", default="", help="政策标题或问答的问题（也可以稍后在文件里填写）")
@click.option("--dir", "sub_dir", default="", help="放在 policies/ 或 faq/ 下的哪个子文件夹（如 zone）")
def new_cmd(kind, record_id, content_dir, title, sub_dir):
    """新建一条政策或问答：写出带全部字段（按顺序）的文件，分类词表写在注释里。

    RECORD_ID 即文件名（小写字母、数字、连字符），例如 zone-tech-upgrade-2026。"""
    from policykb.content.loader import ID_PATTERN, iter_record_files
    from policykb.content.scaffold import scaffold

    if not ID_PATTERN.match(record_id):
        fail(f"“{record_id}” 不是合法的 id。请只用小写英文字母、数字和连字符，例如 zone-tech-upgrade-2026。")
    if sub_dir and (sub_dir.startswith(("/", ".")) or ".." in Path(sub_dir).parts or not re.fullmatch(r"[\w/-]+", sub_dir)):
        fail(f"子文件夹 “{sub_dir}” 不合适。请写 policies/ 或 faq/ 下的相对路径，例如 zone。")
    root = Path(content_dir)
    tax, diags = _taxonomy(content_dir)
    if root.is_dir():
        for path, rel, _ in iter_record_files(root):
            if path.stem == record_id:
                fail(f"id “{record_id}” 已被 {root / rel} 使用。id 在整个内容目录中必须唯一，请换一个。")
    target = root / FOLDER[kind] / sub_dir / f"{record_id}.md"
    try:
        _write(target, scaffold(kind, tax, title), exclusive=True)
    except FileExistsError:
        fail(f"{target} 已存在，没有覆盖。请换一个 id，或直接编辑这个文件。")
    click.echo(f"已新建 {target}。填好字段后运行 policykb validate --strict 检查。")
    sys.exit(EXIT_OK)
