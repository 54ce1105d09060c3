"""The published site: content -> Markdown pages (Jinja2) -> MkDocs (Material) -> static HTML, with
its own static search (sitesearch/), the calculator page, feed, figures and Decap CMS (internal).

May import `policykb.content`, the search stage's analysis (one analysis for matcher and site
search), the ledger's figures (`ledger.stats`) and the top-level shared modules; never the CLI.
"""
