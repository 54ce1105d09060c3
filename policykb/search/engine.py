"""The engine-neutral search interface: what the matcher needs from a search engine.

An engine builds an index from IndexDoc records into an empty folder, and opens a built
folder as a Searcher: it lists its records (Record: id, type, region, status, dates), ranks
them for an analysed question within the matcher's Filters (an allowed mask and a per-record
prior), and gives the idf of question terms. The domain rules (regions, statuses, confidence)
live in the matcher and policykb/content; the engine only scores. The matcher talks to this
interface only, so Whoosh (policykb/search/whoosh_store.py) can be replaced without touching
the matcher or the CLI.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from policykb.search.analysis import AnalyzedQuery


@dataclass
class Hit:
    id: str
    type: str  # "policy" | "faq" | "issue"
    title: str
    score: float
    snippet: str = ""  # matched words wrapped in <mark>…</mark>
    matched: list[str] = field(default_factory=list)  # the reason: question words found
    region: str | None = None
    status: str | None = None  # policies: effective/expired/repealed/draft on the search day (set by the matcher)
    coverage: float = 1.0  # share of the question's idf-weighted terms found in the record
    # Score in units of "one rare word matched once" (score / the corpus's largest idf), so a
    # confidence threshold carries over between corpora of different sizes.
    strength: float = 0.0
    confident: bool = True  # set by the matcher (matcher.is_confident)
    meta: dict = field(default_factory=dict)  # the record's stored display fields (IndexDoc.meta)
    # Best cosine between the question and the record's chunks (policykb/search/semantic.py), None
    # when the semantic blend is off or not installed.
    similarity: float | None = None

    def as_json(self) -> dict:
        out = {"id": self.id, "type": self.type, "title": self.title, "score": round(self.score, 4),
               "snippet": self.snippet, "matched": self.matched, "confident": self.confident,
               "strength": round(self.strength, 3), "region": self.region, "status": self.status}
        for key in ("deadline", "department", "phone"):
            if self.meta.get(key) is not None:
                out[key] = str(self.meta[key])
        if self.similarity is not None:
            out["similarity"] = round(self.similarity, 4)
        return out


@dataclass
class IndexDoc:
    """One policy, FAQ or issue as the index sees it (engine-neutral)."""
    id: str
    type: str
    title: str  # policy/issue title, FAQ question
    alt: list[str] = field(default_factory=list)  # FAQ aliases, editors' keywords
    summary: str = ""
    tags: list[str] = field(default_factory=list)  # categories, types, support, issuer, doc number
    body: str = ""
    # Hidden, low-weight evidence: how companies ask for this record (the questions and aliases
    # of the FAQs that cite a policy, the wording of resolved problems in the internal index).
    # Searched, never shown.
    asked: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # ids of linked records (FAQ <-> cited policies)
    region: str | None = None
    status: str | None = None  # explicit policy status, if any
    expires: dt.date | None = None
    dated: bool = False  # the record carries any date (published, effective, expires, updated …)
    meta: dict = field(default_factory=dict)  # stored for display (dates, categories, …)


@dataclass
class Record:
    """What a searcher tells the matcher about each indexed record (row order), so the domain
    rules (which region applies, which status is current) live outside the engine."""
    id: str
    type: str
    region: str | None = None
    status: str | None = None
    expires: dt.date | None = None
    dated: bool = False
    links: tuple[str, ...] = ()  # ids of linked records (FAQ <-> the policies it cites)


@dataclass
class Filters:
    """Constraints on one search, computed by the matcher from the domain rules.

    `allowed`: a boolean array over the searcher's records (None: every record); `prior`: a
    per-record multiplier of the score (None: 1), e.g. records of another zone than the one the
    question names rank after those that apply there. `bonus`: a per-record addition to the score
    in Hit.strength units (None: 0), applied before the prior, e.g. the semantic blend; it can
    make a record with no lexical match a candidate."""
    allowed: Any = None
    prior: Any = None
    bonus: Any = None


class Searcher(Protocol):
    def records(self) -> list[Record]: ...

    def search(self, query: AnalyzedQuery, filters: Filters, top: int, describe: bool = True) -> list[Hit]: ...

    def describe(self, query: AnalyzedQuery, hits: list[Hit]) -> None: ...

    def term_idf(self, terms: list[str]) -> list[float]: ...

    def close(self) -> None: ...


class Engine(Protocol):
    name: str

    def build(self, docs: Iterable[IndexDoc], dest: Path) -> dict: ...

    def open(self, path: Path) -> Searcher: ...


def get_engine(name: str = "whoosh") -> Engine:
    if name == "whoosh":
        from policykb.search.whoosh_store import WhooshEngine
        return WhooshEngine()
    raise ValueError(name)
