"""Certificates: HR issues and prints them, anyone can check one.

Everyone of the organisation sees the list and prints; HR and admins issue,
re-issue and revoke. The verification page needs no login and tells only
what the certificate itself says.
"""

from __future__ import annotations

import tempfile
import zipfile
from datetime import date
from typing import IO

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from app import throttle, transactions
from app.certificate_files import (
    certificate_download,
    file_name,
    name_part,
    pdf_language,
    printed,
)
from app.downloads import content_disposition, file_response
from app.exports.certificate_pdf import (
    MIMETYPE,
    PrintedCertificate,
    PrintedElement,
    render_certificate,
    write_pdf,
)
from app.forms.certificates import LetterheadForm, ReissueForm, RevokeForm, VerifyForm
from app.i18n import current_language, refusal, translator
from app.models import CertificateState, Organisation
from app.public_url import external_url
from app.services import certificate_years, jobs, letterhead
from app.services import certificates as service
from app.services.errors import NotFound
from app.views.access import actor

bp = Blueprint("certificates", __name__)

# The largest id a form may name; anything longer is no record of ours.
_ID_DIGITS = 18


def _throttled() -> None:
    """One budget for the form and the result page together, per client address."""
    throttle.check("verify", current_app.config["VERIFY_RATE_LIMIT"])


def _record_id(text: str) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= _ID_DIGITS):
        raise NotFound()
    return int(text)


@bp.get("/cohorts/<int:cohort_id>/certificates")
def cohort(cohort_id: int) -> str:
    page = service.cohort_certificates(actor(), cohort_id)
    return render_template(
        "certificates/cohort.html",
        cohort=page.cohort,
        entries=page.entries,
        history=page.history,
        waiting=page.waiting,
        printable=page.printable,
        unprintable=page.unprintable,
        can_issue=page.can_issue,
        form=FlaskForm(),
        serial=service.serial_label,
        print_as_job=page.printable >= jobs.CERTIFICATES_FROM,
    )


@bp.post("/cohorts/<int:cohort_id>/certificates")
@transactions.web
def issue(cohort_id: int) -> ResponseReturnValue:
    wanted = request.form.get("participant", "")
    if wanted == "all":
        issued = service.issue_eligible(actor(), cohort_id)
    else:
        issued = [service.issue_certificate(actor(), cohort_id, _record_id(wanted))]
    count = len(issued)
    flash(
        translator().ngettext(
            "%(num)d certificate issued.", "%(num)d certificates issued.", count
        ),
        "success",
    )
    return redirect(url_for("certificates.cohort", cohort_id=cohort_id))


@bp.get("/certificates/<int:certificate_id>")
def record(certificate_id: int) -> str:
    """One certificate as issued: what it says, its history, and for HR the
    forms to correct the name or revoke it."""
    certificate = service.certificate_of(actor(), certificate_id)
    return render_template(
        "certificates/record.html",
        certificate=certificate,
        can_issue=service.may_issue(actor(), certificate),
        reissue_form=ReissueForm(),
        revoke_form=RevokeForm(),
        grouped=service.grouped,
        serial=service.serial_label,
    )


@bp.post("/certificates/<int:certificate_id>/reissue")
@transactions.web
def reissue(certificate_id: int) -> ResponseReturnValue:
    new = service.reissue_certificate(actor(), certificate_id, request.form.get("name", ""))
    old = service.certificate_of(actor(), certificate_id)
    tr = translator()
    flash(
        tr.gettext(
            "Certificate no. %(new)s issued to %(name)s; no. %(old)s is superseded.",
            new=service.serial_label(new.serial),
            name=new.name,
            old=service.serial_label(old.serial),
        ),
        "success",
    )
    return redirect(url_for("certificates.record", certificate_id=new.id))


@bp.get("/certificates/<int:certificate_id>/revoke")
def confirm_revocation(certificate_id: int) -> ResponseReturnValue:
    """Revoking asks first: what it does, that it cannot be undone, and the
    reason; the form posts to `revoke`."""
    certificate = service.certificate_of(actor(), certificate_id)
    if not service.may_issue(actor(), certificate):
        abort(403)
    return render_template(
        "certificates/revoke.html",
        certificate=certificate,
        revoke_form=RevokeForm(),
        grouped=service.grouped,
        serial=service.serial_label,
    )


@bp.post("/certificates/<int:certificate_id>/revoke")
@transactions.web
def revoke(certificate_id: int) -> ResponseReturnValue:
    certificate = service.revoke_certificate(
        actor(), certificate_id, request.form.get("reason", "")
    )
    flash(
        translator().gettext(
            "Certificate no. %(serial)s is revoked; its verification page says so.",
            serial=service.serial_label(certificate.serial),
        ),
        "success",
    )
    return redirect(url_for("certificates.record", certificate_id=certificate.id))


@bp.get("/certificates/<int:certificate_id>.pdf")
def download(certificate_id: int) -> Response:
    return certificate_download(service.printable_certificate(actor(), certificate_id))


@bp.get("/cohorts/<int:cohort_id>/certificates.pdf")
def cohort_pdf(cohort_id: int) -> Response:
    """Every certificate in force, one per page, in alphabetical order."""
    record, certificates = service.printable_of_cohort(actor(), cohort_id)
    tr = pdf_language()
    spool = _spool()
    write_pdf(
        (printed(c, tr) for c in certificates),
        spool,
        tr,
        logo_png=record.organisation.logo_png,
        title=record.name,
    )
    name = tr.gettext("Certificates") + f" {name_part(record.name)}.pdf"
    return _spooled_attachment(spool, MIMETYPE, name)


@bp.get("/cohorts/<int:cohort_id>/certificates.zip")
def cohort_zip(cohort_id: int) -> Response:
    """One PDF per person, named by person, in one ZIP file."""
    record, certificates = service.printable_of_cohort(actor(), cohort_id)
    tr = pdf_language()
    logo = record.organisation.logo_png
    spool = _spool()
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
        for certificate in certificates:
            with archive.open(file_name(certificate, tr), "w") as member:
                write_pdf([printed(certificate, tr)], member, tr, logo_png=logo)
    name = tr.gettext("Certificates") + f" {name_part(record.name)}.zip"
    return _spooled_attachment(spool, "application/zip", name)


# Many certificates at once: a job draws the PDF, its page links it.


@bp.post("/cohorts/<int:cohort_id>/certificates/print")
@transactions.web
def print_cohort(cohort_id: int) -> ResponseReturnValue:
    """Every certificate in force of the cohort as one PDF, drawn by the worker."""
    record, certificates = service.printable_of_cohort(actor(), cohort_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    job = jobs.start(
        jobs.CERTIFICATES,
        actor(),
        organisation_id=record.organisation_id,
        cohort_id=record.id,
        language=current_language(),
        params={"lang": _print_language(), "base_url": _base_url()},
        total=len(certificates),
    )
    return redirect(url_for("jobs.show", public_id=job.public_id))


@bp.get("/organisations/<int:organisation_id>/certificates/years")
def years(organisation_id: int) -> str:
    organisation, counts = certificate_years.years(actor(), organisation_id)
    return render_template(
        "certificates/years.html", organisation=organisation, counts=counts, form=FlaskForm()
    )


@bp.post("/organisations/<int:organisation_id>/certificates/years/<int:year>/print")
@transactions.web
def print_year(organisation_id: int, year: int) -> ResponseReturnValue:
    """Every certificate in force issued in `year`, as one PDF (a job)."""
    organisation = certificate_years.organisation_to_print(actor(), organisation_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    job = jobs.start(
        jobs.CERTIFICATES,
        actor(),
        organisation_id=organisation.id,
        language=current_language(),
        params={"lang": _print_language(), "base_url": _base_url(), "year": year},
        total=certificate_years.count_of_year(organisation.id, year),
    )
    return redirect(url_for("jobs.show", public_id=job.public_id))


def _print_language() -> str:
    wanted = request.form.get("lang", "")
    return wanted if wanted in ("de", "en") else current_language()


def _base_url() -> str:
    """What the worker builds the printed verification addresses on: the
    public address when set, else this request's (as a download would)."""
    return current_app.config.get("PUBLIC_URL") or request.host_url.rstrip("/")


def _spool() -> IO[bytes]:
    """A file on disk for a large download: memory stays flat however many
    certificates it holds. send_file closes (and so deletes) it."""
    return tempfile.TemporaryFile()  # noqa: SIM115


def _spooled_attachment(spool: IO[bytes], mimetype: str, filename: str) -> Response:
    spool.seek(0)
    response = send_file(spool, mimetype=mimetype)
    # Named like every other download (RFC 6266), not by send_file's own rules.
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response


# The organisation's letterhead: signatory and logo.


@bp.route("/organisations/<int:organisation_id>/certificates", methods=["GET", "POST"])
@transactions.web
def settings(organisation_id: int) -> ResponseReturnValue:
    organisation = letterhead.letterhead_of(actor(), organisation_id)
    showing = request.method == "GET"
    form = LetterheadForm(obj=organisation if showing else None)
    if showing:
        form.version.data = str(organisation.lock_version)
    if not form.validate_on_submit():
        status = 200 if showing else 400
        return _settings_page(organisation, form), status
    upload = form.logo.data
    try:
        letterhead.update_letterhead(
            actor(),
            organisation.id,
            version=form.version.data,
            signatory_name=form.signatory_name.data or "",
            signatory_role=form.signatory_role.data or "",
            logo=upload.read() if upload else None,
            remove_logo=form.remove_logo.data,
        )
    except letterhead.LetterheadRefused as error:
        # Shown at the logo field; the error status rolls everything back.
        form.logo.errors = [refusal(translator().localize(error.message))]
        return _settings_page(organisation, form), 400
    flash(translator().gettext("Saved."), "success")
    return redirect(url_for("certificates.settings", organisation_id=organisation.id))


def _settings_page(organisation: Organisation, form: LetterheadForm) -> str:
    return render_template("certificates/settings.html", organisation=organisation, form=form)


@bp.get("/organisations/<int:organisation_id>/certificates/logo.png")
def logo(organisation_id: int) -> Response:
    organisation = letterhead.shown_organisation(actor(), organisation_id)
    if not organisation.logo_png:
        abort(404)
    return Response(organisation.logo_png, mimetype="image/png")


@bp.get("/organisations/<int:organisation_id>/certificates/preview.pdf")
def preview(organisation_id: int) -> Response:
    """A certificate with sample data, to see the letterhead before issuing."""
    organisation = letterhead.shown_organisation(actor(), organisation_id)
    tr = pdf_language()
    sample = PrintedCertificate(
        name="Zoë Łukasiewicz-Øvergaard",
        serial="00000",
        code="SAMP-LE00-0000-0000",
        verify_url=external_url("certificates.verify_form"),
        verify_text=tr.gettext("sample – not a certificate"),
        issued_on=date.today(),
        programme=tr.gettext("Training companions: sample programme"),
        version_label=tr.gettext("Sample"),
        period=(date(2027, 3, 1), date(2027, 6, 1)),
        # Six hours a day: eight teaching units of 45 minutes.
        elements=(
            PrintedElement(tr.gettext("Seminar day 1"), date(2027, 3, 1), date(2027, 3, 1), 6, 8),
            PrintedElement(tr.gettext("Seminar day 2"), date(2027, 3, 2), date(2027, 3, 2), 6, 8),
            PrintedElement(tr.gettext("Reflection day"), date(2027, 6, 1), date(2027, 6, 1), 6, 8),
        ),
        topics=(tr.gettext("Role of the training companion"), tr.gettext("Learning formats")),
        teaching_hours=18,
        teaching_units=24,
        issuer=organisation.name,
        signatory=organisation.signatory_name,
        signatory_role=organisation.signatory_role,
    )
    rendered = render_certificate(
        sample, tr, logo_png=organisation.logo_png, filename=tr.gettext("Sample") + ".pdf"
    )
    return file_response(rendered.content, rendered.mimetype, rendered.filename, "inline")


# Public: checking a certificate.


@bp.get("/verify")
def verify_form() -> ResponseReturnValue:
    _throttled()
    form = VerifyForm(request.args)
    # Only a typed code is checked: the language links add ?lang= alone.
    if "code" in request.args and form.validate():
        code = service.normalise_code(form.code.data)
        if code is not None:
            return redirect(url_for("certificates.verify", code=code))
        form.code.errors = [
            translator().gettext(
                "A verification code has 16 letters and digits, e.g. 7KQ2-M9XD-4TRA-HC3P."
            )
        ]
    return render_template("certificates/verify.html", form=form, certificate=None)


@bp.get("/verify/<code>")
def verify(code: str) -> ResponseReturnValue:
    _throttled()
    certificate = service.find(code)
    status = 200
    if certificate is None:
        status = 404
    elif certificate.state is CertificateState.REVOKED:
        status = 410
    response = render_template(
        "certificates/verify.html",
        form=VerifyForm(formdata=None),
        certificate=certificate,
        printed=printed(certificate, translator()) if certificate else None,
        grouped=service.grouped,
        serial=service.serial_label,
        status=status,
    )
    return response, status, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
