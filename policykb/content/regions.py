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


def resolve(wanted: str, known: Iterable[str], table: dict[str, list[str]] | None = None) -> set[str]:
    """The full paths `wanted` names among the `known` region paths: itself when it is a path,
    or every known path (or prefix of one) whose last level is `wanted`, or the paths an alias
    names (`table`, from alias_table)."""
    if table and wanted and wanted.strip().lower() in table:
        return set(table[wanted.strip().lower()])
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


def applying_paths(wanted: str, known: Iterable[str], table: dict[str, list[str]] | None = None) -> set[str]:
    """Every known record path that applies to a company in `wanted` (plus 全国), for filters
    that work on exact terms."""
    known = {path(k) for k in known if path(k)}
    company = resolve(wanted, known, table)
    return {k for k in known if applies_to(k, company)} | {NATIONAL}


# --- names companies use for a region (the taxonomy's `regions:` section) -------------------

# Generic endings stripped from a level's name to get its short name (两江新区 -> 两江,
# 天津市 -> 天津), longest first. The stem must keep at least two characters.
SUFFIXES = ("高新技术产业开发区", "经济技术开发区", "高新技术开发区", "经济开发区", "综合保税区", "工业园区",
            "开发区", "高新区", "经开区", "自贸区", "保税区", "新区", "园区", "自治区", "省", "市", "区", "县")


# Zone types as companies say them -> the endings of the region names they stand for.
ZONE_KINDS = {"高新区": ("高新区", "高新技术产业开发区", "高新技术开发区"),
              "经开区": ("经开区", "经济技术开发区", "经济开发区"),
              "开发区": ("开发区",), "新区": ("新区",), "自贸区": ("自贸区", "自由贸易试验区"),
              "保税区": ("保税区",), "综保区": ("综合保税区", "综保区")}


def short_name(level: str) -> str | None:
    """A level's name without its generic ending (None when nothing sensible is left)."""
    for s in SUFFIXES:
        if level.endswith(s) and len(level) - len(s) >= 2:
            return level[: -len(s)]
    return None


def alias_table(taxonomy=None, known: Iterable[str] = ()) -> dict[str, list[str]]:
    """Name (lower case) -> the region paths it names, from the taxonomy's `regions:` section
    (a Taxonomy or its {path: [alias, …]} mapping) and the `known` record region paths.

    Every level of every path is named by its own name and by its short name (两江新区 -> 两江);
    the taxonomy adds what companies call it (泰达, TEDA). A name shared by several paths names
    all of them."""
    declared = getattr(taxonomy, "regions", taxonomy) or {}
    paths = {path(p) for p in [*declared, *known] if path(p) and path(p) != NATIONAL}
    out: dict[str, set[str]] = {}

    def add(name: str, p: str) -> None:
        name = name.strip().lower()
        if name and name != NATIONAL:
            out.setdefault(name, set()).add(p)
    every = sorted({lv for q in paths for lv in levels(q)}, key=lambda p: (p.count("/"), p))
    for p in every:
        add(p.split("/")[-1], p)
    for p in every:  # a short name already taken by a larger region stays its (天津: 天津市, not 天津开发区)
        short = short_name(p.split("/")[-1])
        if short and short.lower() not in out:
            add(short, p)
    for p, aliases in declared.items():
        for a in aliases:
            add(str(a), path(p))
    # A bare zone type (高新区, 经开区, 新区 …) names the zones of that type the content knows, so
    # "高新区" is a place, never the sub-word 新区 of another zone's name.
    for kind, endings in ZONE_KINDS.items():
        if kind.lower() in out:
            continue
        for p in every:
            if p.split("/")[-1].endswith(endings) and p.split("/")[-1] != kind:
                add(kind, p)
    return {k: sorted(v) for k, v in out.items()}


def find_regions(text: str, table: dict[str, list[str]]) -> list[tuple[int, int, list[str]]]:
    """(start, end, paths) of each region name in `text` (lower-cased by the caller as the
    table is), longest name first at each place, no overlaps: 滨海高新区 is one name, not
    滨海 + 高新区."""
    if not table or not text:
        return []
    pattern = _pattern(tuple(sorted(table, key=lambda n: (-len(n), n))))
    return [(m.start(), m.end(), table[m.group(0)]) for m in pattern.finditer(text)]


_PATTERNS: dict = {}


def _pattern(names: tuple[str, ...]):
    import re
    pat = _PATTERNS.get(names)
    if pat is None:
        pat = _PATTERNS[names] = re.compile("|".join(re.escape(n) for n in names))
    return pat


def regions_in_text(text: str, taxonomy, known: Iterable[str] = ()) -> list[str]:
    """The region paths a text names, in order of first mention (see find_regions).
    `taxonomy`: a Taxonomy (its `regions:` section, plus the `known` paths), or a table that
    alias_table built."""
    table = alias_table(taxonomy, known) if hasattr(taxonomy, "regions") else (taxonomy or {})
    out: list[str] = []
    for _, _, ps in find_regions((text or "").lower(), table):
        for p in ps:
            if p not in out:
                out.append(p)
    return out


def closest(wanted: str, known: Iterable[str], table: dict[str, list[str]] | None = None) -> str | None:
    """The known region (a level's name, or an alias) nearest to an unknown one, for 'did you mean'."""
    import difflib
    names = sorted({lv.split("/")[-1] for k in known for lv in levels(k)} | {a for a in table or {} if is_cjk_name(a)})
    w = path(wanted).split("/")[-1] if path(wanted) else wanted
    hits = difflib.get_close_matches(w, names, n=1, cutoff=0.3)
    if hits:
        return hits[0]
    scored = sorted(((len(set(w) & set(n)), n) for n in names), reverse=True)
    return scored[0][1] if scored and scored[0][0] > 0 else None


def is_cjk_name(name: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in name)


def is_known(wanted: str, known: Iterable[str], table: dict[str, list[str]] | None = None) -> bool:
    """Whether `wanted` names a known region (a path, a level's name, or an alias)."""
    w = path(wanted)
    if not w or w == NATIONAL:
        return True
    prefixes = {lv for k in known for lv in levels(k)}
    return w in prefixes or any(p.split("/")[-1] == w for p in prefixes) or w.lower() in (table or {})
