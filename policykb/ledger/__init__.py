"""The problem ledger (诉求台账): the lifecycle and its transition table (lifecycle), byte-keeping
record edits (recordedit), figures (stats), category/department suggestions (suggest), FAQ
promotion (promote) with anonymisation (anonymise), and the weekly reminder list (report).

May import `policykb.content` and the top-level shared modules; never the search, site or CLI.
"""
