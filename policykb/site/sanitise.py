"""Content values on their way into pages: escaped or sanitised by construction.

Pages are Markdown with HTML inside, rendered by MkDocs. Every content value reaches them
through one of these functions (the templates' autoescape handles values inside HTML):

- `md_text`: a one-line value placed in Markdown text (a heading): HTML-escaped, Markdown
  punctuation backslash-escaped, so `{: onfocus=…}` (attr_list) or `[x](javascript:…)` stay text.
- `body_html`: a record body (Markdown) rendered here with a Markdown that has no attr_list and no
  md_in_html, then sanitised to an allow-list with nh3 (ammonia); the page receives HTML.
- `html_text`: a value that MkDocs/Material treat as HTML (page title, description, nav
  titles, tags): escaped once, here.
"""
from __future__ import annotations

import html as htmllib
import re

import markdown
import nh3
from markupsafe import Markup, escape

# Python-Markdown's escapable characters plus the tables extension's "|".
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|])")  # "<", ">", "&" are left to HTML escaping
_SPACE = re.compile(r"\s+")

TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u", "s", "del", "ins",
        "sub", "sup", "code", "pre", "kbd", "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead",
        "tbody", "tfoot", "tr", "th", "td", "caption", "a", "abbr", "span", "div", "img", "details", "summary"}
ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "img": {"src", "alt", "title"},
              "th": {"align", "colspan", "rowspan", "scope"}, "td": {"align", "colspan", "rowspan"},
              "ol": {"start"}}  # class only through CLASSES
CLASSES = {"div": {"admonition", "note", "info", "tip", "warning", "danger", "example", "abstract", "success",
                   "question", "failure", "bug", "quote"},
           "p": {"admonition-title"}}
SCHEMES = {"http", "https", "mailto", "tel"}
BODY_EXTENSIONS = ["tables", "admonition", "sane_lists"]  # never attr_list or md_in_html


def md_text(value) -> Markup:
    """A one-line content value for Markdown text: whitespace collapsed, Markdown-escaped, HTML-escaped."""
    text = _SPACE.sub(" ", str(value if value is not None else "")).strip()
    return Markup(str(escape(_MD_SPECIAL.sub(r"\\\1", text))))


def html_text(value) -> str:
    """A plain-text value as the HTML string MkDocs/Material expect for titles and metadata."""
    return str(escape(_SPACE.sub(" ", str(value if value is not None else "")).strip()))


def clean_html(html: str) -> str:
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, allowed_classes=CLASSES, url_schemes=SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True)


_HEADING_HTML = re.compile(r"<h([1-6])>(.*?)</h\1>", re.S)
_TAG = re.compile(r"<[^>]+>")


def body_html(md_source: str) -> Markup:
    """A record body (Markdown) as sanitised HTML for the page's Markdown: the body's headings
    become Markdown headings again (escaped text, so they join the page's table of contents),
    everything between them is a raw HTML block the page's Markdown passes through."""
    html = markdown.markdown(md_source or "", extensions=BODY_EXTENSIONS, output_format="html")
    clean = clean_html(html).strip()
    out, pos = [], 0
    for m in _HEADING_HTML.finditer(clean):
        out.append(_raw_block(clean[pos:m.start()]))
        text = htmllib.unescape(_TAG.sub("", m.group(2)))
        out.append(f"{'#' * int(m.group(1))} {md_text(text)}" if text.strip() else "")
        pos = m.end()
    out.append(_raw_block(clean[pos:]))
    return Markup("\n\n".join(part for part in out if part))


def _raw_block(html: str) -> str:
    """A raw HTML block: starts at column 0, no blank line inside (which would end it)."""
    html = re.sub(r"\n\s*\n", "\n", html.strip())
    return f'<div class="pkb-body">\n{html}\n</div>' if html else ""
