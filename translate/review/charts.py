"""Inline SVG charts for the stats page, drawn on the server (no script, no external library)."""
from __future__ import annotations

from html import escape

from markupsafe import Markup

WIDTH, HEIGHT, PAD = 360, 120, 22
COLOURS = {"pending": "#8a94a3", "approved": "#1b7f3b", "rejected": "#b3261e", "edited": "#2f5fb3"}


def histograms(data: dict[str, list[int]], names: list[str], good: float, bad: float) -> list[dict]:
    """One small histogram per name (status or model): pairs per score bin, with the label thresholds."""
    out = []
    for name in names:
        bins = data.get(name)
        if not bins or not sum(bins):
            continue
        top = max(bins)
        width = (WIDTH - 2 * PAD) / len(bins)
        bars = []
        for i, n in enumerate(bins):
            h = (HEIGHT - 2 * PAD) * n / top
            x, y = PAD + i * width, HEIGHT - PAD - h
            low, high = i / len(bins), (i + 1) / len(bins)
            bars.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width - 1, 1):.1f}" height="{h:.1f}" '
                        f'fill="{COLOURS.get(name, "#5f6670")}"><title>{low:.2f}–{high:.2f}: {n} pairs</title></rect>')
        marks = []
        for value, label in ((bad, "bad | check"), (good, "check | good")):
            x = PAD + value * (WIDTH - 2 * PAD)
            marks.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD - 6}" y2="{HEIGHT - PAD}" class="threshold"/>'
                         f'<text x="{x:.1f}" y="{PAD - 8}" text-anchor="middle" class="axis">{label}</text>')
        axis = (f'<text x="{PAD}" y="{HEIGHT - 6}" class="axis">0</text>'
                f'<text x="{WIDTH - PAD}" y="{HEIGHT - 6}" text-anchor="end" class="axis">1</text>'
                f'<text x="{WIDTH / 2}" y="{HEIGHT - 6}" text-anchor="middle" class="axis">score</text>')
        svg = (f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="score histogram: {escape(name)}">'
               + "".join(bars) + "".join(marks) + axis + "</svg>")
        out.append({"name": name, "total": sum(bins), "svg": Markup(svg)})
    return out


def progress(days: list[dict]) -> Markup | None:
    """Review actions per day as bars, with the running total as a line."""
    if not days:
        return None
    top = max(d["actions"] for d in days)
    total = sum(d["actions"] for d in days)
    width = (WIDTH - 2 * PAD) / len(days)
    parts, running, points = [], 0, []
    for i, d in enumerate(days):
        h = (HEIGHT - 2 * PAD) * d["actions"] / top
        x = PAD + i * width
        parts.append(f'<rect x="{x:.1f}" y="{HEIGHT - PAD - h:.1f}" width="{max(width - 1, 1):.1f}" '
                     f'height="{h:.1f}" fill="#2f5fb3"><title>{escape(d["day"])}: {d["actions"]} actions by '
                     f'{d["reviewers"]} reviewer(s)</title></rect>')
        running += d["actions"]
        points.append(f"{x + width / 2:.1f},{HEIGHT - PAD - (HEIGHT - 2 * PAD) * running / total:.1f}")
    line = f'<polyline points="{" ".join(points)}" fill="none" stroke="#a86b00" stroke-width="2"/>'
    axis = (f'<text x="{PAD}" y="{HEIGHT - 6}" class="axis">{escape(days[0]["day"])}</text>'
            f'<text x="{WIDTH - PAD}" y="{HEIGHT - 6}" text-anchor="end" class="axis">{escape(days[-1]["day"])}</text>')
    return Markup(f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="review actions per day">'
                  + "".join(parts) + line + axis + "</svg>")
