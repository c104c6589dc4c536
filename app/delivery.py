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

A batch is claimed with one UPDATE and its outcomes are committed every
few messages (this module is its own commit point, like a request): a
worker that dies mid-batch leaves the messages it had not committed as
claimed, and they are marked failed, never sent twice.
"""

from __future__ import annotations

import hashlib
import smtplib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from typing import Any, Protocol

from flask import current_app
from sqlalchemy import or_, select, update

from app import mail, notices
from app.extensions import db
from app.models import Delivery, Notification
from app.queue import crontab, periodic, task
from app.schema import utcnow
from app.services import notifications
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
# Messages claimed by one statement, and sent between two commits of outcomes.
CLAIM_CHUNK = 500
COMMIT_EVERY = 20
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


@dataclass(frozen=True)
class Claimed:
    """A claimed notification, read once with its claim: what sending it needs."""

    id: int
    key: str
    kind: str
    payload: dict[str, Any]
    language: str
    address: str
    attempts: int
    created_at: datetime


class _Results:
    """The outcomes of a batch, written together every COMMIT_EVERY messages."""

    def __init__(self, now: datetime, outcome: Outcome) -> None:
        self.now = now
        self.outcome = outcome
        self.rows: list[dict[str, Any]] = []
        self.decided: set[int] = set()

    def sent(self, claimed: Claimed, subject: str) -> None:
        more: dict[str, Any] = {}
        secrets = [
            k for k in notifications.SECRETS.get(claimed.kind, ()) if claimed.payload.get(k)
        ]
        if secrets:
            # The links are in the recipient's inbox now; the outbox keeps
            # no working link at rest beyond the time it waited.
            more["payload"] = {**claimed.payload, **dict.fromkeys(secrets, "")}
        self._add(claimed, Delivery.SENT, None, sent_at=utcnow(), subject=subject[:300], **more)
        self.outcome.sent += 1

    def failed(self, claimed: Claimed, answer: str) -> None:
        self._add(claimed, Delivery.FAILED, answer)
        self.outcome.failed += 1

    def wait(self, claimed: Claimed, answer: str | None) -> None:
        """Back to waiting, for the next try after a pause that doubles;
        given up once the message has waited two days."""
        if self.now - claimed.created_at >= GIVE_UP_AFTER:
            self.failed(claimed, NO_ANSWER.template)
            return
        pause = min(FIRST_RETRY * 2 ** max(claimed.attempts - 1, 0), LONGEST_WAIT)
        # Without a new answer, the last one stays (why it waited before).
        self._add(
            claimed, Delivery.QUEUED, answer, keep_answer=not answer, due_at=self.now + pause
        )
        self.outcome.waiting += 1

    def answered(self, claimed: Claimed, permanent: bool, answer: str) -> None:
        if permanent:
            self.failed(claimed, answer)
        else:
            self.wait(claimed, answer)

    def undecided(self, batch: Sequence[Claimed]) -> list[Claimed]:
        return [c for c in batch if c.id not in self.decided]

    def _add(
        self,
        claimed: Claimed,
        state: Delivery,
        answer: str | None,
        *,
        keep_answer: bool = False,
        **more: Any,
    ) -> None:
        row: dict[str, Any] = {"id": claimed.id, "state": state, "claimed_until": None, **more}
        if not keep_answer:
            row["answer"] = answer[:ANSWER_LENGTH] if answer else None
        self.rows.append(row)
        self.decided.add(claimed.id)

    def write(self, every: int = 1) -> None:
        if len(self.rows) < every:
            return
        # Rows with the same keys go in one executemany.
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in self.rows:
            groups.setdefault(tuple(sorted(row)), []).append(row)
        for rows in groups.values():
            db.session.execute(update(Notification), rows)
        db.session.commit()
        self.rows = []


def deliver_now(ids: Sequence[int], now: datetime) -> Outcome:
    """Claims those of `ids` that are still waiting and due, then sends them
    over one connection, writing their outcomes every few messages."""
    outcome = Outcome()
    batch = _claim(ids, now)
    outcome.claimed = len(batch)
    if not batch:
        return outcome
    results = _Results(now, outcome)
    try:
        with mail.connected() as smtp:
            for index, claimed in enumerate(batch):
                if not _send_one(smtp, claimed, now, results):
                    for rest in batch[index + 1 :]:
                        results.wait(rest, None)
                    outcome.connection_lost = True
                    break
                results.write(every=COMMIT_EVERY)
    except mail.NotSetUp:
        for claimed in results.undecided(batch):
            results.failed(claimed, NOT_SET_UP.template)
    except (OSError, smtplib.SMTPException) as error:
        # Connecting, greeting or logging in failed, or the connection broke
        # while closing: what is not decided yet waits.
        for claimed in results.undecided(batch):
            results.wait(claimed, _answer(error))
        outcome.connection_lost = True
    results.write()
    return outcome


def _claim(ids: Sequence[int], now: datetime) -> list[Claimed]:
    """One conditional UPDATE per chunk: only what is still waiting and due
    becomes this worker's, whatever other workers claim at the same time."""
    batch = []
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), CLAIM_CHUNK):
        rows = db.session.execute(
            update(Notification)
            .where(
                Notification.id.in_(wanted[start : start + CLAIM_CHUNK]),
                Notification.state == Delivery.QUEUED,
                Notification.due_at <= now,
            )
            .values(
                state=Delivery.SENDING,
                claimed_until=now + CLAIM,
                attempts=Notification.attempts + 1,
            )
            .returning(
                Notification.id,
                Notification.key,
                Notification.kind,
                Notification.payload,
                Notification.language,
                Notification.address,
                Notification.attempts,
                Notification.created_at,
            )
            .execution_options(synchronize_session=False)
        )
        batch.extend(Claimed(*row) for row in rows)
    db.session.commit()
    return sorted(batch, key=lambda c: c.id)


def _send_one(smtp: smtplib.SMTP, claimed: Claimed, now: datetime, results: _Results) -> bool:
    """Sends one claimed notification and notes what happened; False when
    the connection is gone (the rest of the batch waits)."""
    expires = claimed.payload.get("expires_at")
    if expires and datetime.fromisoformat(expires) <= now:
        # A reminder after its session began helps nobody.
        results.failed(claimed, TOO_LATE.template)
        return True
    try:
        message = envelope(claimed)
    except Exception:  # a renderer's bug must not stop the batch
        current_app.logger.exception("Notification %s could not be rendered", claimed.id)
        results.failed(claimed, UNWRITABLE.template)
        return True
    try:
        refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, text = next(iter(error.recipients.values()))
        results.answered(claimed, code >= 500, f"{code} {_text(text)}")
        return code != CLOSING
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as error:
        results.answered(claimed, error.smtp_code >= 500, _answer(error))
        return error.smtp_code != CLOSING
    except (OSError, smtplib.SMTPException) as error:
        results.wait(claimed, _answer(error))
        return False
    if refused:
        code, text = next(iter(refused.values()))
        results.answered(claimed, code >= 500, f"{code} {_text(text)}")
        return True
    results.sent(claimed, str(message["Subject"] or ""))
    return True


class _Addressed(Protocol):
    key: str
    kind: str
    payload: dict[str, Any]
    language: str
    address: str


def envelope(notification: _Addressed) -> EmailMessage:
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


def _answer(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return str(error) or type(error).__name__


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
