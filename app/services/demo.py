"""Realistic demo data for a first look: two client organisations, the
standards plus one consultant fork, six cohorts around today (past, running,
future) in different regions, about 120 participants, one account per role.

Everything is made through the same services the app uses, so the demo
obeys the same rules (working days, trainer conflicts).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import (
    ClosureDay,
    Cohort,
    CohortState,
    CurriculumRecord,
    CurriculumVersion,
    Enrolment,
    Organisation,
    Participant,
    Role,
    User,
)
from app.models.registrations import Registration, RegistrationState
from app.models.tokens import new_token, token_hash
from app.services import attendance, certificates, tandems
from app.services.accounts import create_user
from app.services.cohorts import NewCohort, TrainerConflict, create_cohort
from app.services.policy import Actor
from app.services.standards import add_version, import_standards
from cohorts.eligibility import Mark
from curricula.loader import load_text
from curricula.model import Mode
from curricula.shipped import shipped_sources

DEMO_PASSWORD = "lernbegleitung-demo"  # noqa: S105 -- printed for the local demo only

FIRST_NAMES = [
    "Anna",
    "Ben",
    "Clara",
    "David",
    "Elif",
    "Felix",
    "Greta",
    "Hannes",
    "Ida",
    "Jonas",
    "Katharina",
    "Lukas",
    "Mia",
    "Niklas",
    "Olga",
    "Paul",
    "Quirin",
    "Rosa",
    "Stefan",
    "Tanja",
    "Ulrich",
    "Vera",
    "Wolfgang",
    "Yasemin",
    "Zoe",
    "Ahmet",
    "Birgit",
    "Carsten",
    "Dilara",
    "Erik",
    "Franziska",
    "Georg",
    "Heike",
    "Ingo",
    "Jana",
    "Kerstin",
    "Leon",
    "Marie",
    "Nils",
    "Petra",
    "Sabine",
    "Thomas",
    "Ute",
    "Volker",
    "Jörg",
    "Sören",
    "Änne",
    "Özlem",
]
LAST_NAMES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Schulz",
    "Hoffmann",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Schröder",
    "Neumann",
    "Schwarz",
    "Zimmermann",
    "Braun",
    "Krüger",
    "Hofmann",
    "Hartmann",
    "Lange",
    "Schmitt",
    "Werner",
    "Krause",
    "Meier",
    "Lehmann",
    "Köhler",
    "Yılmaz",
    "Kaya",
    "Nowak",
    "Popović",
    "Jansen",
]
DEPARTMENTS = (
    "Produktion",
    "Instandhaltung",
    "Logistik",
    "Qualitätssicherung",
    "Vertrieb",
    "Personal",
    "IT",
    "Einkauf",
)


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    region: str
    domain: str
    sites: tuple[str, ...]


ORGANISATIONS = (
    DemoOrganisation(
        "Metallwerke Neckartal GmbH",
        "DE-BW",
        "metallwerke-neckartal.example",
        ("Esslingen", "Ulm", "Augsburg"),
    ),
    DemoOrganisation(
        "Elbe Logistik AG",
        "DE-SN",
        "elbe-logistik.example",
        ("Dresden", "Leipzig", "Riesa"),
    ),
)


@dataclass(frozen=True)
class DemoLogin:
    email: str
    role: Role
    name: str


def is_empty() -> bool:
    return db.session.scalar(select(Organisation.id).limit(1)) is None


def load_demo(today: date, seed: int = 2026) -> list[DemoLogin]:
    """Add the demo data (the caller commits) and return the demo logins."""
    rng = random.Random(seed)  # noqa: S311 -- repeatable demo names, not secrets
    import_standards()
    metallwerke, elbe = (Organisation(name=o.name, default_region=o.region) for o in ORGANISATIONS)
    db.session.add_all([metallwerke, elbe])
    metallwerke.signatory_name = "Dr. Ulrike Hägele"
    metallwerke.signatory_role = "Leitung Personalentwicklung"
    elbe.signatory_name = "Jens Kowalczyk"
    elbe.signatory_role = "Bereichsleitung Personal"
    year = today.year
    for offset in range(8):  # the company's Christmas closure
        metallwerke.closure_days.append(
            ClosureDay(day=date(year, 12, 24) + timedelta(days=offset), reason="Betriebsruhe")
        )

    accounts = [
        ("admin@qualiplan.example", Role.ADMIN, "Andrea Admin", [metallwerke, elbe]),
        ("hr@metallwerke-neckartal.example", Role.HR, "Helga Roth", [metallwerke]),
        ("beratung@agenturq.example", Role.CONSULTANT, "Conrad Berger", [metallwerke, elbe]),
        ("trainerin.a@qualiplan.example", Role.TRAINER, "Theresa Albrecht", [metallwerke, elbe]),
        ("trainer.b@qualiplan.example", Role.TRAINER, "Tobias Brandt", [metallwerke, elbe]),
        ("trainerin.c@qualiplan.example", Role.TRAINER, "Tamara Colak", [metallwerke, elbe]),
    ]
    users: dict[str, User] = {}
    for email, role, name, organisations in accounts:
        users[email] = create_user(email, name, role, DEMO_PASSWORD, organisations)
    trainers = [u for u in users.values() if u.role is Role.TRAINER]
    db.session.flush()

    standards = {
        r.key: r.versions[-1]
        for r in db.session.scalars(
            select(CurriculumRecord).where(CurriculumRecord.organisation_id.is_(None))
        )
    }
    fork = _consultant_fork(metallwerke)
    people = {
        metallwerke.id: _participants(metallwerke, ORGANISATIONS[0], 64, rng),
        elbe.id: _participants(elbe, ORGANISATIONS[1], 56, rng),
    }

    plans = [
        (metallwerke, standards["compact"], -260, "DE-BW", "Esslingen", "Kompakt", Mode.IN_PERSON),
        (elbe, standards["blended"], -190, "DE-SN", "Dresden", "Blended", None),
        (metallwerke, fork, -45, "DE-BW", "Esslingen", "Kompakt online", None),
        (elbe, standards["compact"], 24, "DE-SN", "Leipzig", "Kompakt", Mode.ONLINE),
        (metallwerke, standards["blended"], 70, "DE-BY", "Augsburg", "Blended", None),
        (metallwerke, standards["compact"], 150, "DE-BW", "Ulm", "Kompakt", Mode.IN_PERSON),
    ]
    for index, (organisation, version, days, region, site, label, delivery) in enumerate(plans):
        start = today + timedelta(days=days)
        name = f"{label} {site} {start:%m/%Y}"
        cohort = _create_with_free_trainers(
            NewCohort(
                organisation=organisation,
                version=version,
                name=name,
                start=start,
                region=region,
                delivery=delivery,
                venue=f"Schulungszentrum {site}, Raum {index + 1}.0{index + 2}",
                online_link=f"https://konferenz.{_domain(organisation)}/gruppe-{index + 1}",
                capacity=24,
            ),
            trainers,
            index,
        )
        _set_state(cohort, today)
        pool = people[organisation.id]
        enrolled_at = datetime.combine(start - timedelta(days=30), time(9), UTC)
        for participant in rng.sample(pool, 20):
            db.session.add(
                Enrolment(
                    cohort=cohort,
                    participant=participant,
                    enrolled_at=min(enrolled_at, datetime.now(UTC)),
                )
            )
        db.session.flush()
        if days < 0:  # cohorts under way have their tandems and attendance
            tandems.propose(cohort, None, expected_version=cohort.lock_version)
            tandems.confirm(cohort, None, expected_version=cohort.lock_version)
            _attendance(cohort, today, rng)
            db.session.flush()
        if cohort.state is CohortState.COMPLETED:
            certificates.issue_eligible(Actor.of_user(users["admin@qualiplan.example"]), cohort.id)
    _registrations(metallwerke, people[metallwerke.id], users["hr@metallwerke-neckartal.example"])
    return [DemoLogin(u.email, u.role, u.name) for u in users.values()]


def _registrations(organisation: Organisation, pool: list[Participant], hr: User) -> None:
    """The organisation's last planned cohort is open for registration, with
    registrations in each step before HR's decision, and one declined. Its
    registration address is made anew on the registration settings page
    (only its hash is stored)."""
    cohort = db.session.scalar(
        select(Cohort)
        .where(Cohort.organisation_id == organisation.id, Cohort.state == CohortState.PLANNED)
        .order_by(Cohort.start_date.desc(), Cohort.id.desc())
    )
    if cohort is None:
        return
    cohort.registration_open = True
    cohort.registration_closes_on = cohort.start_date - timedelta(days=14)
    organisation.registration_token_hash = token_hash(new_token())
    taken = select(Enrolment.participant_id).where(Enrolment.cohort_id == cohort.id)
    enrolled = set(db.session.scalars(taken))
    free = [p for p in pool if p.id not in enrolled][:5]
    now = datetime.now(UTC)
    later = now + timedelta(days=14)
    for number, person in enumerate(free):
        registration = Registration(
            organisation_id=organisation.id,
            cohort=cohort,
            participant=person,
            state=RegistrationState.REGISTERED,
            registered_at=now - timedelta(days=5 - number),
            changed_at=now,
            manager_name=person.manager_name or "Bernd Vogt",
            manager_email=person.manager_email or f"b.vogt@{_domain(organisation)}",
            invited=number == 3,
            email_token_hash=token_hash(new_token()),
            email_token_expires_at=later,
            status_token_hash=token_hash(new_token()),
            status_token_expires_at=later + timedelta(days=200),
        )
        db.session.add(registration)
        if number >= 1:
            registration.confirm_email(now, token_hash(new_token()), later)
        if number in (2, 3):
            registration.confirm_by_manager(now, 180 if number == 2 else 240)
        if number == 4:
            registration.decline(now, hr, "Die Gruppe in Augsburg passt besser zum Schichtplan.")
    db.session.flush()


def _attendance(cohort: Cohort, today: date, rng: random.Random) -> None:
    """Marks for the sessions that took place: mostly present, as in life. In
    a running cohort the latest session held in a room is left to the trainer,
    whose attendance is still to be taken."""
    board = attendance.grid(cohort)
    held = [s for s in board.sessions if s.first_day <= today]
    to_take = None
    if cohort.state is CohortState.RUNNING:
        to_take = max((s for s in held if not s.all_day), key=lambda s: s.first_day, default=None)
    for session in held:
        if session is to_take:
            continue
        trainer = session.trainers[0] if session.trainers else None
        for person in board.people:
            if session.all_day:
                mark = Mark.DONE if rng.random() < 0.92 else Mark.NOT_DONE
            else:
                mark = rng.choices(
                    [Mark.PRESENT, Mark.PARTLY, Mark.EXCUSED, Mark.ABSENT], [90, 4, 4, 2]
                )[0]
            attendance.set_mark(session, person, mark, trainer, minutes=rng.choice([30, 90]))


def _domain(organisation: Organisation) -> str:
    return next(o.domain for o in ORGANISATIONS if o.name == organisation.name)


def _consultant_fork(organisation: Organisation) -> CurriculumVersion:
    """The compact format adapted for one client: online, a full reflection day."""
    upstream = db.session.scalar(
        select(CurriculumRecord).where(
            CurriculumRecord.organisation_id.is_(None), CurriculumRecord.key == "compact"
        )
    )
    source = (
        shipped_sources()["compact"]
        .replace('key = "compact"', 'key = "compact-metallwerke"')
        .replace(
            'title.de = "Lernbegleitung kompakt: zwei Seminartage und Reflexionstag"',
            'title.de = "Lernbegleitung kompakt online (Metallwerke Neckartal)"',
        )
        .replace(
            'title.en = "Learning companion, compact: two seminar days and a reflection day"',
            'title.en = "Learning companion, compact online (Metallwerke Neckartal)"',
        )
        .replace('mode = "either"', 'mode = "online"')
        .replace('duration = "4h"\nteaching_units = 4', 'duration = "8h"\nteaching_units = 8')
    )
    curriculum = load_text(source, source="compact-metallwerke.toml")
    record = CurriculumRecord(
        key=curriculum.key,
        organisation=organisation,
        upstream=upstream,
        title_de=curriculum.title.de,
        title_en=curriculum.title.en,
    )
    db.session.add(record)
    version = add_version(record, curriculum, source)
    version.based_on = upstream.versions[-1] if upstream is not None else None
    return version


def _participants(
    organisation: Organisation, demo: DemoOrganisation, count: int, rng: random.Random
) -> list[Participant]:
    managers = {
        (department, site): (f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}")
        for department in DEPARTMENTS
        for site in demo.sites
    }
    people: list[Participant] = []
    used: set[str] = set()
    while len(people) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        email = f"{_ascii(first)}.{_ascii(last)}@{demo.domain}"
        if email in used:
            continue
        used.add(email)
        department, site = rng.choice(DEPARTMENTS), rng.choice(demo.sites)
        manager = managers[(department, site)]
        manager_first, manager_last = manager.split(" ", 1)
        people.append(
            Participant(
                organisation=organisation,
                first_name=first,
                last_name=last,
                email=email,
                department=department,
                site=site,
                manager_name=manager,
                manager_email=f"{_ascii(manager_first)}.{_ascii(manager_last)}@{demo.domain}",
            )
        )
    db.session.add_all(people)
    return people


def _create_with_free_trainers(data: NewCohort, trainers: list[User], index: int):  # type: ignore[no-untyped-def]
    """Two trainers per cohort, rotating; another pair when one is busy."""
    pairs = [
        [trainers[(index + shift) % 3], trainers[(index + shift + 1) % 3]] for shift in range(3)
    ] + [[t] for t in trainers]
    for pair in pairs:
        data.trainers = pair
        try:
            cohort, _ = create_cohort(data, actor=None)
        except TrainerConflict:
            continue
        return cohort
    data.trainers = []
    cohort, _ = create_cohort(data, actor=None)
    return cohort


def _set_state(cohort, today: date) -> None:  # type: ignore[no-untyped-def]
    first = min(s.first_day for s in cohort.sessions)
    last = max(s.last_day for s in cohort.sessions)
    if first <= today:
        cohort.change_state(CohortState.RUNNING)
    if last < today:
        cohort.change_state(CohortState.COMPLETED)


def _ascii(name: str) -> str:
    replaced = (
        name.lower().replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss")
    )
    decomposed = unicodedata.normalize("NFKD", replaced)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())
