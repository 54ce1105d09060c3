"""The jieba user dictionary as the site search needs it.

Material segments pages with `jieba.cut` at build time, and its browser search matches a
query against index words by prefix only. A compound that the user dictionary keeps whole
(贷款贴息) can then be found by its head but never by its tail (贴息). So the site gets the
project's dictionary minus the compounds that jieba's own dictionary already splits into
real words; what stays are the terms jieba would otherwise shred (技改, 专精特新, 六税两费).
"""
from __future__ import annotations

from pathlib import Path


def keeps_whole(word: str, base) -> bool:
    """True when `base` (a jieba Tokenizer without our dictionary) can't split `word` into words."""
    parts = list(base.cut(word, HMM=False))
    return len(parts) == 1 or any(len(p) == 1 for p in parts)


def site_user_dictionary(src: Path, dest: Path) -> Path:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)  # its progress lines are English noise for users
    base = jieba.Tokenizer()  # jieba's default dictionary only
    kept = []
    for line in src.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and keeps_whole(line.split()[0], base):
            kept.append(line)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_text("\n".join(kept) + "\n", encoding="utf-8")
    tmp.replace(dest)
    return dest
