"""Planning a cohort for one of several organisations: region and time zone
start as the organisation's and follow the one chosen while left at its
values; the time zone is chosen from a list by city and country; a fork is
named one way and offered, and accepted, for its own client only."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.models import Cohort, CurriculumRecord, Role
from app.services.standards import add_version
from curricula.shipped import shipped, shipped_sources
from tests.web.helpers import log_in, post_form


@pytest.fixture
def two(make, db):
    """A trainer of two organisations in other regions and time zones, and
    a fork of the compact format for the second, its title naming the
    client in short."""
    elbe = make.organisation("Elbe Logistik AG", region="DE-SN")
    neckar = make.organisation("Metallwerke Neckartal GmbH", region="DE-BW")
    elbe.default_timezone = "Europe/Berlin"
    neckar.default_timezone = "Europe/Vienna"
    user = make.user(Role.TRAINER, [elbe, neckar], email="plan@example.org", name="Petra Plan")
    record = CurriculumRecord(key="neckar", organisation=neckar, title_de="x", title_en="x")
    db.session.add(record)
    version = add_version(record, shipped()["compact"], shipped_sources()["compact"])
    record.title_de = "Lernbegleitung kompakt (Metallwerke Neckartal)"
    record.title_en = "Compact learning companions (Metallwerke Neckartal)"
    db.session.commit()
    return {
        "elbe": elbe.id,
        "neckar": neckar.id,
        "standard": make.version("compact").id,
        "fork": version.id,
        "number": version.number,
        "user": user.email,
    }


def form(two, **changes):
    data = {
        "organisation": str(two["elbe"]),
        "version": str(two["standard"]),
        "name": "Test Ulm 01/2027",
        "start": "2027-05-26",
        "region": "DE-SN",
        "timezone": "Europe/Berlin",
        "defaults_of": str(two["elbe"]),
        "delivery": "in_person",
        "venue": "Werk 1",
        "capacity": "20",
        "closures": "",
    }
    data.update(changes)
    return data


def selected(page: str, name: str) -> str:
    select_html = page.split(f'name="{name}"')[1].split("</select>")[0]
    return re.search(r'<option selected value="([^"]*)"', select_html).group(1)


def test_the_form_offers_each_organisations_region_and_time_zone(client, two):
    log_in(client, two["user"])
    page = client.get("/cohorts/new").get_data(as_text=True)
    # The first organisation's values are chosen; each organisation's are named.
    assert (selected(page, "region"), selected(page, "timezone")) == ("DE-SN", "Europe/Berlin")
    assert f'name="defaults_of" type="hidden" value="{two["elbe"]}"' in page
    assert 'data-region="DE-BW" data-timezone="Europe/Vienna"' in page
    assert "Metallwerke Neckartal GmbH: Baden-Württemberg, Wien (Österreich)" in page
    # A time zone is a choice by city and country, the organisations' first.
    zones = page.split('name="timezone"')[1].split("</select>")[0]
    assert "<input" not in zones
    assert zones.index(">Berlin (Deutschland)<") < zones.index(">Wien (Österreich)<")
    assert zones.index(">Wien (Österreich)<") < zones.index(">Zürich (Schweiz)<")
    assert "Africa/Asmera" not in zones  # no old aliases
    assert "America/Buenos_Aires" not in zones
    assert "Buenos Aires (Argentinien)" in zones


def test_region_and_time_zone_left_as_they_were_follow_the_organisation(client, db, two):
    log_in(client, two["user"])
    response = post_form(
        client, "/cohorts/new", form(two, organisation=str(two["neckar"])), follow_redirects=True
    )
    assert "Die Gruppe wurde geplant." in response.get_data(as_text=True)
    cohort = db.session.scalar(select(Cohort))
    assert (cohort.organisation_id, cohort.region, cohort.timezone) == (
        two["neckar"],
        "DE-BW",
        "Europe/Vienna",
    )


def test_a_region_the_planner_chose_stays_and_a_refusal_shows_the_new_values(client, db, two):
    log_in(client, two["user"])
    # Bayern chosen on purpose; the time zone was left: it follows, the region stays.
    refused = post_form(
        client,
        "/cohorts/new",
        form(two, organisation=str(two["neckar"]), region="DE-BY", name=""),
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert (selected(page, "region"), selected(page, "timezone")) == ("DE-BY", "Europe/Vienna")
    # The form now shows the second organisation's values as its own.
    assert f'name="defaults_of" type="hidden" value="{two["neckar"]}"' in page
    assert db.session.scalar(select(func.count(Cohort.id))) == 0


def test_an_unknown_time_zone_is_refused_with_a_sentence(client, db, two):
    log_in(client, two["user"])
    refused = post_form(client, "/cohorts/new", form(two, timezone="Berlin"))
    assert refused.status_code == 400
    error = refused.get_data(as_text=True).split('id="timezone-error">')[1].split("</")[0]
    assert error == "Bitte eine Zeitzone aus der Liste wählen."
    assert db.session.scalar(select(func.count(Cohort.id))) == 0


def test_a_fork_is_named_once_with_its_client_and_its_version(client, two):
    log_in(client, two["user"])
    page = client.get("/cohorts/new").get_data(as_text=True)
    label = f"Lernbegleitung kompakt – für Metallwerke Neckartal GmbH, Version {two['number']}"
    assert f'data-organisation="{two["neckar"]}" value="{two["fork"]}">{label}</option>' in page
    assert f"(v{two['number']})" not in page
    assert "(Metallwerke Neckartal)" not in page
    # The standard is every organisation's.
    assert f'data-organisation="" value="{two["standard"]}"' in page


def test_another_clients_fork_is_refused_with_a_sentence(client, db, two):
    log_in(client, two["user"])
    refused = post_form(client, "/cohorts/new", form(two, version=str(two["fork"])))
    assert refused.status_code == 400
    error = refused.get_data(as_text=True).split('id="version-error">')[1].split("</")[0]
    assert error == (
        "Dieses Curriculum ist die eigene Fassung einer anderen Organisation. "
        "Bitte wählen Sie eines von Elbe Logistik AG oder einen Standard."
    )
    assert db.session.scalar(select(func.count(Cohort.id))) == 0
    # For its own client it is planned.
    done = post_form(
        client,
        "/cohorts/new",
        form(two, organisation=str(two["neckar"]), version=str(two["fork"])),
    )
    assert done.status_code == 302


def test_the_cohort_list_names_the_fork_the_same_way(client, make, db, two):
    log_in(client, two["user"])
    post_form(
        client,
        "/cohorts/new",
        form(two, organisation=str(two["neckar"]), version=str(two["fork"])),
    )
    page = client.get("/cohorts").get_data(as_text=True)
    label = f"Lernbegleitung kompakt – für Metallwerke Neckartal GmbH, Version {two['number']}"
    assert label in page
    assert "(für Metallwerke" not in page
