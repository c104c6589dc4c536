"""Calendars: private subscription feeds, downloads, and the participant's
personal page (reached by its own secret link, not a login)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from app import marks, transactions
from app.certificate_files import certificate_download
from app.downloads import file_response
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, translator
from app.models import Cohort, Participant, Purpose
from app.models.participants import CalendarChoice
from app.public_url import external_url
from app.services import (
    attendance,
    certificates,
    choices,
    personal_links,
    tokens,
    waiting_lists,
)
from app.services import calendars as service
from app.services.calendars import (
    Feed,
    Version,
    cohort_feed,
    cohort_version,
    feed_state,
    participant_feed,
    participant_version,
    render_cached,
    trainer_feed,
    trainer_version,
)
from app.views.access import actor, owned_or_404
from app.views.personal import opened_link, require_working_link

# How a person's dates reach them, in words: what each choice means. The
# feed always shows every session; the choice decides only the invitations
# (docs/calendar-invitations.md).
PARTICIPANT_CALENDAR_CHOICES = (
    (
        CalendarChoice.INVITATIONS.value,
        _l("Invitations by e-mail"),
        _l(
            "Each session comes as an e-mail invitation that your calendar takes over; "
            "when a session moves or is cancelled, an update moves or cancels it there."
        ),
    ),
    (
        CalendarChoice.FEED.value,
        _l("Calendar subscription"),
        _l(
            "Your calendar fetches your sessions itself from the subscription address on "
            "this page; you get no invitations, and changes reach you by e-mail in words."
        ),
    ),
    (
        CalendarChoice.BOTH.value,
        _l("Both"),
        _l(
            "Invitations by e-mail and the subscription; a calendar showing both may show "
            "a session twice, once from each."
        ),
    ),
)
TRAINER_CALENDAR_CHOICES = (
    (
        CalendarChoice.INVITATIONS.value,
        _l("Invitations by e-mail"),
        _l(
            "Each session you train comes as an e-mail invitation that your calendar takes "
            "over; when it moves or is cancelled, an update moves or cancels it there."
        ),
    ),
    (
        CalendarChoice.FEED.value,
        _l("Calendar subscription"),
        _l(
            "Your calendar fetches the sessions you train from your subscription address "
            "(on “My calendar”); you get no invitations, and changes reach you by e-mail "
            "in words."
        ),
    ),
    PARTICIPANT_CALENDAR_CHOICES[2],
)


def _back_to_personal_page(token: str, **_: object) -> str:
    """Where a refusal on the personal page returns to."""
    return url_for("calendars.personal", token=token)


bp = Blueprint("calendars", __name__)


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something: only the CSRF token."""


def _checked_form() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


def _keep_cancelled() -> timedelta:
    return timedelta(days=current_app.config["FEED_KEEP_CANCELLED_DAYS"])


def _calendar(
    version: Version,
    build: Callable[[], Feed],
    tr: Translator,
    *,
    refresh: bool,
    download: bool,
) -> Response:
    """The feed as text/calendar, or 304 when the client's copy is current
    (decided from the fingerprint, without building the feed). Never
    compressed: some Outlook versions fail on gzip-encoded feeds.

    Only the ETag decides. Last-Modified is the newest time among what the
    feed shows, and it does not move when a session leaves a trainer's feed
    or someone enrols again: a 304 on If-Modified-Since alone could keep a
    stale copy, so such a client gets the file. Weak comparison, as RFC 9110
    asks for If-None-Match (a proxy may have weakened the tag)."""
    if request.if_none_match.contains_weak(version.etag):
        response = Response(status=304)
    else:
        rendered = render_cached(version, build, tr, refresh=refresh)
        disposition = "attachment" if download else "inline"
        # The type without its charset: the response adds that itself.
        mimetype = rendered.mimetype.split(";")[0]
        response = file_response(rendered.content, mimetype, rendered.filename, disposition)
    response.set_etag(version.etag)
    response.last_modified = version.last_modified
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _language() -> Translator:
    chosen = request.args.get("lang")
    return Translator(chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE)


@bp.get("/feeds/<token>.ics")
def feed(token: str) -> Response:
    tr, now, keep = _language(), datetime.now(UTC), _keep_cancelled()
    state = feed_state(token, tr.language, now, keep)
    if state is None:
        abort(404)

    def build() -> Feed:
        built = service.build_feed(state.purpose, state.subject_id, tr, now, keep)
        if built is None:
            abort(404)
        return built

    return _calendar(state.version, build, tr, refresh=True, download=False)


# Staff: downloads and their own and their cohorts' feeds.


@bp.get("/cohorts/<int:cohort_id>/calendar.ics")
def cohort_download(cohort_id: int) -> Response:
    cohort = owned_or_404(Cohort, cohort_id)
    tr, now, keep = translator(), datetime.now(UTC), _keep_cancelled()
    version = cohort_version(cohort.id, tr.language, False, now, keep)
    return _calendar(
        version, lambda: cohort_feed(cohort, tr, now, keep), tr, refresh=False, download=True
    )


@bp.post("/cohorts/<int:cohort_id>/feed")
@transactions.web
def cohort_subscribe(cohort_id: int) -> ResponseReturnValue:
    _checked_form()
    cohort, token = service.subscribe_cohort(actor(), cohort_id)
    return render_template(
        "calendars/new_address.html",
        title=cohort.name,
        feed_url=external_url("calendars.feed", token=token),
        back=url_for("cohorts.show", cohort_id=cohort.id),
    )


@bp.post("/cohorts/<int:cohort_id>/feed/revoke")
@transactions.web
def cohort_revoke(cohort_id: int) -> ResponseReturnValue:
    _checked_form()
    cohort = service.end_cohort_feed(actor(), cohort_id)
    flash(translator().gettext("The calendar address no longer works."), "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


@bp.get("/me")
def me() -> str:
    return render_template(
        "calendars/me.html",
        feed=tokens.current(Purpose.TRAINER_FEED, current_user.id),
        form=ActionForm(),
    )


@bp.get("/me/notifications")
def my_notifications() -> str:
    """The staff member's own choices: invitations or a feed, and the digest."""
    return render_template(
        "calendars/my_notifications.html",
        user=current_user,
        calendar_choices=TRAINER_CALENDAR_CHOICES,
        form=ActionForm(),
    )


@bp.post("/me/notifications")
@transactions.web
def my_choices() -> ResponseReturnValue:
    _checked_form()
    chosen = choices.read_user_choices(request.form.get("calendar"), request.form.get("digest"))
    choices.choose_own(actor(), chosen)
    flash(translator().gettext("Your choices are saved."), "success")
    return redirect(url_for("calendars.my_notifications"))


@bp.get("/me/calendar.ics")
def my_download() -> Response:
    tr, now, keep = translator(), datetime.now(UTC), _keep_cancelled()
    user = current_user._get_current_object()
    version = trainer_version(user.id, tr.language, False, now, keep)
    return _calendar(
        version, lambda: trainer_feed(user, tr, now, keep), tr, refresh=False, download=True
    )


@bp.post("/me/feed")
@transactions.web
def my_subscribe() -> ResponseReturnValue:
    _checked_form()
    token = service.subscribe_own(actor())
    return render_template(
        "calendars/new_address.html",
        title=current_user.name,
        feed_url=external_url("calendars.feed", token=token),
        back=url_for("calendars.me"),
    )


@bp.post("/me/feed/revoke")
@transactions.web
def my_revoke() -> ResponseReturnValue:
    _checked_form()
    service.end_own_feed(actor())
    flash(translator().gettext("The calendar address no longer works."), "success")
    return redirect(url_for("calendars.me"))


# The participant's personal page: the secret link is the only key.

# The subscription address just created, shown once on the page the POST
# redirects to (kept in the person's own session cookie until then).
NEW_FEED = "qualiplan.new_feed_address"


# Every address under /p/<token> is refused alike once the link has ended.
bp.before_app_request(require_working_link)


def _participant(token: str) -> Participant:
    return opened_link(token).participant


@bp.get("/p/<token>")
def personal(token: str) -> str:
    found = opened_link(token)
    return _personal_page(token, found, feed_url=_new_feed_address(found.participant))


def _new_feed_address(participant: Participant) -> str | None:
    """The address created by the last subscribe, once; a reload no longer
    shows it (nor creates another)."""
    shown = session.pop(NEW_FEED, None)
    if isinstance(shown, dict) and shown.get("for") == participant.id:
        return str(shown.get("url"))
    return None


def _personal_page(token: str, found: personal_links.Opened, feed_url: str | None) -> str:
    participant = found.participant
    page = service.personal_page(participant, datetime.now(UTC))
    return render_template(
        "calendars/personal.html",
        token=token,
        page=page,
        participant=participant,
        works_until=found.works_until,
        feed_url=feed_url,
        form=ActionForm(),
        mark_words=marks.mark_words(translator()),
        mark_symbols=marks.SYMBOLS,
        calendar_choices=PARTICIPANT_CALENDAR_CHOICES,
        waiting=[(r, waiting_lists.position_of(r)) for r in waiting_lists.lists_of(participant)],
    )


def _opened_as_a_page(token: str) -> ResponseReturnValue | None:
    """A form's address of the personal page opened as a page (a reload, a
    tab the phone reopens, a bookmark) leads back to the page, nothing
    changed; None for the form's own POST."""
    if request.method != "GET":
        return None
    opened_link(token)
    return redirect(url_for("calendars.personal", token=token), 303)


@bp.route("/p/<token>/choices", methods=["GET", "POST"])
@transactions.web(back=_back_to_personal_page)
def personal_choices(token: str) -> ResponseReturnValue:
    """The participant's own choices: invitations or a feed, reminders, language."""
    if (page := _opened_as_a_page(token)) is not None:
        return page
    participant = _participant(token)
    _checked_form()
    chosen = choices.read_participant_choices(
        request.form.get("calendar"), request.form.get("reminders"), request.form.get("language")
    )
    choices.choose_for_participant(participant, chosen)
    flash(translator().gettext("Your choices are saved."), "success")
    return redirect(url_for("calendars.personal", token=token, _anchor="choices-title"))


@bp.get("/p/<token>/calendar.ics")
def personal_download(token: str) -> Response:
    participant = _participant(token)
    tr, now, keep = _language(), datetime.now(UTC), _keep_cancelled()
    version = participant_version(participant.id, tr.language, False, now, keep)
    return _calendar(
        version,
        lambda: participant_feed(participant, tr, now, keep),
        tr,
        refresh=False,
        download=True,
    )


@bp.route("/p/<token>/feed", methods=["GET", "POST"])
@transactions.web(back=_back_to_personal_page)
def personal_subscribe(token: str) -> ResponseReturnValue:
    if (page := _opened_as_a_page(token)) is not None:
        return page
    participant = _participant(token)
    _checked_form()
    feed_token = service.subscribe_participant(participant)
    language = translator().language
    feed_url = external_url("calendars.feed", token=feed_token, lang=language)
    # Post/Redirect/Get: a reload shows the page, not a second address.
    session[NEW_FEED] = {"for": participant.id, "url": feed_url}
    return redirect(url_for("calendars.personal", token=token, _anchor="calendar-title"), 303)


@bp.route("/p/<token>/sessions/<int:session_id>/self-study", methods=["GET", "POST"])
@transactions.web(back=_back_to_personal_page)
def personal_self_study(token: str, session_id: int) -> ResponseReturnValue:
    """The participant marks a self-study phase of their own as done (or not)."""
    if (page := _opened_as_a_page(token)) is not None:
        return page
    participant = _participant(token)
    _checked_form()
    attendance.record_own_self_study(participant, session_id, request.form.get("done") != "0")
    flash(translator().gettext("Noted, thank you."), "success")
    return redirect(url_for("calendars.personal", token=token, _anchor=f"session-{session_id}"))


@bp.get("/p/<token>/certificates/<int:certificate_id>.pdf")
def personal_certificate(token: str, certificate_id: int) -> Response:
    participant = _participant(token)
    return certificate_download(certificates.personal_certificate(participant.id, certificate_id))


@bp.route("/p/<token>/feed/revoke", methods=["GET", "POST"])
@transactions.web(back=_back_to_personal_page)
def personal_revoke(token: str) -> ResponseReturnValue:
    if (page := _opened_as_a_page(token)) is not None:
        return page
    participant = _participant(token)
    _checked_form()
    service.end_participant_feed(participant)
    flash(translator().gettext("The calendar address no longer works."), "success")
    return redirect(url_for("calendars.personal", token=token))
