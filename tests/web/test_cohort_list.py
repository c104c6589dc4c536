"""The cohort list: every cohort of the user's organisations in any state,
found by name, filtered and sorted through the address, a page at a time;
a bad value in the address never breaks the page."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta
from html.parser import HTMLParser

import pytest

from app.models import CohortState, Enrolment, EnrolmentStatus, Participant, Role, Session
from app.services import curricula as workbench
from tests.web.helpers import log_in


class ListPage(HTMLParser):
    """What a reader of the cohort list sees: the rows of its table (cell
    texts by column label), notices, the summary and the page links."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.headers: list[str] = []
        self.notices: list[str] = []
        self.summary = ""
        self.caption = ""
        self.pages: list[tuple[str, str, bool]] = []  # text, href, current
        self.labels: dict[str, str] = {}  # control id -> label text
        self.controls: list[str] = []  # ids of the filter form's controls
        self._text: list[str] | None = None
        self._into: tuple[str, ...] = ()
        self._label_for: str | None = None
        self._in_table = self._in_body = self._in_pages = False
        self._link: tuple[str, bool] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "table" and "cohorts" in classes:
            self._in_table = True
        elif tag == "nav" and "pages" in classes:
            self._in_pages = True
        elif tag == "tbody" and self._in_table:
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self.rows.append({})
        elif tag == "td" and self._in_table:
            self._start("cell", a["data-label"])
        elif tag == "th" and self._in_table:
            self._start("header")
        elif tag == "caption":
            self._start("caption")
        elif tag == "p" and "notice" in classes:
            self._start("notice")
        elif tag == "p" and "summary" in classes:
            self._start("summary")
        elif tag == "label":
            self._label_for = a.get("for")
            self._start("label")
        elif tag in {"input", "select"} and a.get("id", "").startswith(("cohort-", "state-")):
            self.controls.append(a["id"])
        elif tag == "a" and self._in_pages:
            self._link = (a["href"], a.get("aria-current") == "page")
            self._start("page")

    def _start(self, kind: str, *detail: str) -> None:
        self._text, self._into = [], (kind, *detail)

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_table = self._in_body = False
        elif tag == "nav":
            self._in_pages = False
        if self._text is None or tag not in {"td", "th", "caption", "p", "label", "a"}:
            return
        kind, text = self._into[0], " ".join("".join(self._text).split())
        if kind == "cell" and tag == "td":
            self.rows[-1][self._into[1]] = text
        elif kind == "header" and tag == "th":
            self.headers.append(text)
        elif kind == "caption" and tag == "caption":
            self.caption = text
        elif kind == "notice" and tag == "p":
            self.notices.append(text)
        elif kind == "summary" and tag == "p":
            self.summary = text
        elif kind == "label" and tag == "label":
            self.labels[self._label_for or ""] = text
        elif kind == "page" and tag == "a" and self._link:
            self.pages.append((text, *self._link))
        else:
            return
        self._text = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)

    def names(self) -> list[str]:
        return [row["Gruppe"] for row in self.rows]


def listed(client, url: str = "/cohorts", status: int = 200) -> ListPage:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)
    page = ListPage()
    page.feed(response.get_data(as_text=True))
    return page


def set_state(db, cohort, state: CohortState) -> None:
    cohort.state = state
    db.session.commit()


def enrol(db, cohort, count: int, withdrawn: int = 0) -> None:
    for n in range(count + withdrawn):
        person = Participant(
            organisation_id=cohort.organisation_id,
            first_name="P",
            last_name=f"{cohort.id}-{n}",
            email=f"c{cohort.id}-{n}@example.org",
        )
        status = EnrolmentStatus.ENROLLED if n < count else EnrolmentStatus.WITHDRAWN
        db.session.add_all([person, Enrolment(cohort=cohort, participant=person, status=status)])
    db.session.commit()


@pytest.fixture
def world(make, db):
    """Two organisations; the HR clerk and the trainer work in the first,
    the admin in both."""
    ours = make.organisation("Metallwerke Neckartal GmbH", region="DE-BW")
    theirs = make.organisation("Elbe Logistik AG", region="DE-SN")
    trainer = make.user(
        Role.TRAINER, [ours], email="trainerin@example.org", name="Theresa Albrecht"
    )
    other = make.user(
        Role.TRAINER, [ours, theirs], email="trainer@example.org", name="Tobias Brandt"
    )
    make.user(Role.HR, [ours], email="hr@example.org", name="Helga Roth")
    make.user(Role.ADMIN, [ours, theirs], email="admin@example.org", name="Andrea Admin")
    done = make.cohort(
        ours,
        start=date(2024, 3, 4),
        region="DE-BW",
        name="Kompakt Esslingen 03/2024",
        trainers=[trainer],
        capacity=24,
    )
    set_state(db, done, CohortState.COMPLETED)
    enrol(db, done, 20, withdrawn=2)
    cancelled = make.cohort(
        ours,
        key="blended",
        start=date(2025, 9, 1),
        region="DE-BY",
        name="Blended Augsburg",
        trainers=[other],
    )
    set_state(db, cancelled, CohortState.CANCELLED)
    make.cohort(
        ours,
        start=date(2027, 3, 1),
        region="DE-BW",
        name="Kompakt Ulm 03/2027",
        trainers=[trainer],
    )
    elsewhere = make.cohort(
        theirs, start=date(2027, 4, 5), region="DE-SN", name="Kompakt Leipzig", trainers=[other]
    )
    found = {
        "ours": ours,
        "theirs": theirs,
        "trainer": trainer,
        "other": other,
        "done": done,
        "cancelled": cancelled,
        "elsewhere": elsewhere,
    }
    # Requests end the test's session: their ids are read while it lasts.
    found["ids"] = {name: record.id for name, record in found.items()}
    found["ids"]["blended"] = cancelled.version.curriculum_id
    return found


def test_completed_and_cancelled_cohorts_are_listed_with_what_a_planner_needs(client, world):
    log_in(client, "hr@example.org")
    page = listed(client)
    assert sorted(page.names()) == [
        "Blended Augsburg",
        "Kompakt Esslingen 03/2024",
        "Kompakt Ulm 03/2027",
    ]
    row = next(r for r in page.rows if r["Gruppe"] == "Kompakt Esslingen 03/2024")
    assert row["Status"] == "abgeschlossen"
    assert re.fullmatch(r"Lernbegleitung kompakt.*, Version 2", row["Curriculum"]), row
    assert row["Zeitraum"].startswith("04.03.2024 – ")
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} – \d\d\.\d\d\.\d{4}", row["Zeitraum"])
    assert row["Trainer:innen"] == "Theresa Albrecht"
    # Withdrawn people do not count; the capacity is shown beside.
    assert row["Teilnehmende"] == "20 von 24"
    cancelled = next(r for r in page.rows if r["Gruppe"] == "Blended Augsburg")
    assert cancelled["Status"] == "abgesagt"
    assert cancelled["Teilnehmende"] == "0"
    # The HR clerk works in one organisation: no column for it.
    assert "Organisation" not in page.headers
    assert page.summary == "3 Gruppen"


def test_an_admin_sees_every_organisation_of_theirs_with_its_name(client, world):
    log_in(client, "admin@example.org")
    page = listed(client)
    assert "Kompakt Leipzig" in page.names()
    assert "Organisation" in page.headers
    assert {r["Organisation"] for r in page.rows} == {
        "Metallwerke Neckartal GmbH",
        "Elbe Logistik AG",
    }
    theirs = world["ids"]["theirs"]
    assert listed(client, f"/cohorts?organisation={theirs}").names() == ["Kompakt Leipzig"]
    assert listed(client, "/cohorts?sort=organisation").rows[0]["Organisation"] == (
        "Elbe Logistik AG"
    )


def test_the_list_shows_only_the_organisations_of_the_user(client, world):
    log_in(client, "hr@example.org")
    assert "Kompakt Leipzig" not in listed(client).names()
    theirs = world["ids"]["theirs"]
    page = listed(client, f"/cohorts?organisation={theirs}&q=Leipzig")
    # Another organisation's number reads like one that does not exist, and
    # reveals nothing: the filter is left out.
    assert page.notices == [
        f"Eine Organisation „{theirs}“ gibt es hier nicht; die Liste zeigt alle Organisationen."
    ]
    assert page.names() == []
    # A trainer who works for both shows with the cohorts of this one only.
    page = listed(client, f"/cohorts?trainer={world['ids']['other']}")
    assert page.names() == ["Blended Augsburg"]


def test_search_ignores_case_accents_and_umlaut_spelling(client, make, db, world):
    ours = world["ours"]
    for name in ("Müller-Werk Süd", "Çelik Schicht", "İlkay Gruppe", "Straße 5"):
        make.cohort(ours, name=name, start=date(2026, 5, 4))
    log_in(client, "hr@example.org")
    for query in ("müller", "MÜLLER", "mueller", "Mueller", "muller", "sued", "SÜD"):
        assert listed(client, f"/cohorts?q={query}").names() == ["Müller-Werk Süd"], query
    decomposed = unicodedata.normalize("NFD", "Müller")
    assert listed(client, f"/cohorts?q={decomposed}").names() == ["Müller-Werk Süd"]
    assert listed(client, "/cohorts?q=Çelik").names() == ["Çelik Schicht"]
    assert listed(client, "/cohorts?q=çelik").names() == ["Çelik Schicht"]
    assert listed(client, "/cohorts?q=celik").names() == ["Çelik Schicht"]
    assert listed(client, "/cohorts?q=İlkay").names() == ["İlkay Gruppe"]
    assert listed(client, "/cohorts?q=ilkay").names() == ["İlkay Gruppe"]
    assert listed(client, "/cohorts?q=strasse").names() == ["Straße 5"]
    # Every word must occur, in any order.
    assert listed(client, "/cohorts?q=2027 ulm").names() == ["Kompakt Ulm 03/2027"]
    page = listed(client, "/cohorts?q=nirgendwo")
    assert page.names() == []
    assert page.summary == "0 Gruppen"


def test_filters_narrow_the_list_and_counts_show_each_state(client, make, db, world):
    log_in(client, "hr@example.org")
    page = listed(client, "/cohorts?state=completed&state=cancelled")
    assert sorted(page.names()) == ["Blended Augsburg", "Kompakt Esslingen 03/2024"]
    # The counts beside the states ignore the state filter, but no other.
    assert page.labels["state-planned"] == "geplant (1)"
    assert page.labels["state-completed"] == "abgeschlossen (1)"
    assert page.labels["state-cancelled"] == "abgesagt (1)"
    assert page.labels["state-running"] == "laufend (0)"
    assert listed(client, "/cohorts?region=DE-BY").names() == ["Blended Augsburg"]
    trainer = world["ids"]["trainer"]
    assert sorted(listed(client, f"/cohorts?trainer={trainer}").names()) == [
        "Kompakt Esslingen 03/2024",
        "Kompakt Ulm 03/2027",
    ]
    blended = world["ids"]["blended"]
    assert listed(client, f"/cohorts?curriculum={blended}").names() == ["Blended Augsburg"]
    page = listed(client, f"/cohorts?curriculum={blended}&state=planned")
    assert page.names() == []
    assert page.labels["state-cancelled"] == "abgesagt (1)"


def test_a_year_holds_every_cohort_that_runs_in_it(client, db, world):
    done = world["done"]
    last_day = max(s.last_day for s in done.sessions)
    assert last_day.year == 2024
    log_in(client, "hr@example.org")
    assert listed(client, "/cohorts?year=2024").names() == ["Kompakt Esslingen 03/2024"]
    # A session moved into the next year makes the cohort one of that year too.
    session = db.session.get(Session, done.sessions[-1].id)
    session.first_day = session.last_day = date(2025, 1, 14)
    db.session.commit()
    assert "Kompakt Esslingen 03/2024" in listed(client, "/cohorts?year=2025").names()
    # A year without cohorts is a fair question with an empty answer.
    page = listed(client, "/cohorts?year=2031")
    assert page.names() == []
    assert page.notices == []


def test_a_trainer_stands_in_for_one_session_and_finds_the_cohort(client, db, world):
    """The trainer filter also finds cohorts where the person teaches only a
    session (a stand-in), so a trainer's own list is complete."""
    elsewhere = world["elsewhere"]
    session = db.session.get(Session, elsewhere.sessions[0].id)
    session.trainers = [world["trainer"]]
    db.session.commit()
    log_in(client, "admin@example.org")
    names = listed(client, f"/cohorts?trainer={world['ids']['trainer']}").names()
    assert "Kompakt Leipzig" in names


def test_sorting_by_each_column_in_both_directions(client, make, db, world):
    ours = world["ours"]
    for name in ("Kühn", "Köhler", "Krüger", "Zander", "adler"):
        make.cohort(ours, name=name, start=date(2026, 6, 1))
    log_in(client, "hr@example.org")
    names = listed(client, "/cohorts?sort=name&q=k").names()
    # German order: ö as o, ü as u (not after z, as by code point).
    assert [n for n in names if len(n) < 8] == ["Köhler", "Krüger", "Kühn"]
    page = listed(client, "/cohorts?sort=name")
    assert page.names()[0] == "adler"
    assert page.names()[-1] == "Zander"
    assert listed(client, "/cohorts?sort=-name").names()[0] == "Zander"
    by_state = listed(client, "/cohorts?sort=state").rows
    assert [r["Status"] for r in by_state][-2:] == ["abgeschlossen", "abgesagt"]
    assert listed(client, "/cohorts?sort=-state").rows[0]["Status"] == "abgesagt"
    assert listed(client, "/cohorts?sort=-participants").names()[0] == "Kompakt Esslingen 03/2024"
    assert listed(client, "/cohorts?sort=participants").names()[-1] == "Kompakt Esslingen 03/2024"
    starts = listed(client, "/cohorts?sort=start").names()
    assert starts[0] == "Kompakt Esslingen 03/2024"
    assert starts[-1] == "Kompakt Ulm 03/2027"
    assert listed(client, "/cohorts?sort=-start").names()[0] == "Kompakt Ulm 03/2027"
    page = listed(client, "/cohorts?sort=-start")
    assert page.caption == "Gruppen in der Reihenfolge: Beginn, späteste zuerst"


def test_by_default_what_is_to_come_comes_first_then_the_most_recent(client, make, db, world):
    ours = world["ours"]
    for name, start in (
        ("Reihe 2019", date(2019, 2, 4)),
        ("Reihe 2045", date(2045, 3, 6)),
        ("Reihe laufend", date.today() - timedelta(days=7)),
        ("Reihe 2021", date(2021, 2, 1)),
        ("Reihe 2040", date(2040, 3, 5)),
    ):
        make.cohort(ours, name=name, start=start)
    log_in(client, "hr@example.org")
    assert listed(client, "/cohorts?q=reihe").names() == [
        "Reihe laufend",
        "Reihe 2040",
        "Reihe 2045",
        "Reihe 2021",
        "Reihe 2019",
    ]


def test_pages_of_25_with_counts_and_links_that_keep_the_filters(client, make, db, world):
    ours = world["ours"]
    for number in range(60):
        make.cohort(ours, name=f"Serie {number:02d}", start=date(2026, 1, 5))
    log_in(client, "hr@example.org")
    first = listed(client, "/cohorts?q=serie&sort=name")
    assert first.summary == "60 Gruppen, Seite 1 von 3"
    assert first.names()[0] == "Serie 00"
    assert len(first.names()) == 25
    current = [text for text, _, is_current in first.pages if is_current]
    assert current == ["1"]
    hrefs = {text: href for text, href, _ in first.pages}
    assert set(hrefs) == {"1", "2", "3", "Nächste Seite"}
    assert "q=serie" in hrefs["2"]
    assert "sort=name" in hrefs["2"]
    assert "page=2" in hrefs["2"]
    last = listed(client, hrefs["3"].replace("&amp;", "&"))
    assert last.summary == "60 Gruppen, Seite 3 von 3"
    assert last.names() == [f"Serie {n}" for n in range(50, 60)]
    assert [text for text, _, is_current in last.pages if is_current] == ["3"]
    assert "Vorige Seite" in {text for text, _, _ in last.pages}


def test_a_page_beyond_the_last_answers_404_with_a_way_back(client, world):
    log_in(client, "hr@example.org")
    response = client.get("/cohorts?page=99999&state=planned")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Eine Seite 99.999 gibt es nicht: Die Liste hat 1 Seite." in body
    assert 'href="/cohorts?state=planned"' in body  # the last page, page 1


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("state=bogus", "Den Status „bogus“ gibt es nicht; er bleibt unberücksichtigt."),
        ("year=abc", "„abc“ ist keine Jahreszahl; die Liste zeigt alle Jahre."),
        ("year=99999", "„99999“ ist keine Jahreszahl; die Liste zeigt alle Jahre."),
        ("page=-1", "Eine Seite „-1“ gibt es nicht; dies ist Seite 1."),
        ("page=0", "Eine Seite „0“ gibt es nicht; dies ist Seite 1."),
        ("page=zwei", "Eine Seite „zwei“ gibt es nicht; dies ist Seite 1."),
        ("page=1e3", "Eine Seite „1e3“ gibt es nicht; dies ist Seite 1."),
        (
            "sort=price",
            "Nach „price“ lässt sich die Liste nicht sortieren; sie zeigt laufende "
            "und kommende Gruppen zuerst.",
        ),
        (
            "organisation=x",
            "Eine Organisation „x“ gibt es hier nicht; die Liste zeigt alle Organisationen.",
        ),
        (
            "curriculum=999999",
            "Keine Gruppe hier folgt dem Curriculum „999999“; die Liste zeigt alle Curricula.",
        ),
        (
            "trainer=%C2%B2",
            "Keine Gruppe hier hat die Trainerin oder den Trainer „²“; die Liste "
            "zeigt alle Trainer:innen.",
        ),
        (
            "region=XX-YY",
            "Keine Gruppe hier liegt in der Region „XX-YY“; die Liste zeigt alle Regionen.",
        ),
    ],
)
def test_a_bad_value_in_the_address_is_left_out_with_a_notice(client, world, query, notice):
    log_in(client, "hr@example.org")
    page = listed(client, f"/cohorts?{query}")
    assert page.notices == [notice]
    assert len(page.names()) == 3  # the rest of the list as without the value


def test_many_bad_values_at_once_and_odd_text_never_break_the_list(client, world):
    log_in(client, "hr@example.org")
    page = listed(client, "/cohorts?state=&state=planned&state=x&page=&year=&q=%25_&sort=")
    assert page.names() == []  # % and _ are letters to search for, not patterns
    assert len(page.notices) == 1
    # No field takes a NUL character: the app's rule for every request.
    assert client.get("/cohorts?q=%00").status_code == 400
    long = "a" * 5000
    assert listed(client, f"/cohorts?q={long}&region={long}").names() == []
    assert listed(client, "/cohorts?q=%25").names() == []  # % is a letter to search for


def test_a_fork_is_named_with_its_client(client, make, db, world):
    ours = world["ours"]
    record = workbench.fork(make.version("compact"), ours, None)
    draft = workbench.draft_of(record)
    version = workbench.publish(draft, None, expected_version=draft.lock_version)
    db.session.commit()
    make.cohort(ours, name="Eigene Fassung", version=version, start=date(2026, 2, 2))
    log_in(client, "hr@example.org")
    row = listed(client, "/cohorts?q=eigene").rows[0]
    assert row["Curriculum"].endswith(" – für Metallwerke Neckartal GmbH, Version 1"), row


def test_every_filter_has_a_label_and_the_table_its_caption(client, world):
    log_in(client, "admin@example.org")
    page = listed(client)
    assert page.controls
    assert all(page.labels.get(c) for c in page.controls), page.labels
    assert set(page.controls) >= {
        "cohort-q",
        "cohort-organisation",
        "cohort-curriculum",
        "cohort-trainer",
        "cohort-year",
        "cohort-region",
        "cohort-sort",
    }
    assert page.caption.startswith("Gruppen in der Reihenfolge:")
    body = client.get("/cohorts").get_data(as_text=True)
    assert 'role="search"' in body
    assert body.count('<th scope="col"') == len(page.headers) == 7


def test_the_list_is_linked_from_the_navigation_and_the_overview(client, world):
    log_in(client, "trainerin@example.org")
    dashboard = client.get("/dashboard").get_data(as_text=True)
    nav = dashboard.split('<nav class="main"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/cohorts">Gruppen</a>' in nav
    main = dashboard.split("<main", 1)[1]
    assert 'href="/cohorts">Alle Gruppen, auch abgeschlossene und abgesagte</a>' in main


def test_a_trainer_finds_their_own_cohorts_in_one_step(client, world):
    log_in(client, "trainerin@example.org")
    body = client.get("/cohorts").get_data(as_text=True)
    mine = f'href="/cohorts?trainer={world["ids"]["trainer"]}">Meine Gruppen</a>'
    assert mine in body


def test_english_dates_and_words(client, world):
    log_in(client, "hr@example.org")
    page = listed(client, "/cohorts?lang=en&q=esslingen")
    assert page.summary == "1 cohort"
    row = page.rows[0]
    assert row["Dates"].startswith("4 Mar 2024 – ")
    assert row["Participants"] == "20 of 24"
    assert row["State"] == "completed"


def test_the_list_needs_a_login(client, world):
    response = client.get("/cohorts")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
