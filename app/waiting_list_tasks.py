"""The waiting lists' periodic work: every 15 minutes, offers past their
deadline go to the next in line, places left free go to the first waiting,
and the lists of cohorts that began are carried to the next cohort of the
same curriculum (app.services.waiting_lists.sweep). A commit point; safe on
two workers at once, since each cohort's list is changed under its lock."""

from __future__ import annotations

from app.queue import crontab, periodic
from app.services import waiting_lists

EVERY_QUARTER_HOUR = crontab(minute="*/15")


@periodic(EVERY_QUARTER_HOUR)
def waiting_list_sweep() -> None:
    waiting_lists.sweep()
