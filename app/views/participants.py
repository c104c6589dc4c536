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
from wtforms.fields.choices import SelectChoice

from app import transactions
from app.downloads import content_disposition
from app.exports.participants import render_participants, render_participants_xlsx
from app.forms.participants import (
    EnrolForm,
    MappingForm,
    ParticipantForm,
    UploadForm,
    WithdrawForm,
)
from app.forms.privacy import EraseForm
from app.i18n import refusal, translator
from app.models import Cohort, Organisation, Participant, Purpose
from app.public_url import external_url
from app.services import certificates, enrolments, participants, personal_links, policy, tandems
from app.services.enrolments import EnrolmentError
from app.services.participant_import import (
    FIELDS,
    REQUIRED,
    ImportRejected,
    Problem,
    Table,
    check,
    import_participants,
    propose_mapping,
    read_table,
)
from app.services.participants import PERSON_FIELDS, EmailTaken, EmployeeNumberTaken
from app.services.text import NotOneLine
from app.views.access import actor, owned_or_404

bp = Blueprint("participants", __name__)

PAGE_SIZE = 100


def _email_taken() -> str:
    # At the field the address needs no repeating.
    return translator().gettext("This e-mail address is taken already.")


def _number_taken() -> str:
    return translator().gettext("This employee number is taken already.")


def _organisation_choices(form_field) -> None:  # type: ignore[no-untyped-def]
    form_field.choices = [
        SelectChoice(o.id, o.name)
        for o in sorted(current_user.organisations, key=lambda o: o.name)
    ]


@bp.get("/participants")
def index() -> str:
    query = request.args.get("q", "").strip()
    people, total = participants.search(actor(), query, page=1, per_page=PAGE_SIZE)
    return render_template(
        "participants/index.html", people=people, more=total > len(people), query=query
    )


@bp.route("/participants/new", methods=["GET", "POST"])
@transactions.web
def new() -> ResponseReturnValue:
    form = ParticipantForm()
    _organisation_choices(form.organisation)
    if form.validate_on_submit():
        try:
            person = participants.add(actor(), form.organisation.data, _values(form))
        except EmailTaken:
            form.email.errors = [_email_taken()]
        except EmployeeNumberTaken:
            form.employee_number.errors = [_number_taken()]
        except NotOneLine as error:
            form[error.field].errors = [translator().localize(error.message)]
        else:
            flash(translator().gettext("The person was added."), "success")
            return redirect(url_for("participants.edit", participant_id=person.id))
    return render_template("participants/form.html", form=form, person=None), (
        400 if form.is_submitted() else 200
    )


@bp.route("/participants/<int:participant_id>", methods=["GET", "POST"])
@transactions.web
def edit(participant_id: int) -> ResponseReturnValue:
    person = owned_or_404(Participant, participant_id)
    form = ParticipantForm(obj=person if request.method == "GET" else None)
    del form.organisation  # a person stays in their organisation
    if request.method == "GET":
        form.version.data = str(person.lock_version)
    if form.validate_on_submit():
        try:
            participants.edit(actor(), person.id, _values(form), version=form.version.data)
        except EmailTaken:
            form.email.errors = [_email_taken()]
        except EmployeeNumberTaken:
            form.employee_number.errors = [_number_taken()]
        except NotOneLine as error:
            form[error.field].errors = [translator().localize(error.message)]
        else:
            flash(translator().gettext("Saved."), "success")
            return redirect(url_for("participants.edit", participant_id=person.id))
    return _person_page(person, form, EnrolForm())


def _person_page(
    person: Participant, form: ParticipantForm, enrol_form: EnrolForm
) -> ResponseReturnValue:
    enrol_form.cohort.choices = _open_cohorts(person)
    return render_template(
        "participants/form.html",
        form=form,
        person=person,
        enrol_form=enrol_form,
        withdraw_form=WithdrawForm(),
        partners=tandems.partners(person.id),
        access=personal_links.access_of(person),
        certificates=certificates.all_of_participant(person.id),
        erase_form=EraseForm(),
        serial=certificates.serial_label,
        may_export=policy.may(actor(), policy.Action.EXPORT_PERSON, person.organisation_id),
        may_erase=policy.may(actor(), policy.Action.ERASE_PERSON, person.organisation_id),
    ), (400 if form.is_submitted() else 200)


def _values(form: ParticipantForm) -> dict[str, str]:
    return {name: getattr(form, name).data or "" for name in PERSON_FIELDS}


def _open_cohorts(person: Participant) -> list[SelectChoice]:
    return [SelectChoice(c.id, c.name) for c in enrolments.open_cohorts(person)]


@bp.post("/participants/<int:participant_id>/enrol")
@transactions.web
def enrol_in_cohort(participant_id: int) -> ResponseReturnValue:
    """Enrol; a warning (already certified, enrolled in another cohort of the
    curriculum) shows a page to confirm instead, and nothing is saved until
    the box there is ticked."""
    person = owned_or_404(Participant, participant_id)
    form = EnrolForm()
    form.cohort.choices = _open_cohorts(person)
    tr = translator()
    if not form.validate_on_submit():
        flash(tr.gettext("Please choose a cohort."), "error")
        return redirect(url_for("participants.edit", participant_id=participant_id))
    try:
        enrolment = enrolments.enrol_participant(
            actor(), form.cohort.data, person.id, acknowledge=form.acknowledge.data
        )
    except EnrolmentError as error:
        if error.code not in enrolments.WARNINGS:
            raise
        return render_template(
            "participants/confirm_enrol.html",
            person=person,
            cohort=owned_or_404(Cohort, form.cohort.data),
            form=form,
            warning=refusal(tr.localize(error.message)),
            code=error.code,
        ), 409
    flash(tr.gettext("Enrolled in %(cohort)s.", cohort=enrolment.cohort.name), "success")
    return redirect(url_for("participants.edit", participant_id=participant_id))


@bp.post("/cohorts/<int:cohort_id>/enrolments/<int:enrolment_id>/withdraw")
@transactions.web
def withdraw_enrolment(cohort_id: int, enrolment_id: int) -> ResponseReturnValue:
    if not WithdrawForm().validate_on_submit():
        abort(400)
    enrolment = enrolments.withdraw_participant(actor(), cohort_id, enrolment_id)
    flash(
        translator().gettext(
            "%(name)s was withdrawn from the cohort.", name=enrolment.participant.name
        ),
        "success",
    )
    referrer = request.referrer
    if referrer and referrer.startswith(request.host_url):
        return redirect(referrer)
    return redirect(_cohort_page(cohort_id))


def _cohort_page(cohort_id: int) -> str:
    return url_for("cohorts.show", cohort_id=cohort_id)


@bp.route("/participants/import", methods=["GET", "POST"])
@transactions.web
def import_file() -> ResponseReturnValue:
    """The upload: nothing is saved yet, the file comes back with the mapping."""
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
            return _mapping_page(mapping_form, organisation, table, propose_mapping(table.headers))
    return render_template("participants/import.html", form=upload), (
        400 if upload.is_submitted() else 200
    )


def _mapping_page(
    form: MappingForm,
    organisation: Organisation,
    table: Table,
    mapping: dict[str, int | None],
    problems: list[Problem] | None = None,
) -> str:
    form.header_row.data = str(table.header_row)
    return render_template(
        "participants/mapping.html",
        form=form,
        organisation=organisation,
        table=table,
        mapping=mapping,
        fields=list(FIELDS),
        required=REQUIRED,
        problems=problems,
    )


@bp.post("/participants/import/check")
@transactions.web
def import_confirm() -> ResponseReturnValue:
    """Checks the file with the chosen columns and imports it when nothing
    speaks against it; "Read the header from this row" reads it again first."""
    tr = translator()
    form = MappingForm()
    if not form.validate_on_submit() or not form.organisation.data.isdigit():
        abort(400)
    organisation = owned_or_404(Organisation, int(form.organisation.data), "id")
    chosen_row = form.header_row.data or ""
    try:
        data = base64.b64decode(form.content.data, validate=True)
        table = read_table(
            form.filename.data, data, int(chosen_row) if chosen_row.isdigit() else None
        )
    except (binascii.Error, ImportRejected):
        flash(tr.gettext("The file could not be read again; please upload it once more."), "error")
        return redirect(url_for("participants.import_file"))
    if form.reread.data:
        return _mapping_page(form, organisation, table, propose_mapping(table.headers))
    mapping: dict[str, int | None] = {}
    for name in FIELDS:
        chosen = request.form.get(f"map-{name}", "")
        mapping[name] = (
            int(chosen) if chosen.isdigit() and int(chosen) < len(table.headers) else None
        )
    acknowledge = form.acknowledge.data
    rows, problems = check(table, mapping, organisation, acknowledge=acknowledge)
    if problems:
        return _mapping_page(form, organisation, table, mapping, problems), 400
    # A cohort filled since the check refuses the whole file (the commit point
    # says why, on the upload page).
    summary = import_participants(actor(), organisation.id, rows)
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
    """Every participant the user may see; `format=xlsx` for a workbook."""
    organisation_id = request.args.get("organisation", type=int)
    rows = participants.export_rows(actor(), organisation_id)
    if request.args.get("format") == "xlsx":
        return _file(render_participants_xlsx, rows, "teilnehmende.xlsx")
    return _file(render_participants, rows, "teilnehmende.csv")


@bp.get("/cohorts/<int:cohort_id>/participants.csv")
def export_cohort(cohort_id: int) -> Response:
    cohort, people = participants.of_cohort(actor(), cohort_id)
    rows = [
        tuple(getattr(p, name) or "" for name in PERSON_FIELDS) + (cohort.name,) for p in people
    ]
    return _file(render_participants, rows, f"teilnehmende-gruppe-{cohort.id}.csv")


def _file(render, rows, filename: str) -> Response:  # type: ignore[no-untyped-def]
    rendered = render(rows, language=translator().language, filename=filename)
    # The mimetype as the renderer gives it, charset included: passed as
    # `mimetype`, Werkzeug would add a second one.
    response = Response(rendered.content)
    response.headers["Content-Type"] = rendered.mimetype
    response.headers["Content-Disposition"] = content_disposition(rendered.filename, "attachment")
    return response


# Personal links: the participant's own page, sent by e-mail or shown once.


def _link_for(token: str) -> str:
    return external_url("calendars.personal", token=token)


def _keep_cancelled() -> timedelta:
    return timedelta(days=current_app.config["FEED_KEEP_CANCELLED_DAYS"])


@bp.post("/participants/<int:participant_id>/link")
@transactions.web
def show_new_link(participant_id: int) -> ResponseReturnValue:
    if not WithdrawForm().validate_on_submit():
        abort(400)
    person, token = personal_links.create_link(actor(), participant_id)
    return render_template("participants/link.html", person=person, link=_link_for(token))


@bp.post("/participants/<int:participant_id>/link/send")
@transactions.web
def send_one_link(participant_id: int) -> ResponseReturnValue:
    if not WithdrawForm().validate_on_submit():
        abort(400)
    tr = translator()
    person = personal_links.send_link(actor(), participant_id, tr, _link_for, _keep_cancelled())
    flash(tr.gettext("The personal link was sent to %(email)s.", email=person.email), "success")
    return redirect(url_for("participants.edit", participant_id=participant_id))


@bp.post("/participants/<int:participant_id>/access/end")
@transactions.web
def end_access(participant_id: int) -> ResponseReturnValue:
    """Ends every secret link the person holds: personal page and calendar feed."""
    if not WithdrawForm().validate_on_submit():
        abort(400)
    ended = personal_links.end_access(actor(), participant_id)
    tr = translator()
    if not ended:
        flash(tr.gettext("The person had no working link."), "info")
    elif ended == [Purpose.PERSONAL_PAGE]:
        flash(tr.gettext("The personal link no longer works."), "success")
    elif ended == [Purpose.PARTICIPANT_FEED]:
        flash(tr.gettext("The calendar subscription no longer works."), "success")
    else:
        flash(
            tr.gettext("The personal link and the calendar subscription no longer work."),
            "success",
        )
    return redirect(url_for("participants.edit", participant_id=participant_id))


@bp.post("/cohorts/<int:cohort_id>/links/send")
@transactions.web
def send_cohort_links(cohort_id: int) -> ResponseReturnValue:
    """Links already sent are kept when a later mail fails (the answer is a
    redirect, so the commit point keeps them): those people have them."""
    if not WithdrawForm().validate_on_submit():
        abort(400)
    tr = translator()
    result = personal_links.send_links(actor(), cohort_id, tr, _link_for, _keep_cancelled())
    if result.failure is not None:
        flash(
            tr.gettext(
                "%(sent)s of %(total)s links were sent; then: ",
                sent=result.sent,
                total=result.total,
            )
            + tr.localize(result.failure),
            "error",
        )
    else:
        flash(tr.gettext("%(sent)s personal links were sent.", sent=result.sent), "success")
    return redirect(_cohort_page(cohort_id))
