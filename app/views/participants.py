"""Participants: list, create, edit, enrol, withdraw, import and export."""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta

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
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError
from wtforms.fields.choices import SelectChoice

from app.exports.participants import render_participants
from app.extensions import db
from app.forms.participants import (
    EnrolForm,
    MappingForm,
    ParticipantForm,
    UploadForm,
    WithdrawForm,
)
from app.forms.privacy import EraseForm
from app.i18n import translator
from app.mail import MailNotSent
from app.models import (
    Cohort,
    CohortState,
    Enrolment,
    EnrolmentStatus,
    Organisation,
    Participant,
    Purpose,
)
from app.services import certificates, tandems, tokens
from app.services.enrolments import EnrolmentError, enrol, withdraw
from app.services.participant_import import (
    FIELDS,
    ImportRejected,
    check,
    import_rows,
    propose_mapping,
    read_table,
)
from app.services.participants import PERSON_FIELDS, add_participant, update_participant
from app.services.personal_links import create_link, send_link
from app.views.access import organisation_ids, owned_or_404

bp = Blueprint("participants", __name__)

PAGE_SIZE = 100


def _organisation_choices(form_field) -> None:  # type: ignore[no-untyped-def]
    form_field.choices = [
        SelectChoice(o.id, o.name)
        for o in sorted(current_user.organisations, key=lambda o: o.name)
    ]


@bp.get("/participants")
def index() -> str:
    query = request.args.get("q", "").strip()
    statement = (
        select(Participant)
        .where(Participant.organisation_id.in_(organisation_ids()))
        .options(selectinload(Participant.organisation))
        .order_by(Participant.last_name, Participant.first_name)
    )
    if query:
        like = f"%{query.lower()}%"
        statement = statement.where(
            or_(
                func.lower(Participant.first_name).like(like),
                func.lower(Participant.last_name).like(like),
                func.lower(Participant.email).like(like),
                func.lower(Participant.department).like(like),
                func.lower(Participant.site).like(like),
            )
        )
    people = db.session.scalars(statement.limit(PAGE_SIZE + 1)).all()
    return render_template(
        "participants/index.html",
        people=people[:PAGE_SIZE],
        more=len(people) > PAGE_SIZE,
        query=query,
    )


@bp.route("/participants/new", methods=["GET", "POST"])
def new() -> ResponseReturnValue:
    form = ParticipantForm()
    _organisation_choices(form.organisation)
    if form.validate_on_submit():
        organisation = owned_or_404(Organisation, form.organisation.data, "id")
        try:
            person = add_participant(organisation, _values(form), current_user)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.email.errors = [translator().gettext("This e-mail address is taken already.")]
        else:
            flash(translator().gettext("The person was added."), "success")
            return redirect(url_for("participants.edit", participant_id=person.id))
    return render_template("participants/form.html", form=form, person=None), (
        400 if form.is_submitted() else 200
    )


@bp.route("/participants/<int:participant_id>", methods=["GET", "POST"])
def edit(participant_id: int) -> ResponseReturnValue:
    person = owned_or_404(Participant, participant_id)
    form = ParticipantForm(obj=person if request.method == "GET" else None)
    del form.organisation  # a person stays in their organisation
    if request.method == "GET":
        form.version.data = str(person.lock_version)
    tr = translator()
    if form.validate_on_submit():
        if form.version.data != str(person.lock_version):
            flash(
                tr.gettext(
                    "Someone else changed this person in the meantime; nothing was "
                    "saved. The page shows the current state."
                ),
                "error",
            )
            return redirect(url_for("participants.edit", participant_id=person.id))
        try:
            update_participant(person, _values(form), current_user, keep_blank=False)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            form.email.errors = [tr.gettext("This e-mail address is taken already.")]
        except StaleDataError:
            db.session.rollback()
            flash(
                tr.gettext(
                    "Someone else changed this person in the meantime; nothing was "
                    "saved. The page shows the current state."
                ),
                "error",
            )
            return redirect(url_for("participants.edit", participant_id=participant_id))
        else:
            flash(tr.gettext("Saved."), "success")
            return redirect(url_for("participants.edit", participant_id=person.id))
    enrol_form = EnrolForm()
    enrol_form.cohort.choices = _open_cohorts(person)
    return render_template(
        "participants/form.html",
        form=form,
        person=person,
        enrol_form=enrol_form,
        withdraw_form=WithdrawForm(),
        partners=tandems.partners(person.id),
        link=tokens.current(Purpose.PERSONAL_PAGE, person.id),
        certificates=certificates.all_of_participant(person.id),
        erase_form=EraseForm(),
        serial=certificates.serial_label,
    ), (400 if form.is_submitted() else 200)


def _values(form: ParticipantForm) -> dict[str, str]:
    return {name: getattr(form, name).data or "" for name in PERSON_FIELDS}


def _open_cohorts(person: Participant) -> list[SelectChoice]:
    cohorts = db.session.scalars(
        select(Cohort)
        .where(
            Cohort.organisation_id == person.organisation_id,
            Cohort.state.in_([CohortState.PLANNED, CohortState.RUNNING]),
        )
        .order_by(Cohort.start_date)
    ).all()
    enrolled = {e.cohort_id for e in person.enrolments if e.status is EnrolmentStatus.ENROLLED}
    return [SelectChoice(c.id, c.name) for c in cohorts if c.id not in enrolled]


@bp.post("/participants/<int:participant_id>/enrol")
def enrol_in_cohort(participant_id: int) -> ResponseReturnValue:
    person = owned_or_404(Participant, participant_id)
    form = EnrolForm()
    form.cohort.choices = _open_cohorts(person)
    tr = translator()
    if form.validate_on_submit():
        cohort = owned_or_404(Cohort, form.cohort.data)
        try:
            enrol(cohort, person, current_user)
            db.session.commit()
        except EnrolmentError as error:
            db.session.rollback()
            flash(tr.localize(error.message), "error")
        else:
            flash(tr.gettext("Enrolled in %(cohort)s.", cohort=cohort.name), "success")
    else:
        flash(tr.gettext("Please choose a cohort."), "error")
    return redirect(url_for("participants.edit", participant_id=participant_id))


@bp.post("/cohorts/<int:cohort_id>/enrolments/<int:enrolment_id>/withdraw")
def withdraw_enrolment(cohort_id: int, enrolment_id: int) -> ResponseReturnValue:
    cohort = owned_or_404(Cohort, cohort_id)
    enrolment = db.session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.cohort_id != cohort.id:
        abort(404)
    if WithdrawForm().validate_on_submit():
        withdraw(enrolment, current_user)
        db.session.commit()
        flash(
            translator().gettext(
                "%(name)s was withdrawn from the cohort.", name=enrolment.participant.name
            ),
            "success",
        )
    return redirect(
        request.referrer
        if _same_site(request.referrer)
        else url_for("cohorts.show", cohort_id=cohort.id)
    )


def _same_site(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)  # type: ignore[union-attr]


@bp.route("/participants/import", methods=["GET", "POST"])
def import_file() -> ResponseReturnValue:
    tr = translator()
    upload = UploadForm()
    _organisation_choices(upload.organisation)
    if upload.validate_on_submit():
        organisation = owned_or_404(Organisation, upload.organisation.data, "id")
        data = upload.file.data.read()
        filename = upload.file.data.filename or ""
        try:
            table = read_table(filename, data)
        except ImportRejected as error:
            upload.file.errors = [tr.localize(error.message)]
        else:
            mapping_form = MappingForm(formdata=None)
            mapping_form.organisation.data = str(organisation.id)
            mapping_form.filename.data = filename
            mapping_form.content.data = base64.b64encode(data).decode("ascii")
            return render_template(
                "participants/mapping.html",
                form=mapping_form,
                organisation=organisation,
                table=table,
                mapping=propose_mapping(table.headers),
                fields=list(FIELDS),
                problems=None,
            )
    return render_template("participants/import.html", form=upload), (
        400 if upload.is_submitted() else 200
    )


@bp.post("/participants/import/check")
def import_confirm() -> ResponseReturnValue:
    tr = translator()
    form = MappingForm()
    if not form.validate_on_submit() or not form.organisation.data.isdigit():
        abort(400)
    organisation = owned_or_404(Organisation, int(form.organisation.data), "id")
    try:
        data = base64.b64decode(form.content.data, validate=True)
        table = read_table(form.filename.data, data)
    except (binascii.Error, ImportRejected):
        flash(tr.gettext("The file could not be read again; please upload it once more."), "error")
        return redirect(url_for("participants.import_file"))
    mapping: dict[str, int | None] = {}
    for name in FIELDS:
        chosen = request.form.get(f"map-{name}", "")
        mapping[name] = (
            int(chosen) if chosen.isdigit() and int(chosen) < len(table.headers) else None
        )
    rows, problems = check(table, mapping, organisation)
    if problems:
        return render_template(
            "participants/mapping.html",
            form=form,
            organisation=organisation,
            table=table,
            mapping=mapping,
            fields=list(FIELDS),
            problems=problems,
        ), 400
    try:
        summary = import_rows(rows, organisation, current_user)
        db.session.commit()
    except EnrolmentError as error:
        # Someone filled the cohort since the check: nothing of the file is kept.
        db.session.rollback()
        flash(tr.localize(error.message) + " " + tr.gettext("Nothing was saved."), "error")
        return redirect(url_for("participants.import_file"))
    flash(
        tr.gettext(
            "Import done: %(created)s added, %(updated)s updated, %(unchanged)s unchanged, "
            "%(enrolled)s enrolments.",
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
            enrolled=summary.enrolled,
        ),
        "success",
    )
    return redirect(url_for("participants.index"))


@bp.get("/participants/export")
def export() -> Response:
    organisation_id = request.args.get("organisation", type=int)
    wanted = organisation_ids() if organisation_id is None else {organisation_id}
    if not wanted <= organisation_ids():
        abort(404)
    # Plain columns, one query: an export of thousands of rows builds no objects.
    active = and_(
        Enrolment.participant_id == Participant.id,
        Enrolment.status == EnrolmentStatus.ENROLLED,
    )
    rows = db.session.execute(
        select(*(getattr(Participant, name) for name in PERSON_FIELDS), Cohort.name)
        .outerjoin(Enrolment, active)
        .outerjoin(Cohort, Cohort.id == Enrolment.cohort_id)
        .where(Participant.organisation_id.in_(wanted))
        .order_by(Participant.last_name, Participant.first_name, Participant.id, Cohort.start_date)
    ).all()
    return _csv([tuple(value or "" for value in row) for row in rows], "teilnehmende.csv")


@bp.get("/cohorts/<int:cohort_id>/participants.csv")
def export_cohort(cohort_id: int) -> Response:
    cohort = owned_or_404(Cohort, cohort_id)
    people = db.session.scalars(
        select(Participant)
        .join(Enrolment, Enrolment.participant_id == Participant.id)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .order_by(Participant.last_name, Participant.first_name)
    ).all()
    rows = [tuple(getattr(p, name) for name in PERSON_FIELDS) + (cohort.name,) for p in people]
    return _csv(rows, f"teilnehmende-gruppe-{cohort.id}.csv")


def _csv(rows, filename: str) -> Response:  # type: ignore[no-untyped-def]
    rendered = render_participants(rows, language=translator().language, filename=filename)
    return Response(
        rendered.content,
        mimetype=rendered.mimetype,
        headers={"Content-Disposition": f'attachment; filename="{rendered.filename}"'},
    )


# Personal links: the participant's own page, sent by e-mail or shown once.


def _link_for(token: str) -> str:
    return url_for("calendars.personal", token=token, _external=True)


def _keep_cancelled() -> timedelta:
    return timedelta(days=current_app.config["FEED_KEEP_CANCELLED_DAYS"])


@bp.post("/participants/<int:participant_id>/link")
def show_new_link(participant_id: int) -> ResponseReturnValue:
    person = owned_or_404(Participant, participant_id)
    if not WithdrawForm().validate_on_submit():
        abort(400)
    token = create_link(person, current_user)
    db.session.commit()
    return render_template("participants/link.html", person=person, link=_link_for(token))


@bp.post("/participants/<int:participant_id>/link/send")
def send_one_link(participant_id: int) -> ResponseReturnValue:
    person = owned_or_404(Participant, participant_id)
    if not WithdrawForm().validate_on_submit():
        abort(400)
    tr = translator()
    try:
        send_link(person, current_user, tr, _link_for, _keep_cancelled())
    except MailNotSent as error:
        flash(tr.localize(error.message) + " " + tr.gettext("Nothing was saved."), "error")
    else:
        flash(
            tr.gettext("The personal link was sent to %(email)s.", email=person.email), "success"
        )
    return redirect(url_for("participants.edit", participant_id=participant_id))


@bp.post("/participants/<int:participant_id>/link/revoke")
def revoke_link(participant_id: int) -> ResponseReturnValue:
    person = owned_or_404(Participant, participant_id)
    if not WithdrawForm().validate_on_submit():
        abort(400)
    tokens.revoke(Purpose.PERSONAL_PAGE, person.id)
    db.session.commit()
    flash(translator().gettext("The personal link no longer works."), "success")
    return redirect(url_for("participants.edit", participant_id=participant_id))


@bp.post("/cohorts/<int:cohort_id>/links/send")
def send_cohort_links(cohort_id: int) -> ResponseReturnValue:
    cohort = owned_or_404(Cohort, cohort_id)
    if not WithdrawForm().validate_on_submit():
        abort(400)
    tr = translator()
    people = db.session.scalars(
        select(Participant)
        .join(Enrolment, Enrolment.participant_id == Participant.id)
        .where(Enrolment.cohort_id == cohort.id, Enrolment.status == EnrolmentStatus.ENROLLED)
        .order_by(Participant.last_name)
    ).all()
    sent, failed = 0, None
    for person in people:
        try:
            send_link(person, current_user, tr, _link_for, _keep_cancelled())
        except MailNotSent as error:
            failed = error
            break
        sent += 1
    if failed is not None:
        flash(
            tr.gettext(
                "%(sent)s of %(total)s links were sent; then: ", sent=sent, total=len(people)
            )
            + tr.localize(failed.message),
            "error",
        )
    else:
        flash(tr.gettext("%(sent)s personal links were sent.", sent=sent), "success")
    return redirect(url_for("cohorts.show", cohort_id=cohort_id))
