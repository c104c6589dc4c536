"""The cohorts the participants list offers (filter, bulk form, pasted list):
drawn by the view, escaped, the chosen one selected where it was before,
each select named by its label; the filter also offers cohorts that are
over, apart, to find who was in them."""

import re
from datetime import date

from app.models import Cohort, CohortState, Organisation, Role
from tests.web.helpers import log_in


def _select(page: str, select_id: str) -> str:
    found = re.search(rf'<select id="{select_id}" name="cohort">(.*?)</select>', page, re.S)
    assert found, select_id
    return found.group(1)


def _options(html: str) -> list[tuple[str, bool, str]]:
    return [
        (value, bool(selected), label)
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', html
        )
    ]


def test_cohorts_are_offered_escaped_with_the_chosen_one_selected(client, make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    odd = make.cohort(org, name='<b>Nord & "Süd"</b>', start=date(2027, 3, 1))
    plain = make.cohort(org, name="Gruppe West", start=date(2027, 4, 5))
    closed = make.cohort(org, name="Vorbei", start=date(2025, 3, 3))
    closed.state = CohortState.COMPLETED
    db.session.commit()
    make.participant(org, odd, first_name="Anna")
    odd_id, plain_id, closed_id, org_id = odd.id, plain.id, closed.id, org.id
    log_in(client, "hr@example.org")

    page = client.get("/participants").get_data(as_text=True)
    assert "<b>Nord" not in page
    escaped = "&lt;b&gt;Nord &amp; &#34;Süd&#34;&lt;/b&gt; (01.03.2027)"
    assert _options(_select(page, "cohort")) == [
        ("", True, "Beliebig oder keine"),
        ("none", False, "In keiner geplanten oder laufenden Gruppe"),
        (str(odd_id), False, escaped),
        (str(plain_id), False, "Gruppe West (05.04.2027)"),
        (str(closed_id), False, "Vorbei (03.03.2025)"),
    ]
    groups = re.findall(
        r'<optgroup label="([^"]+)">(.*?)</optgroup>', _select(page, "cohort"), re.S
    )
    assert [(label, len(_options(html))) for label, html in groups] == [
        ("Geplant und laufend", 2),
        ("Abgeschlossen oder abgesagt", 1),
    ]
    for select_id in ("bulk-cohort", "paste-cohort"):
        assert _options(_select(page, select_id)) == [
            ("", False, "Gruppe wählen (zum Einschreiben oder Austragen)"),
            (str(odd_id), False, escaped),
            (str(plain_id), False, "Gruppe West (05.04.2027)"),
        ]
    for select_id in ("cohort", "bulk-cohort", "paste-cohort"):
        assert f'<label for="{select_id}">' in page

    # The list narrowed to a cohort: the filter and the bulk form preselect
    # it, the pasted list's form does not.
    page = client.get(f"/participants?cohort={odd_id}").get_data(as_text=True)
    chosen = [(v, s) for v, s, _ in _options(_select(page, "cohort"))]
    assert chosen == [
        ("", False),
        ("none", False),
        (str(odd_id), True),
        (str(plain_id), False),
        (str(closed_id), False),
    ]
    chosen = [(v, s) for v, s, _ in _options(_select(page, "bulk-cohort"))]
    assert chosen == [("", False), (str(odd_id), True), (str(plain_id), False)]
    assert not any(s for _, s, _ in _options(_select(page, "paste-cohort")))

    # A cohort that is over can be chosen in the filter (never for enrolling:
    # the bulk form's lists above do not hold it) and finds who was in it.
    make.participant(
        db.session.get(Organisation, org_id),
        db.session.get(Cohort, closed_id),
        first_name="Vera",
        last_name="Vorbei",
    )
    page = client.get(f"/participants?cohort={closed_id}").get_data(as_text=True)
    assert (str(closed_id), True, "Vorbei (03.03.2025)") in _options(_select(page, "cohort"))
    assert re.findall(r">(\w+), (\w+)</a>", page) == [("Vorbei", "Vera")]
    assert str(closed_id) not in [v for v, _, _ in _options(_select(page, "bulk-cohort"))]
