"""Chinese text analysis shared by the index, the matcher and the baseline.

Documents and questions go through the same steps: full-width -> half-width, Traditional ->
Simplified (OpenCC t2s), lower case, jieba segmentation with the project's user dictionary
(search/userdict.txt), stopwords dropped (search/stopwords.txt). Each text yields two kinds
of terms: jieba words (plus the dictionary sub-words of long words, like jieba's search mode)
and character bigrams marked with BIGRAM. Bigrams never span a stopword or punctuation; they
make matching robust to segmentation differences and one-character typos.

Questions additionally get typo fixes (search/typos.txt) and synonym expansion
(search/synonyms.txt) at a lower weight than the words the company actually used.
The editable data lives in search/ so editors change it without touching code.
"""
from __future__ import annotations

import hashlib
import marshal
import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from policykb.fsio import write_atomic
from policykb.paths import SEARCH_RESOURCES, cache_dir

ANALYSIS_VERSION = "5"  # bump when the code below changes what terms a text yields
BIGRAM = "_"  # prefix of character-bigram terms; keeps them apart from two-character words
HMM = True  # jieba's HMM joins unknown names (静安区); measured slightly better than without
RESOURCE_FILES = ("userdict.txt", "stopwords.txt", "synonyms.txt", "typos.txt")

# Query weights: global knobs, tuned on whole question sets (never per question).
WORD_WEIGHT = 1.0
BIGRAM_WEIGHT = 1.0
SYNONYM_WEIGHT = 0.5
SUBWORD_WEIGHT = 0.5
SYNONYM_PIECE_WEIGHT = 0.5  # jieba's pieces of a compound synonym (设备/更新 of 设备更新), beside the whole  # dictionary sub-words of a longer word (京市 in 北京市)
MAX_QUERY_TERMS = 60
COMPOUNDS = True  # domain compounds are terms wherever their characters run, however jieba cut them

_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CONTENT = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A-not-A questions (给不给, 要不要, 算不算, 有没有): grammar of asking, not content. Removed as a
# pattern, so every verb's form is covered without listing each in stopwords.txt.
_A_NOT_A = re.compile(r"([\u4e00-\u9fff])[不没]\1")


def resources_dir() -> Path:
    return Path(os.environ.get("POLICYKB_SEARCH_DIR") or SEARCH_RESOURCES)


def _lines(name: str) -> list[str]:
    path = resources_dir() / name
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


@lru_cache(maxsize=1)
def resources_hash() -> str:
    """Changes whenever the analysis code or any editable search file changes (keys caches)."""
    h = hashlib.sha256(f"analysis-{ANALYSIS_VERSION}\n".encode())
    for name in RESOURCE_FILES:
        path = resources_dir() / name
        h.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b""))
    return h.hexdigest()[:16]


# --- normalisation -------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _t2s():
    import opencc
    return opencc.OpenCC("t2s")


def normalize(text: str) -> str:
    """Full-width -> half-width, Traditional -> Simplified, lower case."""
    if not text:
        return ""
    return _t2s().convert(text.translate(_FULLWIDTH)).lower()


# --- the segmenter: jieba's dictionary and algorithm in Rust (rjieba), with the user dictionary ---

_TOKENIZER = None
# jieba (Python) cuts a run of letters, digits and punctuation that is no dictionary word at its
# punctuation when HMM is on (2020-02-19 -> 2020 / - / 02 / - / 19); jieba-rs keeps it whole.
_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_HAN_JIEBA = re.compile(r"[\u4e00-\u9fd5]")
_ALNUM = re.compile(r"[a-zA-Z0-9]+")


class _Freq:
    """The dictionary-frequency lookups the analysis needs (`FREQ.get(w)` is truthy for a word of
    the dictionary), answered by the segmenter without a Python copy of the dictionary."""

    def __init__(self, jieba):
        self._has = jieba.has_word

    def get(self, word, default=None):
        return 1 if self._has(word) else default

    def __contains__(self, word) -> bool:
        return self._has(word)


class Segmenter:
    """jieba's default dictionary plus search/userdict.txt, cut by jieba-rs (rjieba): the same
    tokens as jieba (checked on the bundled content and NCP, with and without HMM), loaded ×5 and
    cutting ×15 faster, so a cold `policykb match` and a big build spend little time here."""

    def __init__(self, jieba):
        self._jieba = jieba
        self.FREQ = _Freq(jieba)

    def cut(self, text: str, HMM: bool = True) -> list[str]:  # noqa: N803 (jieba's spelling)
        tokens = self._jieba.cut(text, HMM)
        if not HMM:
            return tokens
        out = []
        for t in tokens:
            if len(t) > 1 and not _HAN_JIEBA.search(t) and not _ALNUM.fullmatch(t):
                out.extend(x for x in _SKIP.split(t) if x)
            else:
                out.append(t)
        return out

    def add_word(self, word: str, freq: int | None = None, tag: str | None = None) -> None:
        self._jieba.add_word(word, freq, tag)


def tokenizer() -> Segmenter:
    """The process-wide segmenter: jieba's default dictionary plus search/userdict.txt.

    The normalised user dictionary is cached (marshal) in the policykb cache, keyed by the
    search resources, so a new process reads it in one step.
    """
    global _TOKENIZER
    if _TOKENIZER is not None:
        return _TOKENIZER
    import rjieba
    cache = cache_dir() / f"jieba-userdict-{resources_hash()}.cache"
    words = None
    if cache.is_file():
        try:
            with open(cache, "rb") as f:
                words = marshal.load(f)
        except Exception:  # a damaged cache is rebuilt below
            words = None
    if not isinstance(words, list):
        words = user_words()
        write_atomic(cache, marshal.dumps(words))
    # The package's own instance (rjieba.cut and friends): building a second one would load the
    # dictionary twice. Only this function adds words to it.
    tk = Segmenter(rjieba._DEFAULT_JIEBA)
    for word, freq, tag in words:
        tk.add_word(word, freq, tag)
    _TOKENIZER = tk
    return tk


def user_words() -> list[tuple[str, int | None, str | None]]:
    """Entries of search/userdict.txt in jieba's format `词 [词频] [词性]`."""
    out = []
    for line in _lines("userdict.txt"):
        parts = line.split()
        word, freq, tag = parts[0], None, None
        for p in parts[1:]:
            if p.isdigit():
                freq = int(p)
            else:
                tag = p
        out.append((normalize(word), freq, tag))
    return out


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return frozenset(normalize(w) for w in _lines("stopwords.txt"))


@lru_cache(maxsize=1)
def synonym_groups() -> list[list[str]]:
    groups = []
    for line in _lines("synonyms.txt"):
        words = [normalize(w) for w in re.split(r"[\s,，=、]+", line) if w.strip()]
        if len(words) > 1:
            groups.append(words)
    return groups


@lru_cache(maxsize=1)
def typo_fixes() -> list[tuple[str, str]]:
    pairs = []
    for line in _lines("typos.txt"):
        parts = line.split()
        if len(parts) == 2:
            pairs.append((normalize(parts[0]), normalize(parts[1])))
    return sorted(pairs, key=lambda p: -len(p[0]))


# --- terms -----------------------------------------------------------------------------------

def is_cjk(word: str) -> bool:
    return bool(_CJK.search(word))


def _is_content(word: str) -> bool:
    return bool(_CONTENT.search(word))


def segments(text: str) -> list[list[str]]:
    """Normalised text -> runs of content words (runs break at stopwords and punctuation)."""
    tk = tokenizer()
    stops = stopwords()
    runs: list[list[str]] = [[]]
    for w in tk.cut(_A_NOT_A.sub("，", text), HMM=HMM):
        w = w.strip()
        if not w or not _is_content(w) or w in stops:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append(w)
    return [r for r in runs if r]


def _subwords(word: str, freq: dict) -> list[str]:
    """Dictionary words inside a long word (jieba's search mode, extended to 4 characters)."""
    out = []
    n = len(word)
    for size in (2, 3, 4):
        if size >= n:
            break
        for i in range(n - size + 1):
            g = word[i:i + size]
            if freq.get(g):
                out.append(g)
    return out


@lru_cache(maxsize=1)
def _compounds():
    """Domain compounds of three or more characters (user dictionary and synonym groups), as one
    pattern: found in a run of text even where jieba, swayed by the neighbours, cut them apart
    (中小微企业 -> 中小微/企业 hides 小微企业; 服务专员 split as 服务/专员)."""
    words = {w for w, _, _ in user_words()} | {w for g in synonym_groups() for w in g}
    words = sorted((w for w in words if len(w) >= 3 and is_cjk(w)), key=lambda w: (-len(w), w))
    return re.compile("(?=(" + "|".join(map(re.escape, words)) + "))") if words else None


def word_terms(runs: list[list[str]]) -> list[str]:
    freq = tokenizer().FREQ
    compounds = _compounds() if COMPOUNDS else None
    out = []
    for run in runs:
        for w in run:
            if len(w) < 2 and not w.isdigit():
                continue  # single characters are covered by bigrams
            if len(w) > 2 and _CJK.search(w):
                out.extend(_subwords(w, freq))
            out.append(w)
        if compounds is not None and len(run) > 1:
            words = set(run)
            out.extend(m for m in dict.fromkeys(compounds.findall("".join(run))) if m not in words)
    return out


def bigram_terms(runs: list[list[str]]) -> list[str]:
    out = []
    for run in runs:
        for piece in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+", "".join(run)):
            out.extend(BIGRAM + piece[i:i + 2] for i in range(len(piece) - 1))
    return out


def index_terms(text: str) -> list[str]:
    """All terms of a document field, in order (words then bigrams)."""
    runs = segments(normalize(text))
    return word_terms(runs) + bigram_terms(runs)


@dataclass(frozen=True)
class QueryTerm:
    term: str  # as indexed (bigrams carry the BIGRAM prefix)
    weight: float
    source: str  # the word the company used, or the synonym it was expanded to (for reasons)
    synonym: bool = False

    @property
    def is_bigram(self) -> bool:
        return self.term.startswith(BIGRAM)


@dataclass
class AnalyzedQuery:
    text: str  # the question as typed
    normalized: str  # after normalisation and typo fixes
    terms: list[QueryTerm]
    words: list[str]  # the content words the company used (for reasons and coverage)
    expansions: dict[str, str]  # synonym -> the word of the question it came from

    @property
    def empty(self) -> bool:
        return not self.terms


def fix_typos(text: str) -> str:
    """Editors' list of slips (search/typos.txt), then homophone slips of known terms."""
    for wrong, right in typo_fixes():
        if wrong in text:
            text = text.replace(wrong, right)
    for wrong, right in homophone_fixes(text):
        text = text.replace(wrong, right)
    return text


# --- homophones: pinyin input-method slips of the domain's own terms (鸡改 -> 技改) ---------

def _readings() -> dict[str, list[str]]:
    """Character -> its toneless pinyin readings (pypinyin's public API, cached as marshal)."""
    global _READINGS
    if _READINGS is not None:
        return _READINGS
    cache = cache_dir() / "pinyin-readings-2.marshal"
    try:
        with open(cache, "rb") as f:
            _READINGS = marshal.load(f)
        return _READINGS
    except (OSError, ValueError, EOFError):
        pass
    from pypinyin import Style, pinyin

    table = {}
    for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)):
        for cp in range(lo, hi + 1):
            c = chr(cp)
            readings = pinyin(c, style=Style.NORMAL, heteronym=True, errors=lambda _: [[]])
            got = sorted({r for r in (readings[0] if readings else []) if r and r != c})
            if got:
                table[c] = got
    write_atomic(cache, marshal.dumps(table))
    _READINGS = table
    return table


_READINGS = None


@lru_cache(maxsize=1)
def homophone_lexicon() -> dict[tuple[int, str], list[str]]:
    """Domain terms (user dictionary and synonym groups) by (length, a reading of the first char)."""
    words = {w for w, _, _ in user_words()} | {w for g in synonym_groups() for w in g}
    readings = _readings()
    out: dict[tuple[int, str], list[str]] = {}
    for w in sorted(words):
        if 2 <= len(w) <= 6 and all(c in readings for c in w):
            for r in readings[w[0]]:
                out.setdefault((len(w), r), []).append(w)
    return out


def homophone_fixes(text: str) -> list[tuple[str, str]]:
    """(slip, term) pairs: a stretch of the question that is not a word, does not cut through
    a word, sounds like a domain term and differs from it in exactly one character."""
    lexicon = homophone_lexicon()
    if not lexicon:
        return []
    readings = _readings()
    tk = tokenizer()
    freq = tk.FREQ
    fixes = []
    for piece in _CJK_RUN.findall(text):
        inside = set()  # offsets that fall strictly inside a word of two or more characters
        pos = 0
        for tok in tk.cut(piece, HMM=False):
            inside.update(range(pos + 1, pos + len(tok)))
            pos += len(tok)
        for n in range(2, min(6, len(piece)) + 1):
            for i in range(len(piece) - n + 1):
                w = piece[i:i + n]
                if freq.get(w) or w[0] not in readings or i in inside or (i + n) in inside:
                    continue
                for r in readings[w[0]]:
                    for term in lexicon.get((n, r), ()):
                        diff = [k for k in range(n) if w[k] != term[k]]
                        if len(diff) == 1 and set(readings.get(w[diff[0]], ())) & set(readings[term[diff[0]]]):
                            fixes.append((w, term))
    return list(dict.fromkeys(fixes))


def analyze_query(question: str, *, expand: bool = True) -> AnalyzedQuery:
    norm = normalize(question)
    if expand:
        norm = fix_typos(norm)
    runs = segments(norm)
    terms: dict[str, QueryTerm] = {}

    def add(term: str, weight: float, source: str, synonym: bool = False):
        old = terms.get(term)
        if old is None or old.weight < weight:
            terms[term] = QueryTerm(term, weight, source, synonym)

    words = list(dict.fromkeys(word_terms(runs)))
    whole = {w for run in runs for w in run}
    if COMPOUNDS and _compounds() is not None:  # a dictionary compound counts as a word the company used
        whole |= {m for run in runs for m in _compounds().findall("".join(run))}
    for w in words:  # dictionary sub-words (京市 in 北京市) count less than the words themselves
        add(w, WORD_WEIGHT if w in whole else WORD_WEIGHT * SUBWORD_WEIGHT, w)
    for b in bigram_terms(runs):
        add(b, WORD_WEIGHT * BIGRAM_WEIGHT, b[len(BIGRAM):])
    expansions: dict[str, str] = {}
    if expand and runs:
        content = "".join("".join(r) for r in runs)
        for group in synonym_groups():
            present = [w for w in group if w in content]
            if not present:
                continue
            for alt in group:
                if alt in present or alt in expansions:
                    continue
                expansions[alt] = present[0]
                alt_runs = segments(alt)
                alt_words = word_terms(alt_runs)
                whole_alt = COMPOUNDS and alt in alt_words  # a dictionary compound: its pieces count less
                for w in alt_words:
                    piece = whole_alt and w != alt
                    add(w, WORD_WEIGHT * SYNONYM_WEIGHT * (SYNONYM_PIECE_WEIGHT if piece else 1.0), alt, True)
                for b in bigram_terms(alt_runs):
                    add(b, WORD_WEIGHT * BIGRAM_WEIGHT * SYNONYM_WEIGHT, alt, True)
    ordered = sorted(terms.values(), key=lambda t: (-t.weight, t.is_bigram))
    return AnalyzedQuery(question, norm, ordered[:MAX_QUERY_TERMS], words, expansions)


_PLAIN = None


def plain_tokens(text: str) -> list[str]:
    """Baseline tokens: jieba's default segmentation and dictionary, nothing else."""
    global _PLAIN
    if _PLAIN is None:
        import rjieba
        _PLAIN = Segmenter(rjieba.Jieba())  # no user dictionary
    return [w for w in _PLAIN.cut(text.lower()) if _is_content(w)]
