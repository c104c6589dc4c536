"""Participants: list, create, edit, enrol, withdraw, import and export."""

from __future__ import annotations

import base64
import binascii
import math
from datetime import UTC, date, datetime, timedelta

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
from markupsafe import Markup, escape
from wtforms.fields.choices import SelectChoice

from app import lists, transactions
from app.downloads import content_disposition
from app.exports.participants import render_participants, render_participants_xlsx
from app.forms.participants import (
    BulkForm,
    BulkUndoForm,
    ConfirmBulkForm,
    ConfirmWithdrawalForm,
    EnrolForm,
    ListForm,
    MappingForm,
    ParticipantForm,
    UndoWithdrawalForm,
    UploadForm,
    WithdrawForm,
)
from app.forms.privacy import EraseForm
from app.i18n import current_language, refusal, sentence, translator
from app.models import Cohort, Organisation, Participant, Purpose
from app.public_url import external_url
from app.services import bulk as bulk_actions
from app.services import (
    certificates,
    delivery_log,
    enrolments,
    jobs,
    participants,
    personal_links,
    policy,
    tandems,
    tokens,
)
from app.services.enrolments import EnrolmentError
from app.services.errors import DomainError
from app.services.participant_import import (
    EMPTY_CELL,
    FIELDS,
    REQUIRED,
    ImportRejected,
    Problem,
    Row,
    Table,
    check,
    import_participants,
    propose_mapping,
    read_table,
)
from app.services.participants import (
    PERSON_FIELDS,
    CertificateFilter,
    EmailTaken,
    EmployeeNumberTaken,
    Filters,
    Sort,
)
from app.services.text import NotOneLine
from app.views.access import actor, owned_or_404
from app.views.waiting_lists import JoinForm

bp = Blueprint("participants", __name__)


@bp.app_template_global("replaced_link_days")
def replaced_link_days() -> int:
    """How many days a replaced personal link keeps working (app.services.tokens)."""
    return tokens.REPLACED_KEEPS_WORKING[Purpose.PERSONAL_PAGE].days


PAGE_SIZE = 50


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
def index() -> ResponseReturnValue:
    acting = actor()
    form = ListForm(request.args)
    offered = participants.choices(acting)
    cohorts = _cohort_choices(offered.cohorts)
    past = _cohort_choices(offered.past_cohorts)
    _list_choices(form, offered, cohorts + past)
    query, filters, sort = _listing(form)
    page = max(_int(request.args.get("page")) or 1, 1)
    people, total = participants.search(
        acting, query, page=page, per_page=PAGE_SIZE, filters=filters, sort=sort
    )
    pages = max(math.ceil(total / PAGE_SIZE), 1)
    if page > pages:  # an old link after people left: the last page there is
        page = pages
        people, total = participants.search(
            acting, query, page=page, per_page=PAGE_SIZE, filters=filters, sort=sort
        )
    bulk = BulkForm(formdata=None)
    # The cohorts' <option>s are drawn here, once, rather than by WTForms'
    # widget per choice: a large organisation has hundreds of cohorts, the
    # open ones offered three times on the page (filter, bulk form, pasted
    # list), those that are over in the filter only.
    cohort_options = _options(cohorts)
    chosen = form.cohort.data or ""
    tr = translator()
    # What differs from the plain list, for its links and the bulk form.
    arguments = {
        name: form[name].data
        for name in LIST_FIELDS
        if form[name].data and form[name].data != form[name].default
    }
    return render_template(
        "participants/index.html",
        people=people,
        total=total,
        page=page,
        pages=pages,
        page_numbers=lists.page_numbers(page, pages),
        first=(page - 1) * PAGE_SIZE + 1,
        form=form,
        bulk=bulk,
        filter_cohort_options=_drawn(
            _options(form.cohort.choices[:2], chosen)
            + _group(tr.gettext("Planned and running"), _chosen(cohort_options, cohorts, chosen))
            + _group(tr.gettext("Completed or cancelled"), _options(past, chosen))
        ),
        standings=participants.standings(people, filters.cohort_id),
        bulk_cohort_options=_drawn(_chosen(cohort_options, cohorts, chosen)),
        paste_cohort_options=_drawn(cohort_options),
        arguments=arguments,
        narrowed=bool(query) or filters != Filters(),
        several_organisations=len(offered.organisations) > 1,
        most_at_once=bulk_actions.MOST_AT_ONCE,
        number=_number,
    )


# The list's parameters, in the address and carried along by the bulk form.
LIST_FIELDS = ("q", "organisation", "cohort", "department", "site", "certificate", "sort")
WITHOUT_COHORT = "none"


def _list_choices(
    form: ListForm,
    offered: participants.Choices,
    cohorts: list[SelectChoice] | None = None,
) -> None:
    tr = translator()
    form.organisation.choices = [SelectChoice("", tr.gettext("All organisations"))] + [
        SelectChoice(str(o.id), o.name) for o in offered.organisations
    ]
    form.cohort.choices = [
        SelectChoice("", tr.gettext("Any or none")),
        SelectChoice(WITHOUT_COHORT, tr.gettext("In no planned or running cohort")),
        *(_cohort_choices(offered.cohorts + offered.past_cohorts) if cohorts is None else cohorts),
    ]
    form.department.choices = [SelectChoice("", tr.gettext("All departments"))] + [
        SelectChoice(d) for d in offered.departments
    ]
    form.site.choices = [SelectChoice("", tr.gettext("All sites"))] + [
        SelectChoice(s) for s in offered.sites
    ]
    # A value that is not offered (an old link, a typo) counts as not given.
    form.validate()
    for name, field in form._fields.items():
        if field.errors:
            field.data = "" if name != "sort" else Sort.NAME.value
            field.errors = []
        if isinstance(field.data, str) and name != "q":
            field.data = field.data or ("" if name != "sort" else Sort.NAME.value)


def _listing(form: ListForm) -> tuple[str, Filters, Sort]:
    cohort = form.cohort.data or ""
    filters = Filters(
        organisation_id=_int(form.organisation.data),
        cohort_id=_int(cohort),
        without_cohort=cohort == WITHOUT_COHORT,
        department=form.department.data or None,
        site=form.site.data or None,
        certificate=CertificateFilter(form.certificate.data) if form.certificate.data else None,
    )
    return (form.q.data or "").strip(), filters, Sort(form.sort.data or Sort.NAME.value)


def _cohort_choices(cohorts: list[participants.CohortChoice]) -> list[SelectChoice]:
    return [SelectChoice(str(c.id), f"{c.name} ({_short_day(c.start_date)})") for c in cohorts]


def _options(choices: list[SelectChoice], chosen: str | None = None) -> list[str]:
    """Each choice as an escaped <option>, the one whose value is `chosen`
    selected (as WTForms' Select widget draws them, at a fraction of its
    cost: one render_option call per choice was a third of the list's time
    with 400 cohorts)."""
    return [
        f'<option value="{escape(c.value)}"{" selected" if c.value == chosen else ""}>'
        f"{escape(c.label)}</option>"
        for c in choices
    ]


def _chosen(options: list[str], choices: list[SelectChoice], chosen: str) -> list[str]:
    """The drawn options with the one of value `chosen` selected."""
    return [
        _options([choice], chosen)[0] if choice.value == chosen else option
        for option, choice in zip(options, choices, strict=True)
    ]


def _group(label: str, options: list[str]) -> list[str]:
    """The options under a heading of the list (none: no heading either)."""
    if not options:
        return []
    return [f'<optgroup label="{escape(label)}">', *options, "</optgroup>"]


def _drawn(options: list[str]) -> Markup:
    return Markup("".join(options))  # noqa: S704 -- every value and label escaped by _options


def _int(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdigit() and len(text) < 12 else None


def _number(value: int) -> str:
    return lists.number(value, current_language())


def _short_day(day: date) -> str:
    return lists.short_day(day, current_language())


# Acting on many people at once: choose them, see what would happen, confirm.


@bp.get("/participants/bulk")
def bulk_again() -> ResponseReturnValue:
    """A refusal of the confirmation returns here (its page was a POST's
    answer): back to the list, which shows the reason."""
    return redirect(url_for("participants.index"), 303)


def _list_back() -> str:
    """The list as the bulk form's page showed it (its filters and page,
    carried along as `filter-…` fields)."""
    arguments = {
        name: request.form.get(f"filter-{name}", "").strip() for name in (*LIST_FIELDS, "page")
    }
    if arguments["page"] == "1":
        del arguments["page"]
    return url_for("participants.index", **{k: v for k, v in arguments.items() if v})


def _confirmed_back() -> str:
    """Where the confirmation leads (and its refusal): the list it came from."""
    return _back(request.form.get("back"), None)


@bp.post("/participants/bulk")
@transactions.web(back=_list_back)
def bulk_preview() -> ResponseReturnValue:
    """What the chosen action would do; nothing is saved (a preview of an
    enrolment runs it in a savepoint that is rolled back)."""
    acting = actor()
    form = BulkForm()
    form.cohort.choices = []
    if not form.validate_on_submit():
        abort(400)
    resolution = None
    if form.pasted.data and form.pasted.data.strip():
        resolution = bulk_actions.resolve(acting, form.pasted.data)
        ids = [p.id for p in resolution.people]
    elif form.all_matching.data:
        listing = ListForm(request.form, prefix="filter")
        _list_choices(listing, participants.choices(acting))
        query, filters, _sort = _listing(listing)
        ids = participants.matching_ids(
            acting, query, filters, limit=bulk_actions.MOST_AT_ONCE + 1
        )
    else:
        ids = [int(i) for i in request.form.getlist("person") if _int(i) is not None]
    action = form.action.data
    cohort = None
    if action in ("enrol", "withdraw"):
        cohort_id = _int(form.cohort.data)
        if cohort_id is None:
            flash(translator().gettext("Please choose a cohort."), "error")
            return redirect(_list_back(), 303)
        cohort = owned_or_404(Cohort, cohort_id)
    if not ids and resolution is None:
        flash(translator().gettext("Please tick at least one person."), "error")
        return redirect(_list_back(), 303)
    plan = None
    if ids:
        if action == "enrol":
            plan = bulk_actions.preview_enrolment(acting, cohort.id, ids)  # type: ignore[union-attr]
        elif action == "withdraw":
            plan = bulk_actions.preview_withdrawal(acting, cohort.id, ids)  # type: ignore[union-attr]
        else:
            plan = bulk_actions.preview_links(acting, ids)
    back = _list_back()
    confirm = ConfirmBulkForm(formdata=None)
    confirm.action.data = action
    confirm.cohort.data = str(cohort.id) if cohort else ""
    confirm.back.data = back
    if plan is not None:
        refused = {o.person.id for o in plan.refusals}
        confirm.people.data = ",".join(
            str(o.person.id) for o in plan.outcomes if o.person.id not in refused
        )
    unchanged = [] if plan is None else [o.person.id for o in plan.having("already_enrolled")]
    return render_template(
        "participants/bulk_confirm.html",
        action=action,
        cohort=cohort,
        plan=plan,
        resolution=resolution,
        form=confirm,
        back=back,
        # An option's people as its form carries them (those in already too,
        # so that the result counts them).
        ids_of=lambda people: ",".join(str(i) for i in [*(p.id for p in people), *unchanged]),
        plain_ids=lambda people: ",".join(str(p.id) for p in people),
        number=_number,
    )


@bp.post("/participants/bulk/confirm")
@transactions.web(back=_confirmed_back)
def bulk_confirm() -> ResponseReturnValue:
    """Does what the confirmation page showed, to the people it listed: the
    option chosen there, all of it or nothing."""
    acting = actor()
    form = ConfirmBulkForm()
    if not form.validate_on_submit():
        abort(400)
    ids = _ids(form.people.data)
    wait = _ids(form.wait.data)
    tr = translator()
    back = _back(form.back.data, None)
    cohort_id = _int(form.cohort.data)
    if form.action.data in ("enrol", "withdraw") and cohort_id is None:
        abort(400)
    if not ids and not (wait and form.action.data == "enrol"):
        abort(400)
    if form.action.data == "enrol":
        done = bulk_actions.enrol(
            acting,
            cohort_id,  # type: ignore[arg-type]
            ids,
            acknowledge=form.acknowledge.data,
            wait=wait,
        )
        if done.changed or not done.waiting:
            flash(
                tr.ngettext(
                    "%(num)s person was enrolled.", "%(num)s people were enrolled.", done.changed
                ),
                "success",
            )
        if done.waiting:
            flash(
                tr.ngettext(
                    "%(num)s person was put on the waiting list.",
                    "%(num)s people were put on the waiting list.",
                    done.waiting,
                ),
                "success",
            )
    elif form.action.data == "withdraw":
        done = bulk_actions.withdraw(acting, cohort_id, ids)  # type: ignore[arg-type]
        flash(
            tr.ngettext(
                "%(num)s person was withdrawn.", "%(num)s people were withdrawn.", done.changed
            ),
            "success",
        )
        if done.enrolments:
            return redirect(
                url_for(
                    "participants.bulk_withdrawn",
                    cohort=cohort_id,
                    e=",".join(str(i) for i in done.enrolments),
                    back=back,
                ),
                303,
            )
    elif form.action.data == "links":
        done = bulk_actions.send_links(acting, ids, _link_for, _keep_cancelled())
        flash(
            tr.gettext(
                "%(sent)s personal links are queued for sending; the messages on each "
                "person's page say when they went out.",
                sent=done.changed,
            ),
            "success",
        )
    else:
        abort(400)
    return redirect(back, 303)


def _ids(text: str | None) -> list[int]:
    return [int(i) for i in (text or "").split(",") if _int(i) is not None]


@bp.get("/participants/bulk/withdrawn")
def bulk_withdrawn() -> ResponseReturnValue:
    """After a withdrawal of many: who was withdrawn, the way back to the
    list, and undo while it is possible (as after the withdrawal of one)."""
    acting = actor()
    cohort_id = _int(request.args.get("cohort"))
    enrolment_ids = _ids(request.args.get("e"))
    if cohort_id is None or not enrolment_ids:
        abort(404)
    cohort = owned_or_404(Cohort, cohort_id)
    found = bulk_actions.withdrawals(acting, cohort.id, enrolment_ids)
    back = _back(request.args.get("back"), None)
    withdrawn = [e for e in found if e.status.value == "withdrawn" and e.withdrawn_at is not None]
    undo = None
    hindrance = None
    if withdrawn:
        stamps = {e.id: enrolments.withdrawal_stamp(e.withdrawn_at) for e in withdrawn}  # type: ignore[arg-type]
        hindrance = bulk_actions.undo_hindrance(acting, cohort.id, stamps, datetime.now(UTC))
        if hindrance is None:
            undo = BulkUndoForm(formdata=None)
            undo.cohort.data = str(cohort.id)
            undo.withdrawals.data = ",".join(f"{i}:{stamp}" for i, stamp in stamps.items())
            undo.back.data = back
    return render_template(
        "participants/bulk_withdrawn.html",
        cohort=cohort,
        withdrawn=withdrawn,
        again=[e for e in found if e not in withdrawn],
        undo=undo,
        hindrance=hindrance,
        back=back,
        number=_number,
    )


@bp.post("/participants/bulk/undo-withdrawal")
@transactions.web(back=_confirmed_back)
def bulk_undo_withdrawal() -> ResponseReturnValue:
    form = BulkUndoForm()
    if not form.validate_on_submit():
        abort(400)
    cohort_id = _int(form.cohort.data)
    stamps: dict[int, str] = {}
    for pair in (form.withdrawals.data or "").split(","):
        enrolment_id, _, stamp = pair.partition(":")
        if _int(enrolment_id) is None:
            abort(400)
        stamps[int(enrolment_id)] = stamp
    if cohort_id is None or not stamps:
        abort(400)
    done = bulk_actions.undo_withdrawals(actor(), cohort_id, stamps, datetime.now(UTC))
    flash(
        translator().ngettext(
            "The withdrawal is undone: %(num)s person is enrolled again.",
            "The withdrawal is undone: %(num)s people are enrolled again.",
            done.changed,
        ),
        "success",
    )
    return redirect(_back(form.back.data, None), 303)


@bp.route("/participants/new", methods=["GET", "POST"])
@transactions.web
def new() -> ResponseReturnValue:
    form = ParticipantForm()
    _organisation_choices(form.organisation)
    if form.is_submitted():
        valid = form.validate_on_submit()
        organisation_id = form.organisation.data if not form.organisation.errors else None
        if not _all_problems(form, organisation_id) and valid:
            try:
                person = participants.add(actor(), form.organisation.data, _values(form))
            except (EmailTaken, EmployeeNumberTaken, NotOneLine) as error:
                _show_at_field(form, error)  # taken by someone else just now
            else:
                flash(translator().gettext("The person was added."), "success")
                return redirect(url_for("participants.edit", participant_id=person.id))
    return render_template("participants/form.html", form=form, person=None), (
        400 if form.is_submitted() else 200
    )


@bp.route("/participants/<int:participant_id>", methods=["GET", "POST"])
@transactions.web
def edit(participant_id: int) -> ResponseReturnValue:
    try:
        person = participants.for_page(actor(), participant_id)
    except policy.NotFound:
        abort(404)
    form = ParticipantForm(obj=person if request.method == "GET" else None)
    del form.organisation  # a person stays in their organisation
    if request.method == "GET":
        form.version.data = str(person.lock_version)
    if form.is_submitted():
        valid = form.validate_on_submit()
        if not _all_problems(form, person.organisation_id, person.id) and valid:
            try:
                participants.edit(actor(), person.id, _values(form), version=form.version.data)
            except (EmailTaken, EmployeeNumberTaken, NotOneLine) as error:
                _show_at_field(form, error)
            else:
                flash(translator().gettext("Saved."), "success")
                return redirect(url_for("participants.edit", participant_id=person.id))
    return _person_page(person, form, EnrolForm())


def _all_problems(
    form: ParticipantForm, organisation_id: int | None, participant_id: int | None = None
) -> bool:
    """Puts what the service would refuse at the fields, beside the form's own
    errors, so that one attempt shows every problem; whether there was any."""
    if organisation_id is None:
        return False
    values = {name: value for name, value in _values(form).items() if not form[name].errors}
    found = participants.field_problems(
        actor(), organisation_id, values, participant_id=participant_id
    )
    for error in found.values():
        _show_at_field(form, error)
    return bool(found)


def _show_at_field(form: ParticipantForm, error: DomainError) -> None:
    if isinstance(error, EmailTaken):
        text = _email_taken()
    elif isinstance(error, EmployeeNumberTaken):
        text = _number_taken()
    else:
        text = translator().localize(error.message)
    field = form._fields.get(error.field or "")
    if field is not None:
        field.errors = [*field.errors, text]


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
        deliveries=delivery_log.newest_of_person(person.id),
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
        cohort = owned_or_404(Cohort, form.cohort.data)
        if error.code == "cohort_full" and cohort.waiting_list:
            # Full: offered a place on the waiting list instead (app.views.waiting_lists).
            return render_template(
                "waiting_lists/full.html",
                person=person,
                cohort=cohort,
                form=JoinForm(),
                refusal=refusal(tr.localize(error.message)),
            ), 409
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


@bp.route(
    "/cohorts/<int:cohort_id>/enrolments/<int:enrolment_id>/withdraw", methods=["GET", "POST"]
)
@transactions.web
def withdraw_enrolment(cohort_id: int, enrolment_id: int) -> ResponseReturnValue:
    """Asks first, saying what the withdrawal would do; withdraws once the
    page's own button confirms it. A one-click button of an older page
    (without `confirmed`) lands on the question too."""
    form = ConfirmWithdrawalForm()
    if request.method == "POST" and not form.validate_on_submit():
        abort(400)
    if request.method == "GET" or form.confirmed.data != "yes":
        plan = enrolments.withdrawal(actor(), cohort_id, enrolment_id, datetime.now(UTC))
        back = _back(
            form.back.data or request.args.get("back"),
            request.referrer,
            plan.enrolment.participant_id,
        )
        form.back.data = back
        form.confirmed.data = "yes"
        return render_template(
            "participants/confirm_withdraw.html",
            plan=plan,
            enrolment=plan.enrolment,
            form=form,
            back=back,
            serial=certificates.serial_label,
            number=_number,
        )
    enrolment = enrolments.withdraw_participant(actor(), cohort_id, enrolment_id)
    back = _back(form.back.data, None, enrolment.participant_id)
    flash(
        translator().gettext(
            "%(name)s was withdrawn from the cohort “%(cohort)s”.",
            name=enrolment.participant.name,
            cohort=enrolment.cohort.name,
        ),
        "success",
    )
    return redirect(
        url_for(
            "participants.withdrawn", cohort_id=cohort_id, enrolment_id=enrolment_id, back=back
        ),
        303,
    )


@bp.get("/cohorts/<int:cohort_id>/enrolments/<int:enrolment_id>/withdrawn")
def withdrawn(cohort_id: int, enrolment_id: int) -> ResponseReturnValue:
    """After a withdrawal: the way back, and undo while it is possible."""
    acting = actor()
    now = datetime.now(UTC)
    plan = enrolments.withdrawal(acting, cohort_id, enrolment_id, now)
    enrolment = plan.enrolment
    back = _back(request.args.get("back"), None, enrolment.participant_id)
    undo = None
    hindrance = None
    if enrolment.withdrawn_at is not None and enrolment.status.value == "withdrawn":
        hindrance = enrolments.undo_hindrance(acting, cohort_id, enrolment_id, now)
        if hindrance is None:
            undo = UndoWithdrawalForm(formdata=None)
            undo.withdrawn_at.data = enrolments.withdrawal_stamp(enrolment.withdrawn_at)
            undo.back.data = back
    return render_template(
        "participants/withdrawn.html",
        enrolment=enrolment,
        undo=undo,
        hindrance=hindrance,
        back=back,
    )


@bp.post("/cohorts/<int:cohort_id>/enrolments/<int:enrolment_id>/undo-withdrawal")
@transactions.web
def undo_withdrawal(cohort_id: int, enrolment_id: int) -> ResponseReturnValue:
    form = UndoWithdrawalForm()
    if not form.validate_on_submit():
        abort(400)
    enrolment = enrolments.undo_withdrawal(
        actor(),
        cohort_id,
        enrolment_id,
        withdrawn_at=form.withdrawn_at.data or "",
        now=datetime.now(UTC),
    )
    flash(
        translator().gettext(
            "The withdrawal is undone: %(name)s is enrolled in “%(cohort)s” again.",
            name=enrolment.participant.name,
            cohort=enrolment.cohort.name,
        ),
        "success",
    )
    return redirect(_back(form.back.data, None, enrolment.participant_id), 303)


def _back(wanted: str | None, referrer: str | None, participant_id: int | None = None) -> str:
    """Where "back" leads: a path of this site that was asked for, else the
    page the request came from, else the person's page (or the list)."""
    for candidate in (wanted, _path_of(referrer)):
        if candidate and candidate.startswith("/") and not candidate.startswith(("//", "/\\")):
            return candidate
    if participant_id is not None:
        return url_for("participants.edit", participant_id=participant_id)
    return url_for("participants.index")


def _path_of(referrer: str | None) -> str | None:
    if not referrer or not referrer.startswith(request.host_url):
        return None
    return "/" + referrer[len(request.host_url) :]


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
        empty_cell=EMPTY_CELL,
        number=_number,
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
    if len(rows) >= jobs.IMPORT_FROM:
        return _import_as_job(organisation, rows)
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


def _import_as_job(organisation: Organisation, rows: list[Row]) -> ResponseReturnValue:
    """A large file is imported by the worker, all of it or nothing, from
    the rows as checked here; the job's page shows the summary."""
    policy.require(actor(), policy.Action.KEEP_PEOPLE, organisation.id)
    job = jobs.start(
        jobs.IMPORT,
        actor(),
        organisation_id=organisation.id,
        language=current_language(),
        params={
            "rows": [
                {"number": row.number, "values": row.values, "person_id": row.person_id}
                for row in rows
            ]
        },
        total=len(rows),
    )
    return redirect(url_for("jobs.show", public_id=job.public_id))


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
            sentence(
                tr.gettext(
                    "%(sent)s of %(total)s links were sent; then: ",
                    sent=result.sent,
                    total=result.total,
                )
                + tr.localize(result.failure)
            ),
            "error",
        )
    else:
        flash(tr.gettext("%(sent)s personal links were sent.", sent=result.sent), "success")
    return redirect(_cohort_page(cohort_id))
