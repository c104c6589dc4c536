"""Notifications: recorded with the change, delivered by the worker.

A service that changes something calls `record` in the same transaction: a
change that rolls back leaves no notification, and one that commits leaves
its notifications in the database however soon the process dies. After the
commit the queue is told to deliver them; app.delivery sends them, and its
sweep every minute finds whatever that message did not reach.

Each notification is one message to one address and has a key that is never
recorded twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from typing import Any

from sqlalchemy import delete, inspect, select

from app import notices
from app.extensions import db
from app.models import Delivery, Notification, Organisation
from app.queue import after_commit
from app.schema import utcnow

SESSION_KEY = "qualiplan.recorded_notifications"
# The payload keys that hold a link with a secret (an offer's, a
# registration's, a person's status page, a personal page's), by kind:
# emptied once the message is sent, so that a copy of the database holds no
# link that still works beyond the messages still waiting. (An invitation's
# "link" is the session's meeting link.)
SECRETS = {"offer": ("link", "status"), "registration": ("link",), "text": ("link",)}
# Keys looked up in one statement (well below every database parameter limit).
LOOKUP = 500


def sender_of(organisation: Organisation) -> str | None:
    """The From of the organisation's messages (and their calendar
    ORGANIZER), or None for the server's MAIL_FROM."""
    address = parseaddr(organisation.mail_from or "")[1]
    if not address:
        return None
    return formataddr((organisation.name, address))


def record(
    *,
    kind: str,
    key: str,
    address: str,
    organisation_id: int,
    payload: dict[str, Any],
    language: str = "de",
    name: str | None = None,
    cohort_id: int | None = None,
    session_id: int | None = None,
    participant_id: int | None = None,
    user_id: int | None = None,
    due_at: datetime | None = None,
) -> Notification | None:
    """Records one message to `address` in the current transaction; None
    when a notification with this `key` exists already (recorded earlier, or
    earlier in this transaction), so recording twice sends once.

    `payload` is what the renderer of `kind` needs, as plain JSON values (a
    one-time link under the key SECRETS names for the kind); `name` is the
    recipient's name for the To header."""
    recorded = record_many([dict(locals())])
    return recorded[0] if recorded else None


def record_many(items: Iterable[Mapping[str, Any]]) -> list[Notification]:
    """`record` for many messages at once (each item holds record's
    arguments), with one look-up per 500 keys: what a change that tells a
    whole cohort records. Returns the notifications recorded now."""
    wanted = list(items)
    for item in wanted:
        if item["kind"] not in notices.kinds():
            raise notices.UnknownKind(item["kind"])
    pending: dict[str, tuple[Notification, datetime]] = db.session().info.setdefault(
        SESSION_KEY, {}
    )
    keys = [item["key"] for item in wanted if item["key"] not in pending]
    taken: set[str] = set()
    with db.session.no_autoflush:
        for start in range(0, len(keys), LOOKUP):
            chunk = keys[start : start + LOOKUP]
            found = db.session.scalars(select(Notification.key).where(Notification.key.in_(chunk)))
            taken.update(found)
    now = utcnow()
    recorded = []
    for item in wanted:
        key = item["key"]
        if key in pending or key in taken:
            continue
        name = item.get("name")
        notification = Notification(
            key=key,
            kind=item["kind"],
            payload={**item["payload"], "to_name": name} if name else item["payload"],
            language=item.get("language") or "de",
            address=item["address"],
            organisation_id=item["organisation_id"],
            cohort_id=item.get("cohort_id"),
            session_id=item.get("session_id"),
            participant_id=item.get("participant_id"),
            user_id=item.get("user_id"),
            due_at=item.get("due_at") or now,
            state=Delivery.QUEUED,
            attempts=0,
        )
        recorded.append(notification)
        if not pending:
            after_commit(_kick)
        pending[key] = (notification, notification.due_at)
    db.session.add_all(recorded)
    return recorded


def _kick() -> None:
    """After the commit: deliver what is due of what was just recorded."""
    from app import delivery

    now = utcnow()
    pending: dict[str, tuple[Notification, datetime]] = db.session().info.pop(SESSION_KEY, {})
    # No SQL may run here: the ids come from the identity map, not the rows.
    due = sorted(
        identity[0]
        for notification, due_at in pending.values()
        if due_at <= now and (identity := inspect(notification).identity) is not None
    )
    for start in range(0, len(due), delivery.BATCH):
        delivery.deliver(due[start : start + delivery.BATCH])


# The delivery log.

# How long the log keeps a message that was sent or given up (data
# minimisation: it names people and their addresses).
KEPT = timedelta(days=365)


def of_participant(participant_id: int, limit: int | None = 200) -> list[Notification]:
    """The messages to a person, newest first (their GDPR export; staff read
    the paged log of app.services.delivery_log)."""
    return list(
        db.session.scalars(
            select(Notification)
            .where(Notification.participant_id == participant_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def forget_participant(participant_id: int) -> None:
    """Erasure: every message to the person goes, sent or not."""
    db.session.execute(delete(Notification).where(Notification.participant_id == participant_id))


def prune(now: datetime) -> int:
    """Deletes messages sent or given up longer ago than KEPT; the daily
    periodic work calls it. Returns how many went."""
    result = db.session.execute(
        delete(Notification).where(
            Notification.state.in_((Delivery.SENT, Delivery.FAILED)),
            Notification.created_at < now - KEPT,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
