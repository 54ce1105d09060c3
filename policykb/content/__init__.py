"""The content stage: which files make a tree (files), the one loader (loader) that turns them
into typed records (models) against the controlled vocabularies (taxonomy), the rules beyond one
file (validate), status rules (statuses) and the diagnostics they report (diagnostics).

Imports only the standard library, its third-party parsers and `policykb.paths`; every other stage
reads content through this package and nothing here imports another stage.
"""
