"""Download names (RFC 6266 / RFC 8187): an ASCII fallback every client can
read, the real name in `filename*`, and nothing a header or a file system
could trip over."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from app.downloads import content_disposition, file_response


def parts(header: str) -> tuple[str, str, str | None]:
    """(disposition, fallback, decoded UTF-8 name or None)."""
    disposition, _, rest = header.partition("; ")
    assert rest.startswith('filename="')
    fallback, _, extended = rest[len('filename="') :].partition('"')
    if not extended:
        return disposition, fallback, None
    prefix = "; filename*=UTF-8''"
    assert extended.startswith(prefix)
    return disposition, fallback, unquote(extended[len(prefix) :], encoding="utf-8")


@pytest.mark.parametrize(
    "name",
    ["Zertifikat 00001 Anna Albers.pdf", "Certificates Kompakt-Esslingen.zip", "Sample.pdf"],
)
def test_an_ascii_name_is_sent_as_it_is(name):
    assert content_disposition(name) == f'attachment; filename="{name}"'
    assert content_disposition(name, "inline") == f'inline; filename="{name}"'


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("Zertifikat 00001 Jörg Yılmaz.pdf", "Zertifikat 00001 Joerg Yilmaz.pdf"),
        ("Müßig Ärger Übel.pdf", "Muessig Aerger Uebel.pdf"),
        ("İpek Işık.pdf", "Ipek Isik.pdf"),
        ("Łukasz Wiśniewski Świętosław.pdf", "Lukasz Wisniewski Swietoslaw.pdf"),
        ("Zoë Øvergaard.pdf", "Zoe Overgaard.pdf"),
    ],
)
def test_a_name_outside_ascii_gets_a_spelled_out_fallback_and_its_utf8_form(name, fallback):
    header = content_disposition(name)
    assert header.isascii()
    assert parts(header) == ("attachment", fallback, name)
    assert header == (
        f"attachment; filename=\"{fallback}\"; filename*=UTF-8''"
        + "".join(c if c.isascii() and c.isalnum() or c in ".-_~" else _pct(c) for c in name)
    )


def _pct(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))


def test_a_script_the_fallback_cannot_spell_keeps_the_extension():
    assert parts(content_disposition("山田 太郎.pdf")) == (
        "attachment",
        "download.pdf",
        "山田 太郎.pdf",
    )


@pytest.mark.parametrize(
    "name",
    [
        'O"Brien.pdf',
        'Anna"; filename="evil.exe',
        "Anna\r\nSet-Cookie: session=stolen.pdf",
        "Ben\nBauer.pdf",
        "../../etc/passwd",
        "..\\..\\Windows\\win.ini",
        "Jörg/Yılmaz\\x.pdf",
        "\x00\x07tab\there.pdf",
    ],
)
def test_quotes_line_breaks_and_path_separators_are_made_safe(name):
    header = content_disposition(name)
    assert header.isascii()
    assert not any(c in header for c in "\r\n\x00\x07\t\\/")
    disposition, fallback, full = parts(header)
    assert disposition == "attachment"
    for shown in (fallback, full or ""):
        assert '"' not in shown
        assert "/" not in shown
        assert "\\" not in shown
        assert not any(ord(c) < 32 for c in shown)
    assert header.count('"') == 2  # only the fallback's own quotes


def test_an_empty_name_still_names_a_file():
    assert content_disposition("") == 'attachment; filename="download"'


def test_a_file_response_carries_the_header(app):
    with app.test_request_context():
        response = file_response(b"%PDF-1.4", "application/pdf", "Jörg Yılmaz.pdf")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == content_disposition("Jörg Yılmaz.pdf")
    assert response.get_data() == b"%PDF-1.4"
    # What a WSGI server must be able to send.
    response.headers["Content-Disposition"].encode("latin-1")
