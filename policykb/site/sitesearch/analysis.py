"""Query and document analysis of the static site search, written so that JavaScript can do
exactly the same (policykb/site/assets/search.js mirrors every function here).

No segmenter: text is normalised character by character (full-width -> half-width,
Traditional -> Simplified with a character table exported from OpenCC, lower case), cut into
pieces at punctuation, at the project's multi-character stopwords and at a few particles, and
each piece yields its character bigrams (a one-character piece yields itself) or, for Latin
letters and digits, the whole token. Questions then get the editors' typo fixes and synonym
groups (search/typos.txt, search/synonyms.txt via policykb.search.analysis); homophone slips
of domain terms are fixed in a second step, only where the typed bigram occurs nowhere in the
corpus (query.py / search.js).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from policykb.search import analysis as shared

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TOKEN = re.compile(f"[{CJK}]+|[0-9a-z]+")
A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")
# Particles that end a piece wherever they stand (single-character stopwords such as 还, 就, 有
# are parts of content words too: 返还, 就业, 有限, so they stay inside pieces).
BREAK_CHARS = "的了吗呢吧啊呀哦嘛么"
WORD, SYNONYM = 2, 1  # integer query weights: a word the company typed, a synonym group's other words
MAX_QUERY_TERMS = 60
HOMOPHONE_MAX = 6


@dataclass(frozen=True)
class Resources:
    """What the browser downloads once (res.*.json): the same data, the same meaning."""
    t2s: dict[str, str]
    stop: frozenset[str]  # multi-character stopwords (single ones only matter as one-char pieces)
    stop1: frozenset[str]
    synonyms: list[list[str]]
    typos: list[tuple[str, str]]
    terms: list[str]  # domain terms for homophone fixes
    readings: dict[str, list[int]]  # character -> reading ids (only readings of domain-term characters)

    def as_json(self) -> dict:
        return {"t2s": "".join(k + v for k, v in sorted(self.t2s.items())), "stop": sorted(self.stop),
                "stop1": "".join(sorted(self.stop1)), "breaks": BREAK_CHARS, "synonyms": self.synonyms,
                "typos": [list(p) for p in self.typos], "terms": self.terms}

    def readings_json(self) -> list[str]:
        """Fetched only when a question may hold a homophone slip."""
        return _pack_readings(self.readings)


def _pack_readings(readings: dict[str, list[int]]) -> list[str]:
    """Reading id -> the characters having it, as one string per reading."""
    out: dict[int, list[str]] = {}
    for ch, ids in sorted(readings.items()):
        for i in ids:
            out.setdefault(i, []).append(ch)
    return ["".join(out.get(i, [])) for i in range(max(out) + 1 if out else 0)]


@lru_cache(maxsize=1)
def t2s_table() -> dict[str, str]:
    """Every CJK character OpenCC's t2s turns into one other character."""
    cc = shared._t2s()
    out = {}
    for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)):
        chars = "".join(chr(c) for c in range(lo, hi + 1))
        conv = cc.convert(chars)
        if len(conv) == len(chars):
            out.update((a, b) for a, b in zip(chars, conv) if a != b)
        else:  # a multi-character mapping somewhere: fall back to one by one
            for a in chars:
                b = cc.convert(a)
                if len(b) == 1 and b != a:
                    out[a] = b
    return out


@lru_cache(maxsize=1)
def resources() -> Resources:
    stops = shared.stopwords()
    syn = [list(dict.fromkeys(g)) for g in shared.synonym_groups()]
    terms = sorted({w for w, _, _ in shared.user_words()} | {w for g in syn for w in g})
    terms = [t for t in terms if 2 <= len(t) <= HOMOPHONE_MAX and re.fullmatch(f"[{CJK}]+", t)]
    table = shared._readings()
    names: dict[str, int] = {}
    for t in terms:
        for c in t:
            for r in table.get(c, ()):
                names.setdefault(r, len(names))
    readings = {}
    for ch, rs in table.items():
        ids = sorted(names[r] for r in rs if r in names)
        if ids and _common(ch):
            readings[ch] = ids
    terms = [t for t in terms if all(c in readings for c in t)]
    return Resources(t2s=t2s_table(), stop=frozenset(w for w in stops if len(w) > 1),
                     stop1=frozenset(w for w in stops if len(w) == 1), synonyms=syn,
                     typos=list(shared.typo_fixes()), terms=terms, readings=readings)


def _common(ch: str) -> bool:
    """GB2312's 6,763 characters: what a pinyin input method offers first."""
    try:
        b = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(b) == 2 and 0xB0 <= b[0] <= 0xF7


_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


def normalise(text: str, res: Resources) -> str:
    """Character-by-character normalisation (the browser's): same length in, same length out."""
    t2s = res.t2s
    return "".join(t2s.get(c, c) for c in (text or "").translate(_FULLWIDTH)).lower()


@lru_cache(maxsize=8)
def _breaker(stop: frozenset[str]) -> re.Pattern:
    """Multi-character stopwords (longest first: at each position the longest one wins, as in
    the scanning loop of search.js) and the particles, as one pattern."""
    words = sorted(stop, key=lambda w: (-len(w), w))
    return re.compile("|".join([*map(re.escape, words), f"[{BREAK_CHARS}]"]))


def pieces(norm: str, res: Resources) -> list[str]:
    """Normalised text -> pieces that terms never cross (the browser scans; same result)."""
    out: list[str] = []
    breaker = _breaker(res.stop)
    for tok in TOKEN.findall(A_NOT_A.sub(" ", norm)):
        if tok[0] < "\u3400":
            out.append(tok)
        else:
            out.extend(p for p in breaker.split(tok) if p)
    return out


def pieces_scan(norm: str, res: Resources) -> list[str]:
    """pieces() written as search.js does it (kept to check the two agree)."""
    out: list[str] = []
    longest = max((len(w) for w in res.stop), default=0)
    for tok in TOKEN.findall(A_NOT_A.sub(" ", norm)):
        if not ("\u3400" <= tok[0]):
            out.append(tok)
            continue
        cur, i, n = [], 0, len(tok)
        while i < n:
            hit = 0
            for size in range(min(longest, n - i), 1, -1):
                if tok[i:i + size] in res.stop:
                    hit = size
                    break
            if hit or tok[i] in BREAK_CHARS:
                if cur:
                    out.append("".join(cur))
                cur = []
                i += hit or 1
                continue
            cur.append(tok[i])
            i += 1
        if cur:
            out.append("".join(cur))
    return out


def is_cjk(piece: str) -> bool:
    return piece[:1] >= "\u3400"


def piece_terms(piece: str, res: Resources) -> list[str]:
    if not ("\u3400" <= piece[0]):
        return [piece] if (len(piece) > 1 or piece.isdigit()) and piece not in res.stop else []
    if len(piece) == 1:
        return [] if piece in res.stop1 else [piece]
    return [piece[i:i + 2] for i in range(len(piece) - 1)]


def text_terms(norm: str, res: Resources) -> list[str]:
    return [t for p in pieces(norm, res) for t in piece_terms(p, res)]


def document_terms(text: str, res: Resources) -> list[str]:
    """Terms of a document field (OpenCC's full normalisation, then the same cutting): the same
    terms as text_terms(shared.normalize(text)), in another order, found by a few regular
    expressions over the whole text (the index writer's hot path; a test holds the two together)."""
    breaker, bigram, single, latin = _doc_patterns(res.stop)
    s = breaker.sub(" ", A_NOT_A.sub(" ", _doc_normalise(text)))
    out = bigram.findall(s)
    stop1, stop = res.stop1, res.stop
    out += [c for c in single.findall(s) if c not in stop1]
    out += [t for t in latin.findall(s) if (len(t) > 1 or t.isdigit()) and t not in stop]
    return out


_WIDE_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def _doc_normalise(text: str) -> str:
    """shared.normalize as far as terms can tell: full-width punctuation (in almost every Chinese
    text) separates terms as its half-width form does, so only full-width letters and digits
    (rare) need the translation, which is slow on long texts."""
    if not text:
        return ""
    if _WIDE_ALNUM.search(text):
        text = text.translate(_FULLWIDTH)
    return shared._t2s().convert(text).lower()


@lru_cache(maxsize=8)
def _doc_patterns(stop: frozenset[str]) -> tuple[re.Pattern, ...]:
    """What document_terms needs. Stopwords and particles become one alternation of branches
    that each start with a literal character (so the regular expression engine skips quickly to
    where one may start), grouped by that character, longest first: at each position still the
    longest match, as in pieces(). Only stopwords made of CJK characters can ever cut a piece, so
    only they are kept: replacing them by a space over the whole text then cuts exactly where
    pieces() cuts inside a token."""
    groups: dict[str, list[str]] = {c: [] for c in BREAK_CHARS}
    for w in stop:
        if re.fullmatch(f"[{CJK}]+", w):
            groups.setdefault(w[0], []).append(w[1:])
    alts = []
    for c, rest in sorted(groups.items()):
        tail = "|".join(map(re.escape, sorted(rest, key=lambda w: (-len(w), w))))
        if c in BREAK_CHARS:  # the particle alone, or a longer stopword starting with it
            alts.append(re.escape(c) + (f"(?:{tail})?" if tail else ""))
        else:
            alts.append(re.escape(c) + f"(?:{tail})")
    return (re.compile("|".join(alts)), re.compile(f"(?=([{CJK}]{{2}}))"),
            re.compile(f"(?<![{CJK}])[{CJK}](?![{CJK}])"), re.compile("[0-9a-z]+"))


@dataclass
class Query:
    normalized: str
    pieces: list[str]
    terms: dict[str, int]  # term -> integer weight, in order
    zones: list[str] = field(default_factory=list)  # region paths the question names

    def add(self, term: str, weight: int) -> None:
        if self.terms.get(term, 0) < weight:
            self.terms[term] = weight


def fix_typos(norm: str, res: Resources) -> str:
    for wrong, right in res.typos:
        norm = norm.replace(wrong, right)
    return norm


def zone_pattern(names: list[str]) -> re.Pattern | None:
    """Region names, longest first (the order index.py writes them in, which search.js uses too)."""
    return re.compile("|".join(map(re.escape, names))) if names else None


def zones_in(norm: str, names: list[str], table: dict[str, list[str]]) -> tuple[list[str], str]:
    """(region paths the question names, the question with those names cut out), as the
    matcher does (policykb.search.matcher.zones_in): the zone's words then don't also score."""
    pat = zone_pattern(names)
    if pat is None:
        return [], norm
    paths: list[str] = []
    out, pos = [], 0
    for m in pat.finditer(norm):
        for p in table[m.group(0)]:
            if p not in paths:
                paths.append(p)
        out.append(norm[pos:m.start()] + "，")
        pos = m.end()
    out.append(norm[pos:])
    return sorted(paths), "".join(out)


def analyse_query(question: str, res: Resources, zones: tuple[list[str], dict] | None = None) -> Query:
    """`zones`: (names, table) of the index; a question naming a zone gets q.zones set and the
    names taken out (unless nothing else is left)."""
    norm0 = normalise(question, res)
    found: list[str] = []
    if zones:
        found, rest = zones_in(norm0, *zones)
        if found and not text_terms(fix_typos(rest, res), res):
            found, rest = [], norm0  # the question is only a zone's name: search for it
        norm0 = rest
    norm = fix_typos(norm0, res)
    ps = pieces(norm, res)
    q = Query(norm, ps, {}, found)
    for p in ps:
        for t in piece_terms(p, res):
            q.add(t, WORD)
    content = "|".join(ps)
    done: set[str] = set()
    for group in res.synonyms:
        present = [w for w in group if w in content]
        if not present:
            continue
        for alt in group:
            if alt in present or alt in done:
                continue
            done.add(alt)
            for t in text_terms(alt, res):
                q.add(t, SYNONYM)
    return q


def homophone_fixes(q: Query, known, res: Resources) -> list[str]:
    """Domain terms the question probably meant: a stretch of a piece holding a bigram found
    nowhere in the corpus (`known(term)` is False), sounding like a domain term of the same
    length and differing from it in exactly one character."""
    fixes: list[str] = []
    by_len: dict[int, list[str]] = {}
    for t in res.terms:
        by_len.setdefault(len(t), []).append(t)
    rd = res.readings
    for p in q.pieces:
        if not ("\u3400" <= p[0]) or len(p) < 2:
            continue
        unknown = [not known(p[i:i + 2]) for i in range(len(p) - 1)]
        if not any(unknown):
            continue
        for n in range(2, min(HOMOPHONE_MAX, len(p)) + 1):
            for i in range(len(p) - n + 1):
                if not any(unknown[i:i + n - 1]):
                    continue
                w = p[i:i + n]
                for term in by_len.get(n, ()):
                    diff = [k for k in range(n) if w[k] != term[k]]
                    if len(diff) == 1 and set(rd.get(w[diff[0]], ())) & set(rd.get(term[diff[0]], ())):
                        if term not in fixes:
                            fixes.append(term)
    return fixes


def final_terms(q: Query) -> list[tuple[str, int]]:
    """The query's terms, heaviest first (stable), capped."""
    items = list(q.terms.items())
    items.sort(key=lambda kv: -kv[1])
    return items[:MAX_QUERY_TERMS]


def fnv1a(term: str) -> int:
    h = 0x811C9DC5
    for b in term.encode("utf-8"):
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h
