"""`policykb eval --engine site`: the static site search (its Python reference) on a question
set, beside the matcher in the same run, plus what a cold first search downloads."""
from __future__ import annotations

import datetime as dt
import gzip
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from policykb.site.sitesearch.index import write_index
from policykb.site.sitesearch.query import SiteIndex


def build_index_only(content_root, dest: Path, *, internal: bool = False) -> dict:
    """Only the search files of a site (no pages): enough for the reference to answer."""
    from policykb.content.loader import load_content
    content = load_content(Path(content_root), include_issues=internal)
    return write_index(content, dest, internal=internal)


def _gzip_size(root: Path, names) -> int:
    return sum(len(gzip.compress((root / n).read_bytes(), 6)) for n in names)


def first_search_bytes(site: Path, question: str, *, top: int = 10) -> int:
    """gzip bytes a browser with an empty cache fetches for its first search (manifest, resources,
    filter data, the question's shards, the shown results)."""
    ix = SiteIndex(site)
    ix.search(question, top=top)
    m = ix.manifest
    return _gzip_size(ix.root, {"manifest.json", m["res"], m["docs"], *ix.fetched})


def evaluate_site(content_root, questions, *, site: Path | None = None, matcher: bool = True,
                  today: dt.date | None = None) -> dict:
    from policykb.search import eval as ev
    with tempfile.TemporaryDirectory(prefix="policykb-site-eval-") as tmp:
        started = time.perf_counter()
        if site is None:
            site = Path(tmp)
            build_index_only(content_root, site)
        build_seconds = time.perf_counter() - started
        ix = SiteIndex(site)
        groups: dict[str, ev.Scores] = defaultdict(ev.Scores)
        times = []
        for q in questions:
            t0 = time.perf_counter()
            ranked = [r for r, _ in ix.ranked(q.q, top=10, today=today)]
            times.append(time.perf_counter() - t0)
            ids = [ix.doc(r)["id"] for r in ranked]
            keys = ["all", f"half:{'odd' if q.line % 2 else 'even'}"] + ([f"style:{q.style}"] if q.style else [])
            for k in keys:
                groups[k].add(q, ids, bool(ids))
        sample = [q.q for q in questions][:: max(1, len(questions) // 60)]
        fetched = [first_search_bytes(site, s) for s in sample]
        report = {"questions": len(questions), "documents": ix.manifest["n"],
                  "index_seconds": round(build_seconds, 2),
                  "query_ms_median": round(1000 * statistics.median(times), 2) if times else 0,
                  "first_search_gzip_median": int(statistics.median(fetched)) if fetched else 0,
                  "groups": {k: {"site": s.as_dict()} for k, s in groups.items()},
                  "misses": [(q.q, q.expect, top) for q, top in groups["all"].misses]}
    if matcher:
        m = ev.evaluate(content_root, questions)
        for k, g in m["groups"].items():
            report["groups"].setdefault(k, {})["matcher"] = g["matcher"]
    return report


def report_lines(report: dict, qfile) -> list[str]:
    """The `policykb eval --engine site` table (Chinese, like the matcher's)."""
    lines = [f"问题集：{qfile}（{report['questions']} 个问题），网站搜索索引 {report['documents']} 条记录"
             f"（建索引 {report['index_seconds']} 秒）；参照实现查询中位数 {report['query_ms_median']} ms，"
             f"冷缓存首次搜索下载中位数 {report['first_search_gzip_median'] / 1024:.0f} KB（gzip）",
             f"{'分组':<16}{'题数':>5}  {'网站搜索 R@1':>10}{'R@5':>7}{'MRR@10':>8}   {'匹配器 R@1':>8}{'R@5':>7}{'MRR@10':>8}"]
    names = {"all": "全部", "half:odd": "奇数行", "half:even": "偶数行"}
    order = sorted(report["groups"], key=lambda k: (k != "all", not k.startswith("half"), k))
    for key in order:
        g = report["groups"][key]
        s, m = g.get("site"), g.get("matcher")
        if not s or not s["questions"]:
            continue
        row = f"{names.get(key, key.replace('style:', '风格 ')):<16}{s['questions']:>5}  " \
              f"{s['recall@1']:>10.3f}{s['recall@5']:>7.3f}{s['mrr@10']:>8.3f}"
        if m and m.get("questions"):
            row += f"   {m['recall@1']:>8.3f}{m['recall@5']:>7.3f}{m['mrr@10']:>8.3f}"
        lines.append(row)
    return lines
