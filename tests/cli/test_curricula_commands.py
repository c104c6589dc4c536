from pathlib import Path

SHIPPED = Path(__file__).parents[2] / "curricula" / "definitions"


def test_list_shows_key_version_length_and_title(qualiplan):
    result = qualiplan("curricula", "list", "--lang", "en")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].split() == ["Key", "Version", "Length", "Title"]
    assert lines[1].startswith("blended  2        about 7 months  Learning companion, blended")
    assert lines[2].startswith("compact  2        about 8 weeks   Learning companion, compact")


def test_list_in_german(qualiplan):
    result = qualiplan("curricula", "list")
    assert "etwa 7 Monate" in result.out
    assert "Lernbegleitung kompakt" in result.out


def test_check_a_valid_file(qualiplan):
    result = qualiplan("curricula", "check", str(SHIPPED / "blended.toml"), "--lang", "en")
    assert result.code == 0
    assert result.out.splitlines() == [
        f"{SHIPPED / 'blended.toml'} is valid: blended version 2, Learning companion, blended: "
        "seven months of in-person, video and webinar",
        "7 elements, 26 teaching units, about 7 months",
    ]


def test_check_a_broken_file(qualiplan, tmp_path):
    path = tmp_path / "format.toml"
    path.write_text(
        'key = "format"\nversion = 1\ntitle = { de = "F", en = "F" }\n'
        '[[elements]]\nkey = "a"\nkind = "webinar"\ntitle = { de = "A", en = "A" }\n'
        'mode = "online"\nspan = "2w"\nstart = "10:00"\n',
        encoding="utf-8",
    )
    result = qualiplan("curricula", "check", str(path), "--lang", "en")
    assert result.code == 2
    assert result.out == ""
    assert result.err == (
        "Error: format.toml, element 'a', field 'span': a span lasts whole days and has no "
        "time of day; remove start/duration or the span\n"
    )


def test_check_names_the_toml_line(qualiplan, tmp_path):
    path = tmp_path / "format.toml"
    path.write_text('key = "format"\nversion = 1\ntitle = {\n', encoding="utf-8")
    result = qualiplan("curricula", "check", str(path))
    assert result.code == 2
    assert result.err.startswith("Fehler: format.toml: ungültiges TOML:")
    assert "line 3" in result.err


def test_an_unsupported_language(qualiplan):
    result = qualiplan("curricula", "list", "--lang", "fr")
    assert result.code == 2
    assert (
        result.err == "Fehler: --lang: „fr“ ist keine unterstützte Sprache; verwenden Sie de, en\n"
    )


def test_help_works(qualiplan):
    result = qualiplan("schedule", "--help")
    assert result.code == 0
    assert "--curriculum KEY_OR_FILE" in result.out
