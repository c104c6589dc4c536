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
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, refusal, translator
from app.models import (
    AttendanceRecord,
    Certificate,
    CertificateState,
    Cohort,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Purpose,
    Session,
    User,
)
from app.services import attendance, tandems, tokens
from app.services import certificates as certificate_service
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
from app.views.access import owned_or_404
from app.views.certificates import certificate_download
from cohorts.eligibility import Mark

bp = Blueprint("calendars", __name__)

FEEDS = frozenset({Purpose.PARTICIPANT_FEED, Purpose.TRAINER_FEED, Purpose.COHORT_FEED})
PAGES = frozenset({Purpose.PERSONAL_PAGE})


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something: only the CSRF token."""


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
        response = Response(rendered.content, mimetype="text/calendar")
        disposition = "attachment" if download else "inline"
        response.headers["Content-Disposition"] = f'{disposition}; filename="{rendered.filename}"'
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
    purpose, subject, version = state.purpose, state.subject_id, state.version
    if purpose is Purpose.PARTICIPANT_FEED:

        def build() -> Feed:
            participant = db.session.get(Participant, subject)
            if participant is None:
                abort(404)
            return participant_feed(participant, tr, now, keep)

    elif purpose is Purpose.TRAINER_FEED:

        def build() -> Feed:
            user = db.session.get(User, subject)
            if user is None or not user.active:
                abort(404)
            return trainer_feed(user, tr, now, keep)

    else:

        def build() -> Feed:
            cohort = db.session.get(Cohort, subject)
            if cohort is None:
                abort(404)
            return cohort_feed(cohort, tr, now, keep)

    return _calendar(version, build, tr, refresh=True, download=False)


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
def cohort_subscribe(cohort_id: int) -> ResponseReturnValue:
    cohort = owned_or_404(Cohort, cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    token = tokens.issue(Purpose.COHORT_FEED, cohort.id, cohort.organisation_id, current_user)
    db.session.commit()
    return render_template(
        "calendars/new_address.html",
        title=cohort.name,
        feed_url=url_for("calendars.feed", token=token, _external=True),
        back=url_for("cohorts.show", cohort_id=cohort.id),
    )


@bp.post("/cohorts/<int:cohort_id>/feed/revoke")
def cohort_revoke(cohort_id: int) -> ResponseReturnValue:
    cohort = owned_or_404(Cohort, cohort_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    tokens.revoke(Purpose.COHORT_FEED, cohort.id)
    db.session.commit()
    flash(translator().gettext("The calendar address no longer works."), "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort.id))


@bp.get("/me")
def me() -> str:
    return render_template(
        "calendars/me.html",
        feed=tokens.current(Purpose.TRAINER_FEED, current_user.id),
        form=ActionForm(),
    )


@bp.get("/me/calendar.ics")
def my_download() -> Response:
    tr, now, keep = translator(), datetime.now(UTC), _keep_cancelled()
    user = current_user._get_current_object()
    version = trainer_version(user.id, tr.language, False, now, keep)
    return _calendar(
        version, lambda: trainer_feed(user, tr, now, keep), tr, refresh=False, download=True
    )


@bp.post("/me/feed")
def my_subscribe() -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    organisation_id = min(current_user.organisation_ids, default=None)
    if organisation_id is None:
        abort(403)
    token = tokens.issue(Purpose.TRAINER_FEED, current_user.id, organisation_id, current_user)
    db.session.commit()
    return render_template(
        "calendars/new_address.html",
        title=current_user.name,
        feed_url=url_for("calendars.feed", token=token, _external=True),
        back=url_for("calendars.me"),
    )


@bp.post("/me/feed/revoke")
def my_revoke() -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        abort(400)
    tokens.revoke(Purpose.TRAINER_FEED, current_user.id)
    db.session.commit()
    flash(translator().gettext("The calendar address no longer works."), "success")
    return redirect(url_for("calendars.me"))


# The participant's personal page: the secret link is the only key.


def _participant(token: str) -> Participant:
    record = tokens.resolve(token, PAGES)
    participant = db.session.get(Participant, record.subject_id) if record else None
    if participant is None:
        abort(404)
    return participant


@bp.get("/p/<token>")
def personal(token: str) -> str:
    return _personal_page(token, _participant(token), feed_url=None)


def _personal_page(token: str, participant: Participant, feed_url: str | None) -> str:
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(
            Enrolment.participant_id == participant.id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
        .options(joinedload(Enrolment.cohort))
    ).all()
    sessions = db.session.scalars(
        select(Session)
        .where(Session.cohort_id.in_([e.cohort_id for e in enrolments]))
        .options(joinedload(Session.element), joinedload(Session.cohort))
        .order_by(Session.first_day, Session.starts_at)
    ).all()
    done = set(
        db.session.scalars(
            select(AttendanceRecord.session_id).where(
                AttendanceRecord.participant_id == participant.id,
                AttendanceRecord.mark == Mark.DONE,
            )
        )
    )
    return render_template(
        "calendars/personal.html",
        token=token,
        participant=participant,
        sessions=sessions,
        done=done,
        today=datetime.now(UTC).date(),
        cohorts=[e.cohort for e in enrolments],
        partners=tandems.partners(participant.id),
        feed=tokens.current(Purpose.PARTICIPANT_FEED, participant.id),
        feed_url=feed_url,
        certificates=certificate_service.of_participant(participant.id),
        form=ActionForm(),
    )


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


@bp.post("/p/<token>/feed")
def personal_subscribe(token: str) -> ResponseReturnValue:
    participant = _participant(token)
    if not ActionForm().validate_on_submit():
        abort(400)
    feed_token = tokens.issue(
        Purpose.PARTICIPANT_FEED, participant.id, participant.organisation_id, None
    )
    db.session.commit()
    language = translator().language
    feed_url = url_for("calendars.feed", token=feed_token, lang=language, _external=True)
    return _personal_page(token, participant, feed_url=feed_url)


@bp.post("/p/<token>/sessions/<int:session_id>/self-study")
def personal_self_study(token: str, session_id: int) -> ResponseReturnValue:
    """The participant marks a self-study phase of their own as done (or not)."""
    participant = _participant(token)
    session = db.session.get(Session, session_id)
    enrolled = session is not None and db.session.scalar(
        select(Enrolment.id).where(
            Enrolment.participant_id == participant.id,
            Enrolment.cohort_id == session.cohort_id,
            Enrolment.status == EnrolmentStatus.ENROLLED,
        )
    )
    if session is None or not enrolled or not session.all_day:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    tr = translator()
    if session.first_day > datetime.now(UTC).date():
        flash(refusal(tr.gettext("This phase has not started yet.")), "error")
    else:
        mark = Mark.NOT_DONE if request.form.get("done") == "0" else Mark.DONE
        attendance.set_mark(session, participant, mark, None)
        db.session.commit()
        flash(tr.gettext("Noted, thank you."), "success")
    return redirect(url_for("calendars.personal", token=token, _anchor=f"session-{session.id}"))


@bp.get("/p/<token>/certificates/<int:certificate_id>.pdf")
def personal_certificate(token: str, certificate_id: int) -> Response:
    participant = _participant(token)
    certificate = db.session.get(Certificate, certificate_id)
    if (
        certificate is None
        or certificate.participant_id != participant.id
        or certificate.state is not CertificateState.VALID
    ):
        abort(404)
    return certificate_download(certificate)


@bp.post("/p/<token>/feed/revoke")
def personal_revoke(token: str) -> ResponseReturnValue:
    participant = _participant(token)
    if not ActionForm().validate_on_submit():
        abort(400)
    tokens.revoke(Purpose.PARTICIPANT_FEED, participant.id)
    db.session.commit()
    flash(translator().gettext("The calendar address no longer works."), "success")
    return redirect(url_for("calendars.personal", token=token))
