"""Python reference of the site search: reads the files `index.write_index` put into a built
site and ranks exactly as policykb/site/assets/search.js does (same analysis, integer scores,
same tie-break). `policykb eval --engine site` and the parity test use it.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from policykb.content import regions
from policykb.site.sitesearch import analysis as sa
from policykb.site.sitesearch.index import DIR, EPOCH, idf1000

LINK_NUM, LINK_DEN = 7, 20  # a FAQ and the policies it cites gain 7/20 of the best linked score
# A question naming a zone: records of other zones keep 3/10 of their score (the matcher's
# OTHER_ZONE_PRIOR), so what applies there comes first.
ZONE_NUM, ZONE_DEN = 3, 10
STATUS_NAME = {"e": "effective", "x": "expired", "r": "repealed", "d": "draft"}


def resources_from_json(data: dict, readings: list[str] | None = None) -> sa.Resources:
    t2s = data["t2s"]
    rd: dict[str, list[int]] = {}
    for i, chars in enumerate(readings or []):
        for c in chars:
            rd.setdefault(c, []).append(i)
    return sa.Resources(t2s={t2s[i]: t2s[i + 1] for i in range(0, len(t2s), 2)}, stop=frozenset(data["stop"]),
                        stop1=frozenset(data["stop1"]), synonyms=data["synonyms"],
                        typos=[tuple(p) for p in data["typos"]], terms=data["terms"], readings=rd)


def _varints(buf: bytes, pos: int, count: int) -> tuple[list[int], int]:
    out = []
    for _ in range(count):
        n = shift = 0
        while True:
            b = buf[pos]
            pos += 1
            n |= (b & 0x7F) << shift
            if b < 0x80:
                break
            shift += 7
        out.append(n)
    return out, pos


def parse_shard(buf: bytes, n_docs: int = 0, imp: str | None = None) -> dict[str, tuple[int, list[tuple[int, int]]]]:
    """term -> (idf x 1000 for a corpus of `n_docs`, [(row, impact)]); `imp` is docs.json's
    table of each record's two most frequent impacts (without it those impacts read as 0)."""
    (count,), pos = _varints(buf, 0, 1)
    lengths, pos = _varints(buf, pos, count)
    shared, pos = _varints(buf, pos, count)
    first, pos = _varints(buf, pos, count)
    terms, prev = [], ""
    for ln, p, f in zip(lengths, shared, first):
        unit = f + (ord(prev[p]) if p < len(prev) else 0)
        rest = ln - p - 1
        t = prev[:p] + chr(unit) + buf[pos:pos + 2 * rest].decode("utf-16-le")
        pos += 2 * rest
        terms.append(t)
        prev = t
    dfs, pos = _varints(buf, pos, count)
    left, pos = _varints(buf, pos, count)
    kept = [df - lo for df, lo in zip(dfs, left)]
    deltas, pos = _varints(buf, pos, sum(kept))
    out, k = {}, 0
    for t, df, m in zip(terms, dfs, kept):
        plist, row = [], 0
        for j in range(k, k + m):
            row += deltas[j]
            code = buf[pos + j]
            plist.append((row, (ord(imp[2 * row + code]) - 48 if imp else 0) if code < 2 else code - 1))
        k += m
        out[t] = (idf1000(n_docs, df), plist)
    return out


SHOWN_KEYS = ("id", "type", "title", "url", "region", "deadline", "text", "issue_status")


def doc_dict(row: list) -> dict:
    """A d/<gen>/<row>.json array as a dict (index.shown)."""
    return dict(zip(SHOWN_KEYS, row))


class SiteIndex:
    """The static index of one built site, read from disk like the browser reads it over HTTP."""

    def __init__(self, site: Path):
        self.root = Path(site) / DIR
        self.manifest = json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
        m = self.manifest
        self.res_json = json.loads((self.root / m["res"]).read_text(encoding="utf-8"))
        self.res = resources_from_json(self.res_json)
        self._readings_loaded = False
        self.docs = json.loads((self.root / m["docs"]).read_text(encoding="utf-8"))
        self.succ = {int(k): v for k, v in self.docs["succ"].items()}
        self.links = {int(k): v for k, v in self.docs["links"].items()}
        self._shards: dict[int, dict] = {}
        self.fetched: set[str] = set()  # file names read (for bytes-per-question figures)

    def _shard(self, term: str) -> dict:
        i = sa.fnv1a(term) % self.manifest["shards"]
        if i not in self._shards:
            name = self.manifest["shard"][i]
            self.fetched.add(name)
            self._shards[i] = parse_shard((self.root / name).read_bytes(), self.manifest["n"], self.docs["imp"])
        return self._shards[i]

    def postings(self, term: str):
        return self._shard(term).get(term)

    def _load_readings(self) -> None:
        if not self._readings_loaded:
            self.fetched.add(self.manifest["readings"])
            readings = json.loads((self.root / self.manifest["readings"]).read_text(encoding="utf-8"))
            self.res = resources_from_json(self.res_json, readings)
            self._readings_loaded = True

    def status(self, row: int, today_days: int) -> str | None:
        if self.docs["type"][row] != "p":
            return None
        code = self.docs["status"][row]
        if code != "-":
            return STATUS_NAME[code]
        exp = self.docs["expires"][row]
        return "expired" if 0 <= exp < today_days else "effective"

    def doc(self, row: int) -> dict:
        name = self.manifest["dir"] + f"{row}.json"
        self.fetched.add(name)
        return doc_dict(json.loads((self.root / name).read_text(encoding="utf-8")))

    def ranked(self, question: str, *, top: int = 10, type: str | None = None, region: str | None = None,
               include_expired: bool = False, today: dt.date | None = None) -> list[tuple[int, int]]:
        """[(row, integer score)] best first."""
        q = sa.analyse_query(question, self.res, (self.docs.get("alias_order", []), self.docs.get("aliases", {})))
        terms = sa.final_terms(q)
        for t, _ in terms:
            self.postings(t)
        if any(sa.is_cjk(p) and len(p) > 1 and any(self.postings(p[i:i + 2]) is None for i in range(len(p) - 1))
               for p in q.pieces):
            self._load_readings()
            for fix in sa.homophone_fixes(q, lambda t: self.postings(t) is not None, self.res):
                for t in sa.text_terms(fix, self.res):
                    q.add(t, sa.WORD)
            terms = sa.final_terms(q)
        base: dict[int, int] = {}
        for t, w in terms:
            hit = self.postings(t)
            if hit is None:
                continue
            idf, plist = hit
            for row, imp in plist:
                base[row] = base.get(row, 0) + w * idf * imp
        today_days = ((today or dt.date.today()) - EPOCH).days
        types = self.docs["type"]
        want_type = {"policy": "p", "faq": "f", "issue": "i"}.get(type or "", None)
        company = None
        if region:
            company = regions.resolve(region, self.docs["regions"], self.docs.get("aliases"))
        if q.zones:
            zone_set = set(q.zones)
            rg = self.docs["region"]
            for r in base:
                ix = rg[r]
                if ix >= 0 and not regions.applies_to(self.docs["regions"][ix], zone_set):
                    base[r] = base[r] * ZONE_NUM // ZONE_DEN

        def passes(row: int) -> bool:
            if want_type and types[row] != want_type:
                return False
            if not include_expired and self.status(row, today_days) in ("expired", "repealed", "draft"):
                return False
            if company is not None:
                ix = self.docs["region"][row]
                if ix >= 0 and not regions.applies_to(self.docs["regions"][ix], company):
                    return False
            return True
        cand = {r: s for r, s in base.items() if passes(r)}
        final = {}
        for r, s in cand.items():
            best = max((cand.get(x, 0) for x in self.links.get(r, ())), default=0)
            final[r] = s + (LINK_NUM * best) // LINK_DEN
        # An expired policy ranks just below its successor (scores before this step, so the
        # result does not depend on the order records are visited).
        before = dict(final)
        for r in final:
            if self.status(r, today_days) in ("expired", "repealed"):
                best = max((before.get(x, 0) for x in self.succ.get(r, ())), default=0)
                if best > 0 and final[r] >= best:
                    final[r] = best - 1
        return sorted(final.items(), key=lambda kv: (-kv[1], kv[0]))[:top]

    def search(self, question: str, **kw) -> list[dict]:
        today = kw.get("today") or dt.date.today()
        out = []
        for row, score in self.ranked(question, **kw):
            d = self.doc(row)
            out.append({"id": d["id"], "type": d["type"], "title": d["title"], "url": d["url"],
                        "status": self.status(row, (today - EPOCH).days), "score": round(score / 510000, 4),
                        "snippet": d["text"][:110]})
        return out
