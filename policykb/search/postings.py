"""Posting lists laid out as arrays, for fast BM25 scoring of long OR-queries.

Whoosh's matchers are pure Python: a 40-term question over tens of thousands of passages
took ~0.2 s per question in our measurements. The same postings, written beside the Whoosh
index in the same build as numpy arrays (term -> rows and precomputed BM25 term weights),
score a question in a few milliseconds. Files are memory-mapped, so opening is cheap.
"""
from __future__ import annotations

import marshal
import math
from array import array
from itertools import repeat
from pathlib import Path

import numpy as np

K1 = 0.9  # lower than the usual 1.2: repeated words in long notices say little
VOCAB = "vocab.marshal"


def term_ids(vocab: dict[str, int], terms: list[str]) -> list[int]:
    """Ids of terms, new terms numbered on (the common case, all known, in one C-level pass)."""
    get = vocab.get
    ids = [get(t) for t in terms]
    if None in ids:
        put = vocab.setdefault
        ids = [put(t, len(vocab)) for t in terms]
    return ids


SPILL_POSTINGS = 1 << 21  # postings held in memory before they are written out as a sorted run
MERGE_POSTINGS = 1 << 20  # postings merged (and weighted) at a time
_COLS = {"rows": np.int32, "tids": np.int32, "tfs": np.float32, "fld": np.int8}


class NpyAppender:
    """A 1-d .npy file written a slice at a time, its length set when closed (the header is a
    fixed 128 bytes for any 1-d length, so it is written last in place)."""

    HEADER = 128

    def __init__(self, path: Path, dtype, pool=None):
        self.path, self.dtype, self.n = Path(path), np.dtype(dtype), 0
        self.fh = open(self.path, "wb")
        self.fh.write(b"\0" * self.HEADER)
        self.pool, self.pending = pool, []  # pool: one writer thread, so writes overlap the merge

    def write(self, arr) -> None:
        a = np.ascontiguousarray(arr, dtype=self.dtype)
        self.n += len(a)
        if self.pool is None:
            self.fh.write(a.data)
            return
        self.pending.append(self.pool.submit(self.fh.write, a.data))
        while len(self.pending) > 2:  # at most two slices of this file in flight
            self.pending.pop(0).result()

    def close(self) -> None:
        import io
        for f in self.pending:
            f.result()
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(self.dtype),
                                                   "fortran_order": False, "shape": (self.n,)})
        assert len(buf.getvalue()) == self.HEADER
        self.fh.seek(0)
        self.fh.write(buf.getvalue())
        self.fh.close()


def bm25_weight(t, lens_r, avg: float, b: float):
    """BM25 term weight of (pseudo) frequencies t in rows of length lens_r (float32 in, float32 out)."""
    return t * (K1 + 1) / (t + bm25_norm(lens_r, avg, b))


def bm25_norm(lens, avg: float, b: float):
    """The length part of bm25_weight, per row (computed once per row, gathered per posting:
    the same float32 operations, so the same weights)."""
    return K1 * (1 - b + b * lens / avg)


def average(lens) -> float:
    lens = np.asarray(lens, dtype=np.float32)
    return float(lens.mean()) if len(lens) and lens.mean() > 0 else 1.0


class RunWriter:
    """Raw postings (row, term id, count[, field]) of rows added in increasing order, written to
    a spill file in runs sorted by term id every SPILL_POSTINGS: the build never holds the
    corpus's postings in memory. `parts(lo, hi)` reads back the postings of a term-id range."""

    def __init__(self, folder: Path, name: str, with_field: bool = False):
        self.cols = ("rows", "tids", "tfs", "fld") if with_field else ("rows", "tids", "tfs")
        self.buf = {c: array("b" if c == "fld" else "f" if c == "tfs" else "i") for c in self.cols}
        self.paths = {c: Path(folder) / f".spill-{name}.{c}" for c in self.cols}
        self.files = {c: open(p, "wb") for c, p in self.paths.items()}
        self.runs: list[tuple[int, int]] = []  # (first posting, postings) of each run
        self.total = 0
        self.counts = np.zeros(0, dtype=np.int64)  # postings per term id
        self.offsets = None

    def add(self, row: int, tids: list[int], tfs: list[int], fld: int | None = None) -> None:
        self.buf["rows"].extend(repeat(row, len(tids)))
        self.buf["tids"].extend(tids)
        self.buf["tfs"].extend(tfs)
        if fld is not None:
            self.buf["fld"].extend(repeat(fld, len(tids)))
        if len(self.buf["rows"]) >= SPILL_POSTINGS:
            self.spill()

    def spill(self) -> None:
        n = len(self.buf["rows"])
        if not n:
            return
        tids = np.frombuffer(self.buf["tids"], dtype=np.int32)
        order = np.argsort(tids, kind="stable")  # rows stay increasing within a term
        counts = np.bincount(tids, minlength=len(self.counts))
        counts[:len(self.counts)] += self.counts
        self.counts = counts
        for c in self.cols:
            self.files[c].write(np.ascontiguousarray(np.frombuffer(self.buf[c], dtype=_COLS[c])[order]).data)
            self.buf[c] = array(self.buf[c].typecode)
        self.runs.append((self.total, n))
        self.total += n

    def close(self, cuts: list[int]) -> None:
        """Finish writing; find where each run crosses the term-id cuts (one read of its tids)."""
        self.spill()
        for fh in self.files.values():
            fh.close()
        self.offsets = []
        with open(self.paths["tids"], "rb") as fh:
            for first, n in self.runs:
                fh.seek(first * 4)
                tids = np.fromfile(fh, dtype=np.int32, count=n)
                self.offsets.append(np.searchsorted(tids, cuts))
        self.cuts = list(cuts)

    def parts(self, k: int) -> list[dict]:
        """Postings of term ids [cuts[k], cuts[k+1]) of every run, in run (= row) order."""
        out = []
        handles = {c: open(p, "rb") for c, p in self.paths.items()}
        try:
            for (first, _), off in zip(self.runs, self.offsets):
                a, b = int(off[k]), int(off[k + 1])
                if a == b:
                    continue
                part = {}
                for c in self.cols:
                    fh = handles[c]
                    fh.seek((first + a) * np.dtype(_COLS[c]).itemsize)
                    part[c] = np.fromfile(fh, dtype=_COLS[c], count=b - a)
                out.append(part)
        finally:
            for fh in handles.values():
                fh.close()
        return out

    def remove(self) -> None:
        for p in self.paths.values():
            p.unlink(missing_ok=True)


def cuts_for(counts, limit: int = MERGE_POSTINGS) -> list[int]:
    """Term-id boundaries splitting postings into ranges of about `limit` (0 ... len(counts))."""
    cum = np.cumsum(counts)
    inner = np.searchsorted(cum, np.arange(limit, int(cum[-1]) if len(cum) else 0, limit), side="right")
    return sorted({0, len(counts), *(int(x) for x in inner if 0 < x < len(counts))})


def merged(parts: list[dict], cols, nrows: int, first_sorted: bool = False) -> dict:
    """Parts of one term-id range as one set of columns ordered by (term id, row), keeping the
    order of equal pairs (a record's fields, in field order). `first_sorted`: the first part is
    in that order already and shares no (term, row) with the others (a patched generation's
    kept postings), so the others are inserted into it instead of sorting the lot."""
    if first_sorted and parts and parts[0] is not None and len(parts[0]["rows"]):
        base, rest = parts[0], merged(parts[1:], cols, nrows)
        if not len(rest["rows"]):
            return base
        key = base["tids"].astype(np.int64) * max(nrows, 1) + base["rows"]
        at = np.searchsorted(key, rest["tids"].astype(np.int64) * max(nrows, 1) + rest["rows"])
        return {c: np.insert(base[c], at, rest[c]) for c in cols}
    parts = [p for p in parts if p is not None and len(p["rows"])]
    if not parts:
        return {c: np.zeros(0, dtype=_COLS[c]) for c in cols}
    cat = {c: np.concatenate([p[c] for p in parts]) for c in cols}
    key = cat["tids"].astype(np.int64) * max(nrows, 1) + cat["rows"]
    order = np.argsort(key, kind="stable")  # runs already sorted: timsort merges them
    return {c: v[order] for c, v in cat.items()}


class RawFieldOut:
    """Writes a field's term-major raw postings (rows, tfs[, fld], ptr): what an incremental
    update patches, and what the scoring weights are computed from."""

    def __init__(self, dest: Path, name: str, cols, pool=None):
        self.dest, self.name, self.cols = Path(dest), name, tuple(c for c in cols if c != "tids")
        self.out = {c: NpyAppender(self.dest / f"{name}.{'tf' if c == 'tfs' else c}.npy", _COLS[c], pool)
                    for c in self.cols}

    def write(self, got: dict) -> None:
        for c in self.cols:
            self.out[c].write(got[c])

    def close(self, counts) -> None:
        for o in self.out.values():
            o.close()
        np.save(self.dest / f"{self.name}.ptr.npy", _ptr(counts))


def _ptr(counts):
    ptr = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return ptr


def write_fields(dest: Path, psg_ranges, doc_ranges, nv: int, psg_lens, b_psg: float, doc_norm, ndocs: int) -> None:
    """Scoring arrays of both fields from their raw postings, one term-id range at a time.

    psg_ranges / doc_ranges yield (lo, hi, columns) in term-id order. psg: the raw postings are
    the passages' own (psg.rows/psg.tf, plus weights psg.w). doc: raw per-field counts (docf.*)
    are weighted by doc_norm[field, row] (BM25F) and summed per (term, record) into doc.rows /
    doc.w (b = 0: lengths are already in the pseudo-frequency). The two fields are written on
    two threads (numpy lets go of the GIL), the files by a third."""
    from concurrent.futures import ThreadPoolExecutor
    dest = Path(dest)
    with ThreadPoolExecutor(1) as io, ThreadPoolExecutor(2) as work:
        jobs = [work.submit(_write_psg, dest, psg_ranges, nv, psg_lens, b_psg, io),
                work.submit(_write_doc, dest, doc_ranges, nv, doc_norm, io)]
        for j in jobs:
            j.result()
    np.save(dest / "doc.n.npy", np.array([ndocs], dtype=np.int64))


def _write_psg(dest: Path, ranges, nv: int, psg_lens, b_psg: float, pool) -> None:
    lens = np.asarray(psg_lens, dtype=np.int32).astype(np.float32)
    psg_norm = bm25_norm(lens, average(lens), b_psg)
    raw_p = RawFieldOut(dest, "psg", ("rows", "tfs"), pool)
    w_p = NpyAppender(dest / "psg.w.npy", np.float32, pool)
    c_p = np.zeros(nv, dtype=np.int64)
    for lo, hi, p in ranges:
        raw_p.write(p)
        c_p[lo:hi] = np.bincount(p["tids"] - lo, minlength=hi - lo)
        t = p["tfs"]
        w_p.write(t * (K1 + 1) / (t + psg_norm[p["rows"]]))
    raw_p.close(c_p)
    w_p.close()
    np.save(dest / "psg.n.npy", np.array([len(lens)], dtype=np.int64))
    np.save(dest / "psg.lens.npy", np.asarray(psg_lens, dtype=np.int32))


def _write_doc(dest: Path, ranges, nv: int, doc_norm, pool) -> None:
    raw_d = RawFieldOut(dest, "docf", ("rows", "tfs", "fld"), pool)
    d_rows, d_w = NpyAppender(dest / "doc.rows.npy", np.int32, pool), NpyAppender(dest / "doc.w.npy", np.float32, pool)
    c_f, c_d = np.zeros(nv, dtype=np.int64), np.zeros(nv, dtype=np.int64)
    for lo, hi, d in ranges:
        raw_d.write(d)
        c_f[lo:hi] = np.bincount(d["tids"] - lo, minlength=hi - lo)
        if len(d["rows"]):
            rows, tids = d["rows"], d["tids"]
            w = d["tfs"].astype(np.float64) * doc_norm[d["fld"], rows]
            first = np.flatnonzero(np.r_[True, (tids[1:] != tids[:-1]) | (rows[1:] != rows[:-1])])
            sums = np.add.reduceat(w, first).astype(np.float32)
            c_d[lo:hi] = np.bincount(tids[first] - lo, minlength=hi - lo)
            d_rows.write(rows[first])
            d_w.write(bm25_weight(sums, np.zeros(len(sums), dtype=np.float32), 1.0, 0.0))
    raw_d.close(c_f)
    d_rows.close()
    d_w.close()
    np.save(dest / "doc.ptr.npy", _ptr(c_d))


class OldFields:
    """A previous generation's raw postings as a merge source: rows renumbered by `maps`
    (old row -> new row, -1 for a row that is gone), read a term-id range at a time."""

    def __init__(self, path: Path, maps: dict):
        self.path, self.f = Path(path), {}
        self.maps = {k: np.asarray(m, dtype=np.int32) for k, m in maps.items()}
        # Kept rows in their old order (the usual case): each term's postings stay sorted.
        self.in_order = all(bool(np.all(np.diff(m[m >= 0]) > 0)) for m in self.maps.values())
        for name, cols in (("psg", ("rows", "tfs")), ("docf", ("rows", "tfs", "fld"))):
            arrs = {}
            for c in cols:  # read with plain reads, not mapped: far fewer page faults
                f = self.path / f"{name}.{'tf' if c == 'tfs' else c}.npy"
                m = np.load(f, mmap_mode="r")
                arrs[c] = (f, m.dtype, m.offset)
                del m
            self.f[name] = (arrs, np.load(self.path / f"{name}.ptr.npy"))

    def counts(self, nv: int):
        out = np.zeros(nv, dtype=np.int64)
        for _, ptr in self.f.values():
            d = np.diff(ptr)
            out[:len(d)] += d
        return out

    def part(self, name: str, lo: int, hi: int) -> dict | None:
        arrs, ptr = self.f[name]
        hi = min(hi, len(ptr) - 1)
        if lo >= hi:
            return None
        a, b = int(ptr[lo]), int(ptr[hi])

        def read(c):
            f, dtype, offset = arrs[c]
            return np.fromfile(f, dtype=dtype, count=b - a, offset=offset + a * dtype.itemsize)
        rows = self.maps[name][read("rows")]
        out = {"rows": rows, "tids": np.repeat(np.arange(lo, hi, dtype=np.int32), np.diff(ptr[lo:hi + 1]))}
        for c in arrs:
            if c != "rows":
                out[c] = read(c)
        keep = rows >= 0
        if not keep.all():
            out = {c: v[keep] for c, v in out.items()}
        return out


def save_vocab(dest: Path, vocab: dict) -> None:
    with open(Path(dest) / VOCAB, "wb") as fh:
        marshal.dump(vocab, fh)


def load_vocab(path: Path) -> dict:
    with open(Path(path) / VOCAB, "rb") as fh:
        return marshal.load(fh)


class Postings:
    def __init__(self, path: Path, fields):
        self.path = Path(path)
        self.vocab: dict[str, int] = load_vocab(self.path)
        self.f = {}
        for f in fields:
            def load(s, f=f):
                return np.load(self.path / f"{f}.{s}.npy", mmap_mode="r")
            self.f[f] = (load("rows"), load("w"), load("ptr"), int(load("n")[0]))

    def extra(self, name: str) -> np.ndarray:
        return np.load(self.path / f"{name}.npy", mmap_mode="r")

    def n(self, field: str) -> int:
        return self.f[field][3]

    def _slices(self, field: str, terms: list[tuple[str, float]]):
        """(rows, weights, idf x query weight) of each query term present in `field`."""
        rows, w, ptr, n = self.f[field]
        for term, qw in terms:
            tid = self.vocab.get(term)
            if tid is None:
                continue
            a, b = int(ptr[tid]), int(ptr[tid + 1])
            if a < b:
                yield rows[a:b], w[a:b], self.idf(field, b - a) * qw

    def idf(self, field: str, df: int) -> float:
        n = self.f[field][3]
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def scores(self, field: str, terms: list[tuple[str, float]]) -> np.ndarray:
        """BM25 scores of every row of `field` for weighted query terms."""
        n = self.f[field][3]
        parts = list(self._slices(field, terms))
        if not parts:
            return np.zeros(n, dtype=np.float64)
        return np.bincount(np.concatenate([r for r, _, _ in parts]),
                           weights=np.concatenate([w * np.float32(k) for _, w, k in parts]), minlength=n)

    def coverage(self, field: str, terms: list[tuple[str, float]]) -> np.ndarray:
        """Per row, the share of the query's idf-weighted terms it contains (0..1)."""
        rows, _, ptr, n = self.f[field]
        total = 0.0
        for term, qw in terms:  # terms absent from the index count too (as the rarest)
            tid = self.vocab.get(term)
            total += self.idf(field, int(ptr[tid + 1] - ptr[tid]) if tid is not None else 0) * qw
        parts = list(self._slices(field, terms))
        if not parts or not total:
            return np.zeros(n, dtype=np.float64)
        return np.bincount(np.concatenate([r for r, _, _ in parts]),
                           weights=np.concatenate([np.full(len(r), k) for r, _, k in parts]), minlength=n) / total
