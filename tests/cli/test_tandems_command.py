"""`qualiplan tandems` as a consultant uses it: CSV files in, tandems out."""

import json

import pytest

PEOPLE = """id,name,department,site,manager
p1,Anna Albers,Einkauf,Stuttgart,
p2,Ben Bauer,Einkauf,Stuttgart,p1
p3,Cem Çelik,Vertrieb,Stuttgart,
p4,Dora Dietz,Technik,Ulm,
p5,Emil Engel,Vertrieb,Ulm,
"""


@pytest.fixture
def files(tmp_path):
    def write(name: str, text: str, encoding: str = "utf-8") -> str:
        path = tmp_path / name
        path.write_text(text, encoding=encoding)
        return str(path)

    return write


def tandems_of(out: str) -> list[list[str]]:
    return sorted(sorted(t["members"]) for t in json.loads(out)["tandems"])


def test_json_lists_every_person_once_with_reasons(qualiplan, files):
    result = qualiplan("tandems", "--people", files("people.csv", PEOPLE), "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    members = [m for t in data["tandems"] for m in t["members"]]
    assert sorted(members) == ["p1", "p2", "p3", "p4", "p5"]
    assert sorted(len(t["members"]) for t in data["tandems"]) == [2, 3]
    # Ben reports to Anna: never a tandem.
    assert not any({"p1", "p2"} <= set(t["members"]) for t in data["tandems"])
    assert all("verschiedene Abteilungen" in t["reasons"] for t in data["tandems"])
    assert all(isinstance(t["score"], int) for t in data["tandems"])
    assert data["warnings"] == []


def test_a_table_for_people_in_english(qualiplan, files):
    result = qualiplan("tandems", "--people", files("people.csv", PEOPLE), "--lang", "en")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("Tandem 1 · score ")
    assert "Cem Çelik (p3)" in result.out
    assert "different departments" in result.out
    assert lines[-1].startswith("Total score: ")


def test_history_and_not_together_are_respected(qualiplan, files):
    people = files("people.csv", PEOPLE + "p6,Finn Fuchs,Technik,Stuttgart,\n")
    free = tandems_of(qualiplan("tandems", "--people", people, "--format", "json").out)
    # Forbid every pair of the free result: the next answer must differ everywhere.
    rows = [(a, b) for tandem in free for i, a in enumerate(tandem) for b in tandem[i + 1 :]]
    history = files("history.csv", "a;b\n" + "".join(f"{a};{b}\n" for a, b in rows[:1]))
    apart = files("apart.csv", "a,b\n" + "".join(f"{a},{b}\n" for a, b in rows[1:]))
    args = ("--history", history, "--not-together", apart, "--format", "json")
    result = qualiplan("tandems", "--people", people, *args)
    assert result.code == 0, result.err
    for tandem in tandems_of(result.out):
        assert not any({a, b} <= set(tandem) for a, b in rows)


def test_the_same_files_give_the_same_tandems_and_a_seed_another_good_one(qualiplan, files):
    people = files("people.csv", PEOPLE)
    once = qualiplan("tandems", "--people", people, "--format", "json").out
    assert qualiplan("tandems", "--people", people, "--format", "json").out == once
    seeded = [
        qualiplan("tandems", "--people", people, "--seed", str(s), "--format", "json").out
        for s in (1, 1, 2)
    ]
    assert seeded[0] == seeded[1]

    def total(out: str) -> int:
        return sum(t["score"] for t in json.loads(out)["tandems"])

    assert total(seeded[2]) == total(once)


def test_excel_files_with_semicolons_and_a_byte_order_mark(qualiplan, files):
    text = PEOPLE.replace(",", ";")
    people = files("people.csv", "\ufeff" + text)
    result = qualiplan("tandems", "--people", people, "--format", "json")
    assert result.code == 0, result.err
    assert len(tandems_of(result.out)) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name,site\nAnna,x\nBen,y\n", "die erste Zeile muss die Spalten"),
        (PEOPLE + "p6,Finn Fuchs,Technik\n", "Zeile 7: 3 Felder, die Kopfzeile hat aber 5"),
        (PEOPLE + ",Finn Fuchs,Technik,Ulm,\n", "Zeile 7: id ist leer"),
        (PEOPLE + "p3,Finn Fuchs,Technik,Ulm,\n", "Zeile 7: die id p3 steht schon in Zeile 4"),
        ("id,name\np1,Anna\n", "Tandems brauchen mindestens zwei Personen"),
    ],
)
def test_bad_people_files_name_the_row(qualiplan, files, text, expected):
    people = files("people.csv", text)
    result = qualiplan("tandems", "--people", people)
    assert result.code == 2
    assert expected in result.err
    assert "people.csv" in result.err
    assert result.out == ""


@pytest.mark.parametrize(
    ("option", "text", "expected"),
    [
        ("--not-together", "a,b\np1,p9\n", "Zeile 2: p9 steht nicht in der Personendatei"),
        ("--not-together", "a,b\np1,p1\n", "Zeile 2: p1 ist mit sich selbst gepaart"),
        ("--history", "a,b\np1,\n", "Zeile 2: b ist leer"),
        ("--history", "x,y\np1,p2\n", "die erste Zeile muss die Spalten a, b nennen"),
    ],
)
def test_bad_pair_files_name_the_row(qualiplan, files, option, text, expected):
    people = files("people.csv", PEOPLE)
    result = qualiplan("tandems", "--people", people, option, files("pairs.csv", text))
    assert result.code == 2
    assert expected in result.err


def test_history_may_name_people_of_earlier_cohorts(qualiplan, files):
    people = files("people.csv", PEOPLE)
    history = files("history.csv", "a,b\np1,x42\n")
    assert qualiplan("tandems", "--people", people, "--history", history).code == 0


def test_missing_and_unreadable_files(qualiplan, files, tmp_path):
    assert "--people fehlt" in qualiplan("tandems").err
    missing = qualiplan("tandems", "--people", str(tmp_path / "nope.csv"))
    assert missing.code == 2
    assert "nope.csv: Datei nicht gefunden" in missing.err
    latin = files("latin.csv", PEOPLE, encoding="latin-1")
    assert "keine UTF-8-Textdatei" in qualiplan("tandems", "--people", latin).err
    bad_format = qualiplan("tandems", "--people", files("p.csv", PEOPLE), "--format", "xml")
    assert "--format: „xml“ ist kein Format" in bad_format.err


def test_when_nobody_can_be_placed_the_error_says_who(qualiplan, files):
    people = files("people.csv", "id,name,manager\nboss,Bettina Boss,\nemp,Emil Emp,boss\n")
    result = qualiplan("tandems", "--people", people)
    assert result.code == 1
    assert "Bettina Boss" in result.err
    assert "lässt sich nicht zuordnen" in result.err
    assert "Traceback" not in result.err
