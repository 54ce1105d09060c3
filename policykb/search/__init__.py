"""The search stage: one text analysis (analysis) shared by the matcher and the site search, the
ranking postings (postings), the record store that keeps stored fields and ranks within the
filters it is given (whoosh_store, behind engine), index generations swapped whole (index_store),
the matcher with the domain rules (zones, statuses, confidence, long messages: matcher),
evaluation against a baseline (eval) and benchmarks against bm25s (bench).

May import `policykb.content` and the top-level shared modules; never the site, ledger or CLI.
"""
