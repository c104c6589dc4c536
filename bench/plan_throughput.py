"""Plan many cohorts and compare with the raw holiday look-ups they need.

Plans N cohorts (both shipped formats, random starts 2026-2035, random German
and other regions), then performs the same day look-ups directly against
prebuilt `holidays` objects. The ratio says how much the planner costs on
top of the holiday data it cannot avoid. Run: `make bench` or
`.venv/bin/python bench/plan_throughput.py [--cohorts N] [--seed S]`.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date, timedelta

import holidays

from cohorts import calendar as calendar_module
from cohorts.calendar import Region, WorkingCalendar
from cohorts.scheduling import plan
from curricula.shipped import shipped

REGIONS = [
    *(
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
    ),
    "AT-9",
    "CH-ZH",
    "FR",
    "NL",
]


class CountingCalendar(WorkingCalendar):
    """Records every day the planner asks about."""

    def __init__(self, region: str, seen: list[tuple[str, date]]) -> None:
        super().__init__(region)
        self._seen = seen
        self._code = region

    def closed_because(self, day: date):  # type: ignore[no-untyped-def]
        self._seen.append((self._code, day))
        return super().closed_because(day)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cohorts", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    curricula = list(shipped().values())
    first = date(2026, 1, 1)
    jobs = [
        (rng.choice(curricula), first + timedelta(days=rng.randrange(3650)), rng.choice(REGIONS))
        for _ in range(args.cohorts)
    ]

    # Cold: the holiday data of each region and year is built on first use.
    calendar_module._region_year.cache_clear()
    constructed = 0
    original = holidays.country_holidays

    def counting_factory(*a, **k):  # type: ignore[no-untyped-def]
        nonlocal constructed
        constructed += 1
        return original(*a, **k)

    holidays.country_holidays = counting_factory  # type: ignore[assignment]
    started = time.perf_counter()
    for curriculum, start, region in jobs:
        plan(curriculum, start, WorkingCalendar(region))
    cold = time.perf_counter() - started
    holidays.country_holidays = original  # type: ignore[assignment]

    # Warm: the same work again, as a long-running app process sees it.
    started = time.perf_counter()
    for curriculum, start, region in jobs:
        plan(curriculum, start, WorkingCalendar(region))
    warm = time.perf_counter() - started

    # The floor: the same day look-ups straight against prebuilt holiday objects.
    seen: list[tuple[str, date]] = []
    for curriculum, start, region in jobs:
        plan(curriculum, start, CountingCalendar(region, seen))
    prebuilt = {}
    for region in REGIONS:
        parsed = Region.parse(region)
        prebuilt[region] = holidays.country_holidays(
            parsed.country, subdiv=parsed.subdivision, years=range(2026, 2038)
        )
    started = time.perf_counter()
    for region, day in seen:
        _ = day in prebuilt[region] or day.weekday() >= 5
    floor = time.perf_counter() - started

    info = calendar_module._region_year.cache_info()
    print(f"cohorts planned:              {args.cohorts:>10,}")
    print(f"day look-ups per cohort:      {len(seen) / args.cohorts:>10.1f}")
    print(
        f"holiday calendars built:      {info.currsize:>10,} region-years "
        f"({constructed:,} holidays objects made, cold run)"
    )
    print(f"cold run:                     {args.cohorts / cold:>10,.0f} cohorts/s ({cold:.2f} s)")
    print(f"warm run:                     {args.cohorts / warm:>10,.0f} cohorts/s ({warm:.2f} s)")
    print(f"raw holidays look-ups:        {len(seen) / floor:>10,.0f} look-ups/s ({floor:.3f} s)")
    print(f"planner / raw look-ups:       {warm / floor:>10.1f} x (warm run against the floor)")


if __name__ == "__main__":
    main()
