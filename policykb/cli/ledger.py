"""CLI of the problem ledger: `issue …`, `stats`, `faq promote`, `report`."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from policykb.console import DATE, EXIT_ERRORS, content_option, fail, today_option
from policykb.content.labels import KIND_SHORT_LABEL
from policykb.content.loader import ContentRootError, load_content
from policykb.content.models import ISSUE_STATUS_LABEL, ISSUE_STATUSES, SATISFACTION


def _date(value) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value




def _load(content_dir: str, include_issues: bool = True):
    try:
        return load_content(content_dir, include_issues=include_issues)
    except ContentRootError as e:
        fail(str(e))


def _load_valid(content_dir: str, today: dt.date, what: str):
    """Load and validate through the one gate: figures and reminders are computed only from
    content without errors (an empty or broken record must not count); errors are listed as
    path:line by the CLI's handler, exit 1."""
    from policykb.content.validate import load_valid
    return load_valid(content_dir, today, what=what)[0]


def _ledger_errors():
    from policykb.ledger.lifecycle import LedgerError
    from policykb.ledger.recordedit import EditError
    return (LedgerError, EditError)


# -- lifecycle ---------------------------------------------------------------------------------
@click.group("issue", context_settings={"help_option_names": ["-h", "--help"]})
def issue_group():
    """企业诉求台账：受理、交办、办理、办结、评价、销号。"""


def _common(f):
    f = click.option("--commit", is_flag=True, help="把这次修改作为一个单独的 Git 提交")(f)
    f = click.option("--date", "date", type=DATE, default=None, help="操作日期 YYYY-MM-DD（默认今天）")(f)
    f = click.option("--by", default=None, help="经办人（默认 POLICYKB_USER、git 用户名或系统用户）")(f)
    return content_option(f)


def _run(content_dir, issue_id, op, *, values=None, note=None, by=None, date=None, commit=False):
    from policykb.ledger import lifecycle as ledger
    errors = _ledger_errors()
    try:
        path = ledger.find_issue(Path(content_dir), issue_id)
        change = ledger.apply(path, op, values=values, note=note, by=by, date=_date(date), commit=commit)
    except ledger.CommitFailed as e:
        _say_applied(e.change, issue_id, path)
        fail(str(e), EXIT_ERRORS)
    except errors as e:
        fail(str(e), EXIT_ERRORS)
    _say_applied(change, issue_id, path)
    _say_committed(change)
    return change


def _say_applied(change, issue_id, path):
    old = ISSUE_STATUS_LABEL.get(change.old_status, change.old_status)
    new = ISSUE_STATUS_LABEL.get(change.new_status, change.new_status)
    moved = f"（{old} → {new}）" if change.old_status != change.new_status else f"（{new}）"
    click.echo(f"诉求 {issue_id}：{change.action}{moved}，已写入 {path}")


def _say_committed(change):
    if change.commit:
        click.echo(f"已提交 Git：{change.commit[:10]}")


@issue_group.command("assign")
@click.argument("issue_id")
@click.option("--department", required=True, help="承办单位")
@click.option("--due", type=DATE, required=True, help="办结时限 YYYY-MM-DD")
@click.option("--note", default=None, help="交办说明")
@_common
def assign_cmd(issue_id, department, due, note, content_dir, by, date, commit):
    """交办：指定承办单位和办结时限。"""
    _run(content_dir, issue_id, "assign", values={"department": department, "due": _date(due)}, note=note,
         by=by, date=date, commit=commit)


def _step_command(op: str, doc: str, *, note: str | None = None, resolution: str | None = None):
    """`issue OP ISSUE_ID` with either an optional `--note` or a required `--resolution`
    (the help text of the one given)."""
    @issue_group.command(op, help=doc)
    @click.argument("issue_id")
    @click.option("--note" if note else "--resolution", "text", required=not note, default=None,
                  help=note or resolution)
    @_common
    def command(issue_id, text, content_dir, by, date, commit):
        if note:
            _run(content_dir, issue_id, op, note=text, by=by, date=date, commit=commit)
        else:
            _run(content_dir, issue_id, op, values={"resolution": text}, by=by, date=date, commit=commit)
    return command


handle_cmd = _step_command("handle", "开始办理：已交办 → 办理中。", note="办理情况")


@issue_group.command("note")
@click.argument("issue_id")
@click.argument("text")
@click.option("--chase", is_flag=True, help="记为督办（催办超期或临期的诉求）")
@click.option("--feedback", is_flag=True, help="记为反馈（向企业答复）")
@_common
def note_cmd(issue_id, text, chase, feedback, content_dir, by, date, commit):
    """在办理记录中追加一条备注（或督办、反馈）。"""
    if chase and feedback:
        fail("--chase 与 --feedback 只能选一个。", EXIT_ERRORS)
    op = "chase" if chase else "feedback" if feedback else "note"
    _run(content_dir, issue_id, op, note=text, by=by, date=date, commit=commit)


@issue_group.command("escalate")
@click.argument("issue_id")
@click.option("--to", "target", required=True, help="上报对象（如 区政企互通平台）")
@click.option("--note", default=None, help="上报说明")
@_common
def escalate_cmd(issue_id, target, note, content_dir, by, date, commit):
    """上报：超出本级职权的诉求上报区、市平台。"""
    _run(content_dir, issue_id, "escalate", values={"escalated_to": target}, note=note, by=by, date=date,
         commit=commit)


resolve_cmd = _step_command("resolve", "办结：问题已解决。", resolution="如何解决")
explain_cmd = _step_command("explain", "解释办结：不在政策范围内的诉求，向企业解释后按办结处理。",
                            resolution="向企业作出的解释")
close_cmd = _step_command("close", "销号：已办结的诉求完成闭环。", note="销号说明")


@issue_group.command("rate")
@click.argument("issue_id")
@click.option("--satisfaction", type=click.Choice(SATISFACTION), required=True, help="企业评价")
@click.option("--note", default=None, help="评价说明")
@_common
def rate_cmd(issue_id, satisfaction, note, content_dir, by, date, commit):
    """记录企业对办理结果的评价。"""
    _run(content_dir, issue_id, "rate", values={"satisfaction": satisfaction}, note=note, by=by, date=date,
         commit=commit)


# -- new ------------------------------------------------------------------------------------------
def _ask(value, prompt, interactive, *, required=True, default=None):
    if value not in (None, ""):
        return value
    if interactive:
        return click.prompt(prompt, default=default if default is not None else ("" if not required else None),
                            show_default=bool(default)).strip() or None
    return default


@issue_group.command("new")
@click.option("--title", default=None, help="一句话概括诉求")
@click.option("--body", default=None, help="企业原话或问题描述")
@click.option("--category", default=None, help="诉求类别（不填则给出建议）")
@click.option("--enterprise", default=None, help="企业名称（不公开）")
@click.option("--contact", default=None, help="联系人及电话（不公开）")
@click.option("--channel", default=None, type=click.Choice(["走访", "座谈会", "热线", "平台", "来函"]),
              help="来源渠道")
@click.option("--region", default=None, help="所在区域")
@click.option("--service-group", default=None, help="服务组")
@click.option("--officer", default=None, help="服务专员")
@click.option("--policy", "policies", multiple=True, help="相关政策编号（可重复）")
@click.option("--received", type=DATE, default=None, help="受理日期（默认 --date）")
@click.option("--id", "issue_id", default=None, help="指定编号（默认自动编号，如 2026-0042）")
@click.option("--interactive/--no-interactive", default=None, help="逐项提问（在终端中运行时默认开启）")
@click.option("--similar/--no-similar", "show_similar", default=True, help="显示相似的以往诉求、问答和政策")
@_common
def new_cmd(title, body, category, enterprise, contact, channel, region, service_group, officer, policies, received,
            issue_id, interactive, show_similar, content_dir, by, date, commit):
    """受理一条新诉求（缺少的项目在终端中逐项提问）。"""
    from policykb.ledger import lifecycle as ledger
    if issue_id is not None:
        try:
            ledger.check_id(issue_id, "诉求编号")
        except _ledger_errors() as e:
            fail(str(e), EXIT_ERRORS)
    if interactive is None:
        interactive = sys.stdin.isatty()
    content = _load(content_dir)
    title = _ask(title, "诉求概要", interactive)
    body = _ask(body, "问题描述（企业原话）", interactive, required=False, default=title or "")
    if not title:
        fail("请用 --title 写明诉求概要。", EXIT_ERRORS)
    text = f"{title}\n{body or ''}"
    suggestion = _suggest(content, text)
    if suggestion and suggestion.category:
        _say_category_suggestion(category, [c for c, _ in suggestion.category])
    if suggestion and suggestion.department:
        click.echo("建议承办单位：" + "、".join(d for d, _ in suggestion.department))
    enterprise = _ask(enterprise, "企业名称", interactive, required=False)
    contact = _ask(contact, "联系人及电话", interactive, required=False)
    allowed = content.taxonomy.terms("issue_categories")
    default_cat = suggestion.category[0][0] if suggestion and suggestion.category else None
    given = category
    category = _ask(category, f"类别（{'、'.join(allowed)}）", interactive, default=default_cat)
    guessed = not given and not interactive and bool(category)  # filed under a suggestion: say so
    if not category:
        fail("请用 --category 写明诉求类别。", EXIT_ERRORS)
    if category not in allowed:
        hint = content.taxonomy.closest("issue_categories", category)
        fail(f"类别 “{category}” 不在分类表中（{'、'.join(allowed)}）。" + (f"是否应为 “{hint}”？" if hint else ""),
             EXIT_ERRORS)
    fields = {"title": title, "category": category, "enterprise": enterprise, "contact": contact,
              "channel": channel, "region": region, "service_group": service_group, "officer": officer,
              "received": _date(received) or _date(date), "policies": list(policies)}
    unknown = [p for p in policies if p not in content.by_id]
    if unknown:
        fail(f"找不到政策 {'、'.join(unknown)}。请检查编号（文件名）。", EXIT_ERRORS)
    try:
        change = ledger.create(Path(content_dir), fields, body or title, by=by, date=_date(date), issue_id=issue_id,
                               commit=commit)
    except ledger.CommitFailed as e:
        click.echo(f"已受理诉求 {e.change.issue.id}，写入 {e.change.path}")
        fail(str(e), EXIT_ERRORS)
    except _ledger_errors() as e:
        fail(str(e), EXIT_ERRORS)
    click.echo(f"已受理诉求 {change.issue.id}，写入 {change.path}")
    if guessed:
        click.echo(f"注意：未用 --category 指定类别，已按以往同类诉求归入 “{category}”；如不对，请修改该文件中的"
                   f" category 一项。")
    _say_committed(change)
    if show_similar:
        _print_similar(content_dir, text, exclude=change.issue.id, content=content)


def _say_category_suggestion(given: str | None, suggested: list[str]) -> None:
    """Suggest categories only when the editor gave none; a given one is questioned only when the
    best suggestion differs from it."""
    if not given:
        click.echo("建议类别：" + "、".join(suggested))
    elif suggested[0] != given:
        click.echo(f"提示：所填类别 “{given}” 与以往同类诉求的类别 “{suggested[0]}” 不同，请确认是否填对。")


def _suggest(content, text):
    from policykb.ledger.suggest import Suggester
    issues = [i for i in content.issues if i.category]
    if len(issues) < 2:
        return None
    return Suggester(issues).suggest(text)


def _print_similar(content_dir, text, *, exclude=None, content=None, top=5):
    try:
        from policykb.search.matcher import match
    except ImportError:
        click.echo("（匹配器尚不可用，无法列出相似诉求。）")
        return
    content = content or _load(content_dir)
    by_id = content.by_id
    # The one-line summary and the full description find different neighbours (a long text
    # dilutes the summary's words): ask both and keep each record's best score.
    queries = list(dict.fromkeys(q.strip() for q in (text.split("\n", 1)[0], text) if q.strip()))
    try:
        found = [h for hits in match(content_dir, queries, top=top + 1, internal=True) for h in hits]
    except Exception as e:  # the record is already saved; a matcher problem must not look like a failed intake
        click.echo(f"（匹配器出错，无法列出相似诉求：{e}）")
        return
    best = {}
    for h in found:
        if h.id != exclude and (h.id not in best or h.score > best[h.id].score):
            best[h.id] = h
    hits = sorted(best.values(), key=lambda h: -h.score)[:top]
    if not hits:
        click.echo("没有找到相似的以往诉求、问答或政策。")
        return
    click.echo("相似的以往诉求、问答和政策：")
    for h in hits:
        reason = f"（命中：{'、'.join(h.matched)}）" if h.matched else ""
        click.echo(f"  [{KIND_SHORT_LABEL.get(h.type, h.type)}] {h.id} {h.title}  得分 {h.score:.2f}{reason}")
        rec = by_id.get(h.id)
        if h.type == "issue" and rec is not None and getattr(rec, "resolution", None):
            click.echo(f"      办理结果：{rec.resolution}")


@issue_group.command("similar")
@click.argument("issue_id")
@click.option("--top", default=5, show_default=True, help="列出几条")
@content_option
def similar_cmd(issue_id, top, content_dir):
    """列出与某条诉求最相近的以往诉求（及其办理结果）、问答和政策。"""
    content = _load(content_dir)
    issue = next((i for i in content.issues if i.id == issue_id), None)
    if issue is None:
        fail(f"找不到诉求 {issue_id}。请用 policykb issue list 查看编号。", EXIT_ERRORS)
    from policykb.ledger.suggest import issue_text
    text = issue_text(issue)
    others = [i for i in content.issues if i.id != issue_id and i.category]
    if len(others) >= 2:
        from policykb.ledger.suggest import Suggester
        s = Suggester(others).suggest(text)
        click.echo("建议类别：" + "、".join(c for c, _ in s.category)
                   + ("；建议承办单位：" + "、".join(d for d, _ in s.department) if s.department else ""))
    _print_similar(content_dir, text, exclude=issue_id, content=content, top=top)


# -- list / show -----------------------------------------------------------------------------------
@issue_group.command("list")
@click.option("--status", type=click.Choice(ISSUE_STATUSES), multiple=True, help="按状态筛选（可重复）")
@click.option("--category", default=None, help="按类别筛选")
@click.option("--department", default=None, help="按承办单位筛选")
@click.option("--service-group", default=None, help="按服务组筛选")
@click.option("--overdue", is_flag=True, help="只列超期未办结的诉求")
@today_option()
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@content_option
def list_cmd(status, category, department, service_group, overdue, today, as_json, content_dir):
    """列出诉求（可按状态、类别、承办单位、服务组、是否超期筛选）。"""
    from policykb.ledger.stats import is_overdue
    content = _load(content_dir)
    rows = [i for i in content.issues
            if (not status or i.status in status) and (not category or i.category == category)
            and (not department or i.department == department)
            and (not service_group or i.service_group == service_group)
            and (not overdue or is_overdue(i, today))]
    rows.sort(key=lambda i: (i.received or dt.date.min, i.id))
    if as_json:
        click.echo(json.dumps([{"id": i.id, "title": i.title, "status": i.status, "category": i.category,
                                "department": i.department, "service_group": i.service_group,
                                "received": _iso(i.received), "due": _iso(i.due), "closed_on": _iso(i.closed_on),
                                "overdue": is_overdue(i, today)} for i in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("没有符合条件的诉求。")
        return
    from rich.console import Console
    from rich.table import Table
    table = Table(show_lines=False)
    for col in ("编号", "状态", "受理", "类别", "承办单位", "时限", "概要"):
        table.add_column(col)
    for i in rows:
        late = " 超期" if is_overdue(i, today) else ""
        table.add_row(i.id, ISSUE_STATUS_LABEL.get(i.status, i.status or "") + late, _iso(i.received) or "",
                      i.category or "", i.department or "", _iso(i.due) or "", i.title or "")
    Console(width=160, soft_wrap=True).print(table)
    click.echo(f"共 {len(rows)} 条")


def _iso(d):
    return d.isoformat() if d else None


@issue_group.command("show")
@click.argument("issue_id")
@content_option
def show_cmd(issue_id, content_dir):
    """显示一条诉求：各字段、办理记录和该文件的 Git 历史。"""
    from policykb.ledger.lifecycle import git_log
    content = _load(content_dir)
    issue = next((i for i in content.issues if i.id == issue_id), None)
    if issue is None:
        fail(f"找不到诉求 {issue_id}。请用 policykb issue list 查看编号。", EXIT_ERRORS)
    click.echo(f"{issue.id}  {issue.title or ''}")
    click.echo(f"文件：{content.shown(issue.relpath)}")
    from policykb.content.labels import field_label
    labels = {key: field_label(key, "issue") for key in (
        "status", "received", "category", "enterprise", "contact", "channel", "region", "service_group", "officer",
        "department", "due", "closed_on", "escalated_to", "resolution", "satisfaction", "policies", "faq")}
    for key, label in labels.items():
        value = getattr(issue, key)
        if value in (None, "", []):
            continue
        if key == "status":
            value = ISSUE_STATUS_LABEL.get(value, value)
        elif isinstance(value, list):
            value = "、".join(value)
        click.echo(f"  {label}：{value}")
    if issue.enterprise:  # 政策计算器 (policykb eligible, issue 14)
        click.echo("  可享政策：policykb eligible --profile 企业信息.yml（样例见 tests/profiles/）")
    click.echo("问题描述：")
    click.echo("  " + (issue.body.strip() or "（无）").replace("\n", "\n  "))
    click.echo("办理记录：")
    for h in issue.history:
        click.echo(f"  {_iso(h.date) or '?'}  {h.action or ''}  {h.by or ''}  {h.note or ''}".rstrip())
    if not issue.history:
        click.echo("  （无）")
    log = git_log(issue.path)
    click.echo("Git 记录：")
    for line in log or ["（不在 Git 仓库中或尚未提交）"]:
        click.echo(f"  {line}")


@issue_group.command("suggest-eval")
@click.option("--gov", "gov_dir", type=click.Path(file_okay=False), default=None,
              help="政务留言数据目录（含 messages.jsonl、faq.jsonl），不填则只评测台账")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
@content_option
def suggest_eval_cmd(gov_dir, as_json, content_dir):
    """评测类别与承办单位建议：与“总猜最多的类”基线对比。"""
    from policykb.ledger.suggest import evaluate_gov, evaluate_ledger
    content = _load(content_dir)
    out = {"ledger": evaluate_ledger(content.issues)}
    if gov_dir:
        out["gov"] = evaluate_gov(Path(gov_dir))
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    names = {"category": "台账·类别", "department": "台账·承办单位", "messages_domain": "政务留言·领域",
             "faq_department": "政务问答·承办部门"}
    for part in out.values():
        for key, r in part.items():
            n = r.get("n") or f"训练 {r['n_train']} / 测试 {r['n_test']}"
            how = r.get("method", "训练集学习、测试集评测")
            click.echo(f"{names.get(key, key)}（{n} 条，{r['classes']} 类，{how}）：")
            click.echo(f"  模型  准确率 {r['model']['accuracy']:.3f}  宏平均F1 {r['model']['macro_f1']:.3f}")
            click.echo(f"  基线  准确率 {r['baseline']['accuracy']:.3f}  宏平均F1 {r['baseline']['macro_f1']:.3f}"
                       "（总猜训练部分最多的类）")
            if "majority_share" in r:
                click.echo(f"  最多的类占全部的比例 {r['majority_share']:.3f}")


# -- stats -------------------------------------------------------------------------------------------
@click.command("stats")
@content_option
@click.option("--since", type=DATE, default=None, help="受理日期起（含）")
@click.option("--until", type=DATE, default=None, help="受理日期止（含）")
@today_option("以哪天为“今天”计算超期（默认今天），格式 YYYY-MM-DD")
@click.option("--by", "by", type=click.Choice(["category", "department", "service_group", "month"]), default=None,
              help="分组统计")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON（比率为 0–1 的小数）")
def stats_cmd(content_dir, since, until, today, by, as_json):
    """诉求统计：收集、上报、办结、超期、办结率、按时办结率、满意率。"""
    from policykb.ledger.stats import FIGURES, GROUP_BY, compute_stats, format_figure, group_stats
    kw = {"since": _date(since), "until": _date(until), "as_of": today}
    content = _load_valid(content_dir, kw["as_of"], "没有计算统计数字")
    total = compute_stats(content.issues, **kw)
    groups = group_stats(content.issues, by, **kw) if by else None
    if as_json:
        out = dict(total)
        if groups is not None:
            out = {**total, "by": by, "groups": groups}
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    period = f"{_iso(kw['since']) or '最早'} 至 {_iso(kw['until']) or '最新'}（按受理日期），截至 {kw['as_of']}"
    click.echo(f"诉求统计：{period}")
    if groups is None:
        for key, label in FIGURES.items():
            click.echo(f"  {label}：{format_figure(key, total[key])}")
        return
    from rich.console import Console
    from rich.table import Table
    table = Table()
    table.add_column(GROUP_BY[by])
    for label in FIGURES.values():
        table.add_column(label, justify="right")
    for name, figs in [*groups.items(), ("合计", total)]:
        table.add_row(name, *(format_figure(k, figs[k]) for k in FIGURES))
    Console(width=200, soft_wrap=True).print(table)


# -- faq promote ------------------------------------------------------------------------------------
@click.group("faq", context_settings={"help_option_names": ["-h", "--help"]})
def faq_group():
    """常见问题维护。"""


@faq_group.command("promote")
@click.argument("issue_id")
@click.option("--id", "faq_id", default=None, help="新问答的编号（默认 faq-<诉求编号>）")
@click.option("--by", default=None, help="经办人")
@click.option("--date", "date", type=DATE, default=None, help="日期（默认今天）")
@click.option("--commit", is_flag=True, help="把问答和诉求的修改作为一个 Git 提交")
@content_option
def promote_cmd(issue_id, faq_id, by, date, commit, content_dir):
    """把已办结的诉求整理成常见问题草稿（去除企业身份信息）。"""
    from policykb.ledger.anonymise import IDENTITY_LABEL
    from policykb.ledger.lifecycle import CommitFailed
    from policykb.ledger.promote import promote
    failed = None
    try:
        result = promote(Path(content_dir), issue_id, faq_id=faq_id, by=by, date=_date(date), commit=commit)
    except CommitFailed as e:
        failed, result = e, None
    except _ledger_errors() as e:
        fail(str(e), EXIT_ERRORS)
    if failed is not None:
        click.echo(f"已生成问答草稿 {failed.change.extra_paths[0]}（来自诉求 {issue_id}）")
        fail(str(failed), EXIT_ERRORS)
    click.echo(f"已生成问答草稿 {result.faq_path}（来自诉求 {issue_id}），诉求已关联 faq: {result.faq_id}")
    if result.removed:
        click.echo("已去除：" + "、".join(f"{IDENTITY_LABEL.get(k, k)}“{v}”" for k, v in result.removed))
    click.echo("这是草稿（draft: true）：不会发布到网站，也不会出现在匹配结果中。请审阅问题和答复的措辞、"
               "确认没有企业身份信息后，删除 draft 这一行即可发布。")
    _say_committed(result.change)


# -- report ----------------------------------------------------------------------------------------
MAX_DAYS = 36500  # a hundred years ahead is already more than any reminder needs
@click.command("report")
@content_option
@click.option("--days", default=30, show_default=True, type=int, help="提前多少天提醒政策到期和申报截止（0–36500）")
@today_option()
@click.option("--json", "as_json", is_flag=True, help="输出 JSON")
def report_cmd(content_dir, days, today, as_json):
    """每周提醒清单：即将到期的政策、申报截止、待复核政策、超期和本周到期的诉求。"""
    from policykb.ledger.report import build_report, format_report
    if not 0 <= days <= MAX_DAYS:
        fail(f"--days 应在 0 到 {MAX_DAYS} 之间（天），现在是 {days}。", EXIT_ERRORS)
    content = _load_valid(content_dir, today, "没有生成提醒清单")
    try:
        rep = build_report(content, today=today, days=days)
    except OverflowError:
        fail(f"--days {days} 超出了可以计算的日期范围。请用较小的天数。", EXIT_ERRORS)
    if as_json:
        click.echo(json.dumps(rep.as_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(rep))
