"""Chinese analysis: normalisation, user dictionary, stopwords, synonyms, homophone slips,
checked through the real matcher on a small real content tree."""
from __future__ import annotations

import pytest

from policykb.search import analysis, matcher

TREE = {
    "policies/zone-tech-upgrade.md": """
        ---
        title: 天津滨海高新区支持企业技术改造项目补助办法
        region: 天津市/滨海新区/滨海高新区
        categories: [产业发展]
        summary: 工业企业实施技术改造，按设备投资额的10%给予补助。
        ---
        ## 支持内容
        对完成备案并已竣工的技术改造项目，按生产性设备投资额的10%给予补助，单个项目最高500万元。
        """,
    "policies/zone-talent-housing.md": """
        ---
        title: 滨海高新区人才公寓和租房补贴办法
        region: 天津市/滨海新区/滨海高新区
        summary: 引进的硕士、博士可申请人才公寓或每月租房补贴。
        ---
        在区内企业全职工作的硕士研究生每月补贴1500元，博士每月2500元，最长三年。
        """,
    "policies/binhai-hte.md": """
        ---
        title: 高新技术企业认定奖励办法
        region: 天津市/滨海新区
        ---
        首次通过高新技术企业认定的企业，一次性奖励30万元。
        """,
    "faq/faq-broadband.md": """
        ---
        question: 办公楼网络经常断线，应该找谁？
        categories: [生产配套]
        ---
        先向运营商报修；仍未解决的，告诉企业服务专员，由区工业和信息化局协调通信管理部门处理。
        """,
}


@pytest.fixture
def tree(make_tree):
    return make_tree(TREE)


def ids(hits):
    return [h.id for h in hits]


def test_normalize_fullwidth_and_traditional():
    assert analysis.normalize("ＡＢＣ１２３　技術改造補貼") == "abc123 技术改造补贴"


def test_user_dictionary_keeps_policy_terms_whole():
    words = analysis.analyze_query("专精特新企业的稳岗返还和加计扣除").words
    for term in ("专精特新", "稳岗返还", "加计扣除"):
        assert term in words


def test_stopwords_removed_from_questions():
    q = analysis.analyze_query("请问我们公司怎么申请技术改造补助")
    assert "请问" not in q.words and "我们" not in q.words and "公司" not in q.words
    assert "技术改造" in q.words


def test_question_of_only_filler_has_no_terms():
    assert analysis.analyze_query("请问我们公司能不能怎么样？").empty


def test_synonyms_expand_at_lower_weight():
    q = analysis.analyze_query("技改")
    weights = {t.term: t.weight for t in q.terms}
    assert weights["技改"] > weights["技术改造"] > 0
    assert q.expansions["技术改造"] == "技改"


def test_homophone_slip_of_a_domain_term_is_corrected():
    assert "技改" in analysis.fix_typos(analysis.normalize("鸡改补贴怎么申请"))
    assert "稳岗返还" in analysis.fix_typos("稳刚返还没到账")


def test_homophone_correction_never_cuts_through_real_words():
    text = "北京市对于因疫情影响暂停举办的展会项目有何支持政策"
    assert analysis.fix_typos(text) == text


def test_jieba_dictionary_is_cached_in_policykb_cache():
    from policykb.paths import cache_dir
    analysis.tokenizer()
    # The process-wide tokenizer may predate this test's cache; a fresh build must write one.
    analysis._TOKENIZER = None
    analysis.tokenizer()
    assert list(cache_dir().glob("jieba-*.cache"))


def test_traditional_question_finds_simplified_policy(tree):
    [hits] = matcher.match(tree, ["技術改造補助標準是多少"])
    assert ids(hits)[0] == "zone-tech-upgrade"


def test_synonym_question_finds_its_target(tree):
    # "技改" and "高企" appear nowhere in the content; only the synonym groups connect them.
    [tech, hte] = matcher.match(tree, ["技改有没有钱", "高企奖励"])
    assert ids(tech)[0] == "zone-tech-upgrade"
    assert "技术改造" in tech[0].matched
    assert ids(hte)[0] == "binhai-hte"


def test_homophone_question_finds_its_target(tree):
    [hits] = matcher.match(tree, ["鸡改补助"])
    assert ids(hits)[0] == "zone-tech-upgrade"


def test_stopword_only_question_prints_no_match(tree, cli):
    result = cli("match", "--content", tree, "请问我们公司怎么办？")
    assert result.exit_code == 0
    assert "没有找到匹配的政策或问答" in result.output


def test_a_not_a_question_forms_carry_no_content():
    # 给不给 / 要不要 / 有没有 are how a question is asked, for any verb, not what it is about.
    assert analysis.analyze_query("政府给不给补贴").words == analysis.analyze_query("政府补贴").words
    assert "不要" not in analysis.analyze_query("养狗要不要办证").words
    assert "_给不" not in {t.term for t in analysis.analyze_query("政府给不给补贴").terms}


def test_fullwidth_question_matches(tree):
    [hits] = matcher.match(tree, ["ｗｉｆｉ网络断线找谁？"])
    assert ids(hits)[0] == "faq-broadband"


def test_dictionary_compound_is_a_term_however_jieba_cuts_it(monkeypatch):
    from policykb.search import analysis
    text = "中小微企业享受服务专员上门"  # jieba cuts 服务/专员 here, so the synonym group's 服务专员 never fired
    assert "服务专员" in analysis.index_terms(text)
    q = analysis.analyze_query("有没有服务专员上门")
    assert any(t.term == "服务专员" and t.weight == analysis.WORD_WEIGHT for t in q.terms)
    monkeypatch.setattr(analysis, "COMPOUNDS", False)
    assert "服务专员" not in analysis.index_terms(text)
