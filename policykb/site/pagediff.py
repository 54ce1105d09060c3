"""Which pages of the public site a content change touches.

Both sides are rendered with the site's own page generator and its public view (no MkDocs run, so this takes a
fraction of a build) for the same day, and the generated Markdown pages are compared: a page
listed here is one whose text differs, not a guess from the record's id.
"""
from __future__ import annotations

import datetime as dt
import html
import tempfile
from pathlib import Path

import yaml

from policykb.content.loader import Content
from policykb.site.build import CONFIG_FILE, figures_of, read_config
from policykb.site.generate import SiteInput, generate_docs
from policykb.site.gitdates import GitInfo

_SKIP = ("assets/",)


def _render(full: Content, today: dt.date, work: Path, name: str) -> dict[str, str]:
    figures = figures_of(full.issues, full.taxonomy, today, "public")
    content = full.public()
    config = read_config(CONFIG_FILE) if CONFIG_FILE.is_file() else {}
    inp = SiteInput(content=content, profile="public", today=today,
                    site_name=config.get("site_name", "惠企政策"), git=GitInfo(), figures=figures, build_date=today)
    docs = work / name
    generate_docs(inp, docs)
    out = {}
    for path in sorted(docs.rglob("*.md")):
        rel = path.relative_to(docs).as_posix()
        if not rel.startswith(_SKIP):
            out[rel] = path.read_text(encoding="utf-8")
    return out


def _title(text: str) -> str:
    if text.startswith("---\n"):
        try:
            meta = yaml.safe_load(text[4:text.index("\n---", 4)]) or {}
            return html.unescape(str(meta.get("title") or ""))  # page titles are stored HTML-escaped
        except (ValueError, yaml.YAMLError):
            return ""
    return ""


def changed_pages(old: Content, new: Content, today: dt.date) -> list[dict]:
    """[{page: "policies/x.html", title, change: added|removed|changed}] on the public site.

    `old`/`new` are whole loads (problem records included: the figures page counts them);
    the pages are rendered from their public views."""
    with tempfile.TemporaryDirectory(prefix="policykb-pagediff-") as tmp:
        a = _render(old, today, Path(tmp), "old")
        b = _render(new, today, Path(tmp), "new")
    out = []
    for rel in sorted(set(a) | set(b)):
        if a.get(rel) == b.get(rel):
            continue
        change = "added" if rel not in a else "removed" if rel not in b else "changed"
        out.append({"page": rel[:-3] + ".html", "title": _title(b.get(rel) or a.get(rel) or ""), "change": change})
    return out
