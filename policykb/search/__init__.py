"""The search stage: one text analysis (analysis) shared by the matcher and the site search, the
ranking postings (postings), the record store that keeps stored fields and evaluates filters
(whoosh_store, behind engine), index generations swapped whole (index_store), the matcher
(matcher), evaluation against a baseline (eval) and benchmarks (bench).

May import `policykb.content` and the top-level shared modules; never the site, ledger or CLI.
"""
