"""Analysed records cached by content hash, so a rebuild re-analyses only what changed.

One SQLite file per analysis version (analysis.resources_hash(): code + editable search files)
in the policykb cache, outside any content tree: key = sha256 of the record's analysed text
(title, aliases, summary, tags, body, FAQ wording), value = the analysed record (marshal, zlib).
Any process may read; writes are batched in transactions. A damaged or locked cache only costs
time: the record is analysed again.
"""
from __future__ import annotations

import hashlib
import marshal
import sqlite3
import zlib
from pathlib import Path

from policykb.paths import cache_dir
from policykb.search import analysis

FORMAT = "2"  # bump when whoosh_store._analyse changes what it returns


def doc_hash(doc) -> str:
    """What the analysis of an IndexDoc depends on (not its id, links, region or dates)."""
    h = hashlib.sha256()
    for part in (doc.title, "\x1f".join(doc.alt), doc.summary, "\x1f".join(doc.tags), doc.body,
                 "\x1f".join(doc.asked)):
        h.update((part or "").encode("utf-8") + b"\x1e")
    return h.hexdigest()[:32]


class AnalysisCache:
    def __init__(self, path: Path | None = None):
        path = Path(path) if path else cache_dir() / "analysis" / f"records-{FORMAT}-{analysis.resources_hash()}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.hits = self.misses = 0
        try:
            self.db = sqlite3.connect(str(path), timeout=30)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS rec (h TEXT PRIMARY KEY, v BLOB)")
        except sqlite3.Error:
            self.db = None

    def get_many(self, hashes: list[str]) -> dict[str, dict]:
        out: dict[str, dict] = {}
        if self.db is None or not hashes:
            return out
        try:
            for i in range(0, len(hashes), 500):
                part = hashes[i:i + 500]
                q = f"SELECT h, v FROM rec WHERE h IN ({','.join('?' * len(part))})"
                for h, v in self.db.execute(q, part):
                    try:
                        out[h] = marshal.loads(zlib.decompress(v))
                    except (ValueError, EOFError, zlib.error):
                        pass
        except sqlite3.Error:
            return out
        return out

    def put_many(self, items: dict[str, dict]) -> None:
        if self.db is None or not items:
            return
        try:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO rec VALUES (?, ?)",
                                    [(h, zlib.compress(marshal.dumps(a), 1)) for h, a in items.items()])
        except sqlite3.Error:
            pass

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
