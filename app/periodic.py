"""The periodic work, scheduled by the task queue's own scheduler (Huey's
periodic tasks, run by `qualiplan worker` and so by `make run`), never by
cron:

- every 15 minutes: record the reminders due soon (app.services.reminders);
- Mondays at 07:00 in Europe/Berlin: the trainers' weekly digest
  (app.services.digest);
- daily at 03:15 in Europe/Berlin: the retention period's deletions for that
  day (app.services.privacy.apply_retention), and the delivery log's
  messages older than it keeps them (app.services.notifications.prune).

Each task is a commit point. Each is safe to run twice, also on two workers
at once: what it records is keyed (a reminder, a digest), and what the
retention deletes is not looked at again.

The queue runs in UTC (Huey's `utc=True`); `local` reads a crontab in a time
zone, so 07:00 stays 07:00 in Berlin in summer and in winter.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from app.queue import crontab, periodic
from app.schema import utcnow
from app.services import digest, notifications, privacy, reminders

HOME = ZoneInfo("Europe/Berlin")

Schedule = Callable[[datetime], bool]


def local(schedule: Schedule, zone: ZoneInfo = HOME) -> Schedule:
    """`schedule` (a crontab) read in `zone`: the scheduler hands over naive
    UTC moments."""

    def matches(moment: datetime) -> bool:
        aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
        return schedule(aware.astimezone(zone))

    return matches


REMINDERS = crontab(minute="*/15")
DIGEST = local(crontab(minute="0", hour="7", day_of_week="1"))
RETENTION = local(crontab(minute="15", hour="3"))


@periodic(REMINDERS)
def periodic_reminders() -> None:
    reminders.record_due(utcnow())


@periodic(DIGEST)
def weekly_digest() -> None:
    digest.record_week(utcnow())


@periodic(RETENTION)
def daily_retention() -> None:
    now = utcnow()
    privacy.apply_retention(now.astimezone(HOME).date())
    notifications.prune(now)
