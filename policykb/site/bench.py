"""Site figures for `policykb bench`: build time and search-index size."""
from __future__ import annotations

import tempfile
from pathlib import Path

from policykb.site.build import build_site


def bench_site(content_root, *, profile: str = "public") -> dict:
    """Build the site for `content_root` into a temporary folder and report what it cost.

    Keys: site_build_seconds (whole build), mkdocs_seconds (the MkDocs part),
    pages, policies, search_index_bytes. Raises build.BuildError for invalid content.
    """
    with tempfile.TemporaryDirectory(prefix="policykb-bench-") as tmp:
        result = build_site(content_root, Path(tmp) / "site", profile=profile)
        return {"site_build_seconds": round(result.seconds, 3), "mkdocs_seconds": round(result.mkdocs_seconds, 3),
                "pages": result.pages, "policies": result.policies,
                "search_index_bytes": result.search_index_bytes}
