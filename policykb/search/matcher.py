"""Match companies' questions to policies, FAQs (and, internally, problem records).

Stable Python API (the CLI and `policykb issue similar` are thin layers over it):

    match(content_root, questions, *, top=10, types=None, region=None, include_all=False,
          internal=False, index_dir=None) -> list[list[Hit]]

The index is found or built automatically: without `index_dir` it lives in the policykb cache
(outside the content tree) under a key made of the content fingerprint, the analysis
resources and the engine version, so editing content or dictionaries means a fresh index.
Each hit carries `confident` (its score reaches MIN_STRENGTH); `confident(hits)` says whether
the best hit is one the matcher stands behind, which the CLI and `policykb eval` use for
"no confident match". `internal=True` also indexes problem records (title + body + resolution) under its own key;
that index is never the public one.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import time
from pathlib import Path
from typing import Sequence

from policykb.search import analysis
from policykb.search import index_store
from policykb.search.engine import Filters, Hit, IndexDoc, get_engine
from policykb.paths import DEFAULT_CONTENT, cache_dir

ENGINE = "whoosh"
ENGINE_VERSION = "6"  # bump when the index layout or scoring inputs change
CACHE_KEEP = 6  # cached indexes kept per profile

# A record must contain this share of the question's idf-weighted terms to be shown at all:
# stops "matches" on a stray common word.
MIN_COVERAGE = 0.05
# Confidence rule (a global knob, chosen on whole question sets): the top record's score must
# reach this many "rare words matched once" (Hit.strength). Out-of-scope questions still find
# records sharing a word or two; below the bar the CLI says it has no confident match.
MIN_STRENGTH = 5.0

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


def index_docs(content, *, internal: bool = False) -> list[IndexDoc]:
    """Loader records -> engine-neutral IndexDoc (issues only when internal)."""
    docs = []
    # Document expansion: a policy also carries the questions and aliases of the FAQs citing it
    # (FAQs are phrased the way companies ask, policies the way governments write).
    cited_by = citing_faqs(content)
    for p in content.policies:
        faqs = cited_by.get(p.id, [])
        docs.append(IndexDoc(
            id=p.id, type="policy", title=p.title or p.id, alt=list(p.keywords), summary=p.summary or "",
            tags=_tags(p), body=p.body, asked=[t for f in faqs for t in [f.question, *f.aliases] if t],
            links=[f.id for f in faqs], region=p.region, status=p.status, expires=p.expires,
            meta={"doc_number": p.doc_number, "published": p.published, "effective": p.effective,
                  "categories": p.categories, "enterprise_types": p.enterprise_types, "relpath": p.relpath}))
    for f in content.faqs:
        docs.append(IndexDoc(id=f.id, type="faq", title=f.question or f.id, alt=list(f.aliases),
                             tags=list(f.categories), body=f.body, region=f.region,
                             status="draft" if f.draft else None,
                             links=list(getattr(f, "policies", None) or []),
                             meta={"updated": f.updated, "categories": f.categories, "relpath": f.relpath}))
    if internal:
        for i in content.issues:
            body = i.body + ("\n" + i.resolution if i.resolution else "")
            docs.append(IndexDoc(id=i.id, type="issue", title=i.title or i.id,
                                 tags=[i.category] if i.category else [], body=body, region=i.region,
                                 meta={"received": i.received, "status": i.status, "relpath": i.relpath}))
    return docs


def _root(content_root) -> Path:
    return Path(content_root if content_root is not None else DEFAULT_CONTENT)


def index_key(content_root, *, internal: bool = False, extra_roots: Sequence = ()) -> dict:
    """What an index must have been built from to be fresh."""
    from policykb.content.files import fingerprint
    roots = [_root(content_root), *map(Path, extra_roots)]
    memo = cache_dir() / "fingerprints"
    fps = [fingerprint(r, memo_dir=memo) for r in roots]
    parts = [ENGINE, ENGINE_VERSION, analysis.resources_hash(), "internal" if internal else "public", *fps]
    return {"key": hashlib.sha256("\n".join(parts).encode()).hexdigest()[:20], "fingerprint": fps[0],
            "extra_fingerprints": fps[1:], "internal": internal}


def default_index_dir(key: dict) -> Path:
    profile = "internal" if key["internal"] else "public"
    return cache_dir() / "index" / f"{profile}-{key['key']}"


def is_stale(index_dir: Path, key: dict) -> bool:
    gen = index_store.current(index_dir)
    return gen is None or gen.manifest.get("key") != key["key"]


def _load_valid(root: Path, include_issues: bool):
    """content/ -> loader -> validator -> index: an index never holds what validation rejects."""
    from policykb.content.diagnostics import ERROR, ContentInvalid
    from policykb.content.loader import load_content
    from policykb.content.validate import validate
    content = load_content(root, include_issues=include_issues)
    errors = [d for d in validate(content) if d.severity == ERROR]
    if errors:
        raise ContentInvalid(errors)
    return content


def build_index(content_root=None, index_dir=None, *, internal: bool = False, extra_roots: Sequence = (),
                key: dict | None = None) -> index_store.Generation:
    """Build a fresh index and swap it in. Raises index_store.IndexBusy if another build runs,
    ContentInvalid if the content has validation errors."""
    root = _root(content_root)
    key = key or index_key(root, internal=internal, extra_roots=extra_roots)
    index_dir = Path(index_dir) if index_dir else default_index_dir(key)
    with index_store.write_lock(index_dir):
        started = time.perf_counter()
        content = _load_valid(root, include_issues=internal)
        docs = index_docs(content, internal=internal)
        seen = {d.id for d in docs}
        for extra in extra_roots:
            for d in index_docs(_load_valid(Path(extra), include_issues=False)):
                if d.id not in seen:
                    seen.add(d.id)
                    docs.append(d)
        gen_path = index_store.new_generation(index_dir, key["fingerprint"])
        try:
            stats = get_engine(ENGINE).build(docs, gen_path)
        except BaseException:
            index_store.discard(gen_path)
            raise
        manifest = {**key, "engine": ENGINE, "engine_version": ENGINE_VERSION,
                    "analysis": analysis.resources_hash(), "content_root": str(root.resolve()),
                    "extra_roots": [str(Path(e).resolve()) for e in extra_roots], **stats,
                    "built": dt.datetime.now().isoformat(timespec="seconds"),
                    "build_seconds": round(time.perf_counter() - started, 2)}
        gen = index_store.publish(index_dir, gen_path, manifest)
    if index_dir.parent == cache_dir() / "index":
        _prune_cache(index_dir)
    return gen


def _prune_cache(keep: Path) -> None:
    import shutil
    profile = keep.name.split("-")[0]
    dirs = sorted((p for p in keep.parent.glob(f"{profile}-*") if p != keep),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for old in dirs[CACHE_KEEP - 1:]:
        shutil.rmtree(old, ignore_errors=True)


def ensure_index(content_root=None, index_dir=None, *, internal: bool = False,
                 extra_roots: Sequence = ()) -> tuple[index_store.Generation, bool]:
    """The live, fresh index for this content: (generation, whether it was just built)."""
    key = index_key(content_root, internal=internal, extra_roots=extra_roots)
    index_dir = Path(index_dir) if index_dir else default_index_dir(key)
    gen = index_store.current(index_dir)
    if gen is not None and gen.manifest.get("key") == key["key"]:
        return gen, False
    try:
        return build_index(content_root, index_dir, internal=internal, extra_roots=extra_roots, key=key), True
    except index_store.IndexBusy:
        # Another process is building: most likely the very index we need. Wait for it.
        index_store.wait_for_writer(index_dir)
        gen = index_store.current(index_dir)
        if gen is not None and gen.manifest.get("key") == key["key"]:
            return gen, False
        return build_index(content_root, index_dir, internal=internal, extra_roots=extra_roots, key=key), True


def searcher_for(gen: index_store.Generation):
    s = _SEARCHERS.get(str(gen.path))
    if s is None:
        s = get_engine(gen.manifest.get("engine", ENGINE)).open(gen.path)
        _SEARCHERS[str(gen.path)] = s
    return s


def search(searcher, question: str, filters: Filters, top: int) -> list[Hit]:
    q = analysis.analyze_query(question)
    if q.empty:
        return []
    # Records sharing too little of the question (idf-weighted) are not answers at all.
    hits = [h for h in searcher.search(q, filters, top) if h.coverage >= MIN_COVERAGE]
    for h in hits:
        h.confident = h.strength >= MIN_STRENGTH
    return hits


def confident(hits: list[Hit]) -> bool:
    """Whether the best hit is a match the matcher stands behind (see MIN_STRENGTH)."""
    return bool(hits) and hits[0].confident


def match(content_root, questions: list[str], *, top: int = 10, types=None, region: str | None = None,
          include_all: bool = False, internal: bool = False, index_dir=None,
          extra_roots: Sequence = (), today: dt.date | None = None, notify=None) -> list[list[Hit]]:
    """Ranked hits for each question, in order. Builds or refreshes the index when needed
    (then calls notify(manifest) if given)."""
    gen, built = ensure_index(content_root, index_dir, internal=internal, extra_roots=extra_roots)
    if built and notify:
        notify(gen.manifest)
    searcher = searcher_for(gen)
    if isinstance(types, str):
        types = (types,)
    filters = Filters(types=tuple(types) if types else None, region=region or None,
                      include_all=include_all, today=today or dt.date.today())
    return [search(searcher, q, filters, top) for q in questions]
