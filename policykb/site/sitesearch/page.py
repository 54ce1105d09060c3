"""The results page (search.html?q=…&type=…&region=…&expired=1), written into the docs folder
before MkDocs runs. Markup only: assets/search.js fills it; without JavaScript it says so."""
from __future__ import annotations

from html import escape
from pathlib import Path

from policykb.content import regions

PAGE = "search.md"


def region_options(content) -> list[tuple[str, str]]:
    """(value, label) for the 适用于 filter: every level of every record's region, large to small."""
    paths = set()
    for r in [*content.policies, *content.faqs]:
        paths.update(regions.levels(getattr(r, "region", None)))
    paths.discard(regions.NATIONAL)
    out = []
    for p in sorted(paths, key=lambda p: (p.split("/"), p)):
        depth = p.count("/")
        out.append((p, "\u3000" * depth + p.split("/")[-1]))
    return out


def page_markdown(content, *, internal: bool) -> str:
    types = [("", "全部类型"), ("policy", "政策"), ("faq", "常见问题")] + ([("issue", "诉求")] if internal else [])
    opts_type = "".join(f'<option value="{v}">{escape(t)}</option>' for v, t in types)
    opts_region = '<option value="">不限地区</option>' + "".join(
        f'<option value="{escape(v)}">{escape(t)}</option>' for v, t in region_options(content))
    return f"""---
title: 搜索
hide: [navigation, toc]
---

# 搜索

<div id="pkb-search" class="pkb-search-page" markdown="0">
<form class="pkb-search-form" action="" method="get" role="search" hidden>
<div class="pkb-search-form__row">
<label class="pkb-visually-hidden" for="pkb-search-q">问题或关键词</label>
<input id="pkb-search-q" type="search" name="q" placeholder="例如：技改补贴怎么申请" autocomplete="off" enterkeyhint="search">
<button type="submit" class="md-button md-button--primary">搜索</button>
</div>
<div class="pkb-search-form__filters">
<label>类型 <select name="type">{opts_type}</select></label>
<label>适用于 <select name="region">{opts_region}</select></label>
<label><input type="checkbox" name="expired" value="1"> 包括已失效、已废止的政策</label>
</div>
</form>
<p class="pkb-search-status" data-search-status role="status" aria-live="polite"></p>
<ol class="pkb-results" data-search-results></ol>
<noscript><p class="pkb-search-nojs">搜索需要浏览器启用 JavaScript。也可以直接浏览<a href="policies/index.html">政策目录</a>和<a href="faq/index.html">常见问题</a>。</p></noscript>
</div>
"""


def write_search_page(docs: Path, content, *, internal: bool) -> None:
    (Path(docs) / PAGE).write_text(page_markdown(content, internal=internal), encoding="utf-8")
