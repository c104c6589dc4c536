"""Reading the rows of an uploaded table (CSV or XLSX) in bounded time and memory.

Anyone who may import can upload, so nothing a file declares about itself is
trusted: an XLSX <dimension> of A1:XFD1048576 costs nothing, because rows are
streamed from the sheet (openpyxl's streaming sheet parser, the one its
read-only mode uses, never its dimension) and reading stops at
the caller's row limit, at a row with too many columns, at a row number far
below the list, or at a part that unpacks too large. python-calamine was the
other candidate: it is faster, but builds the used range as one dense grid
before the first row can be read, so a single cell at XFD1048576 asks for
half a terabyte and ends the server process.

CSV is decoded by one rule (see `decode`), then read line by line with the
reader's own line numbers, so that each row keeps the line it starts on.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from charset_normalizer import from_bytes

from app.services.errors import InvalidInput
from curricula.messages import msg

MAX_BYTES = 5 * 1024 * 1024  # as the upload limit (MAX_CONTENT_LENGTH)
MAX_COLUMNS = 200
MAX_LINE = 65_536  # characters of one CSV line
# Rows of the file with blank rows counted: a stray cell far below the list
# would otherwise make the reader walk a million empty rows.
MAX_FILE_ROWS = 20_000
MAX_UNPACKED = 32 * 1024 * 1024  # bytes of one part of a workbook, unpacked
MAX_PARTS = 1_000
MAX_MERGED = 1_000


class ImportRejected(InvalidInput):
    """The file cannot be read at all (not CSV/XLSX, empty, too large)."""

    code = "unreadable_file"


@dataclass(frozen=True)
class MergedCells:
    cells: str  # as Excel names them, "A1:C1"
    first_row: int
    last_row: int
    first_column: int  # 1 for A


@dataclass(frozen=True)
class Sheet:
    rows: tuple[tuple[int, tuple[str, ...]], ...]  # (the file's row number, cells), not blank
    merged: tuple[MergedCells, ...] = ()


def read_sheet(filename: str, data: bytes, *, row_limit: int, title_rows: int = 0) -> Sheet:
    """The non-blank rows of the file's first sheet, each with its own row
    number (CSV: the line it starts on). More than `row_limit` rows below
    `title_rows` and a header refuse the file with `row_limit` named."""
    name = filename.lower()
    if len(data) > MAX_BYTES:
        raise ImportRejected(
            msg("the file is larger than {size} MB", size=MAX_BYTES // (1024 * 1024))
        )
    if name.endswith(".xlsx"):
        return _xlsx(data, row_limit, title_rows + 1)
    if name.endswith((".csv", ".txt")):
        return Sheet(_kept(_csv_rows(data), row_limit, title_rows + 1))
    raise ImportRejected(msg("'{name}' is neither a CSV nor an XLSX file", name=filename or "?"))


def _kept(
    rows: Iterable[tuple[int, list[str]]], row_limit: int, above: int
) -> tuple[tuple[int, tuple[str, ...]], ...]:
    kept = []
    for number, cells in rows:
        if number > MAX_FILE_ROWS:
            raise ImportRejected(msg("the file has rows below row {count}", count=MAX_FILE_ROWS))
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            continue
        if len(cells) > MAX_COLUMNS:
            raise ImportRejected(
                msg("row {row} has more than {count} columns", row=number, count=MAX_COLUMNS)
            )
        if len(kept) == row_limit + above:
            raise ImportRejected(msg("the file has more than {count} rows", count=row_limit))
        kept.append((number, tuple(cells)))
    return tuple(kept)


# CSV


def decode(data: bytes) -> str:
    """The file's text. A byte-order mark decides (UTF-8, UTF-16: what Excel
    writes as "CSV UTF-8" and "Unicode text"); without one, UTF-8 when the
    bytes are valid UTF-8; else Windows-1252 (Excel's "CSV" in Germany), but
    only when charset-normalizer's best guess reads the bytes as the same
    text — for German names cp1250, cp1252, Latin-1 and Latin-9 agree, while
    a Polish Latin-2 file read as cp1252 would say "£ucja ¦wi±tek". Any
    other file is refused with both readings, asking for UTF-8."""
    for bom, codec, label in (
        (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
        (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as error:
                raise ImportRejected(
                    msg(
                        "the file is marked as {encoding} but byte {offset} is not {encoding}",
                        encoding=label,
                        offset=error.start + 1,
                    )
                ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        windows = data.decode("cp1252")
    except UnicodeDecodeError:
        windows = None
    best = from_bytes(data).best()
    guess = _decoded(data, best.encoding) if best is not None else None
    if windows is not None and guess == windows:
        return windows
    if windows is None or best is None or guess is None:
        raise ImportRejected(
            msg(
                "the file is not text in UTF-8, UTF-16 or Windows-1252; "
                "save it as UTF-8 (in Excel: CSV UTF-8) and upload it again"
            )
        )
    line, ours, theirs = _first_difference(windows, guess)
    raise ImportRejected(
        msg(
            "the file's encoding cannot be told for certain: line {line} reads '{text}' "
            "in Windows-1252, but '{other}' in {encoding}; "
            "save it as UTF-8 (in Excel: CSV UTF-8) and upload it again",
            line=line,
            text=ours,
            other=theirs,
            encoding=best.encoding,
        )
    )


def _decoded(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        return None


def _first_difference(first: str, second: str) -> tuple[int, str, str]:
    """The first line where two readings differ, in both readings (shortened)."""
    pairs = zip(first.splitlines(), second.splitlines(), strict=False)
    for number, (a, b) in enumerate(pairs, start=1):
        if a != b:
            return number, _shown(a), _shown(b)
    return 1, _shown(first), _shown(second)


def _shown(line: str, width: int = 60) -> str:
    line = re.sub(r"[\x00-\x1f\x7f-\x9f]", "?", line)
    return line if len(line) <= width else line[: width - 1] + "…"


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    text = decode(data)
    # Universal newlines: old Mac exports end lines with a bare CR.
    reader = csv.reader(
        _bounded_lines(io.StringIO(text, newline=None)), csv.excel, delimiter=delimiter(text)
    )
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise ImportRejected(
                msg("line {line} of the file is not readable as CSV", line=reader.line_num)
            ) from None
        # A quoted value may span lines: the row is numbered by its first.
        yield start, row
        start = reader.line_num + 1


def delimiter(text: str) -> str:
    """The separator Excel and HR systems use (; in Germany, tab in "Unicode
    text", else comma): the one that the first lines hold most often in one
    line, outside quotes. csv.Sniffer guessed wrong on rows of unequal length
    and on long quoted values."""
    lines = _QUOTED.sub("", text[:8192]).splitlines()[:20]
    counts = {d: max((line.count(d) for line in lines), default=0) for d in (";", "\t", ",")}
    best = max(counts.values())
    return next(d for d, count in counts.items() if count == best) if best else ";"


_QUOTED = re.compile(r'"[^"]*"')


def _bounded_lines(lines: Iterable[str]) -> Iterator[str]:
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE:
            raise ImportRejected(
                msg(
                    "line {line} of the file is longer than {count} characters",
                    line=number,
                    count=MAX_LINE,
                )
            )
        yield line


# XLSX


def _xlsx(data: bytes, row_limit: int, above: int) -> Sheet:
    unreadable = ImportRejected(msg("the file is not a readable XLSX workbook"))
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise unreadable from None
    if len(parts) > MAX_PARTS or any(part.file_size > MAX_UNPACKED for part in parts):
        raise ImportRejected(
            msg(
                "the workbook unpacks to more than {size} MB",
                size=MAX_UNPACKED // (1024 * 1024),
            )
        )
    # openpyxl answers a broken workbook with a dozen kinds of exception
    # (KeyError for a missing part, zlib.error, ParseError, TypeError, …):
    # whatever it raises on reading means the same to the person uploading.
    try:
        reader, path = _first_sheet(data)
        with reader.archive.open(path) as source:
            rows = _kept(_xlsx_rows(reader, source), row_limit, above)
        merged = _merged(archive, path)
    except ImportRejected:
        raise
    except Exception:
        raise unreadable from None
    return Sheet(rows, merged)


def _first_sheet(data: bytes) -> tuple[Any, str]:
    """openpyxl's reader with the workbook's strings and styles, and the path
    of its first worksheet. Not `load_workbook`: even in read-only mode it
    opens every sheet by reading it to its end when it has no <dimension>
    (six seconds for 300,000 rows in 50 KB)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.read_manifest()
    reader.read_strings()
    reader.read_workbook()
    apply_stylesheet(reader.archive, reader.wb)  # which numbers are dates
    for _, relation in reader.parser.find_sheets():
        if relation.target in reader.valid_files and "worksheet" in relation.Type:
            return reader, relation.target
    raise ImportRejected(msg("the file is not a readable XLSX workbook"))


def _xlsx_rows(reader: Any, source: Any) -> Iterator[tuple[int, list[str]]]:
    """Each row the sheet holds, with its own number, as wide as its last
    value: the parser streams rows and skips what the sheet leaves out."""
    from openpyxl.worksheet._reader import WorkSheetParser

    workbook = reader.wb
    parser = WorkSheetParser(
        source,
        reader.shared_strings,
        data_only=True,
        epoch=workbook.epoch,
        date_formats=workbook._date_formats,
        timedelta_formats=workbook._timedelta_formats,
    )
    for number, cells in parser.parse():
        if number > MAX_FILE_ROWS:
            raise ImportRejected(msg("the file has rows below row {count}", count=MAX_FILE_ROWS))
        values = {c["column"]: c["value"] for c in cells if c["value"] is not None}
        width = max(values, default=0)
        if width > MAX_COLUMNS:
            raise ImportRejected(
                msg("row {row} has more than {count} columns", row=number, count=MAX_COLUMNS)
            )
        yield number, [_text(values.get(column)) for column in range(1, width + 1)]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _merged(archive: zipfile.ZipFile, path: str) -> tuple[MergedCells, ...]:
    """The sheet's merged cells (read-only mode does not report them): one
    pass over the sheet's XML, rows dropped as soon as they are read."""
    from openpyxl.utils.cell import range_boundaries

    found = []
    with archive.open(path.lstrip("/")) as source:
        # The same XML openpyxl's parser has just read row by row; expat
        # (2.4.1 and later) limits entity expansion, and ElementTree
        # resolves no external entities.
        parsed = ElementTree.iterparse(source, events=("start", "end"))  # noqa: S314
        for event, element in parsed:
            tag = element.tag.rsplit("}", 1)[-1]
            if event == "end" and tag == "row":
                element.clear()
            elif event == "start" and tag == "mergeCell":
                cells = element.get("ref", "")
                try:
                    first_column, first_row, _, last_row = range_boundaries(cells)
                except (ValueError, TypeError):
                    continue
                if None in (first_column, first_row, last_row):
                    continue
                found.append(MergedCells(cells, first_row, last_row, first_column))
                if len(found) >= MAX_MERGED:
                    break
    return tuple(found)
