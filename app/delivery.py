"""Delivering notifications: the worker's side of the outbox
(app.services.notifications records them).

A worker claims a notification by one conditional UPDATE before it talks to
the mail server, so two workers never send the same one; a claim that
outlives its worker (killed while sending) is not sent again but marked
failed, since the server may already have taken it: each message reaches
its address at most once, and the delivery log says which ones need a look.

While the mail server does not answer, or answers "try later" (4xx), a
message waits and is tried again after 30 s, 1, 2, 4 … minutes, at most an
hour apart, for two days; a refusal (5xx) fails it at once with the
server's answer.

Each outcome is committed as soon as it is known (this module is its own
commit point, like a request), so a crash loses at most what it was sending.
"""

from __future__ import annotations

import hashlib
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

from flask import current_app
from sqlalchemy import or_, select, update

from app import mail, notices
from app.extensions import db
from app.models import Delivery, Notification
from app.queue import crontab, periodic, task
from app.schema import utcnow
from curricula.messages import msg

CLAIM = timedelta(minutes=10)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=2)
# "Service not available, closing transmission channel" (RFC 5321): the
# server is going away, so the rest of the batch waits for the next try.
CLOSING = 421
# Messages one delivery task sends over one connection.
BATCH = 200
ANSWER_LENGTH = 1000

# Qualiplan's own reasons in the delivery log, stored in English and shown in
# the reader's language (the mail server's answers are shown as they came).
NOT_SET_UP = msg("not sent: e-mail is not set up on this server")
UNWRITABLE = msg("not sent: the message could not be written")
NO_ANSWER = msg("given up: the mail server did not take it for two days")
TOO_LATE = msg("not sent: its moment had passed before it could be sent")
ABANDONED = msg(
    "not sent again: the worker stopped while sending it, "
    "and the mail server may have taken it already"
)
OWN_ANSWERS = frozenset(
    m.template for m in (NOT_SET_UP, UNWRITABLE, NO_ANSWER, TOO_LATE, ABANDONED)
)


@task()
def deliver(ids: list[int]) -> None:
    deliver_now(ids, utcnow())


@periodic(crontab(minute="*"))
def sweep() -> None:
    sweep_now(utcnow())


def sweep_now(now: datetime) -> int:
    """Delivers every notification that is due and waiting (what a lost
    queue message, a retry or a reminder's time left), and fails claims
    whose worker is gone. Returns how many were tried."""
    _fail_abandoned(now)
    tried = 0
    while True:
        ids = list(
            db.session.scalars(
                select(Notification.id)
                .where(Notification.state == Delivery.QUEUED, Notification.due_at <= now)
                .order_by(Notification.due_at, Notification.id)
                .limit(BATCH)
            )
        )
        db.session.commit()
        if not ids:
            return tried
        sent = deliver_now(ids, now)
        tried += len(ids)
        if sent.claimed == 0 or sent.connection_lost:
            return tried


@dataclass
class Outcome:
    claimed: int = 0
    sent: int = 0
    waiting: int = 0
    failed: int = 0
    connection_lost: bool = False


def deliver_now(ids: Sequence[int], now: datetime) -> Outcome:
    """Claims each of `ids` that is still waiting and due, then sends them
    over one connection; each result is committed as soon as it is known."""
    outcome = Outcome()
    mine = [i for i in ids if _claim(i, now)]
    db.session.commit()
    outcome.claimed = len(mine)
    if not mine:
        return outcome
    try:
        with mail.connected() as smtp:
            for index, notification_id in enumerate(mine):
                notification = db.session.get(Notification, notification_id)
                if notification is None:
                    continue
                if not _send_one(smtp, notification, now, outcome):
                    _wait(mine[index + 1 :], now, None)
                    outcome.connection_lost = True
                    break
    except mail.NotSetUp:
        _give_up(mine, NOT_SET_UP.template)
        outcome.failed += len(mine)
    except (OSError, smtplib.SMTPException) as error:
        # Connecting, greeting or logging in failed: nothing of this batch left.
        still = [i for i in mine if _state(i) is Delivery.SENDING]
        _wait(still, now, _answer(error))
        outcome.waiting += len(still)
        outcome.connection_lost = True
    db.session.commit()
    return outcome


def _claim(notification_id: int, now: datetime) -> bool:
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.state == Delivery.QUEUED,
            Notification.due_at <= now,
        )
        .values(
            state=Delivery.SENDING,
            claimed_until=now + CLAIM,
            attempts=Notification.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _send_one(
    smtp: smtplib.SMTP, notification: Notification, now: datetime, outcome: Outcome
) -> bool:
    """Sends one claimed notification and records what happened; False when
    the connection is gone (the rest of the batch waits)."""
    expires = notification.payload.get("expires_at")
    if expires and datetime.fromisoformat(expires) <= now:
        # A reminder after its session began helps nobody.
        _finish(notification, Delivery.FAILED, TOO_LATE.template)
        outcome.failed += 1
        return True
    try:
        message = envelope(notification)
    except Exception:  # a renderer's bug must not stop the batch
        current_app.logger.exception("Notification %s could not be rendered", notification.id)
        _finish(notification, Delivery.FAILED, UNWRITABLE.template)
        outcome.failed += 1
        return True
    try:
        refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, text = next(iter(error.recipients.values()))
        _after_answer(notification, now, code >= 500, f"{code} {_text(text)}", outcome)
        return code != CLOSING
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        _after_answer(notification, now, error.smtp_code >= 500, _answer(error), outcome)
        return error.smtp_code != CLOSING
    except (OSError, smtplib.SMTPException) as error:
        _wait([notification.id], now, _answer(error))
        outcome.waiting += 1
        return False
    if refused:
        code, text = next(iter(refused.values()))
        _after_answer(notification, now, code >= 500, f"{code} {_text(text)}", outcome)
        return True
    notification.subject = str(message["Subject"] or "")[:300]
    _finish(notification, Delivery.SENT, None, sent_at=utcnow())
    outcome.sent += 1
    return True


def envelope(notification: Notification) -> EmailMessage:
    """The notification's message with its sender, recipient and a
    Message-ID made from its key (the same on every try)."""
    message = notices.render(notification.kind, notification.payload, notification.language)
    sender = notification.payload.get("from") or mail.sender()
    message["From"] = sender
    message["To"] = formataddr((notification.payload.get("to_name") or "", notification.address))
    digest = hashlib.sha256(notification.key.encode("utf-8")).hexdigest()[:32]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "qualiplan"
    message["Message-ID"] = f"<{digest}@{domain}>"
    return message


def _after_answer(
    notification: Notification, now: datetime, permanent: bool, answer: str, outcome: Outcome
) -> None:
    if permanent:
        _finish(notification, Delivery.FAILED, answer)
        outcome.failed += 1
    else:
        _wait([notification.id], now, answer)
        outcome.waiting += 1


def _finish(
    notification: Notification,
    state: Delivery,
    answer: str | None,
    sent_at: datetime | None = None,
) -> None:
    notification.state = state
    notification.claimed_until = None
    notification.answer = answer[:ANSWER_LENGTH] if answer else None
    notification.sent_at = sent_at
    db.session.commit()


def _wait(ids: Iterable[int], now: datetime, answer: str | None) -> None:
    """Back to waiting, for the next try after a pause that doubles; given up
    once the message has waited two days."""
    for notification_id in ids:
        notification = db.session.get(Notification, notification_id)
        if notification is None:
            continue
        if now - notification.created_at >= GIVE_UP_AFTER:
            _finish(notification, Delivery.FAILED, NO_ANSWER.template)
            continue
        pause = min(FIRST_RETRY * 2 ** max(notification.attempts - 1, 0), LONGEST_WAIT)
        notification.state = Delivery.QUEUED
        notification.claimed_until = None
        notification.due_at = now + pause
        if answer:
            notification.answer = answer[:ANSWER_LENGTH]
    db.session.commit()


def _give_up(ids: Iterable[int], answer: str) -> None:
    for notification_id in ids:
        notification = db.session.get(Notification, notification_id)
        if notification is not None:
            notification.state = Delivery.FAILED
            notification.claimed_until = None
            notification.answer = answer
    db.session.commit()


def _fail_abandoned(now: datetime) -> None:
    db.session.execute(
        update(Notification)
        .where(
            Notification.state == Delivery.SENDING,
            or_(Notification.claimed_until.is_(None), Notification.claimed_until < now),
        )
        .values(
            state=Delivery.FAILED,
            claimed_until=None,
            answer=ABANDONED.template,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _state(notification_id: int) -> Delivery | None:
    return db.session.scalar(select(Notification.state).where(Notification.id == notification_id))


def _answer(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return str(error) or type(error).__name__


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
