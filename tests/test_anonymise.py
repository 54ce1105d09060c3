"""Anonymisation against planted identities, and `faq promote` built on it."""
from __future__ import annotations

import datetime as dt

import pytest
from conftest import git

from policykb.content.loader import load_content
from policykb.content.validate import validate
from policykb.ledger.anonymise import anonymise, names_in
from policykb.ledger.lifecycle import LedgerError
from policykb.ledger.promote import promote

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


# -- identifiers of every kind (issue 10) ----------------------------------------------------------
EVERY_KIND = {
    # kind: [(text planted, the identifying part that must go)]
    "person": [("经办人王小明说", "王小明"), ("联系人：刘芳芳", "刘芳芳"), ("法定代表人李强表示同意", "李强"),
               ("老李和小张都在", "李"), ("小张都在", "张"), ("请找孙丽娟办理", "孙丽娟"), ("由赵刚负责，周志强配合", "志强"),
               ("欧阳娜娜来电咨询", "娜娜"), ("与钱卫东沟通后解决", "卫东")],
    "licence": [("统一社会信用代码91120116MA05KXYZ1Q", "91120116MA05KXYZ1Q"),
                ("信用代码 91120116ma05kxyz1q", "91120116ma05kxyz1q"),
                ("代码 9112 0116 MA05 KXYZ 1Q 已核", "KXYZ"), ("代码9112-0116-MA05-KXYZ-1Q", "KXYZ")],
    "id": [("身份证120101199001011234", "120101199001011234"), ("身份证 120101 19900101 1234", "19900101"),
           ("护照号E12345678", "E12345678"), ("护照号码：EA1234567", "EA1234567"), ("港澳通行证H12345678", "H12345678")],
    "plate": [("车牌津A·12345", "12345"), ("车牌津A12345", "12345"), ("新能源车津AD12345", "D12345"),
              ("车牌 京B 2345D", "2345D")],
    "account": [("开户账号 6222 0212 3456 7890 123", "3456 7890"), ("卡号6222021234567890", "6222021234567890"),
                ("银行卡6217-0000-1234-5678-901", "1234-5678"), ("账户：1234567890123", "1234567890123")],
    "im": [("微信号 wxid_abc123", "wxid_abc123"), ("微信：zhangwei_88", "zhangwei_88"), ("加VX hx-tech2025", "hx-tech2025"),
           ("QQ 123456789", "123456789"), ("QQ号：987654", "987654")],
    "email": [("邮箱 zhang at example dot com", "zhang"), ("邮箱 li＠example．cn", "li"), ("wang[at]huaxing[dot]com", "huaxing"),
              ("zhao(at)hx.com.cn", "zhao"), ("mail：sun @ hx . cn", "sun")],
    "phone": [("电话１３８１２３４５６７８", "5678"), ("手机１３８ １２３４ ５６７８", "5678"), ("座机０２２－２３４５６７８９", "2345")],
    "address": [("宿舍在三号楼五单元", "三号楼五单元"), ("海泰路一百二十三号", "一百二十三号"),
                ("住在阳光花园5栋2单元301室", "阳光花园"), ("海泰西路18号3号楼201室", "201室"), ("六号院二单元", "二单元")],
}


@pytest.mark.parametrize("kind,planted,secret", [(k, p, s) for k, cases in EVERY_KIND.items() for p, s in cases])
def test_every_kind_of_identifier_is_removed(kind, planted, secret):
    r = anonymise(f"企业反映：{planted}。请协助处理。")
    out = r.text
    import unicodedata
    assert secret not in out and unicodedata.normalize("NFKC", secret) not in unicodedata.normalize("NFKC", out), out
    assert out.startswith("企业反映：") and out.endswith("。请协助处理。")  # the words around it stay
    assert kind in {k for k, _ in r.removed}, r.removed


def test_ordinary_text_survives_the_new_patterns():
    text = ("依据津高新管发〔2025〕8号文件，2025年申报，补贴50万元，拨打12345热线。按GB/T 19001-2016和ISO9001认证，"
            "项目编号2025-TJ-001，2026-03-02受理，研发投入占比3.5%，第3季度，一楼大厅，三层会议室，年产值12000000元，"
            "专精特新小巨人企业，每年365天，10千伏，小区居民，小微企业，老师和学生，滨海新区第五大街，园区和楼宇业主，申报期20250301-20251231。")
    r = anonymise(text)
    assert r.text == text, r.removed


def test_known_people_lose_every_form_of_their_name():
    r = anonymise("张伟说可以。张经理明天来，老张也同意，张总签字。", people=names_in("张伟 13812345678"))
    assert "张" not in r.text and r.text.count("某") >= 4


def test_promoted_draft_lists_what_was_removed_without_the_values(tree, cli):
    answer = ("已为天津华兴精密机械有限公司车牌津A·12345的车辆办理通行证，统一社会信用代码 91120116ma05kxyz1q，"
              "开户账号 6222 0212 3456 7890 123，微信号 hx_wang88，QQ 12345678，邮箱 wang at hx dot com，"
              "电话１３８１２３４５６７８，宿舍在三号楼五单元，法定代表人王建国已确认。")
    p = tree / "issues/2026-0001.md"
    text = RESOLVED.replace("resolution: 区建设和交通局在华兴精密北侧协调临时停车场200个车位，张伟经理已确认；如有问题请拨打13812345678。",
                            f"resolution: {answer}")
    assert answer in text
    p.write_text(text, encoding="utf-8")
    r = cli("faq", "promote", "2026-0001", "--content", tree, "--date", "2026-03-25", "--by", "李明")
    assert r.exit_code == 0, r.output
    text = (tree / "faq/faq-2026-0001.md").read_text(encoding="utf-8")
    for secret in ("12345", "kxyz", "KXYZ", "3456", "hx_wang88", "12345678", "wang at", "５６７８", "三号楼", "王建国", "华兴"):
        assert secret not in text, (secret, text)
    note = next(line for line in text.splitlines() if line.startswith("# 匿名化已去除"))
    for label in ("企业名称", "车牌号", "证照号码", "银行账号", "微信/QQ", "邮箱", "电话", "地址", "人名"):
        assert label in note, (label, note)
    content = load_content(tree)
    assert not [d for d in validate(content, dt.date(2026, 12, 31)) if d.severity == "error"]
    assert content.by_id["faq-2026-0001"].draft is True
    assert "车牌号“津A·12345”" in r.output  # the officer sees the removed values on screen, not in the file
