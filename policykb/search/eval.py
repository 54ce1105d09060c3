"""Measure the matcher on a question set, against plain BM25 computed in the same run.

Questions: JSON lines or YAML, each {q, expect: [ids], style?}. `expect: []` means no right
answer exists: those count towards "no-answer" (the matcher should return nothing), not
towards recall. Metrics: recall@1, recall@5 (any expected id in the top k) and MRR@10.

No-answer recognition, in the same run: a question counts as "recognised as no-answer" when the
matcher returns nothing or its best hit is not confident (matcher.is_confident). Reported both
ways: the share of `expect: []` questions recognised, and the share of answerable questions
wrongly flagged (their results are still ranked and counted for recall).

The baseline is deliberately plain: BM25 with the standard parameters k1=1.2, b=0.75 and
Lucene's idf log(1 + (N - df + 0.5) / (df + 0.5)), over the tokens of jieba.cut in its default
mode with jieba's default dictionary (no user dictionary) of title + body, lower-cased,
punctuation dropped; no synonyms, no stopwords, no field weights, no tuning. It ranks the same
records the matcher can return.
"""
from __future__ import annotations

import json
import math
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from policykb.search import analysis


@dataclass
class Question:
    q: str
    expect: list[str]
    style: str = ""
    line: int = 0


class QuestionFileError(Exception):
    pass


def load_questions(path: Path) -> list[Question]:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    items: list[tuple[int, object]] = []
    if path.suffix in (".yml", ".yaml"):
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise QuestionFileError(f"{path}: YAML 语法错误：{e}") from None
        if isinstance(data, dict):
            data = data.get("questions", [])
        items = list(enumerate(data or [], 1))
    else:
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    items.append((n, json.loads(line)))
                except ValueError:
                    raise QuestionFileError(f"{path}:{n}: 不是有效的 JSON。每行应为一个 {{\"q\": …, \"expect\": […]}} 对象。") from None
    out, problems = [], []
    for n, it in items:
        if not isinstance(it, dict) or not isinstance(it.get("q"), str) or not isinstance(it.get("expect", []), list):
            problems.append(f"{path}:{n}: 每个问题应有文本 “q” 和列表 “expect”。")
            continue
        out.append(Question(it["q"], [str(e) for e in it.get("expect") or []], str(it.get("style") or ""), n))
    if problems:
        raise QuestionFileError("\n".join(problems))
    return out


# --- plain BM25 baseline -----------------------------------------------------------------

class PlainBM25:
    def __init__(self, docs: Sequence[tuple[str, str]], k1: float = 1.2, b: float = 0.75):
        self.ids = [d for d, _ in docs]
        self.k1, self.b = k1, b
        self.tf = [Counter(analysis.plain_tokens(text)) for _, text in docs]
        self.len = [sum(c.values()) for c in self.tf]
        self.avg = sum(self.len) / max(len(self.len), 1)
        df = Counter(t for c in self.tf for t in c)
        n = len(docs)
        self.idf = {t: math.log((n - f + 0.5) / (f + 0.5) + 1) for t, f in df.items()}
        self.postings: dict[str, list[int]] = defaultdict(list)
        for i, c in enumerate(self.tf):
            for t in c:
                self.postings[t].append(i)

    def search(self, question: str, top: int = 10) -> list[str]:
        scores: dict[int, float] = defaultdict(float)
        for t in analysis.plain_tokens(question):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for i in self.postings[t]:
                f = self.tf[i][t]
                scores[i] += idf * f * (self.k1 + 1) / (f + self.k1 * (1 - self.b + self.b * self.len[i] / self.avg))
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], self.ids[kv[0]]))[:top]
        return [self.ids[i] for i, _ in ranked]


# --- metrics -----------------------------------------------------------------------------

@dataclass
class Scores:
    n: int = 0
    r1: float = 0.0
    r5: float = 0.0
    mrr: float = 0.0
    no_answer: int = 0
    no_answer_ok: int = 0  # no-answer questions with no results at all
    no_answer_flagged: int = 0  # no-answer questions recognised (nothing, or nothing confident)
    flagged: int = 0  # answerable questions wrongly flagged as having no confident match
    judged: bool = False  # whether confidence was given (the baseline has none)
    misses: list = field(default_factory=list)

    def add(self, q: Question, ranked: list[str], confident: bool | None = None):
        """`confident`: whether the best hit is confident (None for the baseline: not judged)."""
        if not q.expect:
            self.no_answer += 1
            self.no_answer_ok += not ranked
            self.no_answer_flagged += not ranked if confident is None else not confident
            return
        self.n += 1
        if confident is not None:
            self.judged = True
            self.flagged += not confident
        rank = next((i for i, r in enumerate(ranked[:10], 1) if r in q.expect), None)
        self.r1 += rank == 1
        self.r5 += rank is not None and rank <= 5
        self.mrr += 1 / rank if rank else 0
        if rank != 1:
            self.misses.append((q, ranked[:3]))

    def as_dict(self) -> dict:
        d = max(self.n, 1)
        out = {"questions": self.n, "recall@1": round(self.r1 / d, 3), "recall@5": round(self.r5 / d, 3),
               "mrr@10": round(self.mrr / d, 3)}
        if self.no_answer:
            out["no_answer"] = self.no_answer
            out["no_answer_empty"] = self.no_answer_ok
            out["no_answer_recognised"] = self.no_answer_flagged
            out["no_answer_recognised_rate"] = round(self.no_answer_flagged / self.no_answer, 3)
        if self.judged:
            out["answerable_flagged"] = self.flagged
            out["answerable_flagged_rate"] = round(self.flagged / self.n, 3)
        return out


def evaluate(content_root, questions: list[Question], *, distractors: Sequence = (), index_dir=None,
             include_all: bool = False) -> dict:
    """Matcher and plain BM25 on the same records; overall, per style, per half (odd/even lines)."""
    from policykb.content.loader import load_content
    from policykb.search import matcher

    prepared = _prepare(content_root, distractors, index_dir)
    started = time.perf_counter()
    results = matcher.match(content_root, [q.q for q in questions], top=10, include_all=include_all,
                            index_dir=index_dir, extra_roots=distractors)
    match_seconds = time.perf_counter() - started
    # Baseline pool: the very records the matcher may return (same status filtering).
    import datetime as dt
    today = dt.date.today()
    docs = []
    seen = set()
    for root in [content_root, *distractors]:
        c = load_content(Path(root), include_issues=False)
        for p in c.policies:
            if p.id not in seen and (include_all or p.is_current(today)):
                seen.add(p.id)
                docs.append((p.id, f"{p.title or ''}\n{p.body}"))
        for f in c.faqs:
            if f.id not in seen:
                seen.add(f.id)
                docs.append((f.id, f"{f.question or ''}\n{f.body}"))
    bm25 = PlainBM25(docs)
    lexical = _lexical_run(content_root, questions, distractors, index_dir, include_all)
    groups: dict[str, dict[str, Scores]] = defaultdict(lambda: {"matcher": Scores(), "bm25": Scores()})
    for q, hits in zip(questions, results):
        ranked = [h.id for h in hits]
        base = bm25.search(q.q)
        keys = ["all", f"half:{'odd' if q.line % 2 else 'even'}"]
        if q.style:
            keys.append(f"style:{q.style}")
        for k in keys:
            groups[k]["matcher"].add(q, ranked, matcher.confident(hits))
            groups[k]["bm25"].add(q, base)
    report = {"documents": len(docs), "questions": len(questions),
              "match_seconds": round(match_seconds, 2), **prepared,
              "groups": {k: {m: s.as_dict() for m, s in v.items()} for k, v in groups.items()},
              "misses": [(q.q, q.expect, top) for q, top in groups["all"]["matcher"].misses]}
    if lexical is not None:
        report["semantic"] = lexical
    return report


def _prepare(content_root, distractors, index_dir) -> dict:
    """Build the index and the blend's vectors first when they are missing, timed apart: a first
    run in a fresh cache embeds every chunk (minutes), which is no cost of answering questions
    (match_seconds, set beside the lexical run's time)."""
    from policykb.search import matcher, semantic
    started = time.perf_counter()
    gen, built = matcher.ensure_index(content_root, index_dir, extra_roots=distractors)
    out = {"index_built": built}
    if semantic.enabled():
        searcher = matcher.searcher_for(gen)
        vec = semantic.vectors_for(searcher, len(searcher.records()))
        out["embedded"] = vec.embedded if vec is not None else 0
    out["prepare_seconds"] = round(time.perf_counter() - started, 2)
    return out


def _lexical_run(content_root, questions: list[Question], distractors, index_dir, include_all) -> dict | None:
    """With the semantic blend on (policykb/search/semantic.py), the same matcher without it in the
    same run, per group, so the blend's gain reads beside the lexical figures."""
    from policykb.search import matcher, semantic
    if not semantic.enabled():
        return None
    started = time.perf_counter()
    with semantic.disabled():
        results = matcher.match(content_root, [q.q for q in questions], top=10, include_all=include_all,
                                index_dir=index_dir, extra_roots=distractors)
    seconds = time.perf_counter() - started
    groups: dict[str, Scores] = defaultdict(Scores)
    for q, hits in zip(questions, results):
        keys = ["all", f"half:{'odd' if q.line % 2 else 'even'}"] + ([f"style:{q.style}"] if q.style else [])
        for k in keys:
            groups[k].add(q, [h.id for h in hits], matcher.confident(hits))
    return {"model": semantic.MODEL, "weight": semantic.WEIGHT, "floor": semantic.FLOOR,
            "lexical_seconds": round(seconds, 2), "lexical": {k: s.as_dict() for k, s in groups.items()}}
