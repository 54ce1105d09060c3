"""Where things live: project resources, default content, caches."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEARCH_RESOURCES = PROJECT_ROOT / "search"  # user dictionary, synonyms, stopwords (editable data)
DEFAULT_CONTENT = Path(os.environ.get("POLICYKB_CONTENT", "content"))


def cache_dir() -> Path:
    """Per-user cache (indexes keyed by content fingerprint); never inside a content tree."""
    base = os.environ.get("POLICYKB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "policykb")
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path
