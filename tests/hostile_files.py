"""Spreadsheets as HR systems and attackers write them, built byte by byte:
a workbook whose <dimension> claims the whole sheet, 300,000 rows that pack
into a few kilobytes, a row of 16,384 columns, merged cells, title rows above
the header. openpyxl would never write most of these, so the sheet XML goes
into the zip as it is."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

from openpyxl.utils import get_column_letter

PACKAGE = "http://schemas.openxmlformats.org/package/2006"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
SPREADSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CONTENT_TYPES = (
    f'{XML}<Types xmlns="{PACKAGE}/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{SPREADSHEET}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{SPREADSHEET}.worksheet+xml"/></Types>'
)
ROOT_RELS = (
    f'{XML}<Relationships xmlns="{PACKAGE}/relationships">'
    f'<Relationship Id="rId1" Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'{XML}<workbook xmlns="{MAIN}" xmlns:r="{OFFICE}">'
    '<sheets><sheet name="Export" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'{XML}<Relationships xmlns="{PACKAGE}/relationships">'
    f'<Relationship Id="rId1" Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)
SHEET_START = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)
HEADER = ("Vorname", "Nachname", "E-Mail")


def cell(reference: str, value: str) -> str:
    return f'<c r="{reference}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def row_xml(number: int, values: Sequence[str], first_column: int = 1) -> str:
    cells = "".join(
        cell(f"{get_column_letter(first_column + i)}{number}", value)
        for i, value in enumerate(values)
        if value != ""
    )
    return f'<row r="{number}">{cells}</row>'


def workbook(
    rows: Iterable[str], *, dimension: str | None = None, merged: Sequence[str] = ()
) -> bytes:
    """An XLSX whose first sheet holds `rows` (each a <row> element) as they are."""
    parts = [SHEET_START]
    if dimension:
        parts.append(f'<dimension ref="{dimension}"/>')
    parts.append("<sheetData>")
    parts.extend(rows)
    parts.append("</sheetData>")
    if merged:
        parts.append(f'<mergeCells count="{len(merged)}">')
        parts.extend(f'<mergeCell ref="{ref}"/>' for ref in merged)
        parts.append("</mergeCells>")
    parts.append("</worksheet>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", "".join(parts))
    return out.getvalue()


def table(rows: Sequence[Sequence[str]], **options: object) -> bytes:
    """An XLSX of plain text rows, row 1 first."""
    return workbook((row_xml(n, r) for n, r in enumerate(rows, start=1)), **options)  # type: ignore[arg-type]


def people(count: int) -> list[tuple[str, str, str]]:
    return [HEADER] + [(f"Vor{n}", f"Nach{n}", f"p{n}@firma.example") for n in range(count)]


def lying_dimension() -> bytes:
    """A hundred people in a sheet that claims to span A1:XFD1048576."""
    return table(people(100), dimension="A1:XFD1048576")


def huge_dimension() -> bytes:
    """The same, with the corner cell XFD1048576 filled as well: a sheet
    that really is that large, in some kilobytes."""
    rows = [row_xml(n, r) for n, r in enumerate(people(100), start=1)]
    rows.append('<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    return workbook(rows, dimension="A1:XFD1048576")


def many_rows(count: int = 300_000) -> bytes:
    """`count` rows of one repeated person. Rows and cells without their
    optional r= numbers repeat byte for byte, so the sheet packs to some
    kilobytes."""
    person = "<c><v>1</v></c><c><v>2</v></c><c><v>3</v></c>"
    return workbook([row_xml(1, HEADER)] + [f"<row>{person}</row>"] * count)


def wide_row(columns: int = 16_384) -> bytes:
    """A header and then a row with a value in each of `columns` columns."""
    cells = "".join(
        f'<c r="{get_column_letter(i)}2"><v>{i}</v></c>' for i in range(1, columns + 1)
    )
    return workbook([row_xml(1, HEADER), f'<row r="2">{cells}</row>'])


def csv_rows(count: int = 300_000) -> bytes:
    """A CSV of `count` short people rows (under the upload size limit)."""
    lines = ["Vorname;Nachname;E-Mail"] + [f"V;N;{n}@x.de" for n in range(count)]
    return ("\n".join(lines) + "\n").encode()
