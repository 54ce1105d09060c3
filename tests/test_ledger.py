"""Lifecycle of problem records: every transition and refusal, byte-for-byte edits, atomic writes,
`--commit` in a real Git repository, list/show/new."""
from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from conftest import git

from policykb.content.loader import load_content
from policykb.content.models import ISSUE_STATUSES
from policykb.content.validate import validate
from policykb.ledger import lifecycle as ledger
from policykb.ledger.lifecycle import TRANSITIONS, LedgerError
from policykb.ledger.recordedit import EditError, write_atomic

D = dt.date

RECEIVED = """\
---
title: 新厂区需要 35 千伏供电线路   # 走访时记录
received: 2026-03-02
category: 生产配套
status: received
enterprise: "天津华兴精密机械有限公司"
contact: 张伟 13812345678

# 以下为关联信息
policies:
  - zone-power
history:
  - date: 2026-03-02
    by: 李明
    action: 受理
    note: 走访收集
---
我们厂扩产，需要新建一条 35 千伏线路。

联系人：张伟
"""

# What a status needs to be valid (validator rules), so each start state is a legal record.
NEEDS = {
    "received": "",
    "assigned": "department: 区供电公司\ndue: 2026-03-20\n",
    "in_progress": "department: 区供电公司\ndue: 2026-03-20\n",
    "escalated": "department: 区供电公司\ndue: 2026-03-20\nescalated_to: 市政企互通平台\n",
    "resolved": "department: 区供电公司\ndue: 2026-03-20\nclosed_on: 2026-03-10\nresolution: 已架设\n",
    "explained": "department: 区供电公司\ndue: 2026-03-20\nclosed_on: 2026-03-10\nresolution: 已解释\n",
    "closed": "department: 区供电公司\ndue: 2026-03-20\nclosed_on: 2026-03-10\nresolution: 已架设\n",
}
VALUES = {"assign": {"department": "区供电公司", "due": D(2026, 4, 1)}, "escalate": {"escalated_to": "市平台"},
          "resolve": {"resolution": "已架设线路"}, "explain": {"resolution": "不属于政策范围，已解释"},
          "rate": {"satisfaction": "满意"}}


def record(status: str) -> str:
    return (f"---\ntitle: 供电线路\nreceived: 2026-03-02\ncategory: 生产配套\nstatus: {status}\n{NEEDS[status]}"
            f"history:\n  - date: 2026-03-02\n    by: 李明\n    action: 受理\n---\n问题\n")


@pytest.fixture
def tree(make_tree):
    return make_tree({"issues/2026/2026-0001.md": RECEIVED,
                      "policies/zone-power.md": "---\ntitle: 用电报装服务\n---\n正文\n"})


def errors_of(root, today=D(2026, 12, 31)):
    content = load_content(root)
    return [d for d in validate(content, today) if d.severity == "error"]


@pytest.mark.parametrize("status", ISSUE_STATUSES)
@pytest.mark.parametrize("op", sorted(TRANSITIONS))
def test_every_transition_and_refusal(make_tree, status, op):
    root = make_tree({"issues/2026-0001.md": record(status)})
    path = root / "issues/2026-0001.md"
    before = path.read_bytes()
    legal = status in TRANSITIONS[op].sources
    if legal:
        change = ledger.apply(path, op, values=VALUES.get(op), note="说明", by="王五", date=D(2026, 3, 12))
        target = TRANSITIONS[op].target or status
        assert change.issue.status == target
        assert change.issue.history[-1].action == TRANSITIONS[op].action
        assert change.issue.history[-1].by == "王五"
        assert errors_of(root) == []  # the validator accepts what we wrote
    else:
        with pytest.raises(LedgerError) as e:
            ledger.apply(path, op, values=VALUES.get(op), note="说明", by="王五", date=D(2026, 3, 12))
        assert "2026-0001" in str(e.value) or op == "rate"
        assert path.read_bytes() == before  # a refusal changes nothing


def test_refusal_messages(make_tree):
    root = make_tree({"issues/2026-0001.md": record("in_progress"), "issues/2026-0002.md": record("resolved"),
                      "issues/2026-0003.md": record("received")})
    with pytest.raises(LedgerError, match="尚未办结，不能评价"):
        ledger.apply(root / "issues/2026-0001.md", "rate", values={"satisfaction": "满意"}, date=D(2026, 3, 12))
    with pytest.raises(LedgerError, match="已经办结，不能再次办结"):
        ledger.apply(root / "issues/2026-0002.md", "resolve", values={"resolution": "x"}, date=D(2026, 3, 12))
    with pytest.raises(LedgerError, match="尚未交办"):
        ledger.apply(root / "issues/2026-0003.md", "resolve", values={"resolution": "x"}, date=D(2026, 3, 12))
    ledger.apply(root / "issues/2026-0002.md", "rate", values={"satisfaction": "满意"}, by="a", date=D(2026, 3, 12))
    with pytest.raises(LedgerError, match="不能重复评价"):
        ledger.apply(root / "issues/2026-0002.md", "rate", values={"satisfaction": "不满意"}, date=D(2026, 3, 12))
    with pytest.raises(LedgerError, match="早于受理日期"):
        ledger.apply(root / "issues/2026-0001.md", "note", note="补记", date=D(2026, 3, 1))
    ledger.apply(root / "issues/2026-0001.md", "note", note="补记", by="a", date=D(2026, 3, 10))
    with pytest.raises(LedgerError, match="早于最近一条办理记录"):
        ledger.apply(root / "issues/2026-0001.md", "note", note="补记", date=D(2026, 3, 5))


def test_full_loop_through_cli(tree, cli):
    p = tree / "issues/2026/2026-0001.md"
    steps = [("assign", "2026-0001", "--department", "区供电公司", "--due", "2026-03-31"),
             ("handle", "2026-0001", "--note", "已对接供电公司"),
             ("note", "2026-0001", "临近时限，电话催办", "--chase"),
             ("resolve", "2026-0001", "--resolution", "供电公司已完成线路架设并送电"),
             ("note", "2026-0001", "已告知企业办理结果", "--feedback"),
             ("rate", "2026-0001", "--satisfaction", "基本满意"),
             ("close", "2026-0001")]
    for day, (cmd, *args) in enumerate(steps, start=3):
        r = cli("issue", cmd, *args, "--content", tree, "--by", "李明", "--date", f"2026-03-{day:02d}")
        assert r.exit_code == 0, r.output
    issue = load_content(tree).issues[0]
    assert issue.status == "closed" and issue.satisfaction == "基本满意"
    assert issue.closed_on == D(2026, 3, 6)  # the 办结 date; 反馈, 评价 and 销号 follow it
    assert [h.action for h in issue.history] == ["受理", "交办", "办理", "督办", "办结", "反馈", "评价", "销号"]
    assert errors_of(tree) == []
    assert [d.code for d in validate(load_content(tree), D(2026, 12, 31)) if d.severity == "warning"] == []
    r = cli("issue", "resolve", "2026-0001", "--resolution", "再次", "--content", tree, "--date", "2026-03-10")
    assert r.exit_code == 1 and "已经办结" in r.output
    r = cli("issue", "rate", "2026-0001", "--satisfaction", "满意", "--content", tree, "--date", "2026-03-10")
    assert r.exit_code == 1 and "不能重复评价" in r.output
    r = cli("issue", "assign", "2099-0001", "--department", "x", "--due", "2026-04-01", "--content", tree)
    assert r.exit_code == 1 and "找不到诉求 2099-0001" in r.output
    assert "受理" in p.read_text(encoding="utf-8")


def test_untouched_bytes_are_kept(tree):
    p = tree / "issues/2026/2026-0001.md"
    ledger.apply(p, "assign", values={"department": "区供电公司", "due": D(2026, 3, 31)}, by="李明",
                 date=D(2026, 3, 3))
    expected = RECEIVED.replace("status: received\n", "status: assigned\n").replace(
        "contact: 张伟 13812345678\n", "contact: 张伟 13812345678\ndepartment: 区供电公司\ndue: 2026-03-31\n").replace(
        "    note: 走访收集\n",
        "    note: 走访收集\n  - date: 2026-03-03\n    by: 李明\n    action: 交办\n    note: 交办区供电公司，2026-03-31前办结\n")
    assert p.read_text(encoding="utf-8") == expected


def test_crlf_bom_and_missing_history(make_tree):
    text = ("\ufeff---\r\ntitle: 宽带不稳定\r\nreceived: 2026-05-06\r\ncategory: 生产配套\r\nstatus: received\r\n"
            "---\r\n正文第一行\r\n正文第二行\r\n")
    root = make_tree({"issues/2026-0009.md": text.encode("utf-8")})
    p = root / "issues/2026-0009.md"
    ledger.apply(p, "assign", values={"department": "区通信办", "due": D(2026, 5, 20)}, by="周", date=D(2026, 5, 7))
    out = p.read_bytes().decode("utf-8")
    assert out.startswith("\ufeff---\r\ntitle: 宽带不稳定\r\n")
    assert out.endswith("---\r\n正文第一行\r\n正文第二行\r\n")
    assert "\r\nhistory:\r\n  - date: 2026-05-07\r\n" in out and "\n\n" not in out.replace("\r\n", "")
    issue = load_content(root).issues[0]
    assert issue.status == "assigned" and issue.history[0].action == "交办"


def test_text_needing_quotes_round_trips(tree):
    p = tree / "issues/2026/2026-0001.md"
    ledger.apply(p, "assign", values={"department": "区供电公司", "due": D(2026, 3, 31)}, date=D(2026, 3, 3), by="a")
    tricky = "答复: 已解决 # 不是注释；'引号' \"双引号\" - 列表? [括号] {花括号} @开头"
    change = ledger.apply(p, "resolve", values={"resolution": tricky}, by="a", date=D(2026, 3, 4))
    assert change.issue.resolution == tricky and change.issue.history[-1].note == tricky


def test_atomic_write_keeps_old_file_on_failure(tree, monkeypatch):
    p = tree / "issues/2026/2026-0001.md"
    before = p.read_bytes()

    def boom(tmp):
        assert tmp.read_text(encoding="utf-8") == "half"  # the new text was fully written to the temp file
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomic(p, "half", verify=boom)
    assert p.read_bytes() == before
    assert sorted(x.name for x in p.parent.iterdir()) == ["2026-0001.md"]  # no temp file left behind

    def failing_replace(src, dst):
        raise OSError("replace failed")
    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError):
        ledger.apply(p, "assign", values={"department": "x", "due": D(2026, 3, 31)}, date=D(2026, 3, 3), by="a")
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert sorted(x.name for x in p.parent.iterdir()) == ["2026-0001.md"]


def test_unsupported_layout_is_refused_without_change(make_tree):
    text = ("---\ntitle: t\nreceived: 2026-03-02\ncategory: 其他\nstatus: received\n"
            "history: [{date: 2026-03-02, action: 受理}]\n---\n正文\n")
    root = make_tree({"issues/2026-0001.md": text})
    p = root / "issues/2026-0001.md"
    with pytest.raises(EditError, match="逐行书写的列表"):
        ledger.apply(p, "note", note="备注", by="a", date=D(2026, 3, 3))
    assert p.read_text(encoding="utf-8") == text


def test_broken_record_is_refused(make_tree):
    root = make_tree({"issues/2026-0001.md": "---\ntitle: [未闭合\nstatus: received\n---\n正文\n"})
    p = root / "issues/2026-0001.md"
    before = p.read_bytes()
    with pytest.raises(EditError):
        ledger.apply(p, "note", note="x", by="a", date=D(2026, 3, 3))
    assert p.read_bytes() == before


def test_commit_records_its_own_commit(git_repo, cli):
    from conftest import write_tree
    content = write_tree(git_repo / "content", {"issues/2026/2026-0001.md": RECEIVED,
                                                "policies/zone-power.md": "---\ntitle: 用电\n---\n正文\n"})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "start")
    # An unrelated change, even staged, must not ride along in the ledger's commit.
    (content / "policies/zone-power.md").write_text("---\ntitle: 用电（改）\n---\n正文\n", encoding="utf-8")
    git(git_repo, "add", "content/policies/zone-power.md")
    r = cli("issue", "assign", "2026-0001", "--department", "区供电公司", "--due", "2026-03-31", "--by", "张三",
            "--date", "2026-03-03", "--content", content, "--commit")
    assert r.exit_code == 0, r.output
    msg = git(git_repo, "log", "-1", "--format=%B")
    assert msg.startswith("issue 2026-0001: assign\n\n")
    assert "Action: 交办" in msg and "By: 张三" in msg and "Status: received -> assigned" in msg
    files = git(git_repo, "show", "--name-only", "--format=", "HEAD").split()
    assert files == ["content/issues/2026/2026-0001.md"]
    assert "content/policies/zone-power.md" in git(git_repo, "diff", "--cached", "--name-only")
    r = cli("issue", "show", "2026-0001", "--content", content)
    assert "issue 2026-0001: assign" in r.output and "交办区供电公司" in r.output and "Git 记录" in r.output


def test_commit_outside_git_is_a_clear_error(tree, cli):
    r = cli("issue", "note", "2026-0001", "补充材料", "--content", tree, "--by", "a", "--date", "2026-03-05", "--commit")
    assert r.exit_code == 1 and "不在 Git 仓库中" in r.output
    assert load_content(tree).issues[0].history[-1].note == "补充材料"  # the change itself stays


def test_who_did_it(tree, monkeypatch):
    p = tree / "issues/2026/2026-0001.md"
    monkeypatch.setenv("POLICYKB_USER", "环境用户")
    change = ledger.apply(p, "note", note="备注一", date=D(2026, 3, 3))
    assert change.by == "环境用户" and change.issue.history[-1].by == "环境用户"
    assert ledger.who("参数用户") == "参数用户"


def test_new_issue_numbering_and_prompts(tree, cli):
    r = cli("issue", "new", "--content", tree, "--title", "员工子女入学", "--category", "生活配套",
            "--enterprise", "某某科技有限公司", "--channel", "走访", "--by", "李明", "--date", "2026-04-01",
            "--no-interactive", "--no-similar")
    assert r.exit_code == 0, r.output
    p = tree / "issues/2026/2026-0002.md"
    issue = load_content(tree).by_id["2026-0002"]
    assert issue.status == "received" and issue.received == D(2026, 4, 1) and issue.history[0].action == "受理"
    assert "&id" not in p.read_text(encoding="utf-8")
    # In a terminal, missing values are asked for.
    r = cli("issue", "new", "--content", tree, "--date", "2026-04-02", "--by", "李明", "--interactive",
            "--no-similar", input="宽带经常断网\n园区宽带不稳定，影响生产\n\n\n生产配套\n")
    assert r.exit_code == 0, r.output
    issue = load_content(tree).by_id["2026-0003"]
    assert issue.title == "宽带经常断网" and issue.category == "生产配套" and "影响生产" in issue.body
    r = cli("issue", "new", "--content", tree, "--title", "用电", "--category", "生产配套", "--policy", "zone-power",
            "--no-interactive", "--no-similar", "--date", "2026-04-03", "--by", "a")
    assert r.exit_code == 0 and load_content(tree).by_id["2026-0004"].policies == ["zone-power"]
    r = cli("issue", "new", "--content", tree, "--title", "用电", "--category", "生产配套", "--policy", "nope",
            "--no-interactive", "--no-similar")
    assert r.exit_code == 1 and "找不到政策 nope" in r.output
    r = cli("issue", "new", "--content", tree, "--title", "x", "--category", "审批服务", "--no-interactive",
            "--no-similar")
    assert r.exit_code == 1 and "不在分类表中" in r.output and "审批" in r.output
    # Without --category and without prompts, the suggestion is used and the output says so.
    r = cli("issue", "new", "--content", tree, "--title", "宽带又断网了", "--body", "园区宽带不稳定",
            "--no-interactive", "--no-similar", "--date", "2026-04-04", "--by", "a")
    filed = load_content(tree).by_id["2026-0005"].category
    assert r.exit_code == 0 and f"已按以往同类诉求归入 “{filed}”" in r.output and "category" in r.output
    given = cli("issue", "new", "--content", tree, "--title", "宽带又断网了", "--category", "生活配套",
                "--no-interactive", "--no-similar", "--date", "2026-04-04", "--by", "a")
    assert given.exit_code == 0 and "已按以往同类诉求归入" not in given.output
    assert ledger.next_id(tree, 2027) == "2027-0001"
    assert errors_of(tree) == []


def test_list_and_show(make_tree, cli):
    root = make_tree({"issues/2026-0001.md": record("in_progress"), "issues/2026-0002.md": record("resolved"),
                      "issues/2026-0003.md": record("received")})
    r = cli("issue", "list", "--content", root, "--json", "--status", "in_progress", "--status", "received")
    assert [x["id"] for x in json.loads(r.output)] == ["2026-0001", "2026-0003"]
    r = cli("issue", "list", "--content", root, "--json", "--overdue", "--as-of", "2026-03-21")
    assert [x["id"] for x in json.loads(r.output)] == ["2026-0001"]
    r = cli("issue", "list", "--content", root, "--json", "--department", "区供电公司")
    assert len(json.loads(r.output)) == 2
    r = cli("issue", "list", "--content", root, "--as-of", "2026-03-21")
    assert "2026-0002" in r.output and "超期" in r.output and "共 3 条" in r.output
    r = cli("issue", "show", "2026-0002", "--content", root)
    assert r.exit_code == 0 and "已架设" in r.output and "受理" in r.output and "李明" in r.output


@pytest.mark.parametrize("history", ["history: []\n", ""])
def test_empty_or_missing_history_gets_a_block_list(make_tree, history):
    text = (f"---\ntitle: t\nreceived: 2026-03-02\ncategory: 其他\nstatus: received\n{history}"
            "public: false\n---\n正文\n")
    root = make_tree({"issues/2026-0001.md": text})
    p = root / "issues/2026-0001.md"
    ledger.apply(p, "note", note="第一条", by="a", date=D(2026, 3, 3))
    out = p.read_text(encoding="utf-8")
    assert "  - date: 2026-03-03\n    by: a\n    action: 备注\n    note: 第一条\n" in out
    assert out.endswith("public: false\n---\n正文\n") or out.endswith("---\n正文\n")
    assert out.count("history:") == 1
    assert load_content(root).issues[0].history[0].note == "第一条"


def test_record_with_loader_error_is_refused_with_its_line(make_tree):
    text = "---\ntitle: t\nreceived: 2026-03-02\ncategory: 其他\nstatus: received\nhistory:\n---\n正文\n"
    root = make_tree({"issues/2026-0001.md": text})
    p = root / "issues/2026-0001.md"
    with pytest.raises(EditError, match=r"2026-0001.md:6: .*history"):
        ledger.apply(p, "note", note="x", by="a", date=D(2026, 3, 3))
    assert p.read_text(encoding="utf-8") == text
