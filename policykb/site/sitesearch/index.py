"""Write the static search index into a built site (called by `policykb build` before the swap).

Layout under <site>/search/ (only manifest.json has a fixed name; every other name carries a
content hash, so a browser never mixes two generations):

    manifest.json                 {version, n, shards, k1, res, docs, readings, shard: [names], dir}
    res.<h>.json                  analysis resources for the query side (analysis.Resources)
    py.<h>.json                   pinyin readings, fetched only for a possible homophone slip
    docs.<h>.json                 per-record filter data (type, region, status, dates, links)
    t/<i>.<h>.bin                 postings of the terms whose FNV-1a hash % shards == i
    d/<gen>/<row>.json            what a result shows (title, url, region, deadline, text)

Shard format (unsigned LEB128 varints): term count, then per term, in sorted order: its length in
UTF-16 code units, the code units (2 bytes each, little-endian: CJK bigrams compress better so
than as UTF-8), the term's document frequency df, how many of its postings were left out
(df - kept: only very common terms of large corpora lose their weakest postings, see CAP), then
per kept posting the row delta and one byte of
impact = round(255 x tf / (K1 + tf)) where tf is the BM25F field-weighted term frequency.
idf x 1000 = floor(1000 x ln(1 + (n - df + 0.5) / (df + 0.5)) + 0.5), computed by the reader.
A record's score is the integer sum over query terms of weight x idf1000 x impact, so the
browser and the Python reference (query.py) rank identically.

The public profile never sees a problem record: `records()` reads issues only when internal.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from policykb.content import regions
from policykb.site.sitesearch import analysis as sa

VERSION = 3
SHARDS = 256  # at least; large corpora get more (a power of two), so a shard stays small
SHARD_TARGET = 16_000  # raw bytes per shard aimed at
MAX_SHARDS = 4096
# A term keeps at most this many postings (its highest impacts): a cold first search on a large
# corpus then stays a few hundred KB. It never binds below CAP_MIN records.
CAP_MIN, CAP_SHARE = 2000, 0.1
K1 = 1.2
# BM25F field weights and length normalisation (global knobs, as in the matcher).
FIELD_BOOST = {"title": 3.0, "alt": 2.0, "summary": 1.5, "tags": 0.7, "body": 1.0, "asked": 0.8}
FIELD_B = {"title": 0.5, "alt": 0.5, "summary": 0.6, "tags": 0.3, "body": 0.75, "asked": 0.5}
TEXT_CHARS = 700  # body text kept for snippets
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
            body = "\n".join(x for x in (i.body, i.resolution or "") if x)
            out.append(Record(
                id=i.id, type="issue", url=_html(issue_page(i.id)),
                fields={"title": i.title or i.id, "alt": "", "summary": i.resolution or "",
                        "tags": i.category or "", "body": i.body, "asked": ""},
                region=regions.path(i.region), status=None, text=body,
                extra={"issue_status": i.status or ""}))
    return out


def _varint(n: int, buf: bytearray) -> None:
    if n < 0x80:
        buf.append(n)
        return
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            buf.append(b | 0x80)
        else:
            buf.append(b)
            return


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:10]


def _field_counts(fields: dict[str, str]) -> dict[str, tuple[int, Counter]]:
    out = {}
    for f, text in fields.items():
        ts = sa.document_terms(text, sa.resources())
        if ts:
            out[f] = (len(ts), Counter(ts))
    return out


def _count_all(recs: list[Record]) -> list[dict[str, tuple[int, Counter]]]:
    """Per record and field: (length, term counts); in worker processes on large builds."""
    sa.resources()  # loaded once before forking: workers share it
    fields = [r.fields for r in recs]
    if len(recs) < 2000 or (os.cpu_count() or 1) < 2:
        return [_field_counts(f) for f in fields]
    import multiprocessing as mp
    with mp.get_context("fork").Pool(min(os.cpu_count() or 2, 4)) as pool:
        return pool.map(_field_counts, fields, chunksize=32)


def analyse(recs: list[Record], res: sa.Resources) -> dict[str, list[tuple[int, int]]]:
    """term -> [(row, impact)] in row order."""
    counts = _count_all(recs)
    avg = {}
    for f in FIELD_BOOST:
        have = [c[f][0] for c in counts if f in c]
        avg[f] = (sum(have) / len(have)) if have else 1.0
    postings: dict[str, list[tuple[int, int]]] = {}
    for row, fc in enumerate(counts):
        tf: dict[str, float] = {}
        for f, (length, counter) in fc.items():
            norm = FIELD_BOOST[f] / (1 - FIELD_B[f] + FIELD_B[f] * length / avg[f])
            for t, n in counter.items():
                tf[t] = tf.get(t, 0.0) + n * norm
        for t, v in tf.items():
            imp = round(255 * v / (K1 + v))
            postings.setdefault(t, []).append((row, imp if imp > 0 else 1))
    return postings


def idf1000(n_docs: int, df: int) -> int:
    """The same in search.js (Math.floor(1000 * Math.log(…) + 0.5))."""
    return math.floor(1000 * math.log(1 + (n_docs - df + 0.5) / (df + 0.5)) + 0.5)


def shard_bytes(terms: list[str], postings, n_docs: int) -> bytes:
    buf = bytearray()
    _varint(len(terms), buf)
    for t in sorted(terms):
        raw = t.encode("utf-16-le")
        _varint(len(raw) // 2, buf)
        buf += raw
        plist = postings[t]
        df = len(plist)
        cap = max(CAP_MIN, int(n_docs * CAP_SHARE))
        if df > cap:
            plist = sorted(sorted(plist, key=lambda p: (-p[1], p[0]))[:cap])
        _varint(df, buf)
        _varint(df - len(plist), buf)
        prev = 0
        for row, imp in plist:
            d = row - prev
            if d < 0x80:
                buf.append(d)
            else:
                _varint(d, buf)
            buf.append(imp)
            prev = row
    return bytes(buf)


def shard_count(postings) -> int:
    raw = sum(2 * len(t) + 3 + 2.2 * len(p) for t, p in postings.items())
    n = SHARDS
    while n < MAX_SHARDS and raw / n > SHARD_TARGET:
        n *= 2
    return n


def _days(d: dt.date | None) -> int:
    return (d - EPOCH).days if d else -1


def _write(path: Path, data: bytes) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(data)


def _json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def write_index(content, site: Path, *, internal: bool) -> dict:
    """Write search/ into the built site folder `site`. Returns figures (files, bytes, records)."""
    res = sa.resources()
    recs = records(content, internal=internal)
    postings = analyse(recs, res)
    n = len(recs)
    root = Path(site) / DIR
    total = 0
    shards = shard_count(postings)
    by_shard: dict[int, list[str]] = {}
    for t in postings:
        by_shard.setdefault(sa.fnv1a(t) % shards, []).append(t)
    shard_names = []
    for i in range(shards):
        data = shard_bytes(by_shard.get(i, []), postings, n)
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
    shown = [_json({"id": r.id, "type": r.type, "title": r.fields["title"], "url": r.url, "region": r.region,
                    "deadline": r.deadline, "summary": r.summary, "text": r.text[:TEXT_CHARS], **r.extra})
             for r in recs]
    gen = _hash(b"".join([docs_data, res_data, *[s.encode() for s in shard_names], *shown]))
    for k, data in enumerate(shown):
        total += _write(root / "d" / gen / f"{k}.json", data)
    names = {}
    for key, data in (("res", res_data), ("docs", docs_data), ("readings", py_data)):
        names[key] = f"{key}.{_hash(data)}.json"
        total += _write(root / names[key], data)
    manifest = {"version": VERSION, "generation": gen, "n": n, "shards": shards, "profile":
                "internal" if internal else "public", **names, "shard": shard_names, "dir": f"d/{gen}/"}
    manifest["shards"] = shards
    total += _write(root / "manifest.json", _json(manifest))
    return {"records": n, "terms": len(postings), "bytes": total, "generation": gen}
