"""Whoosh implementation of the search interface (policykb/search/engine.py).

Whoosh is the record store: each record is one Whoosh document with its analysed fields title /
alt (aliases, keywords) / summary / tags / body / asked and the stored record (title, normalised
text, passages, metadata) that hits are read from. Ranking reads array postings (below); which
records may be returned, and any prior on them, arrive from the matcher as Filters: no region
or status rule lives here. Text is analysed by policykb/analysis.py before it
reaches Whoosh (fields hold space-joined terms), so analysis runs in parallel at build time
and identically on the question side.

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
PASSAGE_CHARS = 320  # window length; windows overlap by about half
SNIPPET_CHARS = 110
# A FAQ and the policies it cites answer the same need: each gains this share of the best score
# among the records it is linked with (both must pass the filters).
LINK_WEIGHT = 0.35
RECORDS = "records.json"  # per row: id, type, region, status, expires, dated (Searcher.records)
_SENTENCE = re.compile(r"[^。！？；!?;\n]*[。！？；!?;\n]+|[^。！？；!?;\n]+$")


def _schema():
    from whoosh.analysis import SpaceSeparatedTokenizer
    from whoosh.fields import ID, STORED, TEXT, Schema

    def text():
        return TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=False)
    return Schema(id=ID(stored=True, unique=True), type=ID(stored=True),
                  title=text(), alt=text(), summary=text(), tags=text(), body=text(), asked=text(),
                  data=STORED())


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.findall(text) if s.strip()]


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
        half, k = 0, i
        while k < j - 1 and half + len(sents[k]) <= size / 2:
            half += len(sents[k])
            k += 1
        i = max(k, i + 1)
    return out


def _analyse(doc: IndexDoc) -> dict:
    """Everything Whoosh needs for one record (runs in worker processes on big builds)."""
    sents = sentences(doc.body)
    sent_terms = [analysis.index_terms(s) for s in sents]
    body_terms = [t for ts in sent_terms for t in ts]
    passages = [("".join(sents[a:b]).strip(), [t for ts in sent_terms[a:b] for t in ts])
                for a, b in windows(sents)]
    head = {"title": analysis.index_terms(doc.title), "alt": analysis.index_terms("\n".join(doc.alt)),
            "summary": analysis.index_terms(doc.summary)}
    if HEAD_PASSAGE:  # the record's own short description competes as one more passage
        head_raw = "；".join(t for t in [doc.title, *doc.alt, doc.summary] if t)
        passages.insert(0, (head_raw, head["title"] + head["alt"] + head["summary"]))
    asked = analysis.index_terms("\n".join(doc.asked))
    if ASKED_PASSAGE and asked:  # shown as the head passage's text: the FAQ wording is not this record's
        passages.append(("；".join(t for t in [doc.title, doc.summary] if t), asked))
    passages = [p for p in passages if p[1]]
    full = "\n".join([doc.title, *doc.alt, doc.summary, doc.body])
    return {**head, "tags": analysis.index_terms("\n".join(doc.tags)), "asked": asked,
            "body": body_terms, "passages": passages, "text": analysis.normalize(full)}


def _analyse_many(docs: list[IndexDoc]) -> list[dict]:
    analysis.tokenizer()  # load once before forking: workers share it
    if len(docs) < 300 or (os.cpu_count() or 1) < 2:
        return [_analyse(d) for d in docs]
    import multiprocessing as mp
    with mp.get_context("fork").Pool(min(os.cpu_count() or 2, 4)) as pool:
        return pool.map(_analyse, docs, chunksize=16)


DOC_FIELDS = ("title", "alt", "summary", "tags", "body", "asked")


def bm25f_frequencies(a: dict, avg: dict) -> dict[str, float]:
    """BM25F: each field's term frequency, length-normalised and weighted, summed before
    saturation, so a short field (a title) adds evidence without swamping the body."""
    out: dict[str, float] = {}
    for f in DOC_FIELDS:
        terms = a[f]
        if not terms or not FIELD_BOOST[f]:
            continue
        norm = FIELD_BOOST[f] / (1 - FIELD_B[f] + FIELD_B[f] * len(terms) / avg[f])
        for t, n in Counter(terms).items():
            out[t] = out.get(t, 0.0) + n * norm
    return out


class WhooshEngine:
    name = "whoosh"

    def build(self, docs: Iterable[IndexDoc], dest: Path) -> dict:
        import numpy as np
        from whoosh import index

        from policykb.search.postings import ArrayWriter

        docs = list(docs)
        analysed = _analyse_many(docs)
        ix = index.create_in(str(dest), _schema())
        writer = ix.writer(limitmb=256)
        arrays = ArrayWriter(("doc", "psg"))
        parents, starts = [], []
        avg = {f: (sum(len(a[f]) for a in analysed) / max(len(analysed), 1)) or 1.0 for f in DOC_FIELDS}
        # Few records have FAQ phrasings: their length is compared among those that do.
        have = [len(a["asked"]) for a in analysed if a["asked"]]
        avg["asked"] = sum(have) / len(have) if have else 1.0
        for row, (doc, a) in enumerate(zip(docs, analysed)):
            writer.add_document(
                id=doc.id, type=doc.type, **{f: " ".join(a[f]) for f in DOC_FIELDS},
                data={"title": doc.title, "region": doc.region, "status": doc.status, "expires": doc.expires,
                      "summary": doc.summary, "text": a["text"], "passages": [p for p, _ in a["passages"]],
                      "meta": doc.meta})
            arrays.add("doc", bm25f_frequencies(a, avg), length=0)
            starts.append(len(parents))
            for _, terms in a["passages"]:
                arrays.add("psg", terms)
                parents.append(row)
        writer.commit(optimize=True)
        ids = np.array([d.id for d in docs])
        row_of = {d.id: i for i, d in enumerate(docs)}
        linked = [sorted({row_of[t] for t in d.links if t in row_of and t != d.id}) for d in docs]
        link_ptr = np.cumsum([0] + [len(x) for x in linked]).astype(np.int64)
        link_rows = np.array([r for x in linked for r in x], dtype=np.int32)
        arrays.save(dest, {"doc": 0.0, "psg": FIELD_B["psg"]}, {"parents": np.array(parents, dtype=np.int32),
                                    "starts": np.array(starts, dtype=np.int64), "ids": ids,
                                    "link_ptr": link_ptr, "link_rows": link_rows})
        records = [{"id": d.id, "type": d.type, "region": d.region, "status": d.status,
                    "expires": d.expires.isoformat() if d.expires else None, "dated": d.dated,
                    "links": [t for t in d.links if t in row_of and t != d.id]} for d in docs]
        write_atomic(dest / RECORDS, json.dumps(records, ensure_ascii=False))
        return {"documents": len(docs), "passages": len(parents)}

    def open(self, path: Path) -> WhooshSearcher:
        return WhooshSearcher(path)


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
    def search(self, q: analysis.AnalyzedQuery, filters: Filters, top: int) -> list[Hit]:
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
        hits = []
        for row in idx:
            stored = self.searcher.stored_fields(row)
            if stored["id"] != str(self.ids[row]):  # rows are Whoosh docnums; never trust blindly
                stored = self.searcher.document(id=str(self.ids[row]))
            data = stored["data"]
            passage = ""
            if has_psg[row]:
                a = int(self.starts[row])
                n = len(data["passages"])
                passage = data["passages"][int(np.argmax(pscore[a:a + n]))] if best[row] > 0 else ""
            matched = matched_words(q, data["text"])
            hits.append(Hit(id=stored["id"], type=stored["type"], title=data["title"], score=float(combined[row]),
                            coverage=float(cover[row]), strength=float(raw[row]) / unit,
                            snippet=snippet(passage or data.get("summary") or data["text"], matched),
                            matched=matched, region=data.get("region"), meta=data.get("meta") or {}))
        return hits

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
