"""`policykb eligible`: which policies a company can get, condition by condition (政策计算器)."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from policykb.console import EXIT_ERRORS, content_option, fail, today_option
from policykb.content.diagnostics import ERROR, Diagnostic, diagnostic
from policykb.content.eligibility import VERDICT_LABEL as HEADING
from policykb.content.statuses import POLICY_STATUS_LABEL as STATUS_LABEL

MARK = {"met": "✓", "unclear": "?", "unmet": "✗"}


def read_profile(path: Path, specs: dict, types: list[str] | None = None, **context) -> dict:
    """The profile YAML as a dict; bad input -> every problem as `path:line: …`, exit 1.
    `context`: what the profile is checked against (check_profile's today, known, table)."""
    import yaml

    from policykb.content.eligibility import profile_diagnostics
    from policykb.content.loader import _yaml_failure, parse_yaml, read_text
    shown = str(path)
    diags: list[Diagnostic] = []
    if not path.is_file():
        fail(f"找不到企业信息文件 {path}。请检查路径。")
    text = read_text(path, shown, diags)
    data, lines = None, {}
    if text is not None:
        try:
            data, lines, problems = parse_yaml(text, 1)
            diags += [diagnostic(shown, line, code, message) for line, code, message, _ in problems]
        except yaml.YAMLError as e:
            diags.append(_yaml_failure(e, shown, 1, "企业信息文件的"))
    if text is not None and not diags and not isinstance(data, dict):
        diags.append(Diagnostic(shown, 1, ERROR, "wrong-type",
                                "企业信息应为 “字段: 值” 的映射，例如 region: 滨海高新区。"))
    if not diags:
        data = {str(k): v for k, v in data.items()}
        diags += profile_diagnostics(data, lines, shown, specs, types, **context)
    if diags:
        for d in diags:
            click.echo(d.format(), err=True)
        click.echo(f"企业信息文件有 {len(diags)} 处问题，没有计算。", err=True)
        sys.exit(EXIT_ERRORS)
    return data


def _print(results, today: dt.date, name: str | None) -> None:
    counts = {v: sum(1 for r in results if r.verdict == v and r.status == "effective") for v in HEADING}
    who = f"（{name}）" if name else ""
    click.echo(f"按 {today.isoformat()} 有效的政策计算{who}：符合 {counts['eligible']} 条，"
               f"待确认 {counts['unclear']} 条，不符合 {counts['ineligible']} 条。")
    section = None
    for i, r in enumerate(results, 1):
        head = HEADING[r.verdict] if r.status == "effective" else "已失效或已废止（仅供查询）"
        if head != section:
            section = head
            click.echo(f"\n【{head}】")
        met = f"（已满足 {r.met} 项）" if r.verdict == "unclear" else ""
        if r.status != "effective":
            met = f"（{STATUS_LABEL[r.status]}）"
        click.echo(f"{i}. {r.title}  {r.id}{met}")
        if r.verdict == "ineligible":
            for c in r.conditions:
                if c.verdict == "unmet":
                    click.echo(f"   ✗ {c.reason}")
            continue
        support = "、".join(r.support)
        if support or r.amount:
            click.echo(f"   支持：{support}{'；' if support and r.amount else ''}{r.amount or ''}")
        if r.summary:
            click.echo(f"   要点：{r.summary}")
        if r.deadline:
            click.echo(f"   申报截止：{r.deadline}")
        for c in r.conditions:
            tail = f" —— {c.reason}" if c.verdict != "met" else ""
            click.echo(f"   {MARK[c.verdict]} {c.text}{tail}")


def _load(content_dir, today: dt.date, strict: bool):
    """The content to calculate on. As `policykb match`: every record file with an error is left
    out, named in one warning (path:line of its first error); `strict` stops on any error."""
    from policykb.content.loader import load_content
    from policykb.content.validate import load_valid, validate, without_invalid
    if strict:
        return load_valid(content_dir, today, what="没有计算")[0]  # raises ContentInvalid on errors
    content = load_content(content_dir)
    content, dropped = without_invalid(content, validate(content, today))
    if dropped:
        click.echo(f"警告：{len(dropped)} 个文件有错误，没有参与计算：{'、'.join(f'{d.path}:{d.line}' for d in dropped)}。"
                   f"其余政策照常计算。运行 policykb validate --content {content_dir} 查看详情。", err=True)
    return content


@click.command("eligible", help="政策计算器：按企业信息（YAML 文件：region、enterprise_types 和各条件字段）"
                                "逐条核对申报条件，列出符合、待确认、不符合的有效政策。没填的信息算作待确认，"
                                "不算不符合。")
@content_option
@click.option("--profile", "profile_file", required=True, type=click.Path(dir_okay=False),
              help="企业信息文件（YAML），例如 tests/profiles/hitech-manufacturer.yml")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON：{\"results\": [{id, title, verdict, conditions}]}")
@click.option("--all", "include_all", is_flag=True, help="同时列出已失效、已废止和草稿政策（注明状态，不会算作符合）")
@today_option("按这一天判断政策是否有效、计算成立年限（默认今天），格式 YYYY-MM-DD，便于复现结果")
@click.option("--strict", is_flag=True, help="内容有任何错误就不计算（默认跳过有错误的文件并给出警告）")
def eligible_cmd(content_dir, profile_file, as_json, include_all, today, strict):
    from policykb.content import regions
    from policykb.content.eligibility import evaluate_content
    content = _load(content_dir, today, strict)
    known = sorted({regions.path(r) for r in [*(p.region for p in content.policies), *content.taxonomy.regions]
                    if regions.path(r)})  # the policies' regions and the regions the taxonomy names
    data = read_profile(Path(profile_file), content.taxonomy.condition_fields, content.taxonomy.terms("enterprise_types"),
                        today=today, known=known, table=regions.alias_table(content.taxonomy, known))
    results = evaluate_content(content.policies, content.taxonomy, data, today, include_all=include_all,
                               include_drafts=True)
    if as_json:
        rows = []
        for r in results:
            d = r.as_dict()
            rows.append({"id": d["id"], "title": d["title"], "verdict": d["verdict"],
                         "conditions": [{k: c[k] for k in ("text", "verdict", "reason")} for c in d["conditions"]],
                         "status": d["status"], "met": d["met"], "support": d["support"], "amount": d["amount"],
                         "summary": d["summary"], "deadline": d["deadline"]})
        click.echo(json.dumps({"today": today.isoformat(), "results": rows}, ensure_ascii=False, indent=2))
        return
    _print(results, today, data.get("name") if isinstance(data.get("name"), str) else None)
