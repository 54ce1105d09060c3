"""Anonymisation against planted identities, and `faq promote` built on it."""
from __future__ import annotations

import datetime as dt

import pytest

from conftest import git
from policykb.ledger.anonymise import anonymise, names_in
from policykb.ledger.lifecycle import LedgerError
from policykb.content.loader import load_content
from policykb.ledger.promote import promote
from policykb.content.validate import validate

PLANTED = {
    "mobile": "13812345678",
    "mobile_spaced": "139 2233 4455",
    "landline": "022-23456789",
    "landline_paren": "（022）66778899",
    "hotline": "400-820-1234",
    "id_card": "120101199001011234",
    "id_card_x": "12010419851231002X",
    "credit_code": "91120116MA05KXYZ1Q",
    "licence": "120116000123456",
    "email": "wang.li@huaxing-tech.com",
}


def test_planted_numbers_are_removed():
    text = ("联系电话13812345678，备用139 2233 4455，座机022-23456789，传真（022）66778899，客服400-820-1234。"
            "法人身份证号120101199001011234，经办人身份证12010419851231002X，统一社会信用代码91120116MA05KXYZ1Q，"
            "营业执照注册号120116000123456，邮箱wang.li@huaxing-tech.com。")
    out = anonymise(text).text
    for value in PLANTED.values():
        assert value not in out
    assert "（电话略）" in out and "（证件号码略）" in out and "（证照号码略）" in out and "（邮箱略）" in out
    # Ordinary numbers in the problem stay: they are what the FAQ is about.
    kept = anonymise("需要35千伏线路，200个技工缺口，厂区扩大4亩，补贴10%，2025年申报").text
    assert kept == "需要35千伏线路，200个技工缺口，厂区扩大4亩，补贴10%，2025年申报"


def test_planted_company_and_people():
    text = ("我们是天津华兴精密机械有限公司，华兴精密机械去年扩产，华兴公司现有员工2500人。联系人张伟经理；"
            "王建国副总和李娜女士也参加了座谈，刘总说厂区停车难。项目经理反映招工难。"
            "地址：天津市滨海高新区海泰西路18号3号楼201室。")
    r = anonymise(text, enterprise="天津华兴精密机械有限公司", people=names_in("张伟 13812345678"))
    out = r.text
    for planted in ("华兴", "张伟", "王建国", "李娜", "刘总", "海泰西路18号", "201室"):
        assert planted not in out, (planted, out)
    assert out.startswith("我们是某企业")  # the sentence around the name survives
    assert "项目经理反映招工难" in out  # an ordinary word that starts with a surname is not a name
    assert "员工2500人" in out and "停车难" in out
    kinds = {k for k, _ in r.removed}
    assert {"company", "person", "address"} <= kinds


def test_other_companies_and_kept_names():
    text = "请国网天津市电力公司协助，另有天津远航物流有限公司愿意合作，我公司和贵公司都同意。"
    out = anonymise(text, keep=["国网天津市电力公司"]).text
    assert "国网天津市电力公司" in out  # the responsible department may stay
    assert "远航物流" not in out
    assert "我公司和贵公司都同意" in out
    # Ordinary words that jieba's dictionary tags as names stay; a half-masked phone goes.
    out = anonymise("并联办理线路规划许可，创建文明城市，联系人金经理 135****6670", people=names_in("金经理")).text
    assert "规划许可" in out and "文明城市" in out and "6670" not in out and "金" not in out


def test_names_in_contact_field():
    assert names_in("张伟 13812345678") == ["张伟"]
    assert "李" in names_in("李经理，电话022-1234567")
    assert names_in(None) == []


RESOLVED = """\
---
title: 华兴精密新厂区停车难
received: 2026-03-02
category: 生活配套
status: resolved
enterprise: 天津华兴精密机械有限公司
contact: 张伟 13812345678
officer: 赵刚
department: 区建设和交通局
due: 2026-03-31
closed_on: 2026-03-20
resolution: 区建设和交通局在华兴精密北侧协调临时停车场200个车位，张伟经理已确认；如有问题请拨打13812345678。
policies: [zone-parking]
history:
  - date: 2026-03-02
    by: 赵刚
    action: 受理
---
我们天津华兴精密机械有限公司员工从500人增加到2500人，厂区停车位不够，员工只能停在路边。能不能帮忙协调停车场？联系人张伟，电话13812345678。
"""


@pytest.fixture
def tree(make_tree):
    return make_tree({
        "issues/2026-0001.md": RESOLVED,
        "issues/2026-0002.md": "---\ntitle: 待办\nreceived: 2026-03-02\ncategory: 其他\nstatus: received\n---\n问题\n",
        "policies/zone-parking.md": "---\ntitle: 员工通勤停车保障\ncategories: [生活配套]\nissuer: 区建设和交通局\n---\n正文\n",
    })


def test_promote_writes_anonymised_faq(tree, cli):
    r = cli("faq", "promote", "2026-0001", "--content", tree, "--date", "2026-03-25", "--by", "李明")
    assert r.exit_code == 0, r.output
    faq_path = tree / "faq/faq-2026-0001.md"
    text = faq_path.read_text(encoding="utf-8")
    for planted in ("华兴", "张伟", "13812345678", "赵刚"):
        assert planted not in text, (planted, text)
    content = load_content(tree)
    faq = content.by_id["faq-2026-0001"]
    assert faq.issues == ["2026-0001"] and faq.policies == ["zone-parking"]
    assert faq.categories == ["生活配套"] and faq.department == "区建设和交通局"
    assert "停车" in faq.question and "200个车位" in faq.body and "区建设和交通局" in faq.body
    assert content.by_id["2026-0001"].faq == ["faq-2026-0001"]
    assert not [d for d in validate(content, dt.date(2026, 12, 31)) if d.severity == "error"]
    # The issue file changed only by the new key.
    issue_text = (tree / "issues/2026-0001.md").read_text(encoding="utf-8")
    assert issue_text == RESOLVED.replace("policies: [zone-parking]\n", "policies: [zone-parking]\nfaq: [faq-2026-0001]\n")


def test_promoted_faq_is_a_draft_until_an_editor_removes_the_line(tree, cli, tmp_path):
    from policykb.search import matcher
    from policykb.site.build import build_site
    r = cli("faq", "promote", "2026-0001", "--content", tree, "--date", "2026-03-25", "--by", "李明")
    assert r.exit_code == 0 and "draft" in r.output
    faq_path = tree / "faq/faq-2026-0001.md"
    assert load_content(tree).by_id["faq-2026-0001"].draft is True
    site = build_site(tree, tmp_path / "site", today=dt.date(2026, 3, 26)).out
    assert "faq-2026-0001" not in "".join(p.read_text(encoding="utf-8", errors="ignore")
                                          for p in site.rglob("*") if p.is_file())
    [hits] = matcher.match(tree, ["员工停车位不够"])
    assert "faq-2026-0001" not in [h.id for h in hits]
    [hits] = matcher.match(tree, ["员工停车位不够"], include_all=True)
    assert "faq-2026-0001" in [h.id for h in hits]
    faq_path.write_text(faq_path.read_text(encoding="utf-8").replace("draft: true\n", ""), encoding="utf-8")
    [hits] = matcher.match(tree, ["员工停车位不够"])
    assert "faq-2026-0001" in [h.id for h in hits]
    site = build_site(tree, tmp_path / "site", today=dt.date(2026, 3, 26)).out
    assert any("faq-2026-0001" in p.read_text(encoding="utf-8") for p in (site / "faq").rglob("*.html"))


def test_promote_refusals(tree, cli):
    r = cli("faq", "promote", "2026-0002", "--content", tree)
    assert r.exit_code == 1 and "尚未办结" in r.output
    assert not (tree / "faq").exists()
    with pytest.raises(LedgerError, match="已被"):
        promote(tree, "2026-0001", faq_id="zone-parking")
    promote(tree, "2026-0001", date=dt.date(2026, 3, 25))
    with pytest.raises(LedgerError, match="已被"):
        promote(tree, "2026-0001", date=dt.date(2026, 3, 25))


def test_promote_commit(git_repo, cli):
    from conftest import write_tree
    content = write_tree(git_repo / "content", {
        "issues/2026-0001.md": RESOLVED,
        "policies/zone-parking.md": "---\ntitle: 员工通勤停车保障\n---\n正文\n"})
    git(git_repo, "add", ".")
    git(git_repo, "commit", "-q", "-m", "start")
    r = cli("faq", "promote", "2026-0001", "--content", content, "--commit", "--by", "李明")
    assert r.exit_code == 0, r.output
    files = sorted(git(git_repo, "show", "--name-only", "--format=", "HEAD").split())
    assert files == ["content/faq/faq-2026-0001.md", "content/issues/2026-0001.md"]
    assert git(git_repo, "log", "-1", "--format=%s").strip() == "issue 2026-0001: faq-promote"
