"""Site figures for `policykb bench`: build time, the static search index (size, share of the
build, what a cold first search downloads) and what a page load costs."""
from __future__ import annotations

import gzip
import re
import statistics
import tempfile
import time
from pathlib import Path

from policykb.site.build import build_site

SAMPLE = 40  # questions for the first-search figure


def _gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), 6))


def page_load_gzip(site: Path, page: str = "index.html") -> int:
    """gzip bytes of a page and the styles and scripts it references from the site (theme included)."""
    html_path = site / page
    html = html_path.read_text(encoding="utf-8")
    total = len(gzip.compress(html.encode("utf-8"), 6))
    refs = re.findall(r'<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src)="([^"#?]+)', html)
    for ref in dict.fromkeys(refs):
        f = (html_path.parent / ref).resolve()
        if f.is_file():
            total += _gz(f)
    return total


def sample_questions(content_root, n: int = SAMPLE) -> list[str]:
    """Questions as companies ask them, from the content itself: FAQ questions, else policy titles."""
    from policykb.content.loader import load_content
    c = load_content(Path(content_root), include_issues=False)
    qs = [f.question for f in c.faqs if f.question] or [p.title for p in c.policies if p.title]
    step = max(1, len(qs) // n)
    return qs[::step][:n]


def largest_page(site: Path) -> tuple[str, int]:
    """(name, bytes) of the largest HTML page of a built site (the target: every page ≤ 1 MB)."""
    best = ("", 0)
    for p in site.rglob("*.html"):
        size = p.stat().st_size
        if size > best[1]:
            best = (p.relative_to(site).as_posix(), size)
    return best


def bench_site(content_root, *, profile: str = "public", questions: list[str] | None = None) -> dict:
    """Build the site for `content_root` into a temporary folder and report what it cost.

    Keys: site_build_seconds (whole build), mkdocs_seconds (the MkDocs part), pages, policies,
    largest_page / largest_page_bytes, search_index_bytes, search_index_gzip (every file gzipped
    on its own), search_index_gzip_per_1000 (per 1,000 records), search_index_seconds (writing
    the index, its own time), search_wait_seconds (what it added to the build: it runs beside
    MkDocs), search_build_share / search_added_share (those two over the rest of the build),
    search_index_cpu_seconds / search_cpu_share (the index's CPU time, over the CPU time of the
    rest of the build: what it costs on a busy machine),
    first_search_gzip_median / _max (cold cache: manifest, resources, filter data, the question's
    shards, the results shown; up to SAMPLE questions), query_ms_median / _p95 (Python reference,
    shards loaded), page_load_gzip (home page with its theme assets) and, when `questions` are
    given, ranked: the site search's top 10 ids for each of them (for recall figures).
    Raises ContentInvalid for invalid content.
    """
    from policykb.site.sitesearch.evaluate import first_search_bytes
    from policykb.site.sitesearch.query import SiteIndex
    with tempfile.TemporaryDirectory(prefix="policykb-bench-") as tmp:
        cpu = time.process_time()
        result = build_site(content_root, Path(tmp) / "site", profile=profile)
        rest_cpu = time.process_time() - cpu  # this process only: the pages and MkDocs, not the index
        site = result.out
        rest = result.seconds - result.search_wait_seconds
        qs = questions or sample_questions(content_root)
        sample = qs[::max(1, len(qs) // SAMPLE)][:SAMPLE]
        fetched = [first_search_bytes(site, q) for q in sample]
        ix = SiteIndex(site)
        ranked = [[ix.doc(r)["id"] for r, _ in ix.ranked(q, top=10)] for q in qs]  # shards now loaded
        lat = []
        for q in qs:
            t = time.perf_counter()
            ix.ranked(q)
            lat.append((time.perf_counter() - t) * 1000)
        lat.sort()
        gz = sum(_gz(p) for p in (site / "search").rglob("*") if p.is_file())
        records = ix.manifest["n"]
        page, page_bytes = largest_page(site)
        out = {"site_build_seconds": round(result.seconds, 3), "mkdocs_seconds": round(result.mkdocs_seconds, 3),
               "pages": result.pages, "policies": result.policies, "largest_page": page,
               "largest_page_bytes": page_bytes, "search_index_bytes": result.search_index_bytes,
               "search_index_gzip": gz, "search_index_gzip_per_1000": int(gz * 1000 / records) if records else 0,
               "search_index_seconds": round(result.search_index_seconds, 3),
               "search_wait_seconds": round(result.search_wait_seconds, 3),
               "search_index_cpu_seconds": round(result.search_index_cpu_seconds, 3),
               "search_cpu_share": round(result.search_index_cpu_seconds / rest_cpu, 3) if rest_cpu > 0 else None,
               "search_build_share": round(result.search_index_seconds / rest, 3) if rest > 0 else None,
               "search_added_share": round(result.search_wait_seconds / rest, 3) if rest > 0 else None,
               "search_records": records,
               "first_search_gzip_median": int(statistics.median(fetched)) if fetched else 0,
               "first_search_gzip_max": max(fetched, default=0),
               "query_ms_median": round(statistics.median(lat), 2) if lat else 0.0,
               "query_ms_p95": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 2) if lat else 0.0,
               "page_load_gzip": page_load_gzip(site)}
        if questions:
            out["ranked"] = ranked
        return out
