"""The API's resources. Each handler: the caller's organisation decides what
exists (records of others answer 404), the role what may be changed (403),
and writes go through the same services as the pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort
from flask_smorest import Blueprint

from app import credentials, transactions
from app.api import schemas as s
from app.api.auth import authenticate, caller
from app.models import (
    AttendanceRecord,
    Certificate,
    CertificateState,
    Cohort,
    CurriculumRecord,
    CurriculumVersion,
    Enrolment,
    Organisation,
    Participant,
    Session,
    Tandem,
)
from app.services import attendance, certificates, listings, participants, policy
from app.services.enrolments import enrol_participant

F = TypeVar("F", bound=Callable[..., Any])

organisations = Blueprint("api_organisations", __name__, description="Organisations")
curricula = Blueprint("api_curricula", __name__, description="Curricula (published versions)")
cohorts = Blueprint("api_cohorts", __name__, description="Cohorts and their sessions")
people = Blueprint("api_participants", __name__, description="Participants and enrolments")
tandems = Blueprint("api_tandems", __name__, description="Tandems")
marks = Blueprint("api_attendance", __name__, description="Attendance")
certs = Blueprint("api_certificates", __name__, description="Certificates")
blueprints = (organisations, curricula, cohorts, people, tandems, marks, certs)
for _blueprint in blueprints:
    _blueprint.before_request(authenticate)


def errors(blueprint: Blueprint, *codes: int) -> Callable[[F], F]:
    """Documents the error answers an operation can give (401 for all)."""

    def decorate(view: F) -> F:
        for code in sorted({401, *codes}):
            view = blueprint.alt_response(code, schema=s.ErrorOut, description=_WHY[code])(view)
        return view

    return decorate


_WHY = {
    401: "No token, or an unknown or revoked one.",
    403: "The token's role does not allow this.",
    404: "No such record in the token's organisation.",
    409: "Refused by a business rule; the message says which.",
    410: "The certificate is no longer in force (revoked or re-issued).",
    422: "The request's values are not valid; details name each field.",
}


def _own(model: type[Any], record_id: int) -> Any:
    return policy.get(caller().actor, model, record_id)


# Organisations


@organisations.get("/organisations")
@organisations.response(200, s.OrganisationOut(many=True))
@errors(organisations)
def list_organisations() -> list[Organisation]:
    """The organisation the token is for."""
    return [policy.get(caller().actor, Organisation, caller().organisation_id, "id")]


# Curricula


def _curriculum_out(record: CurriculumRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "key": record.key,
        "title_de": record.title_de,
        "title_en": record.title_en,
        "organisation_id": record.organisation_id,
        "upstream_id": record.upstream_id,
        "versions": [v for v in record.versions if not v.is_draft],
    }


@curricula.get("/curricula")
@curricula.arguments(s.PageArgs, location="query")
@curricula.response(200, s.page_of(s.CurriculumOut, "CurriculumPage"))
@errors(curricula, 422)
def list_curricula(args: dict[str, Any]) -> dict[str, Any]:
    """The shipped standards and the organisation's own curricula."""
    records, total = listings.curricula(caller().actor, args["page"], args["per_page"])
    return s.page([_curriculum_out(r) for r in records], args, total)


@curricula.get("/curricula/<int:curriculum_id>/versions/<int:version_id>")
@curricula.response(200, s.VersionOut)
@errors(curricula, 404)
def get_version(curriculum_id: int, version_id: int) -> CurriculumVersion:
    """A published version, read-only: its elements and its TOML source."""
    return listings.published_version(caller().actor, curriculum_id, version_id)


# Cohorts and sessions


@cohorts.get("/cohorts")
@cohorts.arguments(s.PageArgs, location="query")
@cohorts.response(200, s.page_of(s.CohortOut, "CohortPage"))
@errors(cohorts, 422)
def list_cohorts(args: dict[str, Any]) -> dict[str, Any]:
    items, total = listings.cohorts(caller().actor, args["page"], args["per_page"])
    return s.page(items, args, total)


@cohorts.get("/cohorts/<int:cohort_id>")
@cohorts.response(200, s.CohortOut)
@errors(cohorts, 404)
def get_cohort(cohort_id: int) -> Cohort:
    return _own(Cohort, cohort_id)


@cohorts.get("/cohorts/<int:cohort_id>/sessions")
@cohorts.response(200, s.SessionOut(many=True))
@errors(cohorts, 404)
def list_sessions(cohort_id: int) -> list[Session]:
    """Every session, cancelled ones too (status)."""
    return listings.sessions(caller().actor, cohort_id)


# Participants and enrolments


@people.get("/participants")
@people.arguments(s.SearchArgs, location="query")
@people.response(200, s.page_of(s.ParticipantOut, "ParticipantPage"))
@errors(people, 422)
def list_participants(args: dict[str, Any]) -> dict[str, Any]:
    """Participants by last name; `q` finds every word in names, e-mail
    address, department or site (the same search as the participants page)."""
    items, total = participants.search(caller().actor, args["q"], args["page"], args["per_page"])
    return s.page(items, args, total)


@people.get("/participants/<int:participant_id>")
@people.response(200, s.ParticipantOut)
@errors(people, 404)
def get_participant(participant_id: int) -> Participant:
    return _own(Participant, participant_id)


@people.post("/participants")
@transactions.api
@people.arguments(s.ParticipantIn)
@people.response(201, s.ParticipantOut)
@errors(people, 403, 409, 422)
def create_participant(values: dict[str, str]) -> Participant:
    return participants.add(caller().actor, caller().organisation_id, values)


@people.get("/cohorts/<int:cohort_id>/enrolments")
@people.response(200, s.EnrolmentOut(many=True))
@errors(people, 404)
def list_enrolments(cohort_id: int) -> list[Enrolment]:
    return listings.enrolments(caller().actor, cohort_id)


@people.post("/cohorts/<int:cohort_id>/enrolments")
@transactions.api
@people.arguments(s.EnrolmentIn)
@people.response(201, s.EnrolmentOut)
@errors(people, 403, 404, 409, 422)
def create_enrolment(values: dict[str, Any], cohort_id: int) -> Enrolment:
    """Enrols the person. Someone who holds a certificate in force for the
    curriculum, or is enrolled in another open cohort of it, is refused
    (`already_certified`, `enrolled_elsewhere`), as is one who would be in the
    cohort with their manager or someone they manage (`with_manager`), unless
    `acknowledge` is true."""
    return enrol_participant(
        caller().actor, cohort_id, values["participant_id"], acknowledge=values["acknowledge"]
    )


# Tandems


@tandems.get("/cohorts/<int:cohort_id>/tandems")
@tandems.response(200, s.TandemOut(many=True))
@errors(tandems, 404)
def list_tandems(cohort_id: int) -> list[Tandem]:
    """The confirmed tandems of the cohort."""
    return listings.confirmed_tandems(caller().actor, cohort_id)


# Attendance


@marks.get("/cohorts/<int:cohort_id>/attendance")
@marks.response(200, s.MarkOut(many=True))
@errors(marks, 404)
def list_marks(cohort_id: int) -> list[AttendanceRecord]:
    """Recorded marks that count for the cohort (make-ups elsewhere too)."""
    return listings.marks(caller().actor, cohort_id)


@marks.put("/cohorts/<int:cohort_id>/attendance/<int:session_id>/<int:participant_id>")
@transactions.api
@marks.arguments(s.MarkIn)
@marks.response(200, s.MarkOut)
@errors(marks, 403, 404, 409, 422)
def set_mark(
    values: dict[str, Any], cohort_id: int, session_id: int, participant_id: int
) -> AttendanceRecord:
    """Sets one mark, as a tap in the grid does, under the same rules; the
    change is kept on record."""
    return attendance.record_mark(
        caller().actor,
        cohort_id,
        session_id,
        participant_id,
        values["mark"],
        minutes=values["minutes_missed"],
    )


# Certificates


@certs.get("/cohorts/<int:cohort_id>/certificates")
@certs.response(200, s.CertificateOut(many=True))
@errors(certs, 404)
def list_certificates(cohort_id: int) -> list[Certificate]:
    """Every certificate of the cohort, superseded and revoked ones too."""
    return certificates.history(_own(Cohort, cohort_id))


@certs.post("/cohorts/<int:cohort_id>/certificates")
@transactions.api
@certs.arguments(s.CertificateIn)
@certs.response(201, s.CertificateOut)
@errors(certs, 403, 404, 409, 422)
def issue_certificate(values: dict[str, int], cohort_id: int) -> Certificate:
    """Issues the certificate for an eligible person (refused with the reason otherwise)."""
    return certificates.issue_certificate(caller().actor, cohort_id, values["participant_id"])


@certs.get("/certificates/<int:certificate_id>")
@certs.response(200, s.CertificateOut)
@errors(certs, 404)
def get_certificate(certificate_id: int) -> Certificate:
    return _own(Certificate, certificate_id)


@certs.get("/certificates/<int:certificate_id>/credential")
@certs.response(200, s.CredentialOut)
@errors(certs, 404, 410)
def get_credential(certificate_id: int) -> dict[str, Any]:
    """The certificate's signed credential (Open Badges 3.0, VC-JWT), while
    the certificate is in force; a revoked or re-issued one answers 410, an
    erased person's or one issued before credentials existed 404."""
    certificate = _own(Certificate, certificate_id)
    if certificate.state is not CertificateState.VALID:
        abort(410, description="The certificate is no longer in force; nor is its credential.")
    issued = credentials.credential_of(certificate) if not certificate.erased else None
    if issued is None:
        abort(404, description="This certificate has no credential.")
    return {"certificate_id": certificate.id, "jwt": issued.jwt, "credential": issued.document}


@certs.post("/certificates/<int:certificate_id>/revoke")
@transactions.api
@certs.arguments(s.RevocationIn)
@certs.response(200, s.CertificateOut)
@errors(certs, 403, 404, 409, 422)
def revoke_certificate(values: dict[str, str], certificate_id: int) -> Certificate:
    return certificates.revoke_certificate(caller().actor, certificate_id, values["reason"])
