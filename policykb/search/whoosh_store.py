"""Whoosh implementation of the search interface (policykb/search/engine.py).

Whoosh is the record store: each record is one Whoosh document holding its id, type and the
stored record (title, aliases, summary, its text once, where its passages lie in that text,
metadata) that hits are read from. Ranking reads array postings (below); which records may be
returned, and any prior on them, arrive from the matcher as Filters: no region or status rule
lives here. Text is analysed by policykb/analysis.py, identically on the question side.

The build streams (analysed_stream): CHUNK records at a time are analysed across WORKERS
processes, or taken from the analysis cache when their text is unchanged (analysis_cache.py,
keyed by content hash: editing one record re-analyses only it), written to Whoosh and to the
posting arrays as term counts, and let go of; the whole corpus is never held as Python terms.
BM25F is computed over the arrays once the average field lengths are known.

Ranking: a record's score is its BM25F score (fields weighted by what they are, summed before
saturation) plus PASSAGE_WEIGHT x the BM25 score of its best passage: a window of about
PASSAGE_CHARS of the body, or the record's own title + aliases + summary. Long notices are
usually asked about one detail inside them; short FAQs are asked in their own words.
Two uses of the FAQ -> policy links (public data, never problem records): a policy carries, in
a hidden low-weight field and as one more passage, the questions and aliases of the FAQs citing
it (document expansion: FAQs are phrased the way companies ask); and at query time a FAQ and
the policies it cites each gain LINK_WEIGHT x the best score among their linked records. The
scores come from array copies of the same postings (policykb/postings.py) written in the same
build, because Whoosh's pure-Python matchers were too slow for 40-term questions.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from policykb.fsio import write_atomic
from policykb.search import analysis
from policykb.search.engine import Filters, Hit, IndexDoc, Record

# Global knobs (tuned on whole question sets, checked on two halves; never per question).
FIELD_BOOST = {"title": 2.5, "alt": 2.0, "summary": 1.5, "tags": 0.7, "body": 1.0, "asked": 0.5}
FIELD_B = {"title": 0.5, "alt": 0.5, "summary": 0.6, "tags": 0.3, "body": 0.9, "asked": 0.5, "psg": 0.75}
ASKED_PASSAGE = True  # a policy's FAQ phrasings compete as one more passage of it
PASSAGE_WEIGHT = 0.6  # record score = whole-record BM25F + this x its best passage's BM25
HEAD_PASSAGE = True  # title + aliases + summary compete as a passage too (helps colloquial questions)
PASSAGE_CHARS = 320  # window length
PASSAGE_OVERLAP = True  # each window starts halfway into the last
SNIPPET_CHARS = 110
# A FAQ and the policies it cites answer the same need: each gains this share of the best score
# among the records it is linked with (both must pass the filters).
LINK_WEIGHT = 0.35
RECORDS = "records.json"  # per row: id, type, region, status, expires, dated (Searcher.records)
_SENTENCE = re.compile(r"[^。！？；!?;\n]*[。！？；!?;\n]+|[^。！？；!?;\n]+$")


def _schema():
    from whoosh.fields import ID, STORED, Schema
    # Ranking reads the array postings; Whoosh keeps the records (what a hit shows).
    return Schema(id=ID(stored=True, unique=True), type=ID(stored=True), data=STORED())


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.findall(text) if s.strip()]


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `sentences(text)`, in order."""
    return [(m.start(), m.end()) for m in _SENTENCE.finditer(text) if m.group().strip()]


def windows(sents: list[str]) -> list[tuple[int, int]]:
    """(start, end) sentence ranges of about PASSAGE_CHARS, each starting halfway into the last."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(sents)
    while i < n:
        j, size = i, 0
        while j < n and (size == 0 or size + len(sents[j]) <= PASSAGE_CHARS):
            size += len(sents[j])
            j += 1
        out.append((i, j))
        if j >= n:
            break
        if not PASSAGE_OVERLAP:
            i = j
            continue
        half, k = 0, i
        while k < j - 1 and half + len(sents[k]) <= size / 2:
            half += len(sents[k])
            k += 1
        i = max(k, i + 1)
    return out


def full_text(doc: IndexDoc) -> str:
    """The record's text as stored (matched words and snippets are read from it)."""
    return "\n".join([doc.title, *doc.alt, doc.summary, doc.body])


def _head_text(data: dict) -> str:
    return "；".join(t for t in [data["title"], *data.get("alt", ()), data.get("summary") or ""] if t)


def _analyse(doc: IndexDoc) -> dict:
    """Everything the index needs of one record's text (worker processes; cached by content hash).

    Passages are (where, terms): where is [start, end] in full_text(doc), "head" (title + aliases
    + summary), "asked" (shown as title + summary: the FAQ wording is not this record's), or the
    passage's own text when it is no slice of the record's text."""
    spans = _sentence_spans(doc.body)
    sents = [doc.body[a:b] for a, b in spans]
    sent_terms = [analysis.index_terms(s) for s in sents]
    body_terms = [t for ts in sent_terms for t in ts]
    at = len(full_text(doc)) - len(doc.body)  # where the body starts in the stored text
    passages = []
    for a, b in windows(sents):
        text = "".join(sents[a:b]).strip()
        lo, hi = spans[a][0], spans[b - 1][1]
        raw = doc.body[lo:hi]
        lo += len(raw) - len(raw.lstrip())
        hi -= len(raw) - len(raw.rstrip())
        where = [at + lo, at + hi] if doc.body[lo:hi] == text else text
        passages.append((where, [t for ts in sent_terms[a:b] for t in ts]))
    head = {"title": analysis.index_terms(doc.title), "alt": analysis.index_terms("\n".join(doc.alt)),
            "summary": analysis.index_terms(doc.summary)}
    if HEAD_PASSAGE:  # the record's own short description competes as one more passage
        passages.insert(0, ("head", head["title"] + head["alt"] + head["summary"]))
    asked = analysis.index_terms("\n".join(doc.asked))
    if ASKED_PASSAGE and asked:
        passages.append(("asked", asked))
    passages = [p for p in passages if p[1]]
    fields = {**head, "tags": analysis.index_terms("\n".join(doc.tags)), "asked": asked, "body": body_terms}
    # Counted here, in the workers: the main process only turns terms into ids.
    return {"fields": {f: _counted(ts) for f, ts in fields.items()},
            "passages": [(where, *_counted(ts)) for where, ts in passages]}


def _counted(terms: list[str]) -> tuple[int, list[str], list[int]]:
    """(length, distinct terms in first-seen order, their counts)."""
    c = Counter(terms)
    return len(terms), list(c), list(c.values())


CHUNK = 256  # records analysed, written and let go of at a time
WORKERS = 2


def _chunks(docs: Iterable[IndexDoc], size: int):
    chunk = []
    for d in docs:
        chunk.append(d)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def analysed_stream(docs: Iterable[IndexDoc], cache=None, stats: dict | None = None):
    """(doc, analysed) in order, CHUNK records at a time: cached analyses are reused, the rest
    analysed across WORKERS processes and added to the cache. Never the whole corpus at once."""
    from policykb.search.analysis_cache import doc_hash
    analysis.tokenizer()  # load once before forking: workers share it
    stats = stats if stats is not None else {}
    stats.setdefault("analysed", 0)
    stats.setdefault("reused", 0)
    pool = None
    try:
        for chunk in _chunks(docs, CHUNK):
            hashes = [doc_hash(d) for d in chunk]
            got = cache.get_many(list(dict.fromkeys(hashes))) if cache is not None else {}
            miss = list({h: d for h, d in zip(hashes, chunk) if h not in got}.items())
            if len(miss) >= 32 and (os.cpu_count() or 1) >= 2:
                if pool is None:
                    import multiprocessing as mp
                    pool = mp.get_context("fork").Pool(WORKERS)
                results = pool.map(_analyse, [d for _, d in miss], chunksize=8)
            else:
                results = [_analyse(d) for _, d in miss]
            new = {h: r for (h, _), r in zip(miss, results)}
            if cache is not None:
                cache.put_many(new)
            stats["analysed"] += len(new)
            stats["reused"] += len(chunk) - len(new)
            got.update(new)
            for d, h in zip(chunk, hashes):
                yield d, got[h]
    finally:
        if pool is not None:
            pool.close()
            pool.join()


DOC_FIELDS = ("title", "alt", "summary", "tags", "body", "asked")
# An incremental update (WhooshEngine.build with `previous`) patches the previous generation when
# at most this share of the records (or PATCH_MIN records) changed and its Whoosh store has fewer than MAX_SEGMENTS
# segments (each patch adds one); otherwise the index is built whole again (and compacted).
PATCH_SHARE = 0.05
PATCH_MIN = 50
MAX_SEGMENTS = 8


def record_hash(doc: IndexDoc) -> bytes:
    """What a record's place in the index depends on: its analysed text and everything stored."""
    import hashlib

    from policykb.search.analysis_cache import doc_hash
    rest = json.dumps([doc.id, doc.type, doc.region, doc.status, doc.expires, doc.dated, list(doc.links), doc.meta],
                      ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256((doc_hash(doc) + rest).encode("utf-8")).hexdigest()[:32].encode()


def _stored(doc: IndexDoc, a: dict) -> dict:
    return {"id": doc.id, "type": doc.type,
            "data": {"title": doc.title, "alt": list(doc.alt), "region": doc.region, "status": doc.status,
                     "expires": doc.expires, "summary": doc.summary, "text": full_text(doc),
                     "passages": [p[0] for p in a["passages"]], "meta": doc.meta}}


def _record_row(doc: IndexDoc) -> dict:
    return {"id": doc.id, "type": doc.type, "region": doc.region, "status": doc.status,
            "expires": doc.expires.isoformat() if doc.expires else None, "dated": doc.dated}


class _Postings:
    """Both fields' raw postings of the records being (re)indexed, spilled to disk as they come
    (postings.RunWriter): "psg" one row per passage, "docf" one row per record and field."""

    def __init__(self, dest: Path, vocab: dict):
        from policykb.search.postings import RunWriter
        self.vocab = vocab
        self.psg = RunWriter(dest, "psg")
        self.docf = RunWriter(dest, "docf", with_field=True)

    def add(self, row: int, first_passage: int, a: dict) -> None:
        from policykb.search.postings import term_ids
        for k, f in enumerate(DOC_FIELDS):
            _, terms, counts = a["fields"][f]
            if terms and FIELD_BOOST[f]:
                self.docf.add(row, term_ids(self.vocab, terms), counts, k)
        for i, (_, _, terms, counts) in enumerate(a["passages"]):
            self.psg.add(first_passage + i, term_ids(self.vocab, terms), counts)

    def counts(self, nv: int):
        import numpy as np
        out = np.zeros(nv, dtype=np.int64)
        for w in (self.psg, self.docf):
            out[:len(w.counts)] += w.counts
        return out

    def close(self, cuts) -> None:
        self.psg.close(cuts)
        self.docf.close(cuts)

    def remove(self) -> None:
        self.psg.remove()
        self.docf.remove()


def _doc_norm(flens, n: int):
    """BM25F: per field and record, boost / length normalisation (fields weighted before saturation)."""
    import numpy as np
    norm = np.zeros((len(DOC_FIELDS), max(n, 1)))
    for k, f in enumerate(DOC_FIELDS):
        lens = np.asarray(flens[k], dtype=np.int32).astype(np.float64)
        if f == "asked":  # few records have FAQ phrasings: compared among those that do
            have = lens[lens > 0]
            avg = float(have.sum()) / len(have) if len(have) else 1.0
        else:
            avg = (float(lens.sum()) / n if n else 0.0) or 1.0
        norm[k, :n] = FIELD_BOOST[f] / (1 - FIELD_B[f] + FIELD_B[f] * lens / avg)
    return norm


def _field_lens(a: dict) -> list[int]:
    return [a["fields"][f][0] for f in DOC_FIELDS]


class WhooshEngine:
    name = "whoosh"

    def build(self, docs: Iterable[IndexDoc], dest: Path, cache=None, previous: Path | None = None) -> dict:
        """Streams the records: CHUNK at a time analysed (or taken from `cache`, an
        AnalysisCache), written to Whoosh and to spilled posting runs, then let go of; the runs
        are merged a term range at a time. With `previous` (a generation built by this same
        version and analysis) and few records changed, that generation is patched instead."""
        if previous is not None:
            docs = list(docs)
            try:
                stats = self._patch(Path(previous), docs, Path(dest), cache)
            except Exception:  # noqa: BLE001 -- a previous generation gone or damaged costs a whole build, never the index
                stats = None
            if stats is not None:
                return stats
            for f in Path(dest).iterdir():  # whatever a refused or failed patch left
                f.unlink()
        return self._full(docs, Path(dest), cache)

    def _full(self, docs: Iterable[IndexDoc], dest: Path, cache) -> dict:
        import numpy as np
        from whoosh import index
        ix = index.create_in(str(dest), _schema())
        writer = ix.writer(limitmb=128)
        vocab: dict[str, int] = {}
        post = _Postings(dest, vocab)
        pcounts, flens, psg_lens, hashes, ids, links, records = array_i(), [], array_i(), [], [], [], []
        stats: dict = {}
        try:
            for row, (doc, a) in enumerate(analysed_stream(docs, cache, stats)):
                post.add(row, len(psg_lens), a)
                flens.append(_field_lens(a))
                psg_lens.extend(p[1] for p in a["passages"])
                pcounts.append(len(a["passages"]))
                writer.add_document(**_stored(doc, a))
                hashes.append(record_hash(doc))
                ids.append(doc.id)
                links.append(list(doc.links))
                records.append(_record_row(doc))
        except BaseException:
            writer.cancel()
            post.remove()
            raise
        writer.commit(optimize=True)
        n = len(ids)
        flens = np.array(flens, dtype=np.int32).reshape(n, len(DOC_FIELDS)).T.copy()
        self._write_arrays(dest, vocab, post, None, psg_lens, flens)
        self._write_rows(dest, ids, links, records, np.frombuffer(pcounts, dtype=np.int32), hashes,
                         np.arange(n, dtype=np.int64))
        return {"documents": n, "passages": len(psg_lens), "analysed": stats.get("analysed", 0),
                "reused": stats.get("reused", 0), "patched": False}

    def _write_arrays(self, dest: Path, vocab: dict, post: _Postings, old, psg_lens, flens) -> None:
        """Merge the new postings (and `old`, the previous generation's kept ones) a term-id
        range at a time into the scoring arrays."""
        from policykb.search import postings
        nv = len(vocab)
        counts = post.counts(nv)
        if old is not None:
            counts += old.counts(nv)
        cuts = postings.cuts_for(counts)
        post.close(cuts)
        npsg, n = len(psg_lens), flens.shape[1]

        in_order = old is not None and old.in_order

        def ranges(name: str, runs, nrows: int):
            for k in range(len(cuts) - 1):
                lo, hi = cuts[k], cuts[k + 1]
                extra = [old.part(name, lo, hi)] if old is not None else []
                yield lo, hi, postings.merged(extra + runs.parts(k), runs.cols, nrows, in_order)
        try:
            postings.write_fields(dest, ranges("psg", post.psg, npsg), ranges("docf", post.docf, n), nv, psg_lens,
                                  FIELD_B["psg"], _doc_norm(flens, n), n)
        finally:
            post.remove()
        import numpy as np
        np.save(dest / "docf.lens.npy", flens)
        postings.save_vocab(dest, vocab)

    def _write_rows(self, dest: Path, ids, links, records, pcounts, hashes, docnums) -> None:
        import numpy as np
        pcounts = np.asarray(pcounts, dtype=np.int64)
        starts = np.zeros(len(ids), dtype=np.int64)
        np.cumsum(pcounts[:-1], out=starts[1:])
        parents = np.repeat(np.arange(len(ids), dtype=np.int32), pcounts)
        row_of = {d: i for i, d in enumerate(ids)}
        linked = [sorted({row_of[t] for t in ls if t in row_of and t != d}) for d, ls in zip(ids, links)]
        link_ptr = np.cumsum([0] + [len(x) for x in linked]).astype(np.int64)
        link_rows = np.array([r for x in linked for r in x], dtype=np.int32)
        for name, arr in {"parents": parents, "starts": starts, "ids": np.array(ids), "link_ptr": link_ptr,
                          "link_rows": link_rows, "docnums": np.asarray(docnums, dtype=np.int64),
                          "hashes": np.array(hashes, dtype="S32")}.items():
            np.save(dest / f"{name}.npy", arr)
        for rec, d, ls in zip(records, ids, links):
            rec["links"] = [t for t in ls if t in row_of and t != d]
        write_atomic(dest / RECORDS, json.dumps(records, ensure_ascii=False))

    def _patch(self, prev: Path, docs: list[IndexDoc], dest: Path, cache) -> dict | None:
        """Patch the previous generation: its Whoosh segments are linked in and the changed
        records deleted and added as one new segment; its term-major arrays are copied a range
        at a time minus the changed records' rows plus their new postings, all weights
        recomputed (average lengths and N change). None when a whole build is the better deal."""
        import numpy as np

        from policykb.search import postings
        try:
            old_ids = [str(x) for x in np.load(prev / "ids.npy")]
            old_hash = np.load(prev / "hashes.npy").tolist()
            old_docnums = np.load(prev / "docnums.npy")
            old_starts = np.load(prev / "starts.npy")
            old_psg_lens = np.load(prev / "psg.lens.npy")
            old_flens = np.load(prev / "docf.lens.npy")
            vocab = postings.load_vocab(prev)
        except (OSError, ValueError, EOFError):
            return None
        if len(list(prev.glob("*.seg"))) >= MAX_SEGMENTS or len({d.id for d in docs}) != len(docs):
            return None
        old_row = {d: i for i, d in enumerate(old_ids)}
        keep_old, keep_new, changed = [], [], []
        hashes = [record_hash(d) for d in docs]
        for r, d in enumerate(docs):
            o = old_row.get(d.id)
            if o is not None and old_hash[o] == hashes[r]:
                keep_old.append(o)
                keep_new.append(r)
            else:
                changed.append(r)
        removed = sorted(set(range(len(old_ids))) - set(keep_old))
        if len(changed) + len(removed) > max(PATCH_MIN, PATCH_SHARE * len(docs)):
            return None
        n, nold = len(docs), len(old_ids)
        stats: dict = {}
        got = {r: a for r, (_, a) in zip(changed, analysed_stream([docs[r] for r in changed], cache, stats))}
        keep_old, keep_new = np.array(keep_old, dtype=np.int64), np.array(keep_new, dtype=np.int64)
        # Passage rows: each kept record's block moves as a whole.
        old_pc = np.diff(np.append(old_starts, len(old_psg_lens)))
        pc = np.zeros(n, dtype=np.int64)
        pc[keep_new] = old_pc[keep_old]
        for r, a in got.items():
            pc[r] = len(a["passages"])
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(pc[:-1], out=starts[1:])
        c = old_pc[keep_old]
        within = np.arange(int(c.sum())) - np.repeat(np.cumsum(c) - c, c)
        pmap = np.full(len(old_psg_lens), -1, dtype=np.int64)
        pmap[np.repeat(old_starts[keep_old], c) + within] = np.repeat(starts[keep_new], c) + within
        rmap = np.full(nold, -1, dtype=np.int64)
        rmap[keep_old] = keep_new
        psg_lens = np.zeros(int(pc.sum()), dtype=np.int32)
        psg_lens[pmap[pmap >= 0]] = old_psg_lens[pmap >= 0]
        flens = np.zeros((len(DOC_FIELDS), n), dtype=np.int32)
        flens[:, keep_new] = old_flens[:, keep_old]
        post = _Postings(dest, vocab)
        for r, a in got.items():
            post.add(r, int(starts[r]), a)
            flens[:, r] = _field_lens(a)
            psg_lens[starts[r]:starts[r] + pc[r]] = [p[1] for p in a["passages"]]
        docnums = np.zeros(n, dtype=np.int64)
        docnums[keep_new] = old_docnums[keep_old]
        try:
            new_docnums = _whoosh_patch(prev, dest, [old_ids[o] for o in removed],
                                        [_stored(docs[r], got[r]) for r in changed])
        except BaseException:
            post.remove()
            raise
        for r in changed:
            docnums[r] = new_docnums[docs[r].id]
        self._write_arrays(dest, vocab, post, postings.OldFields(prev, {"psg": pmap, "docf": rmap}),
                           psg_lens, flens)
        self._write_rows(dest, [d.id for d in docs], [list(d.links) for d in docs], [_record_row(d) for d in docs],
                         pc, hashes, docnums)
        return {"documents": n, "passages": len(psg_lens), "analysed": stats.get("analysed", 0),
                "reused": stats.get("reused", 0) + len(keep_new), "patched": True}

    def open(self, path: Path) -> WhooshSearcher:
        return WhooshSearcher(path)


def _whoosh_patch(prev: Path, dest: Path, removed: list[str], added: list[dict]) -> dict[str, int]:
    """The previous generation's Whoosh store with `removed` deleted and `added` as a new
    segment; its segment files are hard-linked (never rewritten by Whoosh), the table of
    contents copied. Returns the Whoosh document number of each added record."""
    import shutil

    from whoosh import index
    for f in prev.iterdir():
        if f.name.startswith(("MAIN_", "_MAIN_")) and f.name != "MAIN_WRITELOCK":
            if f.suffix == ".seg":
                try:
                    os.link(f, dest / f.name)
                    continue
                except OSError:
                    pass
            shutil.copy2(f, dest / f.name)
    ix = index.open_dir(str(dest))
    writer = ix.writer()
    try:
        for rid in removed:
            writer.delete_by_term("id", rid)
        for doc in added:
            writer.add_document(**doc)
    except BaseException:
        writer.cancel()
        raise
    from whoosh.writing import NO_MERGE
    writer.commit(mergetype=NO_MERGE)
    with ix.searcher() as s:
        return {doc["id"]: s.document_number(id=doc["id"]) for doc in added}


def array_i():
    from array import array
    return array("i")


class WhooshSearcher:
    """Ranks with the array postings, reads records, filters and explanations from Whoosh."""

    def __init__(self, path: Path):
        import numpy as np
        from whoosh import index

        from policykb.search.postings import Postings
        self.ix = index.open_dir(str(path))
        self.searcher = self.ix.searcher()
        self.post = Postings(path, ("doc", "psg"))
        self.starts = self.post.extra("starts")
        self.ids = self.post.extra("ids")
        self.ndocs = self.post.n("doc")
        self.docnums = self.post.extra("docnums")  # row -> Whoosh document number
        link_ptr = self.post.extra("link_ptr")
        self.link_rows = np.asarray(self.post.extra("link_rows"))
        self.link_src = np.repeat(np.arange(self.ndocs), np.diff(link_ptr))
        self.path = Path(path)
        self._records: list[Record] | None = None

    def close(self) -> None:
        self.searcher.close()

    def records(self) -> list[Record]:
        if self._records is None:
            rows = json.loads((self.path / RECORDS).read_text(encoding="utf-8"))
            self._records = [Record(r["id"], r["type"], r.get("region"), r.get("status"),
                                    dt.date.fromisoformat(r["expires"]) if r.get("expires") else None,
                                    bool(r.get("dated")), tuple(r.get("links") or ())) for r in rows]
        return self._records

    def term_idf(self, terms: list[str]) -> list[float]:
        """Each term's idf over records (the rarest possible when no record has it)."""
        _, _, ptr, _ = self.post.f["doc"]
        out = []
        for t in terms:
            tid = self.post.vocab.get(t)
            out.append(self.post.idf("doc", int(ptr[tid + 1] - ptr[tid]) if tid is not None else 0))
        return out

    # -- search ----------------------------------------------------------------------------
    def search(self, q: analysis.AnalyzedQuery, filters: Filters, top: int, describe: bool = True) -> list[Hit]:
        """The `top` best records. describe=False: ranking fields only (id, type, scores); what a
        reader sees (title, snippet, matched words, region, meta) is read from the store by
        describe(), so the matcher reads it only for the hits it keeps."""
        import numpy as np
        if q.empty or top <= 0:
            return []
        terms = [(t.term, t.weight) for t in q.terms]
        dscore = self.post.scores("doc", terms)
        # Coverage of the question's own terms, or of the synonyms it was expanded with.
        cover = np.maximum(self.post.coverage("doc", [(t.term, t.weight) for t in q.terms if not t.synonym]),
                           self.post.coverage("doc", [(t.term, t.weight) for t in q.terms if t.synonym]))
        pscore = self.post.scores("psg", terms)
        best = np.zeros(self.ndocs)
        has_psg = np.diff(np.append(self.starts, len(pscore))) > 0
        if len(pscore):
            best[has_psg] = np.maximum.reduceat(pscore, self.starts[has_psg])
        allowed = filters.allowed
        if allowed is not None:
            dscore = np.where(allowed, dscore, 0.0)
            best = np.where(allowed, best, 0.0)
        combined = dscore + PASSAGE_WEIGHT * best
        if LINK_WEIGHT and len(self.link_rows):
            lift = np.zeros(self.ndocs)
            np.maximum.at(lift, self.link_src, combined[self.link_rows])
            combined = combined + LINK_WEIGHT * np.where(combined > 0, lift, 0.0)
        raw = combined
        if getattr(filters, "bonus", None) is not None:  # additive, in strength units (semantic blend)
            add = filters.bonus * (self.post.idf("doc", 1) or 1.0)
            combined = combined + (np.where(allowed, add, 0.0) if allowed is not None else add)
        if filters.prior is not None:
            combined = combined * filters.prior
        k = min(top, int((combined > 0).sum()))
        if k == 0:
            return []
        idx = np.argpartition(-combined, k - 1)[:k] if k < len(combined) else np.arange(len(combined))
        idx = sorted((int(i) for i in idx if combined[i] > 0), key=lambda i: (-combined[i], i))
        unit = self.post.idf("doc", 1) or 1.0
        ends = np.append(self.starts[1:], len(pscore))
        recs = self.records()
        hits = []
        for row in idx:
            best_passage = None
            if has_psg[row] and best[row] > 0:
                a = int(self.starts[row])
                best_passage = int(np.argmax(pscore[a:int(ends[row])]))
            hit = Hit(id=str(self.ids[row]), type=recs[row].type, title="", score=float(combined[row]),
                      coverage=float(cover[row]), strength=float(raw[row]) / unit)
            hit._pkb_ref = (row, best_passage)
            hits.append(hit)
        if describe:
            self.describe(q, hits)
        return hits

    def describe(self, q: analysis.AnalyzedQuery, hits: list[Hit]) -> None:
        """Fill in what a reader sees of hits returned by search(): title, the snippet of the best
        passage with the question's words marked, the matched words, region and meta."""
        for hit in hits:
            ref = getattr(hit, "_pkb_ref", None)
            if ref is None:
                continue
            row, best_passage = ref
            stored = self.searcher.stored_fields(int(self.docnums[row]))
            if stored["id"] != str(self.ids[row]):  # never trust document numbers blindly
                stored = self.searcher.document(id=str(self.ids[row]))
            data = stored["data"]
            passage = passage_text(data, data["passages"][best_passage]) if best_passage is not None else ""
            text = analysis.normalize(data["text"])
            hit.matched = matched_words(q, text)
            hit.snippet = snippet(passage or data.get("summary") or text, hit.matched)
            hit.title, hit.region, hit.meta = data["title"], data.get("region"), data.get("meta") or {}
            hit._pkb_ref = None

def passage_text(data: dict, where) -> str:
    """A stored passage's text (see _analyse)."""
    if where == "head":
        return _head_text(data)
    if where == "asked":
        return "；".join(t for t in [data["title"], data.get("summary") or ""] if t)
    if isinstance(where, str):
        return where
    return data["text"][where[0]:where[1]]


def matched_words(q: analysis.AnalyzedQuery, text: str) -> list[str]:
    """Question words (and synonyms) found in the record: the reason for the match."""
    freq = analysis.tokenizer().FREQ
    # Words jieba's HMM guessed (厂想, 能补) still score, but are no reason to show an officer.
    found = [w for w in q.words if w in text and (freq.get(w) or not analysis.is_cjk(w))]
    found += [alt for alt in q.expansions if alt in text and alt not in found]
    # Drop words contained in a longer matched word (技术 inside 技术改造).
    found = [w for w in found if not any(w != o and w in o for o in found)]
    if not found:  # only characters pairs matched (typos, odd segmentation)
        found = list(dict.fromkeys(t.source for t in q.terms if t.is_bigram and t.source in text))[:6]
    return found


def snippet(text: str, matched: list[str]) -> str:
    """A short excerpt around the first matched word, matched words wrapped in <mark>."""
    text = re.sub(r"\s+", " ", text).strip()
    norm = analysis.normalize(text)
    if len(norm) != len(text):
        text = norm  # conversion changed lengths: mark the normalised text instead
    spans = []
    for w in sorted(set(matched), key=len, reverse=True):
        for m in re.finditer(re.escape(w), norm):
            if not any(a < m.end() and m.start() < b for a, b in spans):
                spans.append((m.start(), m.end()))
    spans.sort()
    start = 0
    if spans and len(text) > SNIPPET_CHARS:
        start = max(0, min(spans[0][0] - 20, len(text) - SNIPPET_CHARS))
    end = min(len(text), start + SNIPPET_CHARS)
    out, pos = [], start
    for a, b in spans:
        if a < start or b > end:
            continue
        out.append(text[pos:a] + "<mark>" + text[a:b] + "</mark>")
        pos = b
    out.append(text[pos:end])
    return ("…" if start > 0 else "") + "".join(out) + ("…" if end < len(text) else "")
