"""Properties of the pairing for any cohort: everyone exactly once, hard rules
never broken when a solution exists, and for small cohorts the best score
there is (checked against a search of every possible arrangement)."""

from __future__ import annotations

import random
from functools import cache
from itertools import combinations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohorts.pairing import PairingError, Person, Weights, pair

WEIGHTS = Weights()


@st.composite
def cohorts(draw, max_size: int = 10):
    size = draw(st.integers(min_value=2, max_value=max_size))
    ids = [f"p{n}" for n in range(size)]
    persons = [
        Person(
            id=i,
            name=i,
            department=draw(st.sampled_from(["a", "b", "c", None])),
            site=draw(st.sampled_from(["x", "y", None])),
            organisation=draw(st.sampled_from(["o1", "o2"])),
            manager=draw(st.sampled_from([None, None, *ids])),
        )
        for i in ids
    ]
    pairs = list(combinations(ids, 2))
    history = draw(st.lists(st.sampled_from(pairs), max_size=size))
    apart = draw(st.lists(st.sampled_from(pairs), max_size=size // 2))
    return persons, history, apart


def score(a: Person, b: Person) -> int:
    value = 0
    if a.department and b.department and a.department != b.department:
        value += WEIGHTS.different_department
    if a.site and b.site and a.site == b.site:
        value += WEIGHTS.same_site
    if a.organisation and a.organisation == b.organisation:
        value += WEIGHTS.same_organisation
    return value


def forbidden(persons: list[Person], history, apart) -> set[frozenset[str]]:
    """Pairs the hard rules exclude, worked out independently of the core."""
    by_id = {p.id: p for p in persons}

    def above(person: str) -> set[str]:
        seen: set[str] = set()
        boss = by_id[person].manager
        while boss is not None and boss not in seen and boss != person:
            seen.add(boss)
            boss = by_id[boss].manager if boss in by_id else None
        return seen

    chains = {p.id: above(p.id) for p in persons}
    found = {frozenset(p) for p in [*history, *apart]}
    for a, b in combinations(by_id, 2):
        if a in chains[b] or b in chains[a]:
            found.add(frozenset((a, b)))
    return found


def best_by_search(persons: list[Person], excluded: set[frozenset[str]]) -> int | None:
    """The best total score over every arrangement into pairs and, for an odd
    count, one group of three; None when no arrangement keeps the rules."""
    by_id = {p.id: p for p in persons}

    def value(group: tuple[str, ...]) -> int | None:
        if any(frozenset(p) in excluded for p in combinations(group, 2)):
            return None
        return sum(score(by_id[a], by_id[b]) for a, b in combinations(group, 2))

    @cache
    def best(rest: tuple[str, ...], triad_left: bool) -> int | None:
        if not rest:
            return None if triad_left else 0
        first, others = rest[0], rest[1:]
        options = []
        sizes = (1, 2) if triad_left else (1,)
        for size in sizes:
            for partners in combinations(others, size):
                group = (first, *partners)
                here = value(group)
                if here is None:
                    continue
                remaining = tuple(i for i in others if i not in partners)
                after = best(remaining, triad_left and size == 1)
                if after is not None:
                    options.append(here + after)
        return max(options, default=None)

    return best(tuple(sorted(by_id)), len(by_id) % 2 == 1)


def random_valid(persons: list[Person], excluded, rng: random.Random) -> int | None:
    """The score of some valid arrangement found by shuffling, if any."""
    by_id = {p.id: p for p in persons}
    for _ in range(50):
        order = sorted(by_id)
        rng.shuffle(order)
        groups = [tuple(order[i : i + 2]) for i in range(0, len(order) - len(order) % 2, 2)]
        if len(order) % 2:
            groups[-1] = (*groups[-1], order[-1])
        if all(frozenset(p) not in excluded for g in groups for p in combinations(g, 2)):
            return sum(score(by_id[a], by_id[b]) for g in groups for a, b in combinations(g, 2))
    return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts())
def test_small_cohorts_get_the_best_score_there_is(case):
    persons, history, apart = case
    excluded = forbidden(persons, history, apart)
    optimum = best_by_search(persons, excluded)
    try:
        result = pair(persons, history=history, not_together=apart)
    except PairingError:
        assert optimum is None, "a valid arrangement exists but was not found"
        return
    # Everyone exactly once; pairs, and a group of three only for an odd count.
    members = [m for t in result.tandems for m in t.members]
    assert sorted(members) == sorted(p.id for p in persons)
    sizes = sorted(len(t.members) for t in result.tandems)
    assert sizes.count(3) == len(persons) % 2
    assert set(sizes) <= {2, 3}
    # No hard rule broken, and the best score.
    for tandem in result.tandems:
        assert all(frozenset(p) not in excluded for p in combinations(tandem.members, 2))
    assert result.score == optimum
    assert result.score == sum(t.score for t in result.tandems)


@settings(max_examples=40, deadline=None)
@given(cohorts(max_size=40), st.integers(min_value=0, max_value=2**16))
def test_larger_cohorts_are_never_worse_than_a_random_valid_pairing(case, seed):
    persons, history, apart = case
    excluded = forbidden(persons, history, apart)
    baseline = random_valid(persons, excluded, random.Random(seed))
    try:
        result = pair(persons, history=history, not_together=apart, seed=seed)
    except PairingError:
        assert baseline is None, "a random valid pairing exists but none was found"
        return
    assert sorted(m for t in result.tandems for m in t.members) == sorted(p.id for p in persons)
    for tandem in result.tandems:
        assert all(frozenset(p) not in excluded for p in combinations(tandem.members, 2))
    if baseline is not None:
        assert result.score >= baseline
