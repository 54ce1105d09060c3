"""The published site's own static search (issue 12).

`policykb build` writes a sharded index into the site (index.py); the browser client
(policykb/site/assets/search.js) and the Python reference (query.py) read the same files with
the same analysis (analysis.py) and the same integer scoring, so their rankings agree.
"""
