"""Certificates: HR issues and prints them, anyone can check one.

Everyone of the organisation sees the list and prints; HR and admins issue,
re-issue and revoke. The verification page needs no login and tells only
what the certificate itself says.
"""

from __future__ import annotations

import tempfile
import unicodedata
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
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm.exc import StaleDataError

from app import throttle
from app.exports.certificate_pdf import (
    MIMETYPE,
    PrintedCertificate,
    PrintedElement,
    missing_glyphs,
    render_certificate,
    write_pdf,
)
from app.extensions import db
from app.forms.certificates import LetterheadForm, ReissueForm, RevokeForm, VerifyForm
from app.i18n import Translator, refusal, translator
from app.models import Certificate, CertificateState, Cohort, Organisation, Participant, Role
from app.services import certificates as service
from app.services import letterhead
from app.views.access import owned_or_404
from app.views.versioned import changed_meanwhile, form_for, stale_settings
from curricula.messages import MessageError

bp = Blueprint("certificates", __name__)

CERTIFIERS = frozenset({Role.HR, Role.ADMIN})


def _throttled() -> None:
    """One budget for the form and the result page together, per client address."""
    throttle.check("verify", current_app.config["VERIFY_RATE_LIMIT"])


def _can_issue() -> bool:
    return current_user.role in CERTIFIERS


def _pdf_language() -> Translator:
    wanted = request.args.get("lang", "")
    return Translator(wanted) if wanted in ("de", "en") else translator()


def verify_url(certificate: Certificate) -> str:
    base = current_app.config["PUBLIC_URL"]
    if base:
        return base + url_for("certificates.verify", code=certificate.code)
    return url_for("certificates.verify", code=certificate.code, _external=True)


def _printed(certificate: Certificate, tr: Translator) -> PrintedCertificate:
    return service.printed(certificate, tr.language, verify_url(certificate))


@bp.get("/cohorts/<int:cohort_id>/certificates")
def cohort(cohort_id: int) -> str:
    record = owned_or_404(Cohort, cohort_id)
    entries = service.cohort_list(record)
    history = service.history(record)
    return render_template(
        "certificates/cohort.html",
        cohort=record,
        entries=entries,
        history=history,
        waiting=0
        if record.attendance_deleted_at
        else sum(1 for e in entries if e.decision.eligible and e.certificate is None),
        printable=sum(
            1 for c in history if c.state is CertificateState.VALID and c.participant_id
        ),
        unprintable={
            e.participant.id: lacking
            for e in entries
            if (lacking := missing_glyphs(e.participant.name))
        },
        can_issue=_can_issue(),
        form=FlaskForm(),
        serial=service.serial_label,
    )


@bp.post("/cohorts/<int:cohort_id>/certificates")
def issue(cohort_id: int) -> ResponseReturnValue:
    record = owned_or_404(Cohort, cohort_id)
    if not _can_issue():
        abort(403)
    if not FlaskForm().validate_on_submit():
        abort(400)
    tr = translator()
    wanted = request.form.get("participant", "")
    try:
        if wanted == "all":
            issued = service.issue_all(record, current_user)
        else:
            person = db.session.get(Participant, int(wanted)) if wanted.isdigit() else None
            if person is None or person.organisation_id != record.organisation_id:
                abort(404)
            issued = [service.issue(record, person, current_user)]
        db.session.commit()
    except MessageError as error:
        db.session.rollback()
        flash(refusal(tr.localize(error.message)), "error")
    else:
        count = len(issued)
        flash(
            tr.ngettext("%(num)d certificate issued.", "%(num)d certificates issued.", count),
            "success",
        )
    return redirect(url_for("certificates.cohort", cohort_id=record.id))


def _certificate(certificate_id: int) -> Certificate:
    return owned_or_404(Certificate, certificate_id)


@bp.get("/certificates/<int:certificate_id>")
def record(certificate_id: int) -> str:
    """One certificate as issued: what it says, its history, and for HR the
    forms to correct the name or revoke it."""
    return render_template(
        "certificates/record.html",
        certificate=_certificate(certificate_id),
        can_issue=_can_issue(),
        reissue_form=ReissueForm(),
        revoke_form=RevokeForm(),
        grouped=service.grouped,
        serial=service.serial_label,
    )


@bp.post("/certificates/<int:certificate_id>/reissue")
def reissue(certificate_id: int) -> ResponseReturnValue:
    old = _certificate(certificate_id)
    if not _can_issue():
        abort(403)
    form = ReissueForm()
    tr = translator()
    back = redirect(url_for("certificates.record", certificate_id=old.id))
    if not form.validate_on_submit():
        flash(refusal(tr.gettext("Enter the name as it is to be printed.")), "error")
        return back
    try:
        new = service.reissue(old, form.name.data, current_user)
        db.session.commit()
    except MessageError as error:
        db.session.rollback()
        flash(refusal(tr.localize(error.message)), "error")
    else:
        back = redirect(url_for("certificates.record", certificate_id=new.id))
        flash(
            tr.gettext(
                "Certificate no. %(new)s issued to %(name)s; no. %(old)s is superseded.",
                new=service.serial_label(new.serial),
                name=new.name,
                old=service.serial_label(old.serial),
            ),
            "success",
        )
    return back


@bp.post("/certificates/<int:certificate_id>/revoke")
def revoke(certificate_id: int) -> ResponseReturnValue:
    certificate = _certificate(certificate_id)
    if not _can_issue():
        abort(403)
    form = RevokeForm()
    tr = translator()
    back = redirect(url_for("certificates.record", certificate_id=certificate.id))
    if not form.validate_on_submit():
        flash(refusal(tr.gettext("Give a reason for the revocation.")), "error")
        return back
    try:
        service.revoke(certificate, form.reason.data, current_user)
        db.session.commit()
    except MessageError as error:
        db.session.rollback()
        flash(refusal(tr.localize(error.message)), "error")
    else:
        flash(
            tr.gettext(
                "Certificate no. %(serial)s is revoked; its verification page says so.",
                serial=service.serial_label(certificate.serial),
            ),
            "success",
        )
    return back


@bp.get("/certificates/<int:certificate_id>.pdf")
def download(certificate_id: int) -> Response:
    certificate = _certificate(certificate_id)
    if certificate.state is not CertificateState.VALID:
        abort(404)
    return certificate_download(certificate)


def certificate_download(certificate: Certificate) -> Response:
    """The PDF of one certificate, in the language the link asks for."""
    tr = _pdf_language()
    rendered = render_certificate(
        _printed(certificate, tr),
        tr,
        logo_png=certificate.organisation.logo_png,
        filename=_filename(certificate, tr),
    )
    return _attachment(rendered.content, rendered.filename)


@bp.get("/cohorts/<int:cohort_id>/certificates.pdf")
def cohort_pdf(cohort_id: int) -> Response:
    """Every certificate in force, one per page, in alphabetical order."""
    record = owned_or_404(Cohort, cohort_id)
    tr = _pdf_language()
    spool = _spool()
    write_pdf(
        (_printed(c, tr) for c in service.in_force(record)),
        spool,
        tr,
        logo_png=record.organisation.logo_png,
        title=record.name,
    )
    spool.seek(0)
    name = tr.gettext("Certificates") + f" {_safe(record.name)}.pdf"
    return send_file(spool, mimetype=MIMETYPE, as_attachment=True, download_name=name)


@bp.get("/cohorts/<int:cohort_id>/certificates.zip")
def cohort_zip(cohort_id: int) -> Response:
    """One PDF per person, named by person, in one ZIP file."""
    record = owned_or_404(Cohort, cohort_id)
    tr = _pdf_language()
    logo = record.organisation.logo_png
    spool = _spool()
    with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
        for certificate in service.in_force(record):
            with archive.open(_filename(certificate, tr), "w") as member:
                write_pdf([_printed(certificate, tr)], member, tr, logo_png=logo)
    spool.seek(0)
    name = tr.gettext("Certificates") + f" {_safe(record.name)}.zip"
    return send_file(spool, mimetype="application/zip", as_attachment=True, download_name=name)


def _spool() -> IO[bytes]:
    """A file on disk for a large download: memory stays flat however many
    certificates it holds. send_file closes (and so deletes) it."""
    return tempfile.TemporaryFile()  # noqa: SIM115


def _filename(certificate: Certificate, tr: Translator) -> str:
    serial = service.serial_label(certificate.serial)
    return f"{tr.gettext('Certificate')} {serial} {_safe(certificate.name)}.pdf"


def _safe(text: str) -> str:
    """A file name part: letters of any script, digits, spaces and dashes."""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(c if c.isalnum() or c in " -" else "_" for c in text)
    return " ".join(kept.split())[:80]


def _attachment(content: bytes, filename: str) -> Response:
    response = Response(content, mimetype=MIMETYPE)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


# The organisation's letterhead: signatory and logo.


@bp.route("/organisations/<int:organisation_id>/certificates", methods=["GET", "POST"])
def settings(organisation_id: int) -> ResponseReturnValue:
    organisation = owned_or_404(Organisation, organisation_id, "id")
    if not _can_issue():
        abort(403)
    form = form_for(LetterheadForm, organisation)
    tr = translator()
    if form.validate_on_submit():
        stale = stale_settings()
        if changed_meanwhile(form, organisation):
            flash(stale, "error")
            return redirect(url_for("certificates.settings", organisation_id=organisation.id))
        upload = form.logo.data
        try:
            letterhead.update(
                organisation,
                signatory_name=form.signatory_name.data or "",
                signatory_role=form.signatory_role.data or "",
                logo=upload.read() if upload else None,
                remove_logo=form.remove_logo.data,
            )
            db.session.commit()
        except MessageError as error:
            db.session.rollback()
            form.logo.errors = [refusal(tr.localize(error.message))]
        except StaleDataError:
            db.session.rollback()
            flash(stale, "error")
            return redirect(url_for("certificates.settings", organisation_id=organisation_id))
        else:
            flash(tr.gettext("Saved."), "success")
            return redirect(url_for("certificates.settings", organisation_id=organisation.id))
    return render_template("certificates/settings.html", organisation=organisation, form=form)


@bp.get("/organisations/<int:organisation_id>/certificates/logo.png")
def logo(organisation_id: int) -> Response:
    organisation = owned_or_404(Organisation, organisation_id, "id")
    if not organisation.logo_png:
        abort(404)
    return Response(organisation.logo_png, mimetype="image/png")


@bp.get("/organisations/<int:organisation_id>/certificates/preview.pdf")
def preview(organisation_id: int) -> Response:
    """A certificate with sample data, to see the letterhead before issuing."""
    organisation = owned_or_404(Organisation, organisation_id, "id")
    tr = _pdf_language()
    sample = PrintedCertificate(
        name="Zoë Łukasiewicz-Øvergaard",
        serial="00000",
        code="SAMP-LE00-0000-0000",
        verify_url=url_for("certificates.verify_form", _external=True),
        verify_text=tr.gettext("sample – not a certificate"),
        issued_on=date.today(),
        programme=tr.gettext("Training companions: sample programme"),
        version_label=tr.gettext("Sample"),
        period=(date(2027, 3, 1), date(2027, 6, 1)),
        elements=(
            PrintedElement(tr.gettext("Seminar day 1"), date(2027, 3, 1), date(2027, 3, 1), 7),
            PrintedElement(tr.gettext("Seminar day 2"), date(2027, 3, 2), date(2027, 3, 2), 7),
            PrintedElement(tr.gettext("Reflection day"), date(2027, 6, 1), date(2027, 6, 1), 4),
        ),
        topics=(tr.gettext("Role of the training companion"), tr.gettext("Learning formats")),
        teaching_hours=18,
        issuer=organisation.name,
        signatory=organisation.signatory_name,
        signatory_role=organisation.signatory_role,
    )
    rendered = render_certificate(
        sample, tr, logo_png=organisation.logo_png, filename=tr.gettext("Sample") + ".pdf"
    )
    response = Response(rendered.content, mimetype=MIMETYPE)
    response.headers.set("Content-Disposition", "inline", filename=rendered.filename)
    return response


# Public: checking a certificate.


@bp.get("/verify")
def verify_form() -> ResponseReturnValue:
    _throttled()
    form = VerifyForm(request.args)
    if request.args and form.validate():
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
        printed=_printed(certificate, translator()) if certificate else None,
        grouped=service.grouped,
        serial=service.serial_label,
        status=status,
    )
    return response, status, {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
