"""SQLAlchemy models, one module per aggregate."""

from app.models.attendance import AttendanceChange, AttendanceRecord
from app.models.certificates import Certificate, CertificateState
from app.models.changes import Change
from app.models.cohorts import Cohort, CohortClosure, CohortState, Session, SessionStatus
from app.models.credentials import CredentialRecord, SigningKey, StatusList  # noqa: F401
from app.models.curricula import CurriculumElement, CurriculumRecord, CurriculumVersion
from app.models.jobs import Job, JobState
from app.models.notifications import Delivery, Notification
from app.models.organisations import ClosureDay, Organisation
from app.models.participants import Enrolment, EnrolmentStatus, Participant
from app.models.registrations import Registration, RegistrationState  # noqa: F401
from app.models.tandems import NotTogether, Tandem, TandemMember, TandemState
from app.models.tokens import AccessToken, Purpose
from app.models.users import Role, User

__all__ = [
    "AttendanceChange",
    "AttendanceRecord",
    "AccessToken",
    "Purpose",
    "Certificate",
    "CertificateState",
    "Change",
    "ClosureDay",
    "Cohort",
    "CohortClosure",
    "CohortState",
    "CurriculumElement",
    "CurriculumRecord",
    "CurriculumVersion",
    "Delivery",
    "Enrolment",
    "Job",
    "JobState",
    "NotTogether",
    "Notification",
    "EnrolmentStatus",
    "Organisation",
    "Participant",
    "Role",
    "Session",
    "SessionStatus",
    "Tandem",
    "TandemMember",
    "TandemState",
    "User",
]
