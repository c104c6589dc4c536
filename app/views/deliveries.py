"""The delivery log: what Qualiplan sent to the people of a cohort and to
one person, and what became of it, so that "I never got it" can be
answered; a failed message can be sent again."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from app import transactions
from app.extensions import db
from app.i18n import translator
from app.lists import page_numbers
from app.models import Delivery, Notification
from app.schema import utcnow
from app.services import delivery_log
from app.services.delivery_log import LogPage, Shown
from app.views.access import actor

bp = Blueprint("deliveries", __name__)


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something: only the CSRF token."""


# What a message is, in words, by its kind (app.notices) and, for plain
# messages, by its key (app.services.announcements: "text:change:…").
KIND_WORDS = {
    "invitation": _l("Invitation"),
    "cancellation": _l("Cancellation"),
    "reminder": _l("Reminder"),
    "digest": _l("Weekly digest"),
}
CHANGED = _l("Change notice")
# An invitation that updates one sent before: a changed session.
UPDATES = frozenset({"moved", "details", "restored"})
# What a calendar message did when it was about the person, not the session.
PERSONAL = {
    "feed_chosen": _l("Change of calendar choice"),
    "invitations_chosen": _l("Change of calendar choice"),
    "withdrawn": _l("Withdrawal"),
}
KEY_WORDS = (("text:change:", CHANGED), ("text:link", _l("Personal link")))

STATE_WORDS = {
    Delivery.QUEUED: _l("queued"),
    Delivery.SENDING: _l("being sent"),
    Delivery.SENT: _l("sent"),
    Delivery.FAILED: _l("failed"),
}

FILTER_WORDS = {
    Shown.ALL: _l("All"),
    Shown.WAITING: _l("Queued"),
    Shown.SENT: _l("Sent"),
    Shown.FAILED: _l("Failed"),
}


def _shown() -> Shown:
    """The state filter from the address; a value not offered shows all."""
    try:
        return Shown(request.args.get("state", ""))
    except ValueError:
        return Shown.ALL


def _page() -> int:
    text = request.args.get("page", "")
    return int(text) if text.isdigit() and len(text) < 9 else 1


def _render(log: LogPage, **context: object) -> str:
    return render_template(
        "deliveries/log.html",
        log=log,
        page_numbers=page_numbers(log.page, log.pages),
        filters=FILTER_WORDS,
        form=ActionForm(),
        **context,
    )


@bp.get("/cohorts/<int:cohort_id>/notifications")
def cohort(cohort_id: int) -> str:
    found, log = delivery_log.cohort_log(actor(), cohort_id, shown=_shown(), page=_page())
    return _render(
        log,
        title=translator().gettext("Notifications of %(cohort)s", cohort=found.name),
        back=(url_for("cohorts.show", cohort_id=found.id), found.name),
        here="deliveries.cohort",
        here_args={"cohort_id": found.id},
        scope="cohort",
    )


@bp.get("/participants/<int:participant_id>/notifications")
def person(participant_id: int) -> str:
    found, log = delivery_log.person_log(actor(), participant_id, shown=_shown(), page=_page())
    return _render(
        log,
        title=translator().gettext("Notifications to %(name)s", name=found.name),
        back=(url_for("participants.edit", participant_id=found.id), found.name),
        here="deliveries.person",
        here_args={"participant_id": found.id},
        scope="person",
    )


@bp.get("/settings/users/<int:user_id>/notifications")
def account(user_id: int) -> str:
    found, log = delivery_log.account_log(actor(), user_id, shown=_shown(), page=_page())
    return _render(
        log,
        title=translator().gettext("Notifications to %(name)s", name=found.name),
        back=(url_for("settings.user", user_id=found.id), found.name),
        here="deliveries.account",
        here_args={"user_id": found.id},
        scope="account",
    )


def _log_of(notification: Notification | None, wanted: str | None) -> str:
    """The log the send-again button was on: the person's or the cohort's."""
    if notification is None:
        return url_for("dashboard.index")
    if notification.user_id is not None and (
        wanted == "account" or notification.cohort_id is None
    ):
        return url_for("deliveries.account", user_id=notification.user_id)
    if notification.participant_id is not None and (
        wanted == "person" or notification.cohort_id is None
    ):
        return url_for("deliveries.person", participant_id=notification.participant_id)
    if notification.cohort_id is not None:
        return url_for("deliveries.cohort", cohort_id=notification.cohort_id)
    return url_for("dashboard.index")


def _back_to_log(notification_id: int, **_: object) -> str:
    """Where a refusal returns to when the browser sent no page of ours:
    the log the message is in (a message of another organisation is not
    found before this is asked)."""
    return _log_of(db.session.get(Notification, notification_id), request.form.get("from"))


@bp.post("/notifications/<int:notification_id>/again")
@transactions.web(back=_back_to_log)
def send_again(notification_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    copy = delivery_log.send_again(actor(), notification_id)
    flash(
        translator().gettext("The message is queued again for %(address)s.", address=copy.address),
        "success",
    )
    return redirect(_log_of(copy, request.form.get("from")))


# The words of the log, for the cohort's and the person's page too.


@bp.app_template_global("delivery_kind")
def kind_words(notification: Notification) -> str:
    kind, payload = notification.kind, notification.payload or {}
    change = payload.get("change")
    what = change.get("what") if isinstance(change, dict) else None
    if kind in ("invitation", "cancellation") and what in PERSONAL:
        return str(PERSONAL[what])
    if kind == "invitation" and what in UPDATES:
        return str(CHANGED)
    if kind in KIND_WORDS:
        return str(KIND_WORDS[kind])
    for start, words in KEY_WORDS:
        if notification.key.startswith(start):
            return str(words)
    return str(_l("Message"))


@bp.app_template_global("delivery_subject")
def subject_of(notification: Notification) -> str:
    """The subject as sent, or as recorded for a plain message not sent yet."""
    if notification.subject:
        return notification.subject
    subject = (notification.payload or {}).get("subject")
    return subject if isinstance(subject, str) else ""


@bp.app_template_global("delivery_state")
def state_words(state: Delivery) -> str:
    return str(STATE_WORDS[state])


@bp.app_template_global("delivery_later")
def due_later(notification: Notification) -> bool:
    """Whether a message waits for its moment (a reminder), not for the worker."""
    return notification.due_at > utcnow()


CHOICE_WORDS = {
    "invitations": _l("Invitations by e-mail"),
    "feed": _l("Calendar subscription"),
    "both": _l("Both"),
}


@bp.app_template_global("calendar_choice_words")
def choice_words(value: str) -> str:
    """A person's calendar choice as their personal page names it."""
    return str(CHOICE_WORDS.get(value, value))
