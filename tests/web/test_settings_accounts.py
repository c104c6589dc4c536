"""The admin invites people and changes their role and organisations in the
settings area; nobody else gets there, and no organisation loses its last
admin."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app import throttle
from app.models import Change, Role, User
from tests.smtp import mail_server
from tests.web.helpers import csrf_token, log_in, post_form

NEW = "a new and long passphrase"


@pytest.fixture(autouse=True)
def fresh_throttle(app):
    throttle.reset(app)
    yield
    throttle.reset(app)


@pytest.fixture
def team(make, db):
    org = make.organisation()
    second = make.organisation("Zweite GmbH")
    other = make.organisation("Andere GmbH")
    admin = make.user(Role.ADMIN, [org, second], email="admin@example.org", name="Ada Admin")
    trainer = make.user(Role.TRAINER, [org], email="t@example.org", name="Tom Trainer")
    hr = make.user(Role.HR, [org], email="hr@example.org", name="Hanna Personal")
    stranger = make.user(Role.ADMIN, [other], email="s@example.org", name="Sara Fremd")
    return SimpleNamespace(
        org=org.id,
        second=second.id,
        other=other.id,
        admin=admin.id,
        trainer=trainer.id,
        hr=hr.id,
        stranger=stranger.id,
    )


def _users(db) -> int:
    return db.session.scalar(select(func.count(User.id)))


def _version(client, user_id: int) -> str:
    page = client.get(f"/settings/users/{user_id}").get_data(as_text=True)
    return re.search(r'name="version" type="hidden" value="([^"]+)"', page).group(1)


def _change(client, user_id: int, role: str, organisations: list[int], version=None, **kwargs):
    data = {
        "role": role,
        "organisations": organisations,
        "version": version or _version(client, user_id),
    }
    return post_form(client, f"/settings/users/{user_id}", data, **kwargs)


@pytest.mark.parametrize("email", ["t@example.org", "hr@example.org"])
def test_nobody_but_an_admin_reaches_the_settings(client, team, email):
    log_in(client, email)
    for page in (
        "/settings",
        "/settings/users",
        "/settings/users/new",
        "/settings/organisations/new",
    ):
        assert client.get(page).status_code == 403, page
    assert client.get(f"/settings/users/{team.trainer}").status_code == 403
    assert client.get(f"/settings/organisations/{team.org}").status_code == 403
    assert client.get(f"/settings/organisations/{team.org}/closures/2027").status_code == 403
    invited = post_form(
        client,
        "/settings/users/new",
        {"name": "X", "email": "x@example.org", "role": "admin", "organisations": [team.org]},
        form_url="/dashboard",
    )
    assert invited.status_code == 403
    made_admin = post_form(
        client,
        f"/settings/users/{team.trainer}",
        {"role": "admin", "organisations": [team.org], "version": "x"},
        form_url="/dashboard",
    )
    assert made_admin.status_code == 403


def test_the_settings_are_linked_for_admins_and_list_their_organisations(client, team):
    log_in(client, "admin@example.org")
    assert 'href="/settings"' in client.get("/dashboard").get_data(as_text=True)
    page = client.get("/settings").get_data(as_text=True)
    assert "<h1>Einstellungen</h1>" in page
    assert "Muster AG" in page
    assert "Zweite GmbH" in page
    assert "Andere GmbH" not in page
    assert f'href="/organisations/{team.org}/privacy"' in page
    assert f'href="/organisations/{team.org}/certificates"' in page
    users = client.get("/settings/users").get_data(as_text=True)
    assert "Tom Trainer" in users
    assert "Sara Fremd" not in users
    assert client.get(f"/settings/users/{team.stranger}").status_code == 404


def test_an_invited_person_sets_their_own_password_from_the_link_shown(app, client, team, db):
    log_in(client, "admin@example.org")
    form = client.get("/settings/users/new").get_data(as_text=True)
    assert "Person einladen" in form
    done = post_form(
        client,
        "/settings/users/new",
        {
            "name": "Nina Neu",
            "email": " Nina.Neu@Example.org ",
            "role": "consultant",
            "organisations": [team.org, team.second],
        },
    )
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert "Nina Neu ist eingeladen" in page
    assert "bitte geben Sie diesen Link selbst an Nina Neu weiter" in page
    assert "MAIL_SERVER" not in page
    link = re.search(r'value="http://localhost(/reset/[A-Za-z0-9_-]+)"', page).group(1)
    user = db.session.scalar(select(User).where(User.email == "nina.neu@example.org"))
    assert (user.name, user.role) == ("Nina Neu", Role.CONSULTANT)
    assert user.organisation_ids == {team.org, team.second}
    actions = db.session.scalars(
        select(Change.action).where(Change.subject == "user", Change.subject_id == user.id)
    ).all()
    assert "account_invited" in actions

    person = app.test_client()
    assert post_form(person, link, {"new_password": NEW, "confirm": NEW}).status_code == 303
    assert log_in(person, "nina.neu@example.org", NEW).status_code == 302


def test_an_invitation_is_sent_by_email_where_mail_is_set_up(app, client, team):
    with mail_server(app) as server:
        handler = server.inbox
        log_in(client, "admin@example.org")
        done = post_form(
            client,
            "/settings/users/new",
            {
                "name": "Nina Neu",
                "email": "nina@example.org",
                "role": "hr",
                "organisations": [team.org],
            },
            follow_redirects=True,
        )
    assert "Nina Neu ist eingeladen: Ein Link" in done.get_data(as_text=True)
    [message] = handler.messages
    assert str(message["Subject"]) == "Ihr Qualiplan-Konto"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "hat Ihnen ein Konto in Qualiplan eingerichtet" in body
    link = re.search(r"http://localhost(/reset/[A-Za-z0-9_-]+)", body).group(1)
    assert app.test_client().get(link).status_code == 200


def test_every_error_of_an_invitation_shows_at_its_field_and_nothing_is_kept(client, team, db):
    log_in(client, "admin@example.org")
    before = _users(db)
    refused = post_form(
        client,
        "/settings/users/new",
        {"name": "Nina\x1bNeu", "email": "T@example.org", "role": "boss", "organisations": []},
    )
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Bitte korrigieren Sie die markierten Felder." in page
    assert 'id="name-error"' in page  # a control character
    assert "Für t@example.org gibt es bereits ein Konto." in page
    assert 'id="role-error"' in page
    assert 'id="organisations-error"' in page
    assert _users(db) == before

    # An organisation of someone else's is not one to choose.
    refused = post_form(
        client,
        "/settings/users/new",
        {"name": "Nina", "email": "nina@example.org", "role": "hr", "organisations": [team.other]},
    )
    assert refused.status_code == 400
    assert 'id="organisations-error"' in refused.get_data(as_text=True)
    assert _users(db) == before


def test_an_admin_changes_role_and_organisations(client, team, db):
    log_in(client, "admin@example.org")
    done = _change(client, team.trainer, "consultant", [team.second], follow_redirects=True)
    assert "Gespeichert." in done.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, team.trainer)
    assert (user.role, user.organisation_ids) == (Role.CONSULTANT, {team.second})
    [change] = db.session.scalars(
        select(Change).where(
            Change.action == "account_changed", Change.organisation_id == team.org
        )
    ).all()
    assert change.before == {"role": "trainer", "organisations": [team.org]}


def test_a_change_saved_in_between_is_not_silently_undone(client, team, db):
    log_in(client, "admin@example.org")
    old = _version(client, team.trainer)
    _change(client, team.trainer, "consultant", [team.org])
    stale = _change(
        client, team.trainer, "hr", [team.org, team.second], old, follow_redirects=True
    )
    assert "Jemand anderes hat das inzwischen geändert" in stale.get_data(as_text=True)
    forged = _change(client, team.trainer, "hr", [team.org], "ä", follow_redirects=True)
    assert "Jemand anderes hat das inzwischen geändert" in forged.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.get(User, team.trainer)
    assert (user.role, user.organisation_ids) == (Role.CONSULTANT, {team.org})


def test_the_last_admin_cannot_demote_themself_or_leave_an_organisation(client, team, db):
    log_in(client, "admin@example.org")
    refused = _change(client, team.admin, "trainer", [team.org, team.second])
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert 'id="role-error"' in text
    assert "Ohne Administration bliebe: Muster AG, Zweite GmbH;" in text
    refused = _change(client, team.admin, "admin", [team.org])
    assert "Ohne Administration bliebe: Zweite GmbH;" in refused.get_data(as_text=True)
    db.session.expire_all()
    admin = db.session.get(User, team.admin)
    assert (admin.role, admin.organisation_ids) == (Role.ADMIN, {team.org, team.second})

    # With a second admin in both, the first may step down.
    _change(client, team.hr, "admin", [team.org, team.second])
    done = _change(client, team.admin, "trainer", [team.org, team.second])
    assert (done.status_code, done.headers["Location"]) == (303, "/dashboard")
    assert client.get("/settings").status_code == 403


def test_deactivating_and_reactivating_on_the_account_page(client, team, db):
    log_in(client, "admin@example.org")
    page = client.get(f"/settings/users/{team.trainer}").get_data(as_text=True)
    assert f'action="/settings/users/{team.trainer}/deactivate"' in page
    token = csrf_token(client, f"/settings/users/{team.trainer}")
    # Without the confirmation the page asks first, and nothing happens.
    asked = client.post(f"/settings/users/{team.trainer}/deactivate", data={"csrf_token": token})
    assert asked.status_code == 200
    assert "Das Konto von Tom Trainer deaktivieren?" in asked.get_data(as_text=True)
    assert db.session.get(User, team.trainer).active is True
    done = client.post(
        f"/settings/users/{team.trainer}/deactivate",
        data={"csrf_token": token, "confirmed": "yes"},
        follow_redirects=True,
    )
    assert "Tom Trainer kann sich nicht mehr anmelden" in done.get_data(as_text=True)
    assert db.session.get(User, team.trainer).active is False
    client.post(f"/settings/users/{team.trainer}/reactivate", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(User, team.trainer).active is True
    # A button without the form's token changes nothing.
    assert client.post(f"/settings/users/{team.trainer}/deactivate").status_code == 400


@pytest.mark.parametrize("email", ["nina@exa\nmple.org", "nina@example.org\x1b"])
def test_an_address_with_a_control_character_is_refused_at_its_field(client, team, db, email):
    log_in(client, "admin@example.org")
    before = _users(db)
    refused = post_form(
        client,
        "/settings/users/new",
        {"name": "Nina", "email": email, "role": "hr", "organisations": [team.org]},
    )
    assert refused.status_code == 400
    assert 'id="email-error"' in refused.get_data(as_text=True)
    assert _users(db) == before
