"""What people choose about the messages they get.

A participant chooses on their personal page (the secret link is the key),
a staff member on their own notifications page:
- how their dates reach them (CalendarChoice): e-mail invitations, the
  subscribed feed, or both. The choice decides only whether invitations are
  sent (app.services.announcements); the feed always shows every session;
- for participants, whether they get reminders before their sessions
  (notices of changes and cancellations are always sent) and the language
  of their messages;
- for staff, whether they get the weekly digest.

A value that is not one of the choices is refused with a message; nothing
is changed then.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.i18n import LANGUAGES
from app.models import Participant, User
from app.models.participants import CalendarChoice
from app.services import announcements
from app.services.errors import InvalidInput, NotPermitted
from app.services.policy import Actor
from curricula.messages import msg

# A checkbox sends its value when ticked and nothing when not.
TICKED = "1"


@dataclass(frozen=True)
class ParticipantChoices:
    calendar: str
    reminders: bool
    language: str


@dataclass(frozen=True)
class UserChoices:
    calendar: str
    digest: bool


def read_participant_choices(
    calendar: str | None, reminders: str | None, language: str | None
) -> ParticipantChoices:
    """The choices as a form sent them, or InvalidInput naming the first
    value that is not one of the choices."""
    return ParticipantChoices(
        calendar=_calendar(calendar),
        reminders=_ticked(reminders, "reminders"),
        language=_language(language),
    )


def read_user_choices(calendar: str | None, digest: str | None) -> UserChoices:
    return UserChoices(calendar=_calendar(calendar), digest=_ticked(digest, "digest"))


def choose_for_participant(participant: Participant, choices: ParticipantChoices) -> None:
    """Stores the choices; a switch to or from the feed alone is announced
    (invitations for the sessions to come, or their cancellation, so that
    no invited copy stays beside the feed's), in the new language."""
    before = participant.calendar_choice
    participant.calendar_choice = choices.calendar
    participant.reminders = choices.reminders
    participant.language = choices.language
    announcements.choice_changed(participant, before)


def choose_own(actor: Actor, choices: UserChoices) -> User:
    """A staff member's own choices (any role: trainers are the ones who
    get invitations and the digest, but every account may choose)."""
    if actor.user is None:
        raise NotPermitted()
    before = actor.user.calendar_choice
    actor.user.calendar_choice = choices.calendar
    actor.user.digest = choices.digest
    announcements.choice_changed(actor.user, before)
    return actor.user


def _calendar(value: str | None) -> str:
    if value not in {choice.value for choice in CalendarChoice}:
        raise InvalidInput(
            msg("please choose invitations by e-mail, the calendar subscription or both"),
            code="unknown_choice",
            field="calendar",
        )
    return value  # type: ignore[return-value]


def _ticked(value: str | None, field: str) -> bool:
    if value not in (None, TICKED):
        raise InvalidInput(
            msg("please tick the box or leave it empty"), code="unknown_choice", field=field
        )
    return value == TICKED


def _language(value: str | None) -> str:
    if value not in LANGUAGES:
        raise InvalidInput(
            msg("please choose German or English"), code="unknown_language", field="language"
        )
    return value  # type: ignore[return-value]
