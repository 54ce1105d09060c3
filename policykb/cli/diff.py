"""`policykb diff BASE [HEAD]`: a reviewer's summary of a content change (Markdown or JSON).

Both sides are read through the loader from Git objects (policykb.content.gitsnap): BASE and
HEAD are revisions; without HEAD the working tree's content folder is the new side.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

import click

from policykb.console import EXIT_OK, content_option, fail, today_option
from policykb.content.labels import KIND_SHORT_LABEL

CHANGE_LABEL = {"added": "新增", "removed": "删除", "renamed": "改名", "moved": "移动", "changed": "修改"}
PAGE_LABEL = {"added": "新页面", "removed": "页面删除", "changed": "内容变化"}
MAX_CELL = 120
# A PR comment holds 65536 characters on GitHub (1 MB on GitLab): long lists are cut, with a note.
MAX_ITEMS, MAX_SECTIONS, MAX_CHARS = 100, 40, 60000


def _more(n: int) -> list[str]:
    return [f"- ……另有 {n} 项，完整内容见 `policykb diff --json`", ""] if n > 0 else [""]


def _cell(value, private: bool = False) -> str:
    from policykb.content.diff import _show

    if private:
        return "（私密字段，不显示）"
    text = _show(value).replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[:MAX_CELL] + "…"


def render_markdown(d) -> str:
    lines = [f"## 内容改动摘要：{d.base} → {d.head}", ""]
    if d.empty:
        return "\n".join(lines + ["本次改动没有改变任何政策、问答或诉求记录。", ""])
    counts = "，".join(f"{CHANGE_LABEL[c]} {d.count(c)}" for c in CHANGE_LABEL if d.count(c))
    lines += [f"共 {len(d.records)} 条记录有改动（{counts or '无'}），公开网站 {len(d.pages)} 个页面会变化。"
              f"日期规则按 {d.today.isoformat()} 判断。", ""]
    alerts = ([f"- 政策 `{r['id']}` {r['title']}：本次改动后不再有效（{r['text']}）" for r in d.retired]
              + [f"- 政策 `{s['new']}` 取代 `{s['old']}`（{s['old_title']}）" for s in d.superseded]
              + [f"- {KIND_SHORT_LABEL['faq']} `{f['id']}` {f['title']}：{f['text']}，请改引用或删去这一项" for f in d.orphaned_faqs])
    if alerts:
        lines += ["### 请审核人特别留意", "", *alerts, ""]
    for change in ("added", "removed", "renamed", "moved"):
        rows = [r for r in d.records if r.change == change]
        if not rows:
            continue
        lines += [f"### {CHANGE_LABEL[change]}（{len(rows)}）", ""]
        for r in rows[:MAX_ITEMS]:
            where = f"`{r.old_path}` → `{r.path}`" if r.old_path else f"`{r.path}`"
            was = f"（原 id `{r.old_id}`）" if r.old_id else ""
            lines.append(f"- {KIND_SHORT_LABEL[r.kind]} `{r.id}`{was} {r.title}：{where}")
        lines += _more(len(rows) - MAX_ITEMS)
    edited = [r for r in d.records
              if r.change in ("changed", "renamed") and (r.fields or r.body_added or r.body_removed)]
    for r in edited[:MAX_SECTIONS]:
        lines += [f"### {CHANGE_LABEL[r.change]}：{KIND_SHORT_LABEL[r.kind]} `{r.id}` {r.title}", "", f"文件：`{r.path}`", ""]
        lines += [f"- **{n}**" for n in r.notes]
        if r.notes:
            lines.append("")
        if r.fields:
            lines += ["| 字段 | 原值 | 新值 |", "|---|---|---|"]
            lines += [f"| {c.label}（`{c.key}`） | {_cell(c.old, c.private)} | {_cell(c.new, c.private)} |"
                      for c in r.fields]
            lines.append("")
        if r.body_added or r.body_removed:
            secret = "（诉求正文为私密内容，不显示）" if r.kind == "issue" else ""
            lines += [f"正文：增加 {r.body_added} 行，删除 {r.body_removed} 行{secret}", ""]
    if len(edited) > MAX_SECTIONS:
        lines += [f"另有 {len(edited) - MAX_SECTIONS} 条修改没有逐条列出，完整内容见 `policykb diff --json`。", ""]
    if d.pages:
        lines += [f"### 公开网站会变化的页面（{len(d.pages)}）", ""]
        lines += [f"- `{p['page']}` {p['title']}（{PAGE_LABEL[p['change']]}）" for p in d.pages[:MAX_ITEMS]]
        lines += _more(len(d.pages) - MAX_ITEMS)
    text = "\n".join(lines)
    if len(text) > MAX_CHARS:
        text = text[:text.rindex("\n", 0, MAX_CHARS)] + "\n\n……摘要太长，后面的内容已省略，完整内容见 `policykb diff --json`。\n"
    return text


def _as_json(d) -> str:
    data = dataclasses.asdict(d)
    data["today"] = d.today.isoformat()
    for r in data["records"]:
        for c in r["fields"]:
            if c["private"]:
                c["old"] = c["new"] = None
    data["counts"] = {c: d.count(c) for c in CHANGE_LABEL}
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def compute_diff(content_dir: str, base: str, head: str | None, today: dt.date, pages: bool = True):
    from policykb.content.diff import diff_content
    from policykb.content.gitsnap import extract_tree, locate, resolve, short
    from policykb.content.loader import load_content

    loc = locate(content_dir)
    base_commit = resolve(loc, base)
    head_commit = resolve(loc, head) if head else None
    with tempfile.TemporaryDirectory(prefix="policykb-diff-") as tmp:
        old_root = Path(tmp) / "base"
        extract_tree(loc, base_commit, old_root)
        if head_commit:
            new_root = Path(tmp) / "head"
            extract_tree(loc, head_commit, new_root)
        else:
            new_root = Path(content_dir)
        old, new = load_content(old_root), load_content(new_root)
        label_head = f"{head}（{short(loc, head_commit)}）" if head_commit else "工作区"
        d = diff_content(old, new, today=today, base=f"{base}（{short(loc, base_commit)}）", head=label_head)
        if pages:
            from policykb.site.pagediff import changed_pages
            d.pages = changed_pages(old, new, today)
    return d


@click.command("diff")
@click.argument("base")
@click.argument("head", required=False)
@content_option
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（给程序用），默认输出 Markdown（可贴到合并请求）")
@today_option("按这一天判断政策是否有效（默认今天），格式 YYYY-MM-DD")
@click.option("--no-pages", is_flag=True, help="不比较网站页面（更快）")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="写入此文件（默认写到标准输出）")
def diff_cmd(base, head, content_dir, as_json, today, no_pages, output):
    """比较两个版本的内容：新增、删除、改名和修改的记录，逐字段列出原值 → 新值。

    BASE、HEAD 是 Git 版本（分支、标签或提交号）；不写 HEAD 时与工作区比较。"""
    from policykb.content.gitsnap import GitError
    from policykb.content.loader import ContentRootError

    day = today
    try:
        d = compute_diff(content_dir, base, head, day, pages=not no_pages)
    except (GitError, ContentRootError) as e:
        fail(str(e))
    text = _as_json(d) if as_json else render_markdown(d)
    if output:
        from policykb import fsio

        target = Path(output)
        target.parent.mkdir(parents=True, exist_ok=True)
        fsio.write_atomic(target, text)
    else:
        click.echo(text, nl=False)
    sys.exit(EXIT_OK)
