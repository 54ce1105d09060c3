"""Atom feed of new and changed policies (public fields only), written with ElementTree so every
value is escaped by the serialiser. The feed carries dates (published, updated, deadline), never
countdowns: a reader's "N days left" is computed where it is read."""
from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from urllib.parse import urljoin

from policykb.site.views import PolicyView

FEED_FILE = "feed.xml"
ATOM = "http://www.w3.org/2005/Atom"


def _stamp(d: dt.date) -> str:
    return f"{d.isoformat()}T00:00:00Z"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: _NOT_XML.sub("", v) for k, v in attrs.items()})
    if text is not None:
        el.text = _NOT_XML.sub("", text)
    return el


def atom_feed(views: list[PolicyView], *, site_name: str, site_url: str, today: dt.date, limit: int = 50) -> str:
    """Newest first by change date (Git, else publication). Links are absolute when site_url is
    set, else relative to the feed (which sits at the site root)."""
    dated = sorted((v for v in views if v.changed or v.published),
                   key=lambda v: (v.changed or v.published, v.id), reverse=True)[:limit]
    updated = (dated[0].changed or dated[0].published) if dated else today
    base = site_url.rstrip("/") + "/" if site_url else ""

    def link(rel_path: str) -> str:
        return urljoin(base, rel_path) if base else rel_path

    feed = ET.Element("feed", {"xmlns": ATOM, "xml:lang": "zh-CN"})
    _sub(feed, "title", f"{site_name}：政策更新")
    _sub(feed, "id", "urn:policykb:feed:policies")
    _sub(feed, "updated", _stamp(updated))
    _sub(feed, "link", rel="self", href=link(FEED_FILE))
    _sub(feed, "link", rel="alternate", href=link("policies/index.html"))
    _sub(_sub(feed, "author"), "name", site_name)
    for v in dated:
        entry = _sub(feed, "entry")
        _sub(entry, "title", v.title if v.current else f"【{v.status_label}】{v.title}")
        _sub(entry, "id", f"urn:policykb:policy:{v.id}")
        _sub(entry, "link", rel="alternate", href=link(v.page[:-3] + ".html"))
        _sub(entry, "updated", _stamp(v.changed or v.published))
        if v.published:
            _sub(entry, "published", _stamp(v.published))
        for c in v.categories:
            _sub(entry, "category", term=c)
        deadline = f"申报截止 {v.deadline.isoformat()}" if v.deadline else (v.deadline_text or "")
        summary = "；".join(x for x in (v.doc_number, v.issuer, v.summary, deadline) if x)
        if summary:
            _sub(entry, "summary", summary)
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
