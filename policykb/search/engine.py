"""The engine-neutral search interface: what the matcher needs from a search engine.

An engine builds an index from IndexDoc records into an empty folder, and opens a built
folder as a Searcher. The matcher only talks to this interface, so Whoosh
(policykb/search/whoosh_store.py) can be replaced without touching the matcher or the CLI.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Protocol

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
    status: str | None = None  # policies: effective/expired/repealed/draft on the search day
    coverage: float = 1.0  # share of the question's idf-weighted terms found in the record
    # Score in units of "one rare word matched once" (score / the corpus's largest idf), so a
    # confidence threshold carries over between corpora of different sizes.
    strength: float = 0.0
    confident: bool = True  # set by the matcher: strength >= matcher.MIN_STRENGTH

    def as_json(self) -> dict:
        return {"id": self.id, "type": self.type, "title": self.title, "score": round(self.score, 4),
                "snippet": self.snippet, "matched": self.matched}


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
    # of the FAQs that cite a policy). Searched, never shown.
    asked: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # ids of linked records (FAQ <-> cited policies)
    region: str | None = None
    status: str | None = None  # explicit policy status, if any
    expires: dt.date | None = None
    meta: dict = field(default_factory=dict)  # stored for display (dates, categories, …)


@dataclass
class Filters:
    types: tuple[str, ...] | None = None
    region: str | None = None
    include_all: bool = False
    today: dt.date = field(default_factory=dt.date.today)


class Searcher(Protocol):
    def search(self, query: AnalyzedQuery, filters: Filters, top: int) -> list[Hit]: ...

    def explain(self, query: AnalyzedQuery, doc_id: str) -> dict: ...

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
