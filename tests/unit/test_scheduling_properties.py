"""Properties of every schedule, for any start date, region and closure days."""

from datetime import date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cohorts.calendar import WorkingCalendar
from cohorts.errors import PlanningError
from cohorts.scheduling import Schedule, plan
from curricula.model import (
    CertificateRule,
    Curriculum,
    Element,
    Gap,
    Mode,
    Offset,
    Placement,
    Span,
    Text,
    TimedBlock,
    Unit,
)
from curricula.shipped import shipped

GERMAN_REGIONS = [
    f"DE-{s}"
    for s in [
        "BB",
        "BE",
        "BW",
        "BY",
        "HB",
        "HE",
        "HH",
        "MV",
        "NI",
        "NW",
        "RP",
        "SH",
        "SL",
        "SN",
        "ST",
        "TH",
    ]
]
REGIONS = [*GERMAN_REGIONS, "AT-9", "CH-ZH", "FR", "NL", "PL", "US-CA"]

starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2098, 1, 1))
regions = st.sampled_from(REGIONS)


@st.composite
def closures(draw, start):
    offsets = draw(st.sets(st.integers(min_value=0, max_value=300), max_size=25))
    return {start + timedelta(days=n) for n in offsets}


@st.composite
def offsets(draw, max_amount=10):
    unit = draw(st.sampled_from(list(Unit)))
    top = {Unit.DAYS: 60, Unit.WEEKS: 12, Unit.MONTHS: 4}[unit]
    return Offset(draw(st.integers(min_value=0, max_value=min(top, max_amount * 6))), unit)


@st.composite
def curricula(draw):
    count = draw(st.integers(min_value=1, max_value=7))
    elements = []
    for index in range(count):
        if draw(st.booleans()):
            length = Span(Offset(draw(st.integers(1, 6)), draw(st.sampled_from(list(Unit)))))
            mode = Mode.SELF_PACED
        else:
            hour = draw(st.integers(6, 16))
            length = TimedBlock(
                datetime(2001, 1, 1, hour).time(), timedelta(hours=draw(st.integers(1, 7)))
            )
            mode = draw(st.sampled_from([Mode.IN_PERSON, Mode.ONLINE, Mode.EITHER]))
        if index == 0:
            placement = Placement()
        else:
            after = elements[draw(st.integers(0, index - 1))].key
            gap = None
            if draw(st.booleans()):
                bounds = draw(st.lists(offsets(), min_size=3, max_size=3))
                gap = Gap(*sorted(bounds, key=lambda o: o.nominal_days))
            placement = Placement(after=after, gap=gap)
        elements.append(
            Element(
                key=f"e{index}",
                kind="webinar",
                title=Text(f"E{index}", f"E{index}"),
                mode=mode,
                length=length,
                placement=placement,
            )
        )
    return Curriculum(
        key="generated",
        version=1,
        title=Text("G", "G"),
        elements=tuple(elements),
        certificate=CertificateRule(required=(elements[0].key,)),
    )


def check_schedule(schedule: Schedule, start: date, calendar: WorkingCalendar) -> None:
    curriculum = schedule.curriculum
    by_key = {s.element: s for s in schedule.sessions}
    # Every element exactly once.
    assert sorted(by_key) == sorted(e.key for e in curriculum.elements)
    assert len(schedule.sessions) == len(curriculum.elements)
    # In date order.
    assert [s.first_day for s in schedule.sessions] == sorted(
        s.first_day for s in schedule.sessions
    )
    for element in curriculum.elements:
        session = by_key[element.key]
        # Nothing starts or ends on a closed day; timed sessions lie on one working day.
        assert calendar.is_working_day(session.first_day), (element.key, session)
        assert calendar.is_working_day(session.last_day), (element.key, session)
        assert session.first_day <= session.last_day
        if isinstance(element.length, TimedBlock):
            assert isinstance(session.start, datetime)
            assert isinstance(session.end, datetime)
            assert session.start.time() == element.length.start
            wall = session.end.replace(tzinfo=None) - session.start.replace(tzinfo=None)
            assert wall == element.length.duration
        else:
            assert session.all_day
            nominal_last = element.length.length.after(session.first_day) - timedelta(days=1)
            assert session.last_day <= nominal_last
        placement = element.placement
        if placement.after is None:
            expected = calendar.working_day_on_or_after(start)
            assert session.first_day == expected
            continue
        previous_last = by_key[placement.after].last_day
        # Order kept: nothing starts before what it follows has ended.
        assert session.first_day >= previous_last
        if placement.gap is None:
            # The very next working day.
            assert session.first_day > previous_last
            day = previous_last + timedelta(days=1)
            while day < session.first_day:
                assert not calendar.is_working_day(day)
                day += timedelta(days=1)
        else:
            # Gaps within their bounds.
            assert placement.gap.min.after(previous_last) <= session.first_day
            assert session.first_day <= placement.gap.max.after(previous_last)


@given(
    key=st.sampled_from(["compact", "blended"]),
    start=starts,
    region=regions,
    data=st.data(),
)
def test_shipped_curricula_plan_anywhere(key, start, region, data):
    calendar = WorkingCalendar(region, data.draw(closures(start)))
    schedule = plan(shipped()[key], start, calendar)
    check_schedule(schedule, start, calendar)


@given(curriculum=curricula(), start=starts, region=regions, data=st.data())
def test_any_curriculum_plans_within_its_rules_or_says_why_not(curriculum, start, region, data):
    calendar = WorkingCalendar(region, data.draw(closures(start)))
    try:
        schedule = plan(curriculum, start, calendar)
    except PlanningError as error:
        check_failure(error, curriculum, calendar)
        return
    check_schedule(schedule, start, calendar)


def check_failure(error: PlanningError, curriculum: Curriculum, calendar: WorkingCalendar) -> None:
    """A plan fails only when the window searched for the named element truly
    has no working day (months and days can even make it empty: 1m after
    31 January ends before 30d)."""
    assert error.element in {e.key for e in curriculum.elements}
    assert error.window is not None
    first, last = error.window
    day = first
    while day <= last:
        assert not calendar.is_working_day(day), (error.element, day)
        day += timedelta(days=1)


def rules_hold(schedule: Schedule, calendar: WorkingCalendar) -> None:
    """Every placement rule between the dated sessions, in both directions."""
    by_key = {s.element: s for s in schedule.sessions}
    for element in schedule.curriculum.elements:
        after = element.placement.after
        if after is None:
            continue
        day, previous_last = by_key[element.key].first_day, by_key[after].last_day
        if element.placement.gap is None:
            assert day == calendar.working_day_on_or_after(previous_last + timedelta(days=1))
        else:
            assert element.placement.gap.min.after(previous_last) <= day
            assert day <= element.placement.gap.max.after(previous_last)


@given(curriculum=curricula(), start=starts, region=regions, data=st.data())
def test_a_day_fixed_by_hand_is_taken_only_where_every_rule_holds(curriculum, start, region, data):
    calendar = WorkingCalendar(region)
    try:
        planned = plan(curriculum, start, calendar)
    except PlanningError:
        return
    element = data.draw(st.sampled_from(curriculum.elements))
    current = next(s for s in planned.sessions if s.element == element.key)
    day = current.first_day + timedelta(days=data.draw(st.integers(-90, 90)))
    # Everything else stays where it is: the fixed day must fit all of it.
    fixed = {s.element: s.first_day for s in planned.sessions}
    fixed[element.key] = day
    try:
        moved = plan(curriculum, start, calendar, fixed=fixed)
    except PlanningError:
        return
    rules_hold(moved, calendar)


@given(curriculum=curricula(), start=starts, region=regions, data=st.data())
def test_tied_earlier_sessions_make_any_move_keep_the_rules(curriculum, start, region, data):
    """Moving an element with the earlier ones a rule ties to it, and
    re-planning what follows them, gives a schedule that keeps every rule
    with the element on the day asked for, or says which rule cannot hold."""
    from cohorts.scheduling import followers, tied_earlier

    calendar = WorkingCalendar(region)
    try:
        planned = plan(curriculum, start, calendar)
    except PlanningError:
        return
    element = data.draw(st.sampled_from(curriculum.elements))
    current = next(s for s in planned.sessions if s.element == element.key)
    day = calendar.working_day_on_or_after(
        current.first_day + timedelta(days=data.draw(st.integers(-120, 120)))
    )
    spans = {s.element: (s.first_day, s.last_day) for s in planned.sessions}
    try:
        pulled = tied_earlier(curriculum, calendar, spans, element.key, day, set(spans))
        moving = {element.key, *pulled}
        following = set().union(*(followers(curriculum, k) for k in moving)) - moving
        fixed = {k: first for k, (first, _) in spans.items() if k not in following}
        fixed.update(pulled)
        fixed[element.key] = day
        moved = plan(curriculum, start, calendar, fixed=fixed)
    except PlanningError as error:
        check_named(error, curriculum)
        return
    assert next(s for s in moved.sessions if s.element == element.key).first_day == day
    rules_hold(moved, calendar)


def check_named(error: PlanningError, curriculum: Curriculum) -> None:
    assert error.element in {e.key for e in curriculum.elements}
