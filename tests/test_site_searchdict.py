"""The site's jieba dictionary: whole abbreviations, split compounds, so prefix search finds both."""
import datetime as dt
import json

import jieba

from policykb.paths import SEARCH_RESOURCES
from policykb.site.build import build_site
from policykb.site.searchdict import keeps_whole, site_user_dictionary


def test_derived_dictionary_keeps_abbreviations_and_drops_splittable_compounds(tmp_path):
    src = tmp_path / "userdict.txt"
    src.write_text("# 注释\n技改 20 n\n贷款贴息 20 n\n六税两费 20 n\n融资担保 20 n\n\n", encoding="utf-8")
    out = site_user_dictionary(src, tmp_path / "site-dict.txt")
    assert out.read_text(encoding="utf-8").split("\n") == ["技改 20 n", "六税两费 20 n", ""]


def test_every_project_term_is_either_kept_or_splits_into_real_words():
    base = jieba.Tokenizer()
    for line in (SEARCH_RESOURCES / "userdict.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            word = line.split()[0]
            parts = list(base.cut(word, HMM=False))
            assert keeps_whole(word, base) or all(len(p) > 1 for p in parts), word


def test_tail_of_a_compound_is_its_own_search_word(make_tree, tmp_path):
    root = make_tree({"policies/loan.md": """
        ---
        title: 中小企业贷款贴息办法
        summary: 对中小企业银行贷款给予贷款贴息。
        ---
        符合条件的企业可申请贷款贴息，技改项目优先。
        """})
    site = build_site(root, tmp_path / "site", today=dt.date(2026, 11, 22)).out
    index = json.loads((site / "search/search_index.json").read_text(encoding="utf-8"))
    words = {w for d in index["docs"] for w in (d["title"] + "\u200b" + d["text"]).split("\u200b")}
    assert {"贴息", "贷款", "技改"} <= words and "贷款贴息" not in words
