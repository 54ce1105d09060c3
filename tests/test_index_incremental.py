"""Incremental index builds: analyses cached by record content, a new generation swapped in."""
from __future__ import annotations

from policykb.search import analysis, index_store, matcher
from policykb.search.analysis_cache import AnalysisCache, doc_hash
from policykb.search.engine import IndexDoc

TREE = {
    "policies/zone-tech-upgrade.md": """
        ---
        title: 滨海高新区支持企业技术改造项目补助办法
        ---
        技术改造项目按设备投资额的10%给予补助。
        """,
    "policies/zone-rent.md": """
        ---
        title: 孵化器房租减免办法
        ---
        入驻孵化器的小微企业前两年房租减半。
        """,
    "faq/faq-parking.md": """
        ---
        question: 员工上班停车难怎么办？
        ---
        区里协调周边闲置地块建设临时停车场。
        """,
}


def _ids(hits):
    return [h.id for h in hits]


def test_unchanged_corpus_reuses_every_cached_analysis(make_tree, tmp_path):
    tree = make_tree(TREE)
    index = tmp_path / "idx"
    first = matcher.build_index(tree, index)
    assert first.manifest["analysed"] == 3 and first.manifest["reused"] == 0
    second = matcher.build_index(tree, index)
    assert second.path != first.path  # a new generation, swapped in whole
    assert second.manifest["analysed"] == 0 and second.manifest["reused"] == 3
    [hits] = matcher.match(tree, ["停车难"], index_dir=index)
    assert _ids(hits)[0] == "faq-parking"


def test_changed_record_is_found_with_its_new_text_and_only_it_is_analysed(make_tree, tmp_path):
    tree = make_tree(TREE)
    index = tmp_path / "idx"
    matcher.build_index(tree, index)
    (tree / "policies" / "zone-rent.md").write_text(
        "---\ntitle: 孵化器房租减免办法\n---\n入驻孵化器的企业可申请宽带资费补贴。\n", encoding="utf-8")
    [hits] = matcher.match(tree, ["宽带资费补贴"], index_dir=index)  # stale key: rebuilt here
    gen = index_store.current(index)
    assert gen.manifest["analysed"] == 1 and gen.manifest["reused"] == 2
    assert _ids(hits)[0] == "zone-rent"
    assert "宽带" in hits[0].snippet  # the stored text is the new one too
    [old] = matcher.match(tree, ["前两年房租减半"], index_dir=index)
    assert all("减半" not in h.snippet and "减半" not in h.matched for h in old)  # the old text is gone


def test_deleted_record_is_gone_from_the_new_generation(make_tree, tmp_path):
    tree = make_tree(TREE)
    index = tmp_path / "idx"
    matcher.build_index(tree, index)
    (tree / "policies" / "zone-tech-upgrade.md").unlink()
    gen = matcher.build_index(tree, index)
    assert gen.manifest["documents"] == 2 and gen.manifest["analysed"] == 0
    [hits] = matcher.match(tree, ["技术改造补助"], index_dir=index)
    assert "zone-tech-upgrade" not in _ids(hits)
    assert {r.id for r in matcher.searcher_for(gen).records()} == {"zone-rent", "faq-parking"}


def test_cache_key_follows_the_analysed_text_only(tmp_path):
    a = IndexDoc(id="a", type="policy", title="技术改造补助", body="按投资额补助。")
    b = IndexDoc(id="b", type="faq", title="技术改造补助", body="按投资额补助。", region="天津市")
    c = IndexDoc(id="a", type="policy", title="技术改造补助", body="按投资额奖励。")
    assert doc_hash(a) == doc_hash(b)  # ids, types and regions are not analysed
    assert doc_hash(a) != doc_hash(c)
    cache = AnalysisCache(tmp_path / "c.sqlite")
    cache.put_many({doc_hash(a): {"x": [1, "技改"]}})
    assert cache.get_many([doc_hash(a), doc_hash(c)]) == {doc_hash(a): {"x": [1, "技改"]}}
    cache.close()
    (tmp_path / "c.sqlite").write_bytes(b"not a database")  # a damaged cache costs time, never a build
    broken = AnalysisCache(tmp_path / "c.sqlite")
    assert broken.get_many([doc_hash(a)]) == {}
    broken.put_many({doc_hash(a): {"x": 1}})
    broken.close()


def test_streamed_build_matches_the_per_record_bm25f(make_tree, tmp_path):
    """The build computes BM25F over arrays in chunks; it must equal the per-record formula."""
    import numpy as np

    from policykb.search import whoosh_store
    from policykb.search.postings import Postings
    tree = make_tree(TREE)
    gen = matcher.build_index(tree, tmp_path / "idx")
    docs = matcher.index_docs(matcher._load_valid(tree, include_issues=False)[0])
    analysed = [whoosh_store._analyse(d) for d in docs]
    post = Postings(gen.path, ("doc", "psg"))
    rows, w, ptr, _ = post.f["doc"]
    row = [str(i) for i in post.extra("ids")].index("zone-rent")
    title = analysis.index_terms("孵化器房租减免办法")
    n = len(docs)
    lens = {f: [a["fields"][f][0] for a in analysed] for f in whoosh_store.DOC_FIELDS}
    avg = {f: (sum(v) / n) or 1.0 for f, v in lens.items()}
    have = [x for x in lens["asked"] if x]
    avg["asked"] = sum(have) / len(have) if have else 1.0
    a = analysed[[d.id for d in docs].index("zone-rent")]
    for t in title[:3]:
        tf = 0.0
        for f in whoosh_store.DOC_FIELDS:
            length, terms, counts = a["fields"][f]
            if t in terms:
                norm = whoosh_store.FIELD_BOOST[f] / (1 - whoosh_store.FIELD_B[f] + whoosh_store.FIELD_B[f] * length / avg[f])
                tf += counts[terms.index(t)] * norm
        k1 = 0.9
        tid = post.vocab[t]
        sl = slice(int(ptr[tid]), int(ptr[tid + 1]))
        got = dict(zip(np.asarray(rows[sl]).tolist(), np.asarray(w[sl]).tolist()))
        assert abs(got[row] - tf * (k1 + 1) / (tf + k1)) < 1e-4


# -- patched generations equal whole builds -------------------------------------------------------

LINKED = {
    **TREE,
    "policies/zone-loan.md": """
        ---
        title: 科技型中小企业贷款贴息办法
        summary: 贷款利息按50%给予贴息。
        ---
        科技型中小企业银行贷款按实际支付利息的50%给予贴息。技术改造项目贷款优先。
        """,
    "faq/faq-loan.md": """
        ---
        question: 贷款利息能补吗？
        aliases: [贷款贴息怎么申请]
        policies: [zone-loan]
        ---
        可以申请贷款贴息，见科技型中小企业贷款贴息办法。
        """,
}


def _snapshot(gen) -> dict:
    """Everything a search reads of a generation, keyed by term (ids may be numbered differently)."""
    import numpy as np

    from policykb.search.postings import Postings
    post = Postings(gen.path, ("doc", "psg"))
    out = {}
    for f in ("doc", "psg"):
        rows, w, ptr, n = post.f[f]
        out[f] = n, {t: (rows[ptr[i]:ptr[i + 1]].tolist(), w[ptr[i]:ptr[i + 1]].tobytes())
                     for t, i in post.vocab.items() if ptr[i + 1] > ptr[i]}
    raw = {c: np.load(gen.path / f"docf.{c}.npy") for c in ("rows", "tf", "fld", "ptr")}
    out["docf"] = {t: [raw[c][raw["ptr"][i]:raw["ptr"][i + 1]].tolist() for c in ("rows", "tf", "fld")]
                   for t, i in post.vocab.items() if raw["ptr"][i + 1] > raw["ptr"][i]}
    for name in ("parents", "starts", "ids", "link_ptr", "link_rows", "hashes", "psg.lens", "docf.lens"):
        out[name] = np.load(gen.path / f"{name}.npy").tolist()
    out["records"] = (gen.path / "records.json").read_text(encoding="utf-8")
    s = matcher.searcher_for(gen)
    out["stored"] = [s.searcher.stored_fields(int(d)) for d in s.docnums]
    return out


def _edit(tree):
    (tree / "policies" / "zone-rent.md").write_text(
        "---\ntitle: 孵化器房租减免办法\n---\n入驻孵化器的企业可申请宽带资费补贴。技术改造另行申报。\n", encoding="utf-8")
    (tree / "faq" / "faq-parking.md").unlink()
    (tree / "faq" / "faq-broadband.md").write_text(
        "---\nquestion: 宽带费用有补贴吗？\n---\n孵化器企业可申请宽带资费补贴。\n", encoding="utf-8")


def test_patched_generation_equals_a_whole_build(make_tree, tmp_path):
    tree = make_tree(LINKED)
    index = tmp_path / "idx"
    matcher.build_index(tree, index)
    _edit(tree)
    patched = matcher.build_index(tree, index)
    assert patched.manifest["patched"] and patched.manifest["analysed"] == 2
    whole = matcher.build_index(tree, tmp_path / "whole")
    assert not whole.manifest["patched"]
    assert _snapshot(patched) == _snapshot(whole)
    questions = ["宽带资费补贴", "贷款利息能补吗", "技术改造补助", "停车难"]
    got = [[(h.id, h.score, h.snippet) for h in hits] for hits in matcher.match(tree, questions, index_dir=index)]
    want = [[(h.id, h.score, h.snippet) for h in hits]
            for hits in matcher.match(tree, questions, index_dir=tmp_path / "whole")]
    assert got == want and got[0][0][0] in ("zone-rent", "faq-broadband")


def test_repeated_patches_stay_equal_and_segments_are_compacted(make_tree, tmp_path, monkeypatch):
    from policykb.search import whoosh_store
    monkeypatch.setattr(whoosh_store, "MAX_SEGMENTS", 3)
    tree = make_tree(LINKED)
    index = tmp_path / "idx"
    matcher.build_index(tree, index)
    path = tree / "policies" / "zone-loan.md"
    patched = []
    for k in range(3):
        path.write_text(path.read_text(encoding="utf-8") + f"\n第{k}次修订：贴息比例调整。\n", encoding="utf-8")
        gen = matcher.build_index(tree, index)
        patched.append(gen.manifest["patched"])
        assert _snapshot(gen) == _snapshot(matcher.build_index(tree, tmp_path / f"whole{k}"))
    assert patched == [True, True, False]  # the third would make a third segment: built whole
    assert len(list(gen.path.glob("*.seg"))) == 1


def test_spilled_runs_merged_in_ranges_equal_one_run(make_tree, tmp_path, monkeypatch):
    from policykb.search import postings
    tree = make_tree(LINKED)
    one = matcher.build_index(tree, tmp_path / "one")
    monkeypatch.setattr(postings, "SPILL_POSTINGS", 7)
    monkeypatch.setattr(postings, "MERGE_POSTINGS", 11)
    many = matcher.build_index(tree, tmp_path / "many")
    assert _snapshot(many) == _snapshot(one)


def test_cached_index_of_edited_content_is_patched_from_the_previous_one(make_tree, tmp_path):
    tree = make_tree(LINKED)
    first, built = matcher.ensure_index(tree)
    assert built and not first.manifest["patched"]
    _edit(tree)
    gen, built = matcher.ensure_index(tree)  # the cache keys folders by content: a new folder
    assert built and gen.manifest["patched"] and gen.path.parent != first.path.parent
    assert _snapshot(gen) == _snapshot(matcher.build_index(tree, tmp_path / "whole"))


def test_damaged_previous_generation_costs_a_whole_build_not_the_index(make_tree, tmp_path):
    tree = make_tree(LINKED)
    index = tmp_path / "idx"
    first = matcher.build_index(tree, index)
    (first.path / "docf.ptr.npy").write_bytes(b"not an array")
    _edit(tree)
    gen = matcher.build_index(tree, index)
    assert not gen.manifest["patched"] and gen.manifest["documents"] == 5
    assert _snapshot(gen) == _snapshot(matcher.build_index(tree, tmp_path / "whole"))
