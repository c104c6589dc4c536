"""Schedules as a timeline picture: SVG drawn on the server, one lane per
element or cohort, bars on a time axis, holidays and closure days shaded.

No script and no style sheet inside (the content security policy allows
neither inline): only presentation attributes. Every bar, band and lane has
a <title>, and what colour says is also said by shape (hatched spans, dashed
cancelled bars, a legend), so the picture is readable aloud and on paper.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from markupsafe import Markup, escape

LABEL_WIDTH = 200
PLOT_WIDTH = 760
LANE_HEIGHT = 26
BAR_HEIGHT = 16
HEADER = 34
LEGEND = 34
MIN_BAR = 4  # a single day stays visible on a year axis

COLOURS = {
    "meeting": "#1f5fa8",
    "span": "#7fa6d6",
    "cancelled": "#ffffff",
    "holiday": "#e4e4e4",
    "closure": "#f3d9b1",
}


@dataclass(frozen=True)
class Bar:
    first: date
    last: date  # inclusive
    title: str
    kind: str  # "meeting" (a day or an online session) or "span" (a self-study phase)
    key: str = ""
    cancelled: bool = False


@dataclass(frozen=True)
class Lane:
    label: str
    bars: tuple[Bar, ...]
    link: str | None = None


@dataclass(frozen=True)
class Band:
    first: date
    last: date  # inclusive
    title: str
    kind: str  # "holiday" or "closure"


@dataclass(frozen=True)
class Legend:
    """The legend's texts; an entry without text is left out."""

    meeting: str
    span: str
    cancelled: str | None = None
    holiday: str | None = None
    closure: str | None = None


def timeline_svg(
    lanes: Sequence[Lane],
    first: date,
    last: date,
    bands: Sequence[Band],
    *,
    title: str,
    tick_label: Callable[[date], str | None],
    legend: Legend,
    today: date | None = None,
) -> Markup:
    """The picture from `first` to `last` (inclusive); bars outside are clipped."""
    days = (last - first).days + 1
    scale = PLOT_WIDTH / days
    height = HEADER + LANE_HEIGHT * max(len(lanes), 1) + LEGEND
    plot_bottom = HEADER + LANE_HEIGHT * max(len(lanes), 1)

    def x(day: date) -> float:
        return LABEL_WIDTH + (min(max(day, first), last + timedelta(days=1)) - first).days * scale

    # Read aloud as one picture: its title names it, its description lists
    # every bar's text (what, when) in the lanes' order.
    name = f"timeline-{zlib.crc32(title.encode()):08x}"
    described = ". ".join(
        bar.title for lane in lanes for bar in sorted(lane.bars, key=lambda b: b.first)
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'aria-labelledby="{name}-title" aria-describedby="{name}-desc" '
        f'viewBox="0 0 {LABEL_WIDTH + PLOT_WIDTH + 10} {height}" '
        f'data-first="{first.isoformat()}" data-last="{last.isoformat()}" '
        f'data-day-width="{scale:.6f}" font-family="sans-serif" font-size="12">',
        f'<title id="{name}-title">{escape(title)}</title>',
        f'<desc id="{name}-desc">{escape(described)}</desc>',
        _hatch("span-hatch", COLOURS["span"]),
        _hatch("closure-hatch", "#c98a2e"),
    ]
    for band in bands:
        if band.last < first or band.first > last:
            continue
        left, right = x(band.first), x(band.last + timedelta(days=1))
        fill = COLOURS["holiday"] if band.kind == "holiday" else "url(#closure-hatch)"
        parts.append(
            f'<rect class="band {band.kind}" x="{left:.2f}" y="{HEADER}" '
            f'width="{max(right - left, 1):.2f}" height="{plot_bottom - HEADER}" fill="{fill}" '
            f'data-first="{band.first.isoformat()}" data-last="{band.last.isoformat()}">'
            f"<title>{escape(band.title)}</title></rect>"
        )
    parts.extend(_ticks(first, last, x, tick_label, plot_bottom))
    for index, lane in enumerate(lanes):
        top = HEADER + index * LANE_HEIGHT
        parts.append(
            f'<line x1="0" x2="{LABEL_WIDTH + PLOT_WIDTH}" y1="{top + LANE_HEIGHT}" '
            f'y2="{top + LANE_HEIGHT}" stroke="#eeeeee"/>'
        )
        label = f'<text x="4" y="{top + 17}" class="lane-label">{escape(_short(lane.label))}'
        label += f"<title>{escape(lane.label)}</title></text>"
        if lane.link:
            label = f'<a href="{escape(lane.link)}">{label}</a>'
        parts.append(label)
        for bar in lane.bars:
            if bar.last < first or bar.first > last:
                continue
            left, right = x(bar.first), x(bar.last + timedelta(days=1))
            parts.append(_bar(bar, left, max(right - left, MIN_BAR), top))
    if today is not None and first <= today <= last:
        position = x(today)
        parts.append(
            f'<line class="today" x1="{position:.2f}" x2="{position:.2f}" y1="{HEADER - 6}" '
            f'y2="{plot_bottom}" stroke="#c0392b" stroke-width="1.5"/>'
        )
    parts.append(_legend(legend, plot_bottom + 12))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every text above is escaped


def _bar(bar: Bar, left: float, width: float, top: int) -> str:
    if bar.cancelled:
        paint = f'fill="{COLOURS["cancelled"]}" stroke="#555555" stroke-dasharray="3 2"'
    elif bar.kind == "span":
        paint = f'fill="url(#span-hatch)" stroke="{COLOURS["meeting"]}"'
    else:
        paint = f'fill="{COLOURS["meeting"]}"'
    classes = f"bar {bar.kind}" + (" cancelled" if bar.cancelled else "")
    return (
        f'<rect class="{classes}" x="{left:.2f}" y="{top + (LANE_HEIGHT - BAR_HEIGHT) / 2:.1f}" '
        f'width="{width:.2f}" height="{BAR_HEIGHT}" rx="2" {paint} '
        f'data-key="{escape(bar.key)}" data-first="{bar.first.isoformat()}" '
        f'data-last="{bar.last.isoformat()}"><title>{escape(bar.title)}</title></rect>'
    )


def _ticks(
    first: date,
    last: date,
    x: Callable[[date], float],
    label: Callable[[date], str | None],
    bottom: int,
) -> list[str]:
    """A line and a name where `label` names a day (the first of each month,
    or each week on a relative axis); a week grid on short axes."""
    parts: list[str] = []
    short = (last - first).days <= 120
    day = first
    while day <= last:
        text = label(day)
        if text is not None:
            position = x(day)
            parts.append(
                f'<line x1="{position:.2f}" x2="{position:.2f}" y1="{HEADER - 14}" y2="{bottom}" '
                f'stroke="#bbbbbb"/>'
            )
            parts.append(
                f'<text x="{position + 3:.2f}" y="{HEADER - 18}" class="tick">'
                f"{escape(text)}</text>"
            )
        elif short and day.weekday() == 0:
            position = x(day)
            parts.append(
                f'<line x1="{position:.2f}" x2="{position:.2f}" y1="{HEADER}" y2="{bottom}" '
                f'stroke="#f0f0f0"/>'
            )
        day += timedelta(days=1)
    return parts


def _legend(legend: Legend, top: int) -> str:
    items = [
        (f'fill="{COLOURS["meeting"]}"', legend.meeting),
        (f'fill="url(#span-hatch)" stroke="{COLOURS["meeting"]}"', legend.span),
        ('fill="#ffffff" stroke="#555555" stroke-dasharray="3 2"', legend.cancelled),
        (f'fill="{COLOURS["holiday"]}"', legend.holiday),
        ('fill="url(#closure-hatch)"', legend.closure),
    ]
    parts = ['<g class="legend">']
    left = LABEL_WIDTH
    for paint, text in items:
        if text is None:
            continue
        parts.append(f'<rect x="{left}" y="{top}" width="14" height="10" {paint}/>')
        parts.append(f'<text x="{left + 18}" y="{top + 9}">{escape(text)}</text>')
        left += 26 + 7 * len(text)
    parts.append("</g>")
    return "".join(parts)


def _hatch(name: str, colour: str) -> str:
    return (
        f'<defs><pattern id="{name}" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" stroke-width="3"/></pattern></defs>'
    )


def _short(label: str, limit: int = 30) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
