"""Every text a person can see has a German translation with the same placeholders."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).parents[2]
CATALOG = ROOT / "app" / "translations" / "de" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {
    "_": None,
    "_l": None,
    "gettext": None,
    "lazy_gettext": None,
    "ngettext": (1, 2),
    "msg": None,
}
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")


def source_messages() -> set[str]:
    found: set[str] = set()
    for folder, method in (
        ("app", "python"),
        ("curricula", "python"),
        ("cohorts", "python"),
        ("app/templates", "jinja2"),
    ):
        pattern = "**.html" if method == "jinja2" else "**.py"
        for _, _, message, _, _ in extract_from_dir(
            ROOT / folder, method_map=[(pattern, method)], keywords=KEYWORDS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_source_text_is_in_the_german_catalog():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id)
        for m in catalog
        if m.id and m.string and not m.fuzzy and all(m.string)
    }
    missing = sorted(source_messages() - translated)
    assert missing == [], "run `make update-translations` and translate these"


def test_translations_keep_their_placeholders():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(set(PLACEHOLDER.findall(ids[-1])))
        for index, string in enumerate(strings):
            found = sorted(set(PLACEHOLDER.findall(string)))
            if index == 0 and len(ids) > 1:
                # The singular may leave the count out, as its English does
                # ("leaves the session" for one).
                assert set(PLACEHOLDER.findall(ids[0])) <= set(found) <= set(expected), message.id
            else:
                assert found == expected, message.id
