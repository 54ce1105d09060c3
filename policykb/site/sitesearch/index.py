"""Write the static search index into a built site (called by `policykb build` before the swap).

Layout under <site>/search/ (only manifest.json has a fixed name; every other name carries a
content hash, so a browser never mixes two generations):

    manifest.json                 {version, n, shards, k1, res, docs, readings, shard: [names], dir}
    res.<h>.json                  analysis resources for the query side (analysis.Resources)
    py.<h>.json                   pinyin readings, fetched only for a possible homophone slip
    docs.<h>.json                 per-record filter data (type, region, status, dates, links) and
                                  each record's two most frequent impacts (`imp`, see below)
    t/<i>.<h>.bin                 postings of the terms whose FNV-1a hash % shards == i
    d/<gen>/<row>.json            what a result shows: [id, type, title, url, region, deadline,
                                  text (plain, the first TEXT_CHARS characters), issue status?]

Shard format (version 4), column by column so that gzip sees like next to like; integers are
unsigned LEB128 varints. T = term count, then for the T terms in sorted order:
  1. their lengths (UTF-16 code units), T varints;
  2. the code units each shares with the term before it (front coding), T varints;
  3. the first code unit after that shared prefix: its distance to the previous term's code
     unit at that position (sorted terms: always > 0), or the unit itself when the previous
     term is all prefix, T varints;
  4. the remaining code units, 2 bytes each, little-endian;
  5. document frequencies df, T varints; 6. how many postings were left out (df - kept: only
     very common terms of large corpora lose their weakest postings, see CAP), T varints;
  7. per kept posting, term after term, the row delta (the first: the row), varints;
  8. per kept posting one byte: 0 = the record's most frequent impact, 1 = its second most
     frequent one (docs `imp`: two characters per row, chr(48 + impact)), else impact + 1.
impact = round(LEVELS x tf / (K1 + tf)) in 1..LEVELS, tf the BM25F field-weighted term frequency.
idf x 1000 = floor(1000 x ln(1 + (n - df + 0.5) / (df + 0.5)) + 0.5), computed by the reader.
A record's score is the integer sum over query terms of weight x idf1000 x impact, so the
browser and the Python reference (query.py) rank identically.
Rows are numbered longest record first (most distinct terms): row deltas of common terms then
stay small.

The public profile never sees a problem record: `records()` reads issues only when internal.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import os
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from policykb.content import regions
from policykb.site.sitesearch import analysis as sa

VERSION = 4
SHARDS = 256  # at least; large corpora get more (a power of two), so a shard stays small
SHARD_TARGET = 16_000  # raw bytes per shard aimed at
MAX_SHARDS = 4096
# A term keeps at most this many postings (its highest impacts): a cold first search on a large
# corpus then stays a few hundred KB. It never binds below CAP_MIN records.
CAP_MIN, CAP_SHARE = 2000, 0.1
K1 = 1.2
LEVELS = 63  # impacts are 1..LEVELS (6 bits: as good as 8 on NCP, a smaller index)
# BM25F field weights and length normalisation (global knobs, as in the matcher).
FIELD_BOOST = {"title": 3.0, "alt": 2.0, "summary": 1.5, "tags": 0.7, "body": 1.0, "asked": 0.8}
FIELD_B = {"title": 0.5, "alt": 0.5, "summary": 0.6, "tags": 0.3, "body": 0.75, "asked": 0.5}
TEXT_CHARS = 240  # plain text kept for snippets (summary first), the bulk of d/
TYPE_CODE = {"policy": "p", "faq": "f", "issue": "i"}
STATUS_CODE = {None: "-", "effective": "e", "expired": "x", "repealed": "r", "draft": "d"}
DIR = "search"
EPOCH = dt.date(1970, 1, 1)


@dataclass
class Record:
    id: str
    type: str
    url: str
    fields: dict[str, str]
    region: str = ""
    status: str | None = None
    expires: dt.date | None = None
    deadline: str = ""
    summary: str = ""
    text: str = ""
    superseded_by: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    extra: dict = field(default_factory=dict)


def _html(page: str) -> str:
    return page[:-3] + ".html" if page.endswith(".md") else page


def records(content, *, internal: bool) -> list[Record]:
    """Loader records -> what the index holds. Problem records only when `internal`."""
    from policykb.search.matcher import citing_faqs
    from policykb.site.views import NO_CATEGORY, category_slug, issue_page, policy_page
    faqs = [f for f in content.faqs if not f.draft]
    policies = [p for p in content.policies if p.status != "draft"]
    pol_by_id = {p.id: p for p in policies}
    cited = citing_faqs(content)
    out: list[Record] = []
    for p in policies:
        asked = [t for f in cited.get(p.id, []) for t in [f.question, *f.aliases] if t]
        tags = [*p.categories, *p.enterprise_types, *p.support, *p.issuer, *([p.doc_number] if p.doc_number else []),
                *([p.apply.department] if p.apply and p.apply.department else [])]
        deadline = p.apply.deadline if p.apply else None
        out.append(Record(
            id=p.id, type="policy", url=_html(policy_page(p.id)),
            fields={"title": p.title or p.id, "alt": "\n".join(p.keywords), "summary": p.summary or "",
                    "tags": "\n".join(tags), "body": p.body, "asked": "\n".join(asked)},
            region=regions.path(p.region), status=p.status, expires=p.expires,
            deadline=str(deadline) if deadline else "", summary=p.summary or "", text=p.body,
            superseded_by=list(p.superseded_by), links=[f.id for f in cited.get(p.id, [])]))
    for f in faqs:
        region = regions.path(f.region)
        if not region:  # a FAQ without a region takes the one region of the policies it cites
            cited_regions = {regions.path(pol_by_id[x].region) for x in f.policies if x in pol_by_id}
            if len(cited_regions) == 1:
                region = cited_regions.pop()
        category = f.categories[0] if f.categories else NO_CATEGORY
        out.append(Record(
            id=f.id, type="faq", url=f"{_html('faq/' + category_slug(category) + '.md')}#{f.id}",
            fields={"title": f.question or f.id, "alt": "\n".join(f.aliases), "summary": "",
                    "tags": "\n".join(f.categories), "body": f.body, "asked": ""},
            region=region, text=f.body, links=[x for x in f.policies if x in pol_by_id]))
    if internal:
        for i in content.issues:
            out.append(Record(
                id=i.id, type="issue", url=_html(issue_page(i.id)),
                fields={"title": i.title or i.id, "alt": "", "summary": i.resolution or "",
                        "tags": i.category or "", "body": i.body, "asked": ""},
                region=regions.path(i.region), status=None, summary=i.resolution or "", text=i.body,
                extra={"issue_status": i.status or ""}))
    return out


def _varint(n: int, buf: bytearray) -> None:
    while n >= 0x80:
        buf.append((n & 0x7F) | 0x80)
        n >>= 7
    buf.append(n)


def _varint_bytes(n: int) -> bytes:
    buf = bytearray()
    _varint(n, buf)
    return bytes(buf)


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:10]


def _field_counts(fields: dict[str, str]) -> dict[str, tuple[int, Counter]]:
    out = {}
    res = sa.resources()
    for f, text in fields.items():
        if text:
            ts = sa.document_terms(text, res)
            if ts:
                out[f] = (len(ts), Counter(ts))
    return out


def _count_all(recs: list[Record]) -> Iterator[dict[str, tuple[int, Counter]]]:
    """Per record and field: (length, term counts), record after record (never all at once: on a
    large corpus those counters would take gigabytes); in worker processes on large builds."""
    sa.resources()  # loaded once before forking: workers share it
    fields = [r.fields for r in recs]
    if len(recs) < 2000 or (os.cpu_count() or 1) < 2:
        yield from map(_field_counts, fields)
        return
    import multiprocessing as mp
    with mp.get_context("fork").Pool(min(os.cpu_count() or 2, 4)) as pool:
        yield from pool.imap(_field_counts, fields, chunksize=64)


@dataclass
class Postings:
    """Every posting, ordered as the shards hold them (shard, term, row), as numpy arrays.

    terms: the terms in that order; shard / df / kept: per term; rows / codes: per kept posting
    (code as in shard column 8); defaults: per record, its (most, second most) frequent impact."""
    terms: list[str]
    shard: np.ndarray
    df: np.ndarray
    kept: np.ndarray
    rows: np.ndarray
    codes: np.ndarray
    defaults: np.ndarray
    shards: int


def _fnv1a_all(terms: list[str]) -> np.ndarray:
    """sa.fnv1a of every term, computed column by column over the terms of each byte length."""
    raw = [t.encode("utf-8") for t in terms]
    lengths = np.fromiter(map(len, raw), dtype=np.int64, count=len(raw))
    out = np.empty(len(raw), dtype=np.uint32)
    for size in np.unique(lengths):
        which = np.flatnonzero(lengths == size)
        data = np.frombuffer(b"".join([raw[k] for k in which]), dtype=np.uint8).reshape(len(which), int(size))
        h = np.full(len(which), 0x811C9DC5, dtype=np.uint32)
        for col in range(int(size)):
            h ^= data[:, col]
            h *= np.uint32(0x01000193)  # wraps modulo 2**32, as Math.imul does
        out[which] = h
    return out


def analyse(counts: Iterable[dict[str, tuple[int, Counter]]], record_ids: list[str]) -> tuple[Postings, list[int]]:
    """Field counts (record after record) -> BM25F impacts -> postings in shard order (see the
    module docstring), and the row order: order[row] = the record's position in `record_ids`."""
    fields = list(FIELD_BOOST)
    # A new term takes the next id on its first lookup: one dictionary probe per term and field.
    tid: dict[str, int] = defaultdict(itertools.count().__next__)
    term_id = tid.__getitem__
    term_ids, vals = array("q"), array("q")
    seg_field, seg_length, seg_row, seg_len, size = [], [], [], [], []
    for k, fc in enumerate(counts):
        total = 0
        for f, (length, counter) in fc.items():
            term_ids.extend(map(term_id, counter))
            vals.extend(counter.values())
            seg_field.append(f)
            seg_length.append(length)
            seg_row.append(k)
            seg_len.append(len(counter))
            total += len(counter)
        size.append(total)
    n = len(size)
    # Rows, longest record first (then by id): small row deltas for the common terms.
    row_order = sorted(range(n), key=lambda k: (-size[k], record_ids[k]))
    perm = np.empty(n, dtype=np.int64)
    perm[row_order] = np.arange(n)
    avg = {}
    for f in fields:
        have = [ln for g, ln in zip(seg_field, seg_length) if g == f]
        avg[f] = (sum(have) / len(have)) if have else 1.0
    seg_norm = [FIELD_BOOST[f] / (1 - FIELD_B[f] + FIELD_B[f] * ln / avg[f]) for f, ln in zip(seg_field, seg_length)]
    vocab = list(tid)
    del tid
    ids = np.frombuffer(term_ids, dtype=np.int64) if len(term_ids) else np.zeros(0, dtype=np.int64)
    n_terms = len(vocab)
    seg_len = np.asarray(seg_len, dtype=np.int64)
    weight = (np.frombuffer(vals, dtype=np.int64) if len(vals) else np.zeros(0, dtype=np.int64)) \
        * np.repeat(np.asarray(seg_norm, dtype=np.float64), seg_len)
    rows = np.repeat(perm[np.asarray(seg_row, dtype=np.int64)], seg_len)
    # A term in several fields of a record: one posting, field-weighted tfs summed.
    pair, inverse = np.unique(rows * max(n_terms, 1) + ids, return_inverse=True)
    tf = np.bincount(inverse, weights=weight, minlength=len(pair))
    rows, ids = pair // max(n_terms, 1), pair % max(n_terms, 1)
    imp = np.maximum(np.rint(LEVELS * tf / (K1 + tf)), 1).astype(np.int64)
    # Each record's two most frequent impacts (then the smaller one first) get codes 0 and 1.
    freq = np.bincount(rows * 64 + imp, minlength=n * 64).reshape(n, 64)
    rank = freq * 64 + (63 - np.arange(64))
    a = rank.argmax(axis=1)
    rank[np.arange(n), a] = -1
    b = rank.argmax(axis=1)
    b = np.where(freq[np.arange(n), b] > 0, b, a)
    a = np.where(freq[np.arange(n), a] > 0, a, 1)
    b = np.where(freq[np.arange(n), b] > 0, b, a)
    codes = np.where(imp == a[rows], 0, np.where(imp == b[rows], 1, imp + 1))
    # Shard order: shard, then term, then row.
    df = np.bincount(ids, minlength=n_terms)
    size = 2 * sum(map(len, vocab)) + 3 * n_terms + 1.6 * len(rows)
    shards = SHARDS
    while shards < MAX_SHARDS and size / shards > SHARD_TARGET:
        shards *= 2
    shard = (_fnv1a_all(vocab) % shards).astype(np.int64)
    alpha = np.empty(n_terms, dtype=np.int64)
    alpha[sorted(range(n_terms), key=vocab.__getitem__)] = np.arange(n_terms)
    order_terms = np.lexsort((alpha, shard))
    place = np.empty(n_terms, dtype=np.int64)
    place[order_terms] = np.arange(n_terms)
    order = np.lexsort((rows, place[ids]))
    rows, codes, imp, ids = rows[order], codes[order], imp[order], place[ids[order]]
    df = df[order_terms]
    # Very common terms of large corpora keep their strongest postings only.
    cap = max(CAP_MIN, int(n * CAP_SHARE))
    keep = np.ones(len(rows), dtype=bool)
    starts = np.concatenate([[0], np.cumsum(df)])
    for k in np.flatnonzero(df > cap):
        lo, hi = starts[k], starts[k + 1]
        strongest = np.lexsort((rows[lo:hi], -imp[lo:hi]))[:cap]
        mask = np.zeros(hi - lo, dtype=bool)
        mask[strongest] = True
        keep[lo:hi] = mask
    kept = np.bincount(ids[keep], minlength=n_terms)
    return Postings(terms=[vocab[k] for k in order_terms.tolist()], shard=shard[order_terms], df=df, kept=kept,
                    rows=rows[keep], codes=codes[keep].astype(np.uint8),
                    defaults=np.stack([a, b], axis=1), shards=shards), row_order


def idf1000(n_docs: int, df: int) -> int:
    """The same in search.js (Math.floor(1000 * Math.log(…) + 0.5))."""
    return math.floor(1000 * math.log(1 + (n_docs - df + 0.5) / (df + 0.5)) + 0.5)


def _varint_array(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LEB128 of every value: (the bytes, offsets: value k's bytes are [off[k], off[k + 1]))."""
    v = np.asarray(values, dtype=np.uint64)
    nbytes = np.ones(len(v), dtype=np.int64)
    for k in range(1, 10):
        nbytes += v >= (1 << (7 * k))
    off = np.concatenate([[0], np.cumsum(nbytes)])
    out = np.empty(int(off[-1]), dtype=np.uint8)
    for k in range(int(nbytes.max()) if len(v) else 0):
        m = nbytes > k
        byte = ((v[m] >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        out[off[:-1][m] + k] = byte | np.where(nbytes[m] > k + 1, 0x80, 0).astype(np.uint8)
    return out, off


def _front_coding(terms: list[str], bounds: np.ndarray):
    """Columns 1-4 of every shard at once: per term its length, the code units it shares with
    the term before it in its shard, the first unit after those (a distance when the term before
    has a unit there), and the remaining units (little-endian uint16, term after term)."""
    units = np.frombuffer("".join(terms).encode("utf-16-le"), dtype="<u2").astype(np.int64)
    length = np.fromiter(map(len, terms), dtype=np.int64, count=len(terms))
    off = np.concatenate([[0], np.cumsum(length)])[:-1]
    has_prev = np.ones(len(terms), dtype=bool)
    has_prev[bounds[:-1][bounds[:-1] < len(terms)]] = False
    prev_len = np.concatenate([[0], length[:-1]]) * has_prev
    shared = np.zeros(len(terms), dtype=np.int64)
    alive = has_prev.copy()
    k = 0
    while alive.any():
        idx = np.flatnonzero(alive & (length > k) & (prev_len > k))
        same = idx[units[off[idx] + k] == units[off[idx - 1] + k]]
        shared[same] += 1
        alive = np.zeros(len(terms), dtype=bool)
        alive[same] = True
        k += 1
    at = off + shared
    before = np.where(shared < prev_len, units[np.maximum(off - prev_len, 0) + np.minimum(shared, np.maximum(prev_len - 1, 0))], 0)
    first = units[at] - before
    owner = np.repeat(np.arange(len(terms)), length)
    keep = (np.arange(len(units)) - off[owner]) > shared[owner]
    return length, shared, first, units[keep].astype("<u2"), length - shared - 1


def encode_shards(post: Postings) -> list[bytes]:
    """Every shard's bytes (the column layout of the module docstring)."""
    bounds = np.searchsorted(post.shard, np.arange(post.shards + 1))
    lengths, shared, first, rest_units, rest_count = _front_coding(post.terms, bounds)
    rest_off = np.concatenate([[0], np.cumsum(rest_count)])
    starts = np.concatenate([[0], np.cumsum(post.kept)])
    deltas = post.rows.copy()
    deltas[1:] -= post.rows[:-1]
    nonempty = post.kept > 0
    deltas[starts[:-1][nonempty]] = post.rows[starts[:-1][nonempty]]  # a term's first posting: its row
    cols = [_varint_array(x) for x in (lengths, shared, first, post.df, post.df - post.kept)]
    dbytes, doff = _varint_array(deltas)
    codes = post.codes
    out = []
    for s in range(post.shards):
        lo, hi = bounds[s], bounds[s + 1]
        plo, phi = starts[lo], starts[hi]
        parts = [_varint_bytes(int(hi - lo))]
        for k, (data, off) in enumerate(cols):
            parts.append(data[off[lo]:off[hi]].tobytes())
            if k == 2:
                parts.append(rest_units[rest_off[lo]:rest_off[hi]].tobytes())
        parts += [dbytes[doff[plo]:doff[phi]].tobytes(), codes[plo:phi].tobytes()]
        out.append(b"".join(parts))
    return out


def _days(d: dt.date | None) -> int:
    return (d - EPOCH).days if d else -1


def _write(path: Path, data: bytes) -> int:
    with open(path, "wb") as f:
        f.write(data)
    return len(data)


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


_TAG = re.compile(r"<[^>]*>")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"[#*_>`|~]+")
_SPACE = re.compile(r"\s+")


def plain(md: str) -> str:
    """Markdown -> the plain text a snippet shows (search.js's plain() is the same, and idempotent)."""
    return _SPACE.sub(" ", _MARKUP.sub(" ", _LINK.sub(r"\1", _TAG.sub(" ", md or "")))).strip()


def shown(r: Record) -> list:
    """What a result shows (d/<gen>/<row>.json): see the module docstring."""
    text = plain(" ".join(x for x in (r.summary, r.text[:TEXT_CHARS * 3]) if x))[:TEXT_CHARS]
    out = [r.id, r.type, r.fields["title"], r.url, r.region, r.deadline, text]
    if "issue_status" in r.extra:
        out.append(r.extra["issue_status"])
    return out


def write_index(content, site: Path, *, internal: bool) -> dict:
    """Write search/ into the built site folder `site`. Returns figures (files, bytes, records)."""
    res = sa.resources()
    recs = records(content, internal=internal)
    post, order = analyse(_count_all(recs), [r.id for r in recs])
    recs = [recs[k] for k in order]
    n = len(recs)
    root = Path(site) / DIR
    for sub in ("t", "d"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    total = 0
    shards = post.shards
    shard_names = []
    for i, data in enumerate(encode_shards(post)):
        name = f"t/{i:03d}.{_hash(data)}.bin"
        total += _write(root / name, data)
        shard_names.append(name)
    row = {r.id: k for k, r in enumerate(recs)}
    region_list = sorted({r.region for r in recs if r.region})
    region_ix = {p: k for k, p in enumerate(region_list)}
    docs = {"type": "".join(TYPE_CODE[r.type] for r in recs),
            "status": "".join(STATUS_CODE.get(r.status, "-") for r in recs),
            "region": [region_ix.get(r.region, -1) for r in recs], "regions": region_list,
            "expires": [_days(r.expires) for r in recs],
            "imp": (post.defaults.reshape(-1) + 48).astype(np.uint8).tobytes().decode("ascii"),
            "succ": {str(k): [row[s] for s in r.superseded_by if s in row]
                     for k, r in enumerate(recs) if any(s in row for s in r.superseded_by)},
            "links": {str(k): [row[s] for s in r.links if s in row] for k, r in enumerate(recs)
                      if any(s in row for s in r.links)}}
    # Region names as companies use them (taxonomy `regions:` aliases, short names), for the
    # 适用于 filter and for zones named in a question; longest name first.
    table = regions.alias_table(getattr(content, "taxonomy", None), [r.region for r in recs if r.region])
    docs["aliases"] = table
    docs["alias_order"] = sorted(table, key=lambda n: (-len(n), n))
    docs_data = _json(docs)
    res_data = _json(res.as_json())
    py_data = _json(res.readings_json())
    shown_data = [_json(shown(r)) for r in recs]
    gen = _hash(b"".join([docs_data, res_data, *[s.encode() for s in shard_names], *shown_data]))
    (root / "d" / gen).mkdir()
    for k, data in enumerate(shown_data):
        total += _write(root / "d" / gen / f"{k}.json", data)
    names = {}
    for key, data in (("res", res_data), ("docs", docs_data), ("readings", py_data)):
        names[key] = f"{key}.{_hash(data)}.json"
        total += _write(root / names[key], data)
    manifest = {"version": VERSION, "generation": gen, "n": n, "shards": shards, "profile":
                "internal" if internal else "public", **names, "shard": shard_names, "dir": f"d/{gen}/"}
    total += _write(root / "manifest.json", _json(manifest))
    return {"records": n, "terms": len(post.terms), "postings": int(post.kept.sum()), "bytes": total,
            "generation": gen}
