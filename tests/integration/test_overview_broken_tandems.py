"""The overview's finding of confirmed tandems whose member has withdrawn:
named per open cohort, read from the tandems (not from every enrolment)."""

from datetime import date

from app.models import CohortState, Enrolment, EnrolmentStatus
from app.services.overview import needs_attention

TODAY = date(2026, 11, 22)


def _withdraw(db, cohort, person) -> None:
    enrolment = db.session.query(Enrolment).filter_by(cohort=cohort, participant=person).one()
    enrolment.status = EnrolmentStatus.WITHDRAWN
    db.session.commit()


def _broken(org) -> list[str]:
    return [str(a.message) for a in needs_attention({org.id}, TODAY) if a.on_tandem_page]


def test_a_withdrawn_member_of_a_confirmed_tandem_is_named_once_per_cohort(db, make):
    org = make.organisation()
    cohort = make.cohort(org, start=date(2026, 11, 30), region="DE-BY", name="Nord")
    anna, ben, cem, dora = (
        make.participant(org, cohort, first_name=first, last_name=last)
        for first, last in (
            ("Anna", "Arndt"),
            ("Ben", "Brandt"),
            ("Cem", "Celik"),
            ("Dora", "Dietz"),
        )
    )
    make.tandem(cohort, [anna, ben])
    make.tandem(cohort, [cem, dora])
    assert _broken(org) == []

    _withdraw(db, cohort, ben)
    _withdraw(db, cohort, dora)
    assert _broken(org) == [
        "Nord: no longer enrolled but in a confirmed tandem: Ben Brandt, Dora Dietz; "
        "their partners need a new tandem"
    ]
    assert needs_attention({org.id + 1}, TODAY) == []


def test_proposed_tandems_closed_cohorts_and_other_cohorts_enrolments_do_not_count(db, make):
    org = make.organisation()
    proposed = make.cohort(org, start=date(2026, 11, 30), region="DE-BY", name="Vorschlag")
    anna, ben = (make.participant(org, proposed, first_name=n) for n in ("Anna", "Ben"))
    make.tandem(proposed, [anna, ben], confirmed=False)
    _withdraw(db, proposed, ben)

    done = make.cohort(org, start=date(2025, 3, 3), region="DE-BY", name="Vorbei")
    cem, dora = (make.participant(org, done, first_name=n) for n in ("Cem", "Dora"))
    make.tandem(done, [cem, dora])
    _withdraw(db, done, dora)
    done.state = CohortState.COMPLETED
    db.session.commit()

    # Withdrawn from another cohort, still enrolled in the tandem's own.
    here = make.cohort(org, start=date(2026, 12, 7), region="DE-BY", name="Hier")
    elsewhere = make.cohort(org, start=date(2026, 12, 14), region="DE-BY", name="Anderswo")
    eva, fritz = (make.participant(org, here, first_name=n) for n in ("Eva", "Fritz"))
    db.session.add(Enrolment(cohort=elsewhere, participant=fritz))
    db.session.commit()
    make.tandem(here, [eva, fritz])
    _withdraw(db, elsewhere, fritz)

    assert _broken(org) == []
