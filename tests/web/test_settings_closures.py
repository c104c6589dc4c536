"""Closure days over sessions already planned warn, naming the cohorts and
sessions (which keep their dates); several days go in one step, ticked or
as the range they were added as."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from app.models import ClosureDay, CohortState, Role
from tests.web.helpers import csrf_token, log_in, post_form


def _days(db, organisation_id: int) -> list[date]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(ClosureDay.day)
            .where(ClosureDay.organisation_id == organisation_id)
            .order_by(ClosureDay.day)
        )
    )


def test_closure_days_over_planned_sessions_name_the_cohorts(client, make, db):
    org = make.organisation()
    make.user(Role.ADMIN, [org], email="admin@example.org")
    cohort = make.cohort(org, start=date(2027, 5, 3), name="Kompakt Ulm 05/2027")
    first = cohort.sessions[0]
    gone = make.cohort(org, start=date(2027, 5, 3), name="Abgesagt 05/2027")
    gone.state = CohortState.CANCELLED
    db.session.commit()
    cohort_id, session_id, day = cohort.id, first.id, first.first_day
    org_id = org.id
    log_in(client, "admin@example.org")
    url = f"/settings/organisations/{org_id}/closures/2027"
    done = post_form(
        client,
        url,
        {"first": day.isoformat(), "last": "", "reason": "Inventur"},
        follow_redirects=True,
    )
    page = done.get_data(as_text=True)
    assert "1 Schließtag wurde eingetragen." in page
    assert "1 geplante Gruppe hat Termine an diesen Tagen; sie behält ihre Daten." in page
    warning = page.split('id="touched"')[1].split("</section>")[0]
    assert f'<a href="/cohorts/{cohort_id}">Kompakt Ulm 05/2027</a>' in warning
    assert f'href="/cohorts/{cohort_id}#session-{session_id}"' in warning
    assert "Auf der Seite einer Gruppe lässt sie sich neu planen" in warning
    assert "Abgesagt 05/2027" not in warning
    # The cohort keeps its dates.
    db.session.expire_all()
    assert db.session.get(type(first), session_id).first_day == day


def test_a_range_added_together_is_removed_in_one_step(client, make, db):
    org = make.organisation()
    make.user(Role.ADMIN, [org], email="admin@example.org")
    org_id = org.id
    log_in(client, "admin@example.org")
    url = f"/settings/organisations/{org_id}/closures/2027"
    post_form(client, url, {"first": "03.05.2027", "last": "07.05.2027", "reason": "Inventur"})
    post_form(client, url, {"first": "24.12.2027", "reason": "Ruhe"})
    page = client.get(url).get_data(as_text=True)
    assert 'id="touched"' not in page  # no cohort, no warning
    button = re.search(r'<button[^>]*name="range" value="([\d,]+)">([^<]*)</button>', page)
    assert button.group(2) == "03.05.2027–07.05.2027 entfernen"
    done = client.post(
        f"{url}/remove",
        data={"csrf_token": csrf_token(client, url), "range": button.group(1)},
        follow_redirects=True,
    )
    assert "5 Tage sind keine Schließtage mehr." in done.get_data(as_text=True)
    assert _days(db, org_id) == [date(2027, 12, 24)]


def test_ticked_days_are_removed_together_and_nothing_ticked_is_said(client, make, db):
    org = make.organisation()
    other = make.organisation("Andere GmbH")
    make.user(Role.ADMIN, [org], email="admin@example.org")
    theirs = ClosureDay(organisation=other, day=date(2027, 5, 5), reason="Fremd")
    db.session.add(theirs)
    db.session.commit()
    org_id, other_id, theirs_id = org.id, other.id, theirs.id
    log_in(client, "admin@example.org")
    url = f"/settings/organisations/{org_id}/closures/2027"
    for day in ("06.01.2027", "01.06.2027", "24.12.2027"):
        post_form(client, url, {"first": day, "reason": ""})
    page = client.get(url).get_data(as_text=True)
    ids = re.findall(r'name="days" value="(\d+)"', page)
    assert len(ids) == 3
    token = csrf_token(client, url)
    done = client.post(
        f"{url}/remove", data={"csrf_token": token, "days": ids[:2]}, follow_redirects=True
    )
    assert "2 Tage sind keine Schließtage mehr." in done.get_data(as_text=True)
    assert _days(db, org_id) == [date(2027, 12, 24)]
    empty = client.post(f"{url}/remove", data={"csrf_token": token}, follow_redirects=True)
    assert "Kreuzen Sie zuerst die Schließtage an" in empty.get_data(as_text=True)
    # Another organisation's day among them: nothing is removed.
    refused = client.post(f"{url}/remove", data={"csrf_token": token, "days": [ids[2], theirs_id]})
    assert refused.status_code == 404
    assert _days(db, org_id) == [date(2027, 12, 24)]
    assert _days(db, other_id) == [date(2027, 5, 5)]
