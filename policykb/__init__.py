"""policykb: a Git-backed knowledge base of enterprise-support policies, FAQs and the problem
ledger. One folder per stage, imports going one way:

    cli  ->  site  ->  {search, ledger}  ->  content

(the site reuses the search stage's one analysis and the ledger's figures; search and ledger
never import each other or the site; content imports no other stage).

`paths` (where resources live) and `console` (CLI output helpers) are the shared top modules,
with `fsio` (the one atomic write, per-file locks, path containment) and `gitutil` (the one Git
call, with timeouts and Chinese errors); any stage may import these four.
"""
