"""The one participant search of the list page and the API."""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert

from app.models import Organisation, Participant, Role
from app.services import participants
from app.services.policy import Actor


def test_search_is_case_blind_ordered_paged_and_kept_to_the_actors_organisations(db, make):
    mine = make.organisation("Eigene AG")
    other = make.organisation("Andere GmbH")
    hr = Actor.of_user(make.user(Role.HR, [mine]))
    for first, last, email in (
        ("Jana", "Özdemir", "jana@eigene.example"),
        ("Anna", "Berg", "ANNA.BERG@eigene.example"),
        ("Ben", "Berg", "ben@eigene.example"),
        ("Anna", "Berg", "anna2@eigene.example"),
        ("Carl", "Adler", "c@eigene.example"),
    ):
        make.participant(mine, first_name=first, last_name=last, email=email.lower())
    make.participant(other, first_name="Anna", last_name="Berg", email="anna@andere.example")

    items, total = participants.search(hr, "BERG", page=1, per_page=2)
    assert total == 3
    assert [(p.first_name, p.last_name) for p in items] == [("Anna", "Berg"), ("Anna", "Berg")]
    assert items[0].id < items[1].id  # ties by id
    items, total = participants.search(hr, "berg", page=2, per_page=2)
    assert [(p.first_name, p.last_name) for p in items] == [("Ben", "Berg")]
    assert total == 3
    # A page past the last still says how many there are (a stale link).
    assert participants.search(hr, "berg", page=3, per_page=2) == ([], 3)
    items, total = participants.search(
        hr, "berg", page=1, per_page=2, sort=participants.Sort.NAME_DESCENDING
    )
    assert [(p.first_name, p.last_name) for p in items] == [("Ben", "Berg"), ("Anna", "Berg")]
    # E-mail addresses, any case; every word must match somewhere.
    assert [p.email for p in participants.search(hr, "Anna.Berg@")[0]] == [
        "anna.berg@eigene.example"
    ]
    assert [p.first_name for p in participants.search(hr, "anna berg")[0]] == ["Anna", "Anna"]
    assert participants.search(hr, "anna adler") == ([], 0)
    # No query: everyone, by last name.
    items, total = participants.search(hr, "")
    assert total == 5
    assert [p.last_name for p in items][:1] == ["Adler"]
    # A wildcard typed is a character, not a pattern.
    assert participants.search(hr, "%") == ([], 0)
    # Narrowed to one organisation (the API's token has one).
    assert participants.search(hr, "anna", organisation_id=other.id) == ([], 0)
    everyone = Actor.system()
    assert participants.search(everyone, "anna", organisation_id=other.id)[1] == 1


def names(found) -> list[str]:
    return [p.name for p in found[0]]


def test_case_accents_and_umlauts_spelled_out_do_not_count(db, make):
    org = make.organisation()
    hr = Actor.of_user(make.user(Role.HR, [org]))
    for first, last in (
        ("Anna", "Müller"),
        ("Bernd", "Mueller"),
        ("Ömer", "Çelik"),
        ("İlkay", "Yılmaz"),
        ("Jörg", "Strauß"),
        ("Łucja", "Nguyễn"),
    ):
        make.participant(org, first_name=first, last_name=last)

    assert names(participants.search(hr, "muller")) == ["Anna Müller"]
    # In the phone book's order: "Mueller" before "Müller" (read as "Muller").
    assert names(participants.search(hr, "mueller")) == ["Bernd Mueller", "Anna Müller"]
    assert names(participants.search(hr, "MÜLLER")) == ["Bernd Mueller", "Anna Müller"]
    # Typed exactly as written, in any case, or without the marks.
    for query in ("Ömer", "ömer", "omer", "oemer", "Çelik", "celik", "ÇELIK"):
        assert names(participants.search(hr, query)) == ["Ömer Çelik"], query
    for query in ("İlkay", "ilkay", "ILKAY", "Yılmaz", "yilmaz"):
        assert names(participants.search(hr, query)) == ["İlkay Yılmaz"], query
    for query in ("Strauß", "strauss", "STRAUSS", "jorg", "joerg"):
        assert names(participants.search(hr, query)) == ["Jörg Strauß"], query
    assert names(participants.search(hr, "nguyen lucja")) == ["Łucja Nguyễn"]
    # Short words (no trigram to look up) find the same as long ones would.
    assert names(participants.search(hr, "çe")) == ["Ömer Çelik"]
    assert names(participants.search(hr, "ue")) == ["Bernd Mueller", "Anna Müller"]
    # Quotes and wildcards are characters, never syntax.
    for query in ('"', 'mü"ller', "m_ller", "%ller", "NEAR", "*", "mül*", "-muller"):
        assert participants.search(hr, query) == ([], 0), query


def test_the_order_is_the_german_phone_book_s(db, make):
    org = make.organisation()
    hr = Actor.of_user(make.user(Role.HR, [org]))
    for last in ("Kühn", "Zander", "Köhler", "Krüger", "Öztürk", "Oswald", "Abel", "ähm"):
        make.participant(org, first_name="X", last_name=last)
    by_name = [p.last_name for p in participants.search(hr, "")[0]]
    assert by_name == ["Abel", "ähm", "Köhler", "Krüger", "Kühn", "Oswald", "Öztürk", "Zander"]
    backwards = participants.search(hr, "", sort=participants.Sort.NAME_DESCENDING)[0]
    assert [p.last_name for p in backwards] == by_name[::-1]
    newest = participants.search(hr, "", sort=participants.Sort.NEWEST)[0]
    assert [p.last_name for p in newest][0] == "ähm"


def test_filters_narrow_the_list(db, make):
    from app.services.participants import CertificateFilter, Filters

    org = make.organisation("Eigene AG")
    second = make.organisation("Zweite AG")
    hr = Actor.of_user(make.user(Role.HR, [org, second]))
    cohort = make.cohort(org, name="Frühjahr")
    other = make.cohort(org, name="Herbst", start=date(2027, 9, 6))
    anna = make.participant(org, cohort, first_name="Anna", department="IT", site="Ulm")
    ben = make.participant(org, other, first_name="Ben", department="IT", site="Bonn")
    carla = make.participant(org, first_name="Carla", department="Vertrieb", site="Ulm")
    dora = make.participant(second, first_name="Dora", department="IT")
    make.certificate(cohort, anna)

    def found(**given):
        return {p.first_name for p in participants.search(hr, "", filters=Filters(**given))[0]}

    assert found(organisation_id=second.id) == {"Dora"}
    assert found(cohort_id=cohort.id) == {"Anna"}
    assert found(without_cohort=True) == {"Carla", "Dora"}
    assert found(department="IT") == {"Anna", "Ben", "Dora"}
    assert found(department="IT", site="Ulm") == {"Anna"}
    assert found(certificate=CertificateFilter.IN_FORCE) == {"Anna"}
    assert found(certificate=CertificateFilter.NONE) == {"Ben", "Carla", "Dora"}
    assert found(certificate=CertificateFilter.REVOKED) == set()
    assert {ben.id, carla.id} <= set(
        participants.matching_ids(hr, "", Filters(organisation_id=org.id), limit=10)
    )
    assert dora.id not in participants.matching_ids(hr, "", Filters(organisation_id=org.id), 10)

    offered = participants.choices(hr)
    assert offered.departments == ["IT", "Vertrieb"]
    assert offered.sites == ["Bonn", "Ulm"]
    assert [c.name for c in offered.cohorts] == ["Frühjahr", "Herbst"]
    assert [o.name for o in offered.organisations] == ["Eigene AG", "Zweite AG"]


def test_every_way_of_writing_a_person_keeps_the_search_right(db, make):
    """Added on the page, imported in one INSERT, edited, and erased."""
    from app.services import privacy

    org = make.organisation()
    admin = make.user(Role.ADMIN, [org])
    actor = Actor.of_user(admin)
    person = participants.add(
        actor, org.id, {"first_name": "Jürgen", "last_name": "Groß", "email": "jg@example.org"}
    )
    participants.add_participants(
        org,
        [{"first_name": "Özlem", "last_name": "Kaya", "email": "ok@example.org", "site": "Köln"}],
        admin,
    )
    # A bulk load without the model, as the benchmarks' data set is made.
    db.session.execute(
        insert(Participant),
        [
            {
                "organisation_id": org.id,
                "first_name": "Ænne",
                "last_name": "Øster",
                "email": "ae@example.org",
                "department": "",
                "site": "",
                "manager_name": "",
                "manager_email": "",
                "lock_version": 1,
            }
        ],
    )
    db.session.commit()
    assert names(participants.search(actor, "gross")) == ["Jürgen Groß"]
    assert names(participants.search(actor, "aenne oster")) == ["Ænne Øster"]
    assert names(participants.search(actor, "oezlem koeln")) == ["Özlem Kaya"]

    participants.edit(
        actor,
        person.id,
        {"first_name": "Jürgen", "last_name": "Weiß", "email": "jg@example.org"},
        version=person.lock_version,
    )
    db.session.commit()
    assert participants.search(actor, "groß") == ([], 0)
    assert names(participants.search(actor, "weiss")) == ["Jürgen Weiß"]

    privacy.erase(actor, person.id, "Jürgen Weiß")
    db.session.commit()
    assert participants.search(actor, "jurgen") == ([], 0)


def test_the_migration_fills_the_search_for_people_there_are_and_keeps_it_at_the_head(tmp_path):
    """People stored before the search existed are found after the upgrade,
    and people written afterwards too: a later migration that rebuilt the
    table without its index triggers would fail here."""
    from alembic import command
    from flask import current_app
    from sqlalchemy import text

    from app.extensions import db as database
    from tests.conftest import app_for, separate_database

    with separate_database(tmp_path, "search_migration") as url:
        app = app_for(url)
        with app.app_context():
            config = current_app.extensions["migrate"].migrate.get_config()
            command.upgrade(config, "e14_accounts")
            with database.engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO organisations (id, name, default_region, default_timezone, "
                        "created_at) VALUES (1, 'Alt GmbH', 'DE-BW', 'Europe/Berlin', "
                        "'2026-01-02 08:00:00')"
                    )
                )
                for number, (first, last) in enumerate(
                    [("Jörg", "Kühn"), ("Anna", "Köhler"), ("Ömer", "Krüger")] * 700
                ):
                    connection.execute(
                        text(
                            "INSERT INTO participants (organisation_id, first_name, last_name, "
                            "email, department, site, manager_name, manager_email, created_at, "
                            "lock_version) VALUES (1, :first, :last, :email, '', '', '', '', "
                            "'2026-01-02 08:00:00', 1)"
                        ),
                        {"first": first, "last": last, "email": f"p{number}@alt.example"},
                    )
            command.upgrade(config, "head")
            everyone = Actor.system()
            assert participants.search(everyone, "kuehn")[1] == 700
            assert participants.search(everyone, "omer kruger")[1] == 700
            first_page = participants.search(everyone, "", per_page=3)[0]
            assert [p.last_name for p in first_page] == ["Köhler"] * 3
            participants.add_participant(
                database.session.get(Organisation, 1),
                {"first_name": "Zoë", "last_name": "Weiß", "email": "z@alt.example"},
                None,
            )
            database.session.commit()
            assert participants.search(everyone, "zoe weiss")[1] == 1
            database.session.remove()
            command.downgrade(config, "e14_accounts")
            database.engine.dispose()
