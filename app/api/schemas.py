"""The API's shapes: they serialise the responses, validate the requests and
generate the OpenAPI document, so the three cannot drift apart."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate

from app.models.registrations import RegistrationState
from app.routing import LARGEST_ID
from app.services.attendance import MAX_MINUTES_MISSED, PARTLY_DEFAULT_MINUTES
from app.services.registrations import LONGEST_REASON
from app.services.text import CONTROL_CHARACTERS
from cohorts.at_risk import Part
from cohorts.eligibility import Mark

# NUL never belongs in a text, and PostgreSQL cannot store it (refused with 400).
NO_NUL = validate.Regexp(r"^[^\x00]*$", error="Must not contain NUL characters.")
# One line of text: the participants service's rule for every door, stated
# here too so that the OpenAPI document names it.
ONE_LINE = validate.Regexp(
    f"^[^{CONTROL_CHARACTERS}]*$",
    error="Takes one line of text, without line breaks or other control characters.",
)
NAME = [validate.Length(min=1, max=100), ONE_LINE]  # NUL is a control character too
SETTABLE_MARKS = [m.value for m in Mark if m not in (Mark.NOT_RECORDED, Mark.NOT_EXPECTED)] + [
    Mark.NOT_RECORDED.value
]


class PageArgs(Schema):
    class Meta:
        # Other query parameters (a client's cache buster) are ignored, as documented.
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class SearchArgs(PageArgs):
    q = fields.String(load_default="", validate=[validate.Length(max=200), NO_NUL])


def page_of(item: type[Schema], name: str) -> type[Schema]:
    """A page of `item`s, with where it is in the whole list."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True),
        },
        name=name,
    )


class OrganisationOut(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    default_region = fields.String(required=True)
    default_timezone = fields.String(required=True)


class VersionSummary(Schema):
    id = fields.Integer(required=True)
    number = fields.Integer(required=True)
    published_at = fields.DateTime(required=True)


class CurriculumOut(Schema):
    id = fields.Integer(required=True)
    key = fields.String(required=True)
    title_de = fields.String(required=True)
    title_en = fields.String(required=True)
    organisation_id = fields.Integer(allow_none=True, required=True)
    upstream_id = fields.Integer(allow_none=True, required=True)
    versions = fields.List(fields.Nested(VersionSummary), required=True)


class ElementOut(Schema):
    key = fields.String(required=True)
    kind = fields.String(required=True)
    mode = fields.String(required=True)
    title_de = fields.String(required=True)
    title_en = fields.String(required=True)
    teaching_hours = fields.Float(required=True)
    counts_for_certificate = fields.Boolean(required=True)


class VersionOut(VersionSummary):
    curriculum_id = fields.Integer(required=True)
    based_on_id = fields.Integer(allow_none=True, required=True)
    elements = fields.List(fields.Nested(ElementOut), required=True)
    source = fields.String(required=True, metadata={"description": "The version as TOML."})


class CohortOut(Schema):
    id = fields.Integer(required=True)
    organisation_id = fields.Integer(required=True)
    version_id = fields.Integer(required=True)
    name = fields.String(required=True)
    start_date = fields.Date(required=True)
    region = fields.String(required=True)
    timezone = fields.String(required=True)
    state = fields.Function(lambda c: c.state.value, required=True)
    capacity = fields.Integer(allow_none=True, required=True)


class SessionOut(Schema):
    id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    element_key = fields.Function(lambda s: s.element.key, required=True)
    title_de = fields.Function(lambda s: s.element.title_de, required=True)
    title_en = fields.Function(lambda s: s.element.title_en, required=True)
    first_day = fields.Date(required=True)
    last_day = fields.Date(required=True)
    starts_at = fields.DateTime(allow_none=True, required=True)
    ends_at = fields.DateTime(allow_none=True, required=True)
    all_day = fields.Boolean(required=True)
    mode = fields.String(required=True)
    status = fields.Function(lambda s: s.status.value, required=True)
    revision = fields.Integer(required=True)


class ParticipantOut(Schema):
    id = fields.Integer(required=True)
    organisation_id = fields.Integer(required=True)
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    email = fields.String(required=True)
    department = fields.String(required=True)
    site = fields.String(required=True)
    manager_name = fields.String(required=True)
    manager_email = fields.String(required=True)
    # "" when the person has none (the table keeps NULL there).
    employee_number = fields.Function(
        lambda p: p.employee_number or "", required=True, metadata={"type": "string"}
    )


class ParticipantIn(Schema):
    first_name = fields.String(required=True, validate=NAME)
    last_name = fields.String(required=True, validate=NAME)
    email = fields.Email(required=True, validate=[validate.Length(max=254), NO_NUL])
    department = fields.String(load_default="", validate=[validate.Length(max=200), ONE_LINE])
    site = fields.String(load_default="", validate=[validate.Length(max=200), ONE_LINE])
    manager_name = fields.String(load_default="", validate=[validate.Length(max=200), ONE_LINE])
    manager_email = fields.String(load_default="", validate=[validate.Length(max=254), ONE_LINE])
    employee_number = fields.String(load_default="", validate=[validate.Length(max=50), ONE_LINE])


class EnrolmentOut(Schema):
    id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    participant_id = fields.Integer(required=True)
    status = fields.Function(lambda e: e.status.value, required=True)
    enrolled_at = fields.DateTime(required=True)
    withdrawn_at = fields.DateTime(allow_none=True, required=True)


class EnrolmentIn(Schema):
    participant_id = fields.Integer(required=True, validate=validate.Range(min=1, max=LARGEST_ID))
    # Enrol even though the person holds a certificate for the curriculum or
    # is in another open cohort of it (refused with the reason otherwise).
    acknowledge = fields.Boolean(load_default=False)


class TandemOut(Schema):
    id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    state = fields.Function(lambda t: t.state.value, required=True)
    participant_ids = fields.Function(
        lambda t: [m.participant_id for m in t.members], required=True
    )


class MarkOut(Schema):
    session_id = fields.Integer(required=True)
    participant_id = fields.Integer(required=True)
    cohort_id = fields.Integer(
        attribute="for_cohort_id",
        required=True,
        metadata={"description": "Counts for this cohort."},
    )
    mark = fields.Function(lambda r: r.mark.value, required=True)
    minutes_missed = fields.Integer(required=True)
    recorded_at = fields.DateTime(required=True)


class MarkIn(Schema):
    mark = fields.String(required=True, validate=validate.OneOf(SETTABLE_MARKS))
    # The range is the service's rule, shared with the grid, and its refusal
    # says it in the same words; the document shows it from the same
    # constants. The default depends on the mark, so the document names no
    # single one (a callable is left out of it) and the description says it.
    minutes_missed = fields.Integer(
        load_default=lambda: None,
        allow_none=True,
        metadata={
            "minimum": 0,
            "maximum": MAX_MINUTES_MISSED,
            "description": (
                f"For a partly mark, the minutes missed: 1 to {MAX_MINUTES_MISSED} "
                f"(left out: {PARTLY_DEFAULT_MINUTES} for partly); 0 is refused with "
                "422 invalid_minutes, as in the attendance grid. For other marks it "
                f"is not kept: 0 to {MAX_MINUTES_MISSED} is accepted and ignored, any "
                "other count refused the same way."
            ),
        },
    )


class CertificateOut(Schema):
    id = fields.Integer(required=True)
    organisation_id = fields.Integer(required=True)
    cohort_id = fields.Integer(allow_none=True, required=True)
    participant_id = fields.Integer(allow_none=True, required=True)
    serial = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    state = fields.Function(lambda c: c.state.value, required=True)
    issued_on = fields.Date(required=True)
    teaching_hours = fields.Function(lambda c: c.content["teaching_hours"], required=True)
    superseded_by_id = fields.Integer(allow_none=True, required=True)
    revoked_at = fields.DateTime(allow_none=True, required=True)


class CredentialOut(Schema):
    """A certificate's signed Open Badges 3.0 credential (VC-JWT)."""

    certificate_id = fields.Integer(required=True)
    jwt = fields.String(
        required=True,
        metadata={
            "description": "The VC-JWT: a compact JWS (EdDSA) whose payload is the credential."
        },
    )
    credential = fields.Dict(
        required=True,
        metadata={"description": "The OpenBadgeCredential as signed (the JWT's payload)."},
    )


class CertificateIn(Schema):
    participant_id = fields.Integer(required=True, validate=validate.Range(min=1, max=LARGEST_ID))


class RevocationIn(Schema):
    # An empty or long reason is refused by the service, as on the page.
    reason = fields.String(required=True, validate=[NO_NUL])


def page(items: list[Any], args: dict[str, Any], total: int) -> dict[str, Any]:
    return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}


class ErrorBody(Schema):
    status = fields.Integer(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class ErrorOut(Schema):
    error = fields.Nested(ErrorBody, required=True)


# Registrations (HR's side)


class PersonOut(Schema):
    """The person as HR's pages name them."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)


class RegistrationOut(Schema):
    id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    participant = fields.Nested(PersonOut, required=True)
    state = fields.String(
        required=True,
        validate=validate.OneOf([state.value for state in RegistrationState]),
        metadata={
            "description": "registered (e-mail address not confirmed yet), email_confirmed, "
            "manager_confirmed, manager_declined, accepted, declined, waiting (on the "
            "waiting list), offered (a freed place offered until `offer_expires_at`), "
            "and the ends offer_expired, offer_declined, withdrawn, moved."
        },
    )
    decidable = fields.Boolean(
        required=True,
        metadata={"description": "HR may accept it now (the same as the page's button)."},
    )
    invited = fields.Boolean(required=True, metadata={"description": "HR invited the person."})
    registered_at = fields.DateTime(
        required=True,
        metadata={"description": "When the person registered, or joined the waiting list."},
    )
    manager_name = fields.String(required=True)
    manager_email = fields.String(required=True)
    manager_answered_at = fields.DateTime(
        allow_none=True,
        required=True,
        metadata={"description": "When the manager confirmed (or refused)."},
    )
    weekly_minutes = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "The weekly time the manager granted for the role, in minutes."},
    )
    decided_at = fields.DateTime(allow_none=True, required=True)
    decided_by = fields.String(
        allow_none=True, required=True, metadata={"description": "The name of who decided."}
    )
    decline_reason = fields.String(
        allow_none=True, required=True, metadata={"description": "HR's reason, when declined."}
    )
    changed_at = fields.DateTime(required=True, metadata={"description": "The last change."})
    position = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "The place on the waiting list (null: not waiting)."},
    )
    offer_expires_at = fields.DateTime(allow_none=True, required=True)


class AcceptIn(Schema):
    # Accept even though the enrolment warns (a certificate for the
    # curriculum, another open cohort of it, the manager in the cohort), as
    # the page's "accept all the same" does; refused with the warnings otherwise.
    acknowledge = fields.Boolean(
        load_default=False,
        metadata={"description": "Accept all the same, though the enrolment warns."},
    )


# Some text besides white space (Python's, what str.strip() removes, spelt
# out: JSON Schema's \s lacks some of it), and no NUL: the service's rule
# for a reason, stated so that the document names it.
WHITESPACE = "\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = validate.Regexp(
    f"^[{WHITESPACE}]*[^\x00{WHITESPACE}][^\x00]*$",
    error="Please give a reason (without NUL characters).",
)


class DeclineIn(Schema):
    # The service refuses an empty or long reason (reason_missing, 422), as
    # on the page; stated here too so that the document names the rule.
    reason = fields.String(
        required=True,
        validate=[validate.Length(max=LONGEST_REASON), NOT_BLANK],
        metadata={"description": "Told to the person."},
    )


class InvitationIn(Schema):
    participant_id = fields.Integer(required=True, validate=validate.Range(min=1, max=LARGEST_ID))


# Make-ups and the at-risk list


class BookingOut(Schema):
    """A make-up booked: an attendance record in another cohort's session
    that counts for the person's own cohort."""

    id = fields.Integer(required=True)
    participant_id = fields.Integer(required=True)
    cohort_id = fields.Integer(
        required=True, metadata={"description": "The person's cohort the make-up counts for."}
    )
    session_id = fields.Integer(required=True)
    host_cohort_name = fields.String(
        required=True, metadata={"description": "The cohort whose session it is."}
    )
    element_key = fields.String(required=True)
    first_day = fields.Date(required=True)
    awaiting_mark = fields.Boolean(
        required=True,
        metadata={
            "description": "The session has begun and the host's trainer has not recorded "
            "the guest's mark yet: it saves nothing yet, and can still be cancelled."
        },
    )


class OfferOut(Schema):
    """A session where the element can be made up (a place free)."""

    session_id = fields.Integer(required=True)
    cohort_id = fields.Integer(required=True)
    cohort_name = fields.String(required=True)
    element_key = fields.String(required=True)
    title_de = fields.String(required=True)
    title_en = fields.String(required=True)
    first_day = fields.Date(required=True)
    last_day = fields.Date(required=True)
    starts_at = fields.DateTime(allow_none=True, required=True)
    ends_at = fields.DateTime(allow_none=True, required=True)
    all_day = fields.Boolean(required=True)
    timezone = fields.String(required=True)
    free = fields.Integer(
        allow_none=True,
        required=True,
        metadata={"description": "Places left (null: the cohort has no capacity set)."},
    )


class ReasonOut(Schema):
    """One part of the certificate rule the own cohort cannot bring any more."""

    code = fields.String(
        required=True,
        validate=validate.OneOf([part.value for part in Part]),
        metadata={
            "description": "element: a required element; group: an 'at least n of' group; "
            "hours: the share of teaching hours."
        },
    )
    text_de = fields.String(required=True)
    text_en = fields.String(required=True)
    elements = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "The element keys a make-up could save."},
    )
    needed = fields.Integer(
        required=True, metadata={"description": "How many of them must be made up."}
    )
    booked = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "Those of `elements` with a make-up booked, still to come."},
    )
    awaiting = fields.List(
        fields.String(),
        required=True,
        metadata={
            "description": "Those of `elements` whose make-up has begun and waits for the "
            "guest's mark: they save nothing yet, and no other make-up of them is booked."
        },
    )
    saved = fields.Boolean(
        required=True, metadata={"description": "The make-ups booked bring the part back."}
    )


class MissedOut(Schema):
    element_key = fields.String(required=True)
    title_de = fields.String(required=True)
    title_en = fields.String(required=True)
    booking = fields.Nested(BookingOut, allow_none=True, required=True)
    offers = fields.List(fields.Nested(OfferOut), required=True)


class AtRiskOut(Schema):
    """A person who can no longer reach the certificate in their own cohort:
    the reasons and what would save it (no ranking, no score)."""

    participant = fields.Nested(PersonOut, required=True)
    cohort_id = fields.Integer(required=True)
    cohort_name = fields.String(required=True)
    saved = fields.Boolean(
        required=True, metadata={"description": "Every lost part has its make-ups booked."}
    )
    reasons = fields.List(fields.Nested(ReasonOut), required=True)
    missed = fields.List(fields.Nested(MissedOut), required=True)


class MakeUpIn(Schema):
    cohort_id = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=LARGEST_ID),
        metadata={"description": "The person's cohort the make-up counts for."},
    )
    session_id = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=LARGEST_ID),
        metadata={"description": "The other cohort's session."},
    )
