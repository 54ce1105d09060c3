"""Regions: the one home of what a region path means.

A region is a path from large to small (天津市/滨海新区/滨海高新区); 全国 is the national level.
"Applies to a company in R" (the matcher's `--region`, the site's 适用于 filter, the calculator)
means: records of R itself and anything under it, every level above R, national records, and
records that name no region. R may be written as a whole path or as any one level's name.
"""
from __future__ import annotations

from collections.abc import Iterable

NATIONAL = "全国"


def parts(region: str | None) -> tuple[str, ...]:
    """The levels of a region path, spaces removed ("" and None give ())."""
    return tuple(p.strip().replace(" ", "") for p in (region or "").split("/") if p.strip())


def path(region: str | None) -> str:
    """The normalised path ("" when the record names no region)."""
    return "/".join(parts(region))


def levels(region: str | None) -> list[str]:
    """Every prefix of the path, large to small: 天津市, 天津市/滨海新区, …"""
    ps = parts(region)
    return ["/".join(ps[: i + 1]) for i in range(len(ps))]


def resolve(wanted: str, known: Iterable[str]) -> set[str]:
    """The full paths `wanted` names among the `known` region paths: itself when it is a path,
    or every known path (or prefix of one) whose last level is `wanted`."""
    w = path(wanted)
    prefixes = {lv for k in known for lv in levels(k)}
    if "/" in w or w in prefixes:
        hits = {w} if w in prefixes or "/" in w else set()
    else:
        hits = set()
    hits |= {p for p in prefixes if p.split("/")[-1] == w}
    return hits or {w}


def applies_to(record_region: str | None, company_paths: set[str]) -> bool:
    """Does a record of `record_region` apply to a company in any of `company_paths`
    (full paths, as `resolve` returns them)?"""
    rp = path(record_region)
    if not rp or rp == NATIONAL:
        return True
    for cp in company_paths:
        if rp == cp or cp.startswith(rp + "/") or rp.startswith(cp + "/"):
            return True
    return False


def applying_paths(wanted: str, known: Iterable[str]) -> set[str]:
    """Every known record path that applies to a company in `wanted` (plus 全国), for filters
    that work on exact terms."""
    known = {path(k) for k in known if path(k)}
    company = resolve(wanted, known)
    return {k for k in known if applies_to(k, company)} | {NATIONAL}
