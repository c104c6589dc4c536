"""Where people read (the attendance grid, the certificate pages, the tandem
page, the person's page), elements are named by their titles, never by the
keys the curriculum file gives them."""

from __future__ import annotations

import html
import re
from datetime import date

from app.models import Role
from app.services import attendance
from cohorts.eligibility import Mark
from tests.web.helpers import log_in

KEYS = ("kickoff", "video-1", "video-2", "webinar", "practice-day", "checkpoint-1", "checkpoint-2")


def readable(page: str) -> str:
    """The page's text as shown: no tags, attributes or scripts."""
    page = re.sub(r"<(script|style|template)\b.*?</\1>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_pages_name_elements_by_title(client, make, db):
    org = make.organisation()
    make.user(Role.HR, [org], email="hr@example.org")
    trainer = make.user(Role.TRAINER, [org], email="trainer@example.org")
    cohort = make.cohort(org, key="blended", start=date(2027, 3, 1), trainers=[trainer])
    anna = make.participant(org, cohort=cohort, first_name="Anna", last_name="Albers")
    ben = make.participant(org, cohort=cohort, first_name="Ben", last_name="Brandt")
    make.tandem(cohort, [anna, ben])
    first = min(cohort.sessions, key=lambda s: s.first_day)
    attendance.set_mark(first, anna, Mark.ABSENT, None)
    db.session.commit()
    certificate = make.certificate(cohort, ben)
    pages = {
        "grid": f"/cohorts/{cohort.id}/attendance",
        "certificates": f"/cohorts/{cohort.id}/certificates",
        "certificate": f"/certificates/{certificate.id}",
        "tandems": f"/cohorts/{cohort.id}/tandems",
        "person": f"/participants/{anna.id}",
    }
    log_in(client, "hr@example.org")
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        text = readable(response.get_data(as_text=True))
        shown = [key for key in KEYS if re.search(rf"(?<![\w-]){re.escape(key)}(?![\w-])", text)]
        assert shown == [], (name, shown)
