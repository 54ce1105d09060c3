"""The content stage: which files make a tree (files), the one loader (loader) that turns them
into typed records (models) against the controlled vocabularies (taxonomy), the rules beyond one
file (validate, whose `load_valid` is the one gate before any output), status rules (statuses),
Chinese labels of kinds and fields (labels) and the diagnostics they report (diagnostics: every
code in one registry, and ContentInvalid, the one "content is invalid" exception).

Imports only the standard library, its third-party parsers and `policykb.paths`; every other stage
reads content through this package and nothing here imports another stage.
"""
