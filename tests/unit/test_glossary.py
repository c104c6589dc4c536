"""The German catalog keeps to docs/glossary.md where it went wrong before:
one verb, one meaning, and no technical text where people read."""

from __future__ import annotations

import re
from functools import cache

import pytest
from babel.messages.pofile import read_po

from tests.unit.test_translations import CATALOG


@cache
def entries() -> tuple[tuple[str, str], ...]:
    """(English, German) of every translated text; plural forms one by one."""
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    found = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        english = " / ".join(ids)
        found.extend((english, german) for german in strings if german)
    return tuple(found)


def offenders(german: str, english: str | None = None) -> list[tuple[str, str]]:
    """Entries whose German matches `german` while their English does not
    match `english` (None: any use of the German is wrong)."""
    words, allowed = re.compile(german), re.compile(english, re.IGNORECASE) if english else None
    return [
        (en, de)
        for en, de in entries()
        if words.search(de) and (allowed is None or not allowed.search(en))
    ]


def test_the_catalog_is_read():
    assert len(entries()) > 500


def test_abmelden_is_only_logging_out():
    # Withdrawing a participant is "austragen".
    assert offenders(r"(?i)\babmeld|\babgemeldet", r"log(ged|ging)? out|sign(ed)? out") == []


def test_anmelden_is_only_logging_in():
    # Enrolling is "einschreiben"; "Anmeldungen" of an account are its sessions.
    assert (
        offenders(
            r"(?i)\banmeld|\bangemeldet",
            r"log(ged|ging)? ?in|sign(ed)? in|\bsessions?\b.*(device|elsewhere|account|API)",
        )
        == []
    )


def test_absagen_is_only_cancelling_a_cohort_or_a_session():
    # A preview, a proposal or a form is discarded or left: "Verwerfen", "Abbrechen".
    assert offenders(r"(?i)\babsag|\babgesagt", r"cancel|^Keep the (cohort|session)$") == []
    plain_cancel = [de for en, de in entries() if en == "Cancel"]
    assert plain_cancel in ([], ["Abbrechen"])


@pytest.mark.parametrize(
    ("word", "instead"),
    [
        (r"(?i)fixiert", "festgehalten"),
        (r"(?i)kohorte", "Gruppe"),
        (r"Trainer/in|TrainerIn", "Trainer:in"),
        (r"(?i)einlogg|ausgelogg|\blogin\b|\blogout\b", "anmelden / abmelden"),
        (r"API-Token", "API-Schlüssel"),
        (r"(?i)\bTeilnehmer\b", "Teilnehmende"),
        (r"(?i)lehrplan", "Curriculum"),
    ],
)
def test_one_word_for_one_thing(word, instead):
    assert offenders(word) == [], f"the glossary says {instead}"


def test_teaching_hours_are_not_called_unterrichtsstunden():
    # A German Unterrichtsstunde is a 45-minute lesson; only certificates
    # issued before teaching units existed keep the word, so a reprint reads
    # as issued.
    assert (
        offenders(
            r"Unterrichtsstunde",
            r"^(from %\(first\)s to %\(last\)s, )?with %\(hours\)s teaching hours\.$",
        )
        == []
    )


# Read by whoever runs the server, at the command line, where the names of
# settings are what helps.
FOR_OPERATORS = re.compile(
    r"^(SECRET_KEY is not set"
    r"|QUALIPLAN_PUBLIC_URL is not set: links in the e-mails this worker sends"
    r"|unexpected failure \(%\(kind\)s\); nothing was changed\. Set QUALIPLAN_DEBUG)"
)


@pytest.mark.parametrize(
    ("technical", "what"),
    [
        (r"`", "backticks"),
        (r"\b[A-Z]+_[A-Z_]+\b", "configuration names such as MAIL_SERVER"),
        (r"\bqualiplan [a-z]", "command lines"),
        (r"\b\d{4}-\d{2}-\d{2}\b", "ISO dates"),
        (r"Traceback|Exception\b|\bNone\b", "program internals"),
    ],
)
def test_no_technical_text_where_people_read(technical, what):
    found = [(en, de) for en, de in offenders(technical) if not FOR_OPERATORS.search(en)]
    assert found == [], f"no {what} in German texts"


def test_flash_messages_and_refusals_in_german_are_whole_sentences_too():
    # An English text that ends with a full stop ends with one in German.
    broken = [
        (en, de)
        for en, de in entries()
        if en.rstrip().endswith(".")
        and not en.endswith("...")
        and not de.rstrip().endswith((".", "!", "?", ":", "…"))
    ]
    assert broken == []
