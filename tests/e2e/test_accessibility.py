"""WCAG 2.1 AA as axe-core judges it, on every page each role reaches.

Each demo role logs in once and walks its pages: the start of the walk is the
overview, and every link on a page visited leads on, one page per kind of
address (`/cohorts/3` and `/cohorts/5` are one kind), so a page added later is
checked without being named here. Pages a link does not reach (the personal
page, the public verification, login and error pages) are visited by address.
All violations of all pages are reported together, readably, at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Certificate,
    Cohort,
    CohortState,
    CurriculumRecord,
    Delivery,
    Enrolment,
)
from app.services import curricula as workbench
from app.services import notifications
from app.services.personal_links import create_link
from app.services.policy import Actor
from tests.e2e.conftest import demo_site, log_in

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}

ROLES = {
    "admin": "admin@qualiplan.example",
    "trainer": "trainerin.a@qualiplan.example",
    "HR": "hr@metallwerke-neckartal.example",
    "consultant": "beratung@agenturq.example",
}
# Downloads, not pages; and the same page in the other language is checked
# by the language test, not here.
NOT_A_PAGE = re.compile(r"\.(pdf|ics|csv|zip|xlsx|json|jwt|toml|png|svg)$")
PAGES_PER_ROLE = 60
# Where links lead, SVG links (the timelines) included.
LINK_TARGETS = "links => links.map(a => new URL(a.getAttribute('href'), document.baseURI).href)"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, dict[str, str], list[str], list]]:
    """The demo, a draft of the consultant's fork (so that element forms exist)
    and the addresses no staff link leads to."""
    with demo_site(tmp_path_factory.mktemp("accessibility")) as (app, url):
        with app.app_context():
            fork = db.session.scalar(
                select(CurriculumRecord).where(CurriculumRecord.organisation_id.is_not(None))
            )
            workbench.begin_draft(Actor.system(), fork.id)
            in_two = db.session.scalar(
                select(Enrolment.participant_id)
                .group_by(Enrolment.participant_id)
                .having(func.count() >= 2)
                .order_by(Enrolment.participant_id)
            )
            _, token = create_link(Actor.system(), in_two)
            enrolment = db.session.scalar(
                select(Enrolment)
                .join(Cohort)
                .where(Cohort.state == CohortState.PLANNED)
                .order_by(Enrolment.id)
            )
            certificate = db.session.scalar(select(Certificate).order_by(Certificate.id))
            code = certificate.code
            # Pages of a kind the walk may meet first where they are empty, and
            # a cohort of each state (each shows other panels and forms).
            extra = [f"/certificates/{certificate.id}", f"/curricula/{fork.id}"]
            for state in CohortState:
                cohort_id = db.session.scalar(
                    select(Cohort.id).where(Cohort.state == state).order_by(Cohort.id)
                )
                if cohort_id is not None:
                    extra.append(f"/cohorts/{cohort_id}")
                if cohort_id is not None and state == CohortState.RUNNING:
                    extra.append(f"/cohorts/{cohort_id}/at-risk")
            fork_id, enrolment_id, cohort_of_enrolment = fork.id, enrolment.id, enrolment.cohort_id
            # A failed message, so that the delivery log shows a row and its button.
            failed = notifications.record(
                kind="text",
                key="accessibility:failed",
                address=enrolment.participant.email,
                organisation_id=enrolment.participant.organisation_id,
                cohort_id=cohort_of_enrolment,
                participant_id=enrolment.participant_id,
                payload={"subject": "Ihr Zeitplan", "body": "Hallo"},
                due_at=datetime.now(UTC) + timedelta(days=1),
            )
            failed.state, failed.answer = Delivery.FAILED, "550 5.1.1 mailbox unavailable"
            extra.append(f"/cohorts/{cohort_of_enrolment}/notifications")
            db.session.commit()
        # Pages that answer a form, in the order a person meets them.
        behind_forms = [
            (f"/curricula/{fork_id}", f"form[action$='/curricula/{fork_id}/draft/publish']"),
            (f"/participants/{in_two}", f"form[action$='/participants/{in_two}/link']"),
            (
                f"/cohorts/{cohort_of_enrolment}/enrolments/{enrolment_id}/withdraw",
                f"form[action$='/enrolments/{enrolment_id}/withdraw']",
            ),
        ]
        public = {
            "start page": "/",
            "login": "/login",
            "error page": "/no-such-page",
            "verification form": "/verify",
            "verification": f"/verify/{code}",
            "personal page": f"/p/{token}",
        }
        yield url, public, extra, behind_forms


def kind_of(path: str) -> str:
    path = re.sub(r"/elements/[^/]+", "/elements/KEY", path)
    # Verification codes hold letters too; one code stands for all, and the
    # public page is rate-limited, so a walk through each would be refused.
    path = re.sub(r"^/verify/[^/]+", "/verify/CODE", path)
    return re.sub(r"\d+", "N", path)


def violations_on(page, axe: Axe, where: str) -> list[str]:
    found = axe.run(page, options=AXE_OPTIONS).response["violations"]
    lines = []
    for violation in found:
        lines.append(
            f"{where}: {violation['id']} ({violation['impact']}): {violation['help']}"
            f" — {violation['helpUrl']}"
        )
        for node in violation["nodes"][:5]:
            lines.append(f"    at {', '.join(map(str, node['target']))}: {node['html'][:160]}")
            lines.extend(f"      {line}" for line in node["failureSummary"].splitlines()[1:])
        if len(violation["nodes"]) > 5:
            lines.append(f"    … and {len(violation['nodes']) - 5} more elements")
    return lines


def walk(page, axe: Axe, role: str, origin: str, first: list[str]) -> tuple[list[str], list[str]]:
    """Visit the overview, the pages `first` (each of them), and every kind of
    page linked from the pages seen; return the kinds seen and the problems
    (violations, pages that failed)."""
    queue = ["/dashboard", *first]
    seen: set[str] = set()
    problems: list[str] = []
    while queue:
        path = queue.pop(0)
        kind = kind_of(urlsplit(path).path)
        if kind in seen and path not in first:
            continue
        seen.add(kind)
        if len(seen) > PAGES_PER_ROLE:
            problems.append(f"{role}: more than {PAGES_PER_ROLE} kinds of page; raise the limit")
            break
        try:
            response = page.goto(path)
        except PlaywrightError as error:
            if "Download is starting" in error.message:
                continue  # a download without a telling extension
            raise
        if response is None or response.status >= 400:
            status = response.status if response else "no answer"
            problems.append(f"{role} {path}: {status}")
            continue
        problems += violations_on(page, axe, f"{role} {path}")
        for href in page.eval_on_selector_all("a[href]", LINK_TARGETS):
            parts = urlsplit(href)
            if f"{parts.scheme}://{parts.netloc}" != origin or NOT_A_PAGE.search(parts.path):
                continue
            if "lang=" in parts.query or parts.path.startswith("/p/"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if kind_of(parts.path) not in seen:
                queue.append(target)
    return sorted(seen), problems


def test_every_page_of_every_role_passes_axe(browser, site):
    origin, public, extra, behind_forms = site
    axe = Axe()
    problems: list[str] = []
    reached: dict[str, list[str]] = {}
    for role, email in ROLES.items():
        context = browser.new_context(locale="de-DE", base_url=origin)
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, email)
        first = extra if role in ("admin", "consultant") else []
        reached[role], found = walk(page, axe, role, origin, first)
        problems += found
        context.close()

    context = browser.new_context(locale="de-DE", base_url=origin)
    page = context.new_page()
    for name, path in public.items():
        response = page.goto(path)
        expected = 404 if name == "error page" else 200
        if response is None or response.status != expected:
            problems.append(f"{name} {path}: {response.status if response else 'no answer'}")
        problems += violations_on(page, axe, name)
    context.close()

    # The answers to forms (a question before publishing, a new personal link,
    # a withdrawal with its undo), as the admin sends them; last, as they
    # change the data (the new link ends the one the personal page used).
    context = browser.new_context(locale="de-DE", base_url=origin)
    page = context.new_page()
    log_in(page, ROLES["admin"])
    for path, form in behind_forms:
        page.goto(path)
        with page.expect_response(lambda response: response.request.method == "POST"):
            page.locator(f"{form} button[type=submit]").first.click()
        page.wait_for_load_state("load")
        where = f"admin, the answer to {form} on {path}"
        if page.locator("main h1").count() == 0:
            problems.append(f"{where}: no heading, so no page: {page.url}")
        problems += violations_on(page, axe, where)
    context.close()

    # The walk must have reached what each role works with, or it proves little.
    needed = {
        role: ["/cohorts", "/cohorts/N", "/participants", "/participants/N", "/curricula"]
        for role in ROLES
    }
    needed["trainer"] += ["/cohorts/N/attendance", "/cohorts/N/at-risk"]
    needed["admin"] += [
        "/cohorts/N/sessions/N",
        "/cohorts/N/certificates",
        "/certificates/N",
        "/organisations/N/certificates",
        "/organisations/N/privacy",
        "/me/api-tokens",
        "/me/notifications",
        "/cohorts/N/notifications",
        "/participants/N/notifications",
    ]
    needed["consultant"].append("/curricula/N/draft/elements/KEY")
    for role, kinds in needed.items():
        problems += [f"{role} reached no {kind}" for kind in kinds if kind not in reached[role]]
    if "/accounts" not in reached["admin"] and "/settings" not in reached["admin"]:
        problems.append("admin reached neither the accounts nor the settings")
    assert not problems, "\n" + "\n".join(problems) + f"\n\nPages reached: {reached}"
