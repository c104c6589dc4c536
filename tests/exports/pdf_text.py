"""Where a PDF page draws its text, read from the drawing operators: the
tests of every printout check with it that each text run lies inside the
page and that no two overlap."""

from __future__ import annotations

from dataclasses import dataclass

from pypdf.generic import ContentStream


@dataclass(frozen=True)
class Run:
    """One piece of text as drawn: its box on the page and its letters."""

    left: float
    right: float
    baseline: float
    size: float
    codes: str  # the glyph codes, in hex

    def overlaps(self, other: Run) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.baseline - 0.25 * self.size < other.baseline + 0.8 * other.size
            and other.baseline - 0.25 * other.size < self.baseline + 0.8 * self.size
        )


def text_runs(page) -> list[Run]:
    """Every text run of the page: the position (cm within q/Q, Tm, Td) and
    font size (Tf) of each Tj, and its width from the glyph widths the
    embedded font declares. Translations only: the printouts neither rotate
    nor scale text."""
    fonts = {name: font.get_object() for name, font in page["/Resources"]["/Font"].items()}
    runs: list[Run] = []
    origin, saved = (0.0, 0.0), []
    x = y = size = 0.0
    widths: list[float] = []
    first = 0
    for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
        if operator == b"q":
            saved.append(origin)
        elif operator == b"Q":
            origin = saved.pop()
        elif operator == b"cm":
            origin = (origin[0] + float(operands[4]), origin[1] + float(operands[5]))
        elif operator == b"Tm":
            x, y = float(operands[4]), float(operands[5])
        elif operator == b"Td":
            x, y = x + float(operands[0]), y + float(operands[1])
        elif operator == b"Tf":
            font, size = fonts[operands[0]], float(operands[1])
            widths = [float(w) for w in font.get("/Widths", [])]
            first = int(font.get("/FirstChar", 0))
        elif operator == b"Tj":
            raw = operands[0]
            codes = raw.original_bytes if hasattr(raw, "original_bytes") else bytes(raw)
            advance = sum(widths[c - first] for c in codes) / 1000 * size
            left = origin[0] + x
            runs.append(Run(left, left + advance, origin[1] + y, size, codes.hex()))
            x += advance
    return runs
