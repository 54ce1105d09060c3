"""Charts rendered at build time: static inline SVG/HTML, no JavaScript chart library.

Colours come from CSS classes (assets/policykb.css) so light and dark schemes both work.
"""
from __future__ import annotations

from html import escape


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def bar_rows(groups: dict[str, dict], *, total_key: str = "collected", part_key: str = "closed",
             labels: tuple[str, str] = ("收集", "办结"), caption: str = "") -> str:
    """Horizontal bars, one row per group: total (light) with part (dark) laid over it.

    Plain HTML so that labels stay readable on a phone (SVG text shrinks with the chart).
    """
    top = max((g.get(total_key) or 0 for g in groups.values()), default=0) or 1
    rows = []
    for name, g in groups.items():
        total, part = g.get(total_key) or 0, g.get(part_key) or 0
        rows.append(
            f'<div class="pkb-bar-row" role="listitem">'
            f'<span class="pkb-bar-label">{escape(name)}</span>'
            f'<span class="pkb-bar-track">'
            f'<span class="pkb-bar pkb-bar--total" style="width:{100 * total / top:.1f}%"></span>'
            f'<span class="pkb-bar pkb-bar--part" style="width:{100 * part / top:.1f}%"></span>'
            f'</span>'
            f'<span class="pkb-bar-value">{part}/{total}</span></div>')
    legend = (f'<div class="pkb-legend"><span class="pkb-key pkb-key--part"></span>{escape(labels[1])}'
              f'<span class="pkb-key pkb-key--total"></span>{escape(labels[0])}</div>')
    cap = f'<div class="pkb-chart-caption">{escape(caption)}</div>' if caption else ""
    return f'<figure class="pkb-chart pkb-bars">{cap}{legend}<div role="list">{"".join(rows)}</div></figure>'


def month_columns(groups: dict[str, dict], *, keys: tuple[str, str] = ("collected", "closed"),
                  labels: tuple[str, str] = ("收集", "办结"), caption: str = "") -> str:
    """Grouped columns per month as one inline SVG (scales with its container)."""
    months = list(groups)
    if not months:
        return '<p class="pkb-empty">暂无数据。</p>'
    top = max(max(groups[m].get(k) or 0 for k in keys) for m in months) or 1
    width, height, left, bottom, top_pad = 600, 280, 36, 44, 24
    plot_h = height - bottom - top_pad
    slot = (width - left - 8) / len(months)
    bar_w = max(4.0, min(28.0, slot * 0.36))
    parts = []
    for tick in (0, top):
        y = top_pad + plot_h - plot_h * tick / top
        parts.append(f'<line class="pkb-axis" x1="{left}" x2="{width - 4}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="pkb-tick" x="{left - 6}" y="{y + 5:.1f}" text-anchor="end">{tick}</text>')
    step = max(1, len(months) // 8)  # keep month labels from overlapping
    for i, m in enumerate(months):
        x0 = left + slot * i + slot / 2 - bar_w
        for j, k in enumerate(keys):
            v = groups[m].get(k) or 0
            h = plot_h * v / top
            y = top_pad + plot_h - h
            cls = "pkb-col--total" if j == 0 else "pkb-col--part"
            parts.append(f'<rect class="{cls}" x="{x0 + j * bar_w:.1f}" y="{y:.1f}" width="{bar_w - 1:.1f}" '
                         f'height="{h:.1f}"><title>{escape(m)} {escape(labels[j])} {v}</title></rect>')
            if v and len(months) <= 12:
                parts.append(f'<text class="pkb-val" x="{x0 + j * bar_w + bar_w / 2:.1f}" y="{y - 4:.1f}" '
                             f'text-anchor="middle">{v}</text>')
        if i % step == 0:
            label = m[2:] if len(m) == 7 else m  # 2025-03 -> 25-03
            odd = " pkb-tick--odd" if (i // step) % 2 else ""  # phones show every other label
            parts.append(f'<text class="pkb-tick{odd}" x="{left + slot * i + slot / 2:.1f}" y="{height - bottom + 22}" '
                         f'text-anchor="middle">{escape(label)}</text>')
    legend = (f'<div class="pkb-legend"><span class="pkb-key pkb-key--total"></span>{escape(labels[0])}'
              f'<span class="pkb-key pkb-key--part"></span>{escape(labels[1])}</div>')
    cap = f'<div class="pkb-chart-caption">{escape(caption)}</div>' if caption else ""
    svg = (f'<svg class="pkb-svg" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(caption or "按月统计")}" xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>')
    return f'<figure class="pkb-chart pkb-columns">{cap}{legend}{svg}</figure>'


def rate_gauge(label: str, value: float | None) -> str:
    """A small ring showing one rate (0–1), as inline SVG."""
    r, c = 40, 2 * 3.14159 * 40
    frac = 0.0 if value is None else max(0.0, min(1.0, value))
    return (f'<svg class="pkb-gauge" viewBox="0 0 100 100" role="img" aria-label="{escape(label)} {_pct(value)}" '
            f'xmlns="http://www.w3.org/2000/svg"><circle class="pkb-gauge-bg" cx="50" cy="50" r="{r}"/>'
            f'<circle class="pkb-gauge-fg" cx="50" cy="50" r="{r}" stroke-dasharray="{c * frac:.1f} {c:.1f}" '
            f'transform="rotate(-90 50 50)"/><text x="50" y="57" text-anchor="middle">{_pct(value)}</text></svg>')
