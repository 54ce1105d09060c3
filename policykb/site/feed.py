"""Atom feed of new and changed policies (public fields only)."""
from __future__ import annotations

import datetime as dt
from xml.sax.saxutils import escape, quoteattr

from policykb.site.views import PolicyView

FEED_FILE = "feed.xml"


def _stamp(d: dt.date) -> str:
    return f"{d.isoformat()}T00:00:00Z"


def atom_feed(views: list[PolicyView], *, site_name: str, site_url: str, today: dt.date, limit: int = 50) -> str:
    """Newest first by change date (Git, else publication). Links are relative to site_url when set."""
    dated = sorted((v for v in views if v.changed or v.published),
                   key=lambda v: (v.changed or v.published, v.id), reverse=True)[:limit]
    updated = dated[0].changed or dated[0].published if dated else today
    base = f" xml:base={quoteattr(site_url)}" if site_url else ""
    out = ['<?xml version="1.0" encoding="utf-8"?>',
           f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="zh-CN"{base}>',
           f"<title>{escape(site_name)}：政策更新</title>",
           "<id>urn:policykb:feed:policies</id>",
           f"<updated>{_stamp(updated)}</updated>",
           '<link rel="self" href="feed.xml"/>', '<link rel="alternate" href="policies/index.html"/>',
           f"<author><name>{escape(site_name)}</name></author>"]
    for v in dated:
        title = v.title if v.current else f"【{v.status_label}】{v.title}"
        summary = "；".join(x for x in (v.doc_number, v.issuer, v.summary) if x)
        out.append("<entry>")
        out.append(f"<title>{escape(title)}</title>")
        out.append(f"<id>urn:policykb:policy:{escape(v.id)}</id>")
        out.append(f'<link rel="alternate" href={quoteattr(v.page[:-3] + ".html")}/>')
        out.append(f"<updated>{_stamp(v.changed or v.published)}</updated>")
        if v.published:
            out.append(f"<published>{_stamp(v.published)}</published>")
        for c in v.categories:
            out.append(f"<category term={quoteattr(c)}/>")
        if summary:
            out.append(f"<summary>{escape(summary)}</summary>")
        out.append("</entry>")
    out.append("</feed>")
    return "\n".join(out) + "\n"
