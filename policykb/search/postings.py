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
from collections import Counter
from itertools import repeat
from pathlib import Path

import numpy as np

K1 = 0.9  # lower than the usual 1.2: repeated words in long notices say little
VOCAB = "vocab.marshal"
SAVE_SLICE = 1 << 21  # postings written per step


def term_ids(vocab: dict[str, int], terms: list[str]) -> list[int]:
    """Ids of terms, new terms numbered on (the common case, all known, in one C-level pass)."""
    get = vocab.get
    ids = [get(t) for t in terms]
    if None in ids:
        put = vocab.setdefault
        ids = [put(t, len(vocab)) for t in terms]
    return ids


class ArrayWriter:
    def __init__(self, fields):
        self.vocab: dict[str, int] = {}
        self.fields = tuple(fields)
        self.rows = {f: array("i") for f in self.fields}
        self.tids = {f: array("i") for f in self.fields}
        self.tfs = {f: array("f") for f in self.fields}
        self.lengths = {f: array("i") for f in self.fields}

    def add(self, field: str, terms, length: int | None = None) -> None:
        """The next row of `field`: a list of terms, or {term: (pseudo) frequency} with its length.

        Rows are numbered in the order they are added.
        """
        counts = terms if isinstance(terms, dict) else Counter(terms)
        row = len(self.lengths[field])
        self.lengths[field].append(len(terms) if length is None else length)
        vocab = self.vocab
        rows, tids, tfs = self.rows[field], self.tids[field], self.tfs[field]
        for t, n in counts.items():
            tid = vocab.get(t)
            if tid is None:
                tid = vocab[t] = len(vocab)
            rows.append(row)
            tids.append(tid)
            tfs.append(n)

    def add_counted(self, field: str, length: int, terms: list[str], counts: list[int]) -> None:
        """The next row of `field` from distinct terms and their counts (fast path of add)."""
        row = len(self.lengths[field])
        self.lengths[field].append(length)
        self.tids[field].extend(term_ids(self.vocab, terms))
        self.tfs[field].extend(counts)
        self.rows[field].extend(repeat(row, len(terms)))

    def set_rows(self, field: str, rows, tids, tfs, lengths) -> None:
        """All postings of `field` at once, as arrays (term ids from self.vocab)."""
        self.rows[field], self.tids[field], self.tfs[field], self.lengths[field] = rows, tids, tfs, lengths

    def save(self, dest: Path, b: dict[str, float], extra: dict[str, np.ndarray]) -> None:
        """Write each field term-major, a slice at a time straight into the files, letting go of
        the field's build arrays as soon as it is written (the build's memory peak is here)."""
        dest = Path(dest)
        nv = len(self.vocab)
        for f in self.fields:
            rows = np.asarray(np.frombuffer(self.rows[f], dtype=np.int32))
            tids = np.asarray(np.frombuffer(self.tids[f], dtype=np.int32))
            tfs = np.asarray(np.frombuffer(self.tfs[f], dtype=np.float32))
            lens = np.frombuffer(self.lengths[f], dtype=np.int32).astype(np.float32)
            avg = float(lens.mean()) if len(lens) and lens.mean() > 0 else 1.0
            indptr = np.zeros(nv + 1, dtype=np.int64)
            np.cumsum(np.bincount(tids, minlength=nv), out=indptr[1:])
            order = np.argsort(tids, kind="stable")
            del tids
            self.tids[f] = None
            n = len(rows)
            out_rows = np.lib.format.open_memmap(dest / f"{f}.rows.npy", mode="w+", dtype=np.int32, shape=(n,))
            out_w = np.lib.format.open_memmap(dest / f"{f}.w.npy", mode="w+", dtype=np.float32, shape=(n,))
            for lo in range(0, n, SAVE_SLICE):
                idx = order[lo:lo + SAVE_SLICE]
                r, t = rows[idx], tfs[idx]
                out_rows[lo:lo + len(idx)] = r
                out_w[lo:lo + len(idx)] = t * (K1 + 1) / (t + K1 * (1 - b[f] + b[f] * lens[r] / avg))
            out_rows.flush()
            out_w.flush()
            del out_rows, out_w, order, rows, tfs
            self.rows[f] = self.tfs[f] = None
            np.save(dest / f"{f}.ptr.npy", indptr)
            np.save(dest / f"{f}.n.npy", np.array([len(lens)], dtype=np.int64))
        for name, arr in extra.items():
            np.save(dest / f"{name}.npy", arr)
        with open(dest / VOCAB, "wb") as fh:
            marshal.dump(self.vocab, fh)


class Postings:
    def __init__(self, path: Path, fields):
        self.path = Path(path)
        with open(self.path / VOCAB, "rb") as fh:
            self.vocab: dict[str, int] = marshal.load(fh)
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
