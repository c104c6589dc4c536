"""The rules of editing a curriculum element by element, without an app:
what a new element looks like, what removing one does to the certificate
rule, the first element on the cohort start, and what a form's texts mean."""

import subprocess
import sys
from dataclasses import replace

import pytest

from curricula import editing
from curricula.editing import EditRefused, ElementInput, UnknownElement
from curricula.loader import CurriculumError
from curricula.model import AtLeast, CertificateRule, Mode, Offset, Span, Text, TimedBlock
from curricula.shipped import shipped

COMPACT = shipped()["compact"]
BLENDED = shipped()["blended"]


def keys(curriculum):
    return [e.key for e in curriculum.elements]


def with_rule(curriculum, **rule):
    return replace(curriculum, certificate=CertificateRule(**rule))


def test_a_new_element_follows_the_last_one_like_it():
    changed = editing.add_element(COMPACT, " practice ", Text("Übung ", "Practice"))
    assert keys(changed) == ["seminar-1", "seminar-2", "reflection", "practice"]
    new, last = changed.element("practice"), COMPACT.element("reflection")
    assert (new.kind, new.mode) == (last.kind, last.mode)
    assert new.title == Text("Übung", "Practice")
    assert new.length == TimedBlock(start=last.length.start, duration=last.length.duration)
    assert str(new.length.start) == "09:00:00"
    assert new.length.hours == 4
    assert changed.element_units(new) == 4  # 3 hours of 45-minute units
    assert new.placement.after == "reflection"
    gap = new.placement.gap
    assert (gap.min, gap.preferred, gap.max) == tuple(map(Offset.parse, ("1w", "2w", "4w")))
    # A new element is not part of the certificate rule until someone says so.
    assert changed.certificate == COMPACT.certificate


def test_after_a_self_paced_element_the_new_one_is_a_phase():
    self_paced = replace(
        BLENDED,
        elements=tuple(e for e in BLENDED.elements if e.key in ("kickoff", "video-1")),
        certificate=CertificateRule(required=("kickoff",)),
    )
    assert self_paced.elements[-1].mode is Mode.SELF_PACED
    changed = editing.add_element(self_paced, "self-study-2", Text("Phase 2", "Phase 2"))
    new = changed.element("self-study-2")
    assert new.mode is Mode.SELF_PACED
    assert new.length == Span(Offset.parse("2w"))
    assert changed.element_units(new) == 4


def test_a_new_element_is_judged_like_a_file():
    with pytest.raises(CurriculumError) as refused:
        editing.add_element(COMPACT, "seminar-1", Text("Noch einer", "Another"))
    [problem] = refused.value.problems
    assert (problem.element, problem.field) == ("seminar-1", "key")
    with pytest.raises(CurriculumError):
        editing.add_element(COMPACT, "Kein Schlüssel", Text("x", "x"))


def test_removing_an_element_takes_it_out_of_the_certificate_rule():
    rule = with_rule(
        COMPACT, required=("seminar-1",), at_least=(AtLeast(1, ("seminar-2", "reflection")),)
    )
    changed = editing.remove_element(rule, "reflection")
    assert keys(changed) == ["seminar-1", "seminar-2"]
    assert changed.certificate.required == ("seminar-1",)
    assert changed.certificate.at_least == (AtLeast(1, ("seminar-2",)),)
    plain = editing.remove_element(COMPACT, "reflection")
    assert plain.certificate.required == ("seminar-1", "seminar-2")


def test_a_group_left_with_nothing_goes_and_one_left_too_small_needs_a_decision():
    emptied = with_rule(COMPACT, required=("seminar-1",), at_least=(AtLeast(1, ("reflection",)),))
    assert editing.remove_element(emptied, "reflection").certificate == CertificateRule(
        required=("seminar-1",)
    )
    both = with_rule(
        COMPACT, required=("seminar-1",), at_least=(AtLeast(2, ("seminar-2", "reflection")),)
    )
    with pytest.raises(EditRefused) as refused:
        editing.remove_element(both, "reflection")
    assert refused.value.code == "needed_by_certificate"
    # The rule names the elements by their titles, never by their keys.
    told = str(refused.value.message)
    assert "at least 2 of Seminar day 2: the companion process, Reflection day" in told
    assert "seminar-2" not in told
    # Nothing would be left to certify: the loader says so.
    only = with_rule(COMPACT, required=("reflection",))
    with pytest.raises(CurriculumError) as nothing:
        editing.remove_element(only, "reflection")
    assert [p.field for p in nothing.value.problems] == ["certificate"]


def test_an_element_others_follow_stays_until_they_are_placed_elsewhere():
    for key, followers in (("seminar-2", "reflection"), ("seminar-1", "seminar-2")):
        with pytest.raises(EditRefused) as refused:
            editing.remove_element(COMPACT, key)
        assert refused.value.code == "element_has_followers"
        told = str(refused.value.message)
        assert COMPACT.element(followers).title.en in told
        assert COMPACT.element(key).title.en in told


def test_the_first_element_stays_on_the_cohort_start():
    with pytest.raises(EditRefused) as down:
        editing.move_element(COMPACT, "seminar-1", "down")
    assert (down.value.code, down.value.element, down.value.field) == (
        "first_on_start",
        "seminar-2",
        "after",
    )
    with pytest.raises(EditRefused):
        editing.move_element(COMPACT, "seminar-2", "up")
    # Further down, the order is free; what an element follows does not change.
    moved = editing.move_element(COMPACT, "reflection", "up")
    assert keys(moved) == ["seminar-1", "reflection", "seminar-2"]
    assert moved.element("reflection").placement == COMPACT.element("reflection").placement
    assert editing.move_element(COMPACT, "reflection", "down") == COMPACT  # at the end it stays


def test_unknown_elements_are_named():
    for edit in (
        lambda: editing.remove_element(COMPACT, "nowhere"),
        lambda: editing.move_element(COMPACT, "nowhere", "up"),
        lambda: editing.change_element(COMPACT, "nowhere", {}),
        lambda: editing.input_of(COMPACT, "nowhere"),
    ):
        with pytest.raises(UnknownElement):
            edit()


def test_only_the_first_element_may_sit_on_the_start():
    assert editing.placement_choices(COMPACT, "seminar-1") == (True, ("seminar-2", "reflection"))
    assert editing.placement_choices(COMPACT, "reflection") == (False, ("seminar-1", "seminar-2"))


def test_a_form_shows_an_element_and_gives_it_back_unchanged():
    for curriculum in (COMPACT, BLENDED):
        for element in curriculum.elements:
            given = editing.input_of(curriculum, element.key)
            values = editing.values_of(given, editing.element_data(curriculum, element.key))
            assert editing.change_element(curriculum, element.key, values) == curriculum


def test_what_follows_from_a_forms_texts():
    current = editing.element_data(COMPACT, "reflection")
    given = replace(
        editing.input_of(COMPACT, "reflection"),
        span=" 2w ",
        gap_min="",
        gap_max=" 4m",
        teaching_units="3,5",
        topics_de="Austausch\n\nNetzwerk\n",
        topics_en="Exchange\nFeedback\n\n",
        counts_for_certificate=False,
    )
    values = editing.values_of(given, current)
    assert values["span"] == "2w"
    assert "start" not in values  # a span is all-day
    assert "duration" not in values
    assert values["gap"] == {"preferred": "8w", "max": "4m"}
    assert values["teaching_units"] == 3.5
    assert "teaching_hours" not in values
    assert values["counts_for_certificate"] is False
    # Line by line the same topic; a line given in one language only is
    # shown in that language to everyone.
    assert values["topics"] == [
        {"de": "Austausch", "en": "Exchange"},
        {"de": "Feedback", "en": "Feedback"},
        {"de": "Netzwerk", "en": "Netzwerk"},
    ]
    assert values["description"] == current["description"]  # not on the form: kept
    # Without `after`, a gap means nothing: the element follows the one before.
    first = editing.values_of(
        ElementInput(kind="seminar_day", mode="either", after="", gap_preferred="2w"),
        {"key": "seminar-1"},
    )
    assert "after" not in first
    assert "gap" not in first
    # A number the form cannot read is left for the loader to name.
    odd = editing.values_of(
        replace(given, teaching_units="vier", counts_for_certificate=True), current
    )
    with pytest.raises(CurriculumError) as refused:
        editing.change_element(COMPACT, "reflection", odd)
    assert [(p.element, p.field) for p in refused.value.problems] == [
        ("reflection", "teaching_units")
    ]


def test_topic_lists_that_do_not_pair_up_are_refused_with_the_other_problems():
    given = editing.input_of(COMPACT, "seminar-1")
    german = given.topics_de.splitlines()
    english = given.topics_en.splitlines()
    assert len(german) == len(english) >= 3
    # A German line deleted: every English topic after it would be paired
    # with the next German one, on certificates.
    deleted = replace(given, topics_de="\n".join(german[:1] + german[2:]), teaching_units="vier")
    with pytest.raises(CurriculumError) as refused:
        editing.change_element_as_given(COMPACT, "seminar-1", deleted)
    found = [(p.element, p.field, str(p.message)) for p in refused.value.problems]
    assert found[0][:2] == ("seminar-1", "teaching_units")  # shown at once
    assert found[1] == (
        "seminar-1",
        "topic.en",
        f"the English list has {len(english)} lines and the German list {len(german) - 1}. "
        "Write one English line for each German topic; an empty line takes the German topic",
    )
    assert len(found) == 2
    for german_text, english_text, counts in (
        ("", "Role", "has one line and the German list no lines."),
        ("Rolle\nNetzwerk", "Role", "has one line and the German list 2."),
        ("Rolle", "Role\nNetwork", "has 2 lines and the German list one line."),
        # Any line break starts a line, in the check as in the pairing.
        ("Rolle", "Role\u2028Network", "has 2 lines and the German list one line."),
        ("Rolle\x85Netzwerk\x85Team", "Role\nNetwork", "has 2 lines and the German list 3."),
    ):
        unpaired = replace(given, topics_de=german_text, topics_en=english_text)
        with pytest.raises(CurriculumError) as refused:
            editing.change_element_as_given(COMPACT, "seminar-1", unpaired)
        [problem] = refused.value.problems
        assert problem.field == "topic.en"
        assert counts in str(problem.message)
    # An English list left empty, or an empty line, is the German text;
    # empty lines at the end are no topics.
    for german_text, english_text in (
        ("Rolle\nNetzwerk\n", ""),
        ("Rolle\nNetzwerk", "Role\n"),
        ("Rolle\r\nNetzwerk\r\n\r\n", "Role\r\nNetwork\r\n"),
    ):
        paired = replace(given, topics_de=german_text, topics_en=english_text)
        changed = editing.change_element_as_given(COMPACT, "seminar-1", paired)
        assert [t.de for t in changed.element("seminar-1").topics] == ["Rolle", "Netzwerk"]
    assert [t.en for t in changed.element("seminar-1").topics] == ["Role", "Network"]
    # Lines broken by a Unicode line separator or a next-line character (as
    # pasted from another program) pair up as the form's own line breaks do.
    for german_text, english_text, english_topics in (
        ("Rolle\nNetzwerk", "Role\u2028Network", ["Role", "Network"]),
        ("Rolle\x85Netzwerk", "Role\nNetwork", ["Role", "Network"]),
        ("Rolle\u2029Netzwerk\n", "Role\x85Network\u2028", ["Role", "Network"]),
        ("Rolle\nNetzwerk", "Role\u2028\n", ["Role", "Netzwerk"]),
    ):
        paired = replace(given, topics_de=german_text, topics_en=english_text)
        changed = editing.change_element_as_given(COMPACT, "seminar-1", paired)
        topics = changed.element("seminar-1").topics
        assert [t.de for t in topics] == ["Rolle", "Netzwerk"], english_text
        assert [t.en for t in topics] == english_topics, english_text


def test_a_form_shows_the_topics_one_language_each():
    given = editing.input_of(COMPACT, "seminar-1")
    assert given.topics_de.splitlines()[0] == "Rollenverständnis: Hilfe zur Selbsthilfe"
    assert given.topics_en.splitlines()[0] == "Understanding the role: help towards self-help"
    assert "|" not in given.topics_de + given.topics_en


def test_a_form_shows_teaching_time_in_the_curriculums_units():
    assert editing.input_of(COMPACT, "seminar-1").teaching_units == "8"
    hourly = replace(COMPACT, unit_minutes=60)
    assert editing.input_of(hourly, "seminar-1").teaching_units == "6"
    longer = replace(COMPACT, unit_minutes=40)
    assert editing.input_of(longer, "seminar-1").teaching_units == "9"
    # A curriculum of long units gets as many as fit into the new half day.
    slow = replace(COMPACT, unit_minutes=120)
    added = editing.add_element(slow, "more", Text("Mehr", "More"))
    assert added.element_units("more") == 2


def test_the_certificate_rule_is_changed_as_a_whole():
    rules = (AtLeast(1, ("seminar-2", "reflection")),)
    changed = editing.change_certificate_rule(
        COMPACT, required=["seminar-1"], at_least=rules, min_hours_share=0.8
    )
    assert changed.certificate == CertificateRule(("seminar-1",), rules, 0.8)
    with pytest.raises(CurriculumError):
        editing.change_certificate_rule(COMPACT, required=["seminar-1", "nowhere"])
    assert editing.certificate_choices(COMPACT) == ("seminar-1", "seminar-2", "reflection")


def test_an_edit_in_the_file_formats_terms_is_judged_by_the_same_rules():
    def first_after_the_last(data):
        data["elements"][0]["after"] = "reflection"

    with pytest.raises(EditRefused):
        editing.changed(COMPACT, first_after_the_last)

    def longer_gap(data):
        data["elements"][2]["gap"]["preferred"] = "10w"

    assert editing.changed(COMPACT, longer_gap).element("reflection").placement.gap.preferred == (
        Offset.parse("10w")
    )


def test_the_rules_of_editing_import_neither_flask_nor_sqlalchemy():
    code = (
        "import sys\n"
        "import curricula.editing, curricula.versions, curricula.writer\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug', 'app'})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
