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


def bench_site(content_root, *, profile: str = "public", questions: list[str] | None = None) -> dict:
    """Build the site for `content_root` into a temporary folder and report what it cost.

    Keys: site_build_seconds (whole build), mkdocs_seconds (the MkDocs part), pages, policies,
    search_index_bytes, search_index_gzip, search_index_seconds, search_build_share (index time
    over the rest of the build), first_search_gzip_median (cold cache: manifest, resources,
    filter data, the question's shards, the results shown), query_ms_median (Python reference,
    shards loaded), page_load_gzip (home page with its theme assets).
    Raises ContentInvalid for invalid content.
    """
    from policykb.site.sitesearch.evaluate import first_search_bytes
    from policykb.site.sitesearch.query import SiteIndex
    with tempfile.TemporaryDirectory(prefix="policykb-bench-") as tmp:
        result = build_site(content_root, Path(tmp) / "site", profile=profile)
        site = result.out
        rest = result.seconds - result.search_index_seconds
        qs = questions or sample_questions(content_root)
        fetched = [first_search_bytes(site, q) for q in qs]
        ix = SiteIndex(site)
        for q in qs:
            ix.ranked(q)  # shards loaded, as in a browser after the first search
        lat = []
        for q in qs:
            t = time.perf_counter()
            ix.ranked(q)
            lat.append((time.perf_counter() - t) * 1000)
        return {"site_build_seconds": round(result.seconds, 3), "mkdocs_seconds": round(result.mkdocs_seconds, 3),
                "pages": result.pages, "policies": result.policies,
                "search_index_bytes": result.search_index_bytes,
                "search_index_gzip": sum(_gz(p) for p in (site / "search").rglob("*") if p.is_file()),
                "search_index_seconds": round(result.search_index_seconds, 3),
                "search_build_share": round(result.search_index_seconds / rest, 3) if rest > 0 else None,
                "search_records": ix.manifest["n"],
                "first_search_gzip_median": int(statistics.median(fetched)) if fetched else 0,
                "query_ms_median": round(statistics.median(lat), 2) if lat else 0.0,
                "page_load_gzip": page_load_gzip(site)}
