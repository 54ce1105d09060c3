"""Match companies' questions to policies, FAQs (and, internally, problem records).

Stable Python API (the CLI and `policykb issue similar` are thin layers over it):

    match(content_root, questions, *, top=10, types=None, region=None, include_all=False,
          internal=False, index_dir=None) -> list[list[Hit]]

The index is found or built automatically: without `index_dir` it lives in the policykb cache
(outside the content tree) under a key made of the content fingerprint, the analysis
resources and the engine version, so editing content or dictionaries means a fresh index.
Each hit carries `confident` (see is_confident) and `strength`; `confident(hits)` says whether
the best hit is one the matcher stands behind, which the CLI and `policykb eval` use for
"no confident match". `internal=True` also indexes problem records (title + body + resolution) under its own key;
that index is never the public one.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from policykb import gcpause
from policykb.content import regions
from policykb.content.statuses import policy_status
from policykb.paths import DEFAULT_CONTENT, cache_dir
from policykb.search import analysis, index_store, semantic
from policykb.search.engine import Filters, Hit, IndexDoc, get_engine

ENGINE = "whoosh"
ENGINE_VERSION = "10"  # bump when the index layout or scoring inputs change
CACHE_KEEP = 6  # cached indexes kept per profile

# A record must contain this share of the question's idf-weighted terms to be shown at all:
# stops "matches" on a stray common word.
MIN_COVERAGE = 0.05
# Confidence rule (global knobs, chosen on whole question sets: the project's own set and NCP
# dev, never on the held-out set). Out-of-scope questions still find records sharing a word or
# two, so "no confident match" needs evidence beyond a best hit existing:
# - Lexical only: a hit is confident when its score reaches MIN_STRENGTH "rare words matched
#   once" (Hit.strength), the point where the own set flags at most 3 % of answerable questions.
# - With the semantic blend: ln(1 + strength) + SIM_WEIGHT x (similarity - SIM_ORIGIN) must
#   reach CONFIDENT_AT. SIM_WEIGHT is the ratio of the two coefficients of a logistic
#   regression (no-answer vs answerable) on the own set and NCP dev; CONFIDENT_AT is again the
#   own set's 3 % point. A question whose best record is close in meaning needs fewer shared
#   rare words, and one that shares only generic words (补贴, 申请) with a record unlike it is
#   not an answer. Cosines are the model's (semantic.MODEL): a new model means refitting.
# Tried and dropped: a linked record (FAQ <-> cited policy) near the top as a second witness
# (it made out-of-scope questions confident as often as answerable ones), word-level coverage of
# the question's rare words, the share of words the corpus never saw, the margin to the next
# record and the similarity's z-score against all records: none separated better on these sets.
MIN_STRENGTH = 4.2
SIM_WEIGHT = 25.0
SIM_ORIGIN = 0.85
CONFIDENT_AT = 2.69
# Zones (global knobs): a question naming a zone gets what applies there first; records of other
# zones keep this share of their score. Records with neither a region nor any date (old notices,
# distractors) keep UNDATED_PRIOR of theirs, so a dated current scheme outranks them on a tie.
ZONES = True
OTHER_ZONE_PRIOR = 0.3
UNDATED_PRIOR = 0.85
COVER_TIE = 0.1  # "matches no more of the question": coverage within this of the dated record's
NOT_CURRENT = ("expired", "repealed", "draft")
# Long messages (global knobs): from this many characters, clauses are weighed (see _focus).
LONG_CHARS = 60
FOCUS_SHARE = 0.5
SMALL_TALK_WEIGHT = 0.4
ALIASES = "region-aliases.json"  # the region name table, written into each index generation

_SEARCHERS: dict[str, object] = {}


def _tags(p) -> list[str]:
    return [*getattr(p, "categories", []), *getattr(p, "enterprise_types", []), *getattr(p, "support", []),
            *getattr(p, "issuer", []), *([p.doc_number] if getattr(p, "doc_number", None) else [])]


def citing_faqs(content) -> dict[str, list]:
    """Policy id -> the published FAQs that cite it (faq.policies)."""
    out: dict[str, list] = {}
    for f in content.faqs:
        if f.draft:
            continue
        for pid in getattr(f, "policies", None) or []:
            out.setdefault(pid, []).append(f)
    return out


def _chain_region(paths: list[str]) -> str | None:
    """The most specific of region paths that lie on one chain (天津市, 天津市/滨海新区 -> the
    latter); None when they branch (two zones) or there are none."""
    ps = sorted({regions.path(p) for p in paths if regions.path(p) and regions.path(p) != regions.NATIONAL},
                key=len)
    if not ps:
        return None
    deepest = ps[-1]
    return deepest if all(deepest == p or deepest.startswith(p + "/") for p in ps) else None


def index_docs(content, *, internal: bool = False) -> list[IndexDoc]:
    """Loader records -> engine-neutral IndexDoc (issues only when internal)."""
    docs = []
    # Document expansion: a policy also carries the questions and aliases of the FAQs citing it
    # (FAQs are phrased the way companies ask, policies the way governments write), and in the
    # internal index the wording of the resolved problems that cite it (private: never public).
    cited_by = citing_faqs(content)
    told: dict[str, list[str]] = {}
    if internal:
        for i in content.issues:
            if i.status in ("resolved", "closed") and i.resolution:
                for pid in [*(i.policies or []), *(i.faq or [])]:
                    told.setdefault(pid, []).extend(t for t in (i.title, i.body) if t)
    region_of = {p.id: p.region for p in content.policies}
    for p in content.policies:
        faqs = cited_by.get(p.id, [])
        apply = getattr(p, "apply", None)
        docs.append(IndexDoc(
            id=p.id, type="policy", title=p.title or p.id, alt=list(p.keywords), summary=p.summary or "",
            tags=_tags(p), body=p.body,
            asked=[t for f in faqs for t in [f.question, *f.aliases] if t] + told.get(p.id, []),
            links=[f.id for f in faqs], region=p.region, status=p.status, expires=p.expires,
            dated=bool(p.published or p.effective or p.expires),
            meta={"doc_number": p.doc_number, "published": p.published, "effective": p.effective,
                  "categories": p.categories, "enterprise_types": p.enterprise_types, "relpath": p.relpath,
                  "deadline": _text(getattr(apply, "deadline", None)),
                  "department": _text(getattr(apply, "department", None)),
                  "phone": _text(getattr(apply, "phone", None))}))
    for f in content.faqs:
        cited = list(getattr(f, "policies", None) or [])
        # A FAQ that names no region answers for where the policies it cites apply.
        region = f.region or _chain_region([region_of[c] for c in cited if region_of.get(c)])
        docs.append(IndexDoc(id=f.id, type="faq", title=f.question or f.id, alt=list(f.aliases),
                             tags=list(f.categories), body=f.body, region=region,
                             status="draft" if f.draft else None, links=cited,
                             asked=told.get(f.id, []), dated=bool(f.updated),
                             meta={"updated": f.updated, "categories": f.categories, "relpath": f.relpath}))
    if internal:
        for i in content.issues:
            body = i.body + ("\n" + i.resolution if i.resolution else "")
            docs.append(IndexDoc(id=i.id, type="issue", title=i.title or i.id,
                                 tags=[i.category] if i.category else [], body=body, region=i.region,
                                 dated=bool(i.received),
                                 meta={"received": i.received, "status": i.status, "relpath": i.relpath,
                                       "department": _text(getattr(i, "department", None))}))
    return docs


def _text(value) -> str | None:
    """A display value as text (a deadline may be a date or a rolling text like 常年受理)."""
    if value is None or value == "":
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _root(content_root) -> Path:
    return Path(content_root if content_root is not None else DEFAULT_CONTENT)


def index_key(content_root, *, internal: bool = False, extra_roots: Sequence = ()) -> dict:
    """What an index must have been built from to be fresh."""
    from policykb.content.files import fingerprint
    roots = [_root(content_root), *map(Path, extra_roots)]
    memo = cache_dir() / "fingerprints"
    fps = [fingerprint(r, memo_dir=memo) for r in roots]
    parts = [ENGINE, ENGINE_VERSION, analysis.resources_hash(), "internal" if internal else "public", *fps]
    parts.append("semantic-texts-" + semantic.SEM_VERSION)  # each generation carries its chunk texts
    return {"key": hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20], "fingerprint": fps[0],
            "extra_fingerprints": fps[1:], "internal": internal}


def default_index_dir(key: dict) -> Path:
    profile = "internal" if key["internal"] else "public"
    return cache_dir() / "index" / f"{profile}-{key['key']}"


def is_stale(index_dir: Path, key: dict) -> bool:
    gen = index_store.current(index_dir)
    return gen is None or gen.manifest.get("key") != key["key"]


def _load_valid(root: Path, include_issues: bool, strict: bool = True):
    """content/ -> loader -> validator -> (content, skipped): an index never holds what
    validation rejects. Strict: any error raises ContentInvalid. Otherwise every record file with
    an error is left out and named in `skipped` as path:line (its first error)."""
    from policykb.content.diagnostics import ERROR, ContentInvalid
    from policykb.content.loader import load_content
    from policykb.content.validate import validate
    content = load_content(root, include_issues=include_issues)
    errors = [d for d in validate(content) if d.severity == ERROR]
    if errors and strict:
        raise ContentInvalid(errors)
    first: dict[str, int] = {}
    for d in errors:
        first[d.path] = min(first.get(d.path, d.line), d.line)
    if first:
        keep = lambda r: content.shown(r.relpath) not in first  # noqa: E731
        content.policies[:] = [r for r in content.policies if keep(r)]
        content.faqs[:] = [r for r in content.faqs if keep(r)]
        content.issues[:] = [r for r in content.issues if keep(r)]
    return content, [f"{p}:{n}" for p, n in sorted(first.items())]


def build_index(content_root=None, index_dir=None, *, internal: bool = False, extra_roots: Sequence = (),
                key: dict | None = None, strict: bool = False) -> index_store.Generation:
    """Build a fresh index and swap it in. Raises index_store.IndexBusy if another build runs.
    Record files with validation errors are left out and listed in the manifest's "skipped"
    (path:line); with `strict`, any validation error raises ContentInvalid instead."""
    root = _root(content_root)
    key = key or index_key(root, internal=internal, extra_roots=extra_roots)
    index_dir = Path(index_dir) if index_dir else default_index_dir(key)
    with index_store.write_lock(index_dir):
        started = time.perf_counter()
        with gcpause.paused():  # tens of thousands of records: see policykb.gcpause
            content, skipped = _load_valid(root, include_issues=internal, strict=strict)
            docs = index_docs(content, internal=internal)
            seen = {d.id for d in docs}
            for extra in extra_roots:
                extra_content, extra_skipped = _load_valid(Path(extra), include_issues=False, strict=strict)
                skipped += extra_skipped
                for d in index_docs(extra_content):
                    if d.id not in seen:
                        seen.add(d.id)
                        docs.append(d)
        gen_path = index_store.new_generation(index_dir, key["fingerprint"])
        try:
            from policykb.search.analysis_cache import AnalysisCache
            cache = AnalysisCache()  # records whose text is unchanged are not analysed again
            try:
                stats = get_engine(ENGINE).build(docs, gen_path, cache=cache,
                                                 previous=_previous(index_dir, root, internal, extra_roots))
            finally:
                cache.close()
            table = regions.alias_table(getattr(content, "taxonomy", None), [d.region for d in docs if d.region])
            (gen_path / ALIASES).write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
            with gcpause.paused():
                semantic.write_texts(docs, gen_path)
        except BaseException:
            index_store.discard(gen_path)
            raise
        manifest = {**key, "engine": ENGINE, "engine_version": ENGINE_VERSION,
                    "analysis": analysis.resources_hash(), "content_root": str(root.resolve()),
                    "extra_roots": [str(Path(e).resolve()) for e in extra_roots], **stats, "skipped": skipped,
                    "built": dt.datetime.now().isoformat(timespec="seconds"),
                    "build_seconds": round(time.perf_counter() - started, 2)}
        gen = index_store.publish(index_dir, gen_path, manifest)
    if semantic.enabled():  # outside the lock: the embedding cache has its own atomic shards
        semantic.embed_index(gen.path)
    if index_dir.parent == cache_dir() / "index":
        _prune_cache(index_dir)
    return gen


def _previous(index_dir: Path, root: Path, internal: bool, extra_roots: Sequence) -> Path | None:
    """A generation an incremental update may start from: built by this engine version with
    these analysis resources from the same content folder(s). The index folder's own live one,
    else (the cache keys folders by content, so an edit means a new folder) the newest sibling."""
    def usable(gen):
        m = gen.manifest if gen else {}
        return (gen is not None and m.get("engine_version") == ENGINE_VERSION
                and m.get("analysis") == analysis.resources_hash() and m.get("internal") == internal
                and m.get("content_root") == str(root.resolve())
                and m.get("extra_roots") == [str(Path(e).resolve()) for e in extra_roots])
    gen = index_store.current(index_dir)
    if usable(gen):
        return gen.path
    if index_dir.parent != cache_dir() / "index":
        return None
    profile = index_dir.name.split("-")[0]
    for other in sorted((p for p in index_dir.parent.glob(f"{profile}-*") if p != index_dir),
                        key=lambda p: p.stat().st_mtime, reverse=True):
        gen = index_store.current(other)
        if usable(gen):
            return gen.path
    return None


def _prune_cache(keep: Path) -> None:
    import shutil
    profile = keep.name.split("-")[0]
    dirs = sorted((p for p in keep.parent.glob(f"{profile}-*") if p != keep),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in dirs[CACHE_KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def ensure_index(content_root=None, index_dir=None, *, internal: bool = False,
                 extra_roots: Sequence = (), strict: bool = False) -> tuple[index_store.Generation, bool]:
    """The live, fresh index for this content: (generation, whether it was just built).
    `strict`: content with validation errors raises ContentInvalid (even if an index that
    skipped those files exists)."""
    key = index_key(content_root, internal=internal, extra_roots=extra_roots)
    index_dir = Path(index_dir) if index_dir else default_index_dir(key)
    gen = index_store.current(index_dir)
    if gen is not None and gen.manifest.get("key") == key["key"]:
        if strict and gen.manifest.get("skipped"):
            _load_valid(_root(content_root), include_issues=internal, strict=True)  # raises
        return gen, False
    build = lambda: build_index(content_root, index_dir, internal=internal,  # noqa: E731
                                extra_roots=extra_roots, key=key, strict=strict)
    try:
        return build(), True
    except index_store.IndexBusy:
        pass
    # Another process is building: most likely the very index we need. Wait for it; if another
    # writer slips in between (a race, not an error), wait again.
    for attempt in range(3):
        index_store.wait_for_writer(index_dir)
        gen = index_store.current(index_dir)
        if gen is not None and gen.manifest.get("key") == key["key"]:
            if strict and gen.manifest.get("skipped"):
                _load_valid(_root(content_root), include_issues=internal, strict=True)
            return gen, False
        try:
            return build(), True
        except index_store.IndexBusy:
            if attempt == 2:
                raise
            time.sleep(0.2)
    raise AssertionError("unreachable")


def searcher_for(gen: index_store.Generation):
    s = _SEARCHERS.get(str(gen.path))
    if s is None:
        s = get_engine(gen.manifest.get("engine", ENGINE)).open(gen.path)
        s.gen_path = gen.path
        _SEARCHERS[str(gen.path)] = s
    return s


@dataclass
class Request:
    """What the caller asks for besides the question (the CLI's options)."""
    types: tuple[str, ...] | None = None
    region: str | None = None  # --region: only records that apply to a company there
    include_all: bool = False  # also expired, repealed and draft records
    today: dt.date = field(default_factory=dt.date.today)


def aliases(searcher) -> dict[str, list[str]]:
    """The region name table of an index (taxonomy aliases + record regions), see build_index."""
    cached = getattr(searcher, "_pkb_aliases", None)
    if cached is None:
        path = Path(getattr(searcher, "gen_path", "")) / ALIASES
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            cached = regions.alias_table(None, [r.region for r in searcher.records() if r.region])
        searcher._pkb_aliases = cached
    return cached


def known_regions(searcher) -> list[str]:
    return sorted({regions.path(r.region) for r in searcher.records() if regions.path(r.region)})


def _filters(searcher, request: Request, zones: tuple[str, ...] = ()) -> Filters:
    """The domain rules as arrays over the searcher's records: type, --region (applies to a
    company there), current on the day, and the priors (zone named in the question, undated
    regionless records)."""
    import numpy as np
    cache = searcher.__dict__.setdefault("_pkb_filters", {})
    key = (request.types, request.region, request.include_all, request.today, zones)
    if key in cache:
        return cache[key]
    recs = searcher.records()
    allowed = np.ones(len(recs), dtype=bool)
    prior = np.ones(len(recs))
    if request.types:
        allowed &= np.array([r.type in request.types for r in recs])
    if request.region:
        company = regions.resolve(request.region, known_regions(searcher), aliases(searcher))
        allowed &= np.array([regions.applies_to(r.region, company) for r in recs])
    if not request.include_all:
        allowed &= np.array([policy_status(r.status, r.expires, request.today) not in NOT_CURRENT
                             if r.type != "issue" else True for r in recs])
    if zones:
        prior *= np.array([1.0 if regions.applies_to(r.region, set(zones)) else OTHER_ZONE_PRIOR for r in recs])
    f = Filters(allowed=None if allowed.all() else allowed, prior=None if (prior == 1).all() else prior)
    if len(cache) > 64:
        cache.clear()
    cache[key] = f
    return f


def zones_in(searcher, question: str) -> tuple[tuple[str, ...], str]:
    """(region paths the question names, the question with those names taken out)."""
    norm = analysis.normalize(question)
    found = regions.find_regions(norm, aliases(searcher))
    if not found:
        return (), question
    paths = tuple(sorted({p for _, _, ps in found for p in ps}))
    out, pos = [], 0
    for a, b, _ in found:
        out.append(norm[pos:a] + "，")
        pos = b
    out.append(norm[pos:])
    return paths, "".join(out)


def search(searcher, question: str, request: Request | None = None, top: int = 10) -> list[Hit]:
    request = request or Request()
    zones, rest = zones_in(searcher, question) if ZONES else ((), question)
    q = analysis.analyze_query(rest)
    if q.empty and rest != question:  # the question is only a zone's name: search for it
        zones, q = (), analysis.analyze_query(question)
    if q.empty:
        return []
    filters = _filters(searcher, request, zones)
    if LONG_CHARS and len(q.normalized) >= LONG_CHARS:
        q = _focus(searcher, q, filters)
    sims = _semantic(searcher, question)
    if sims is not None:
        filters = Filters(filters.allowed, filters.prior, semantic.bonus(sims, filters.allowed))
    # Records sharing too little of the question (idf-weighted) are not answers at all (unless
    # the semantic blend finds them similar in meaning).
    hits = searcher.search(q, filters, max(top, 10) * 2, describe=False)  # described once cut to `top`
    if sims is not None:
        rows = _rows_by_id(searcher)
        for h in hits:
            h.similarity = float(sims[rows[h.id]]) if h.id in rows else None
    hits = [h for h in hits if h.coverage >= MIN_COVERAGE or (h.similarity or 0.0) > semantic.FLOOR]
    recs = _records_by_id(searcher)
    hits = _undated_last(hits, recs)[:top]
    searcher.describe(q, hits)
    for h in hits:
        r = recs.get(h.id)
        if r is not None and h.type == "policy":
            h.status = policy_status(r.status, r.expires, request.today)
    for h in hits:
        h.confident = is_confident(h)
    return hits


def is_confident(hit: Hit) -> bool:
    """See MIN_STRENGTH: enough rare words matched, or (semantic blend on) enough of them for
    how close in meaning the record is."""
    if hit.similarity is None:
        return hit.strength >= MIN_STRENGTH
    return evidence(hit) >= CONFIDENT_AT


def evidence(hit: Hit) -> float:
    """The semantic confidence score: ln(1 + strength) + SIM_WEIGHT x (similarity - SIM_ORIGIN)."""
    return math.log1p(max(hit.strength, 0.0)) + SIM_WEIGHT * ((hit.similarity or 0.0) - SIM_ORIGIN)


_CLAUSE = re.compile(r"[^，。！？；,.!?;：:\n]+")


def _focus(searcher, q: analysis.AnalyzedQuery, filters: Filters) -> analysis.AnalyzedQuery:
    """A long message: find the need. Each clause is searched on its own; words that occur only
    in clauses whose best record scores below FOCUS_SHARE of the best clause's (greetings, the
    company's story) keep SMALL_TALK_WEIGHT of their weight."""
    clauses = [c for c in _CLAUSE.findall(q.normalized) if len(c.strip()) >= 2]
    if len(clauses) < 3:
        return q
    analysed = [analysis.analyze_query(c) for c in clauses]
    best = []
    for cq in analysed:
        hits = searcher.search(cq, filters, 1, describe=False) if not cq.empty else []
        best.append(hits[0].strength if hits else 0.0)
    top = max(best)
    if top <= 0:
        return q
    strong: set[str] = set()
    for cq, b in zip(analysed, best):
        if b >= FOCUS_SHARE * top:
            strong |= {t.term for t in cq.terms}
    if not strong:
        return q
    terms = [t if t.term in strong else analysis.QueryTerm(t.term, t.weight * SMALL_TALK_WEIGHT, t.source, t.synonym)
             for t in q.terms]
    return analysis.AnalyzedQuery(q.text, q.normalized, terms, q.words, q.expansions)


def _undated_last(hits: list[Hit], recs: dict) -> list[Hit]:
    """A record with neither region nor date (an old notice) that matches no more of the question
    than a dated or regional record does keeps UNDATED_PRIOR of its score: the current scheme
    comes first when both match. One that matches more of the question keeps its place."""
    def undated(h):
        r = recs.get(h.id)
        return r is not None and not r.dated and not regions.path(r.region)
    dated_cover = max((h.coverage for h in hits if not undated(h)), default=-1.0)
    for h in hits:
        if undated(h) and dated_cover >= h.coverage - COVER_TIE - 1e-9:
            h.score *= UNDATED_PRIOR
    return sorted(hits, key=lambda h: -h.score)


def _semantic(searcher, question: str):
    """Per-record similarity to the question (semantic blend), or None when it is off."""
    if not semantic.enabled():
        return None
    vec = semantic.vectors_for(searcher, len(searcher.records()))
    return vec.similarity(analysis.normalize(question)) if vec is not None else None


def _rows_by_id(searcher) -> dict:
    cached = getattr(searcher, "_pkb_rows", None)
    if cached is None:
        cached = searcher._pkb_rows = {r.id: i for i, r in enumerate(searcher.records())}
    return cached


def _records_by_id(searcher) -> dict:
    cached = getattr(searcher, "_pkb_by_id", None)
    if cached is None:
        cached = searcher._pkb_by_id = {r.id: r for r in searcher.records()}
    return cached


def confident(hits: list[Hit]) -> bool:
    """Whether the best hit is a match the matcher stands behind (see MIN_STRENGTH)."""
    return bool(hits) and hits[0].confident


def match(content_root, questions: list[str], *, top: int = 10, types=None, region: str | None = None,
          include_all: bool = False, internal: bool = False, index_dir=None,
          extra_roots: Sequence = (), today: dt.date | None = None, notify=None, strict: bool = False,
          on_skipped=None) -> list[list[Hit]]:
    """Ranked hits for each question, in order. Builds or refreshes the index when needed
    (then calls notify(manifest) if given); on_skipped(["path:line", …]) hears of record files
    left out of the index for their validation errors (see build_index)."""
    gen, built = ensure_index(content_root, index_dir, internal=internal, extra_roots=extra_roots, strict=strict)
    if built and notify:
        notify(gen.manifest)
    if on_skipped and gen.manifest.get("skipped"):
        on_skipped(gen.manifest["skipped"])
    searcher = searcher_for(gen)
    if isinstance(types, str):
        types = (types,)
    request = Request(types=tuple(types) if types else None, region=region or None,
                      include_all=include_all, today=today or dt.date.today())
    return [search(searcher, q, request, top) for q in questions]
