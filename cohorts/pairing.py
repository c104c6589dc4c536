"""Tandems: everyone of a cohort in pairs, and one group of three when the
count is odd, chosen so that a trainer would defend every tandem.

Hard rules are never broken: nobody is paired with someone in their
manager line (one reports to the other, directly or further up), with an
earlier tandem partner, or with someone they must not be with. Within
those rules the total score of soft criteria (different departments, same
site, same organisation) is maximised as a maximum-weight matching (the
blossom algorithm of networkx). A group of three is found exactly for small
cohorts and by placing the person the matching leaves over for larger ones.

The same input always gives the same tandems; a seed picks reproducibly
among the best ones ("shuffle").
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

import networkx as nx

from cohorts.errors import CoreError
from curricula.messages import Message, msg


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    department: str | None = None
    site: str | None = None
    organisation: str | None = None
    manager: str | None = None  # the id of this person's manager, in the cohort or not


@dataclass(frozen=True)
class Weights:
    """Points a pair earns per soft criterion; 0 switches a criterion off.

    Different departments weigh most (widening the network is the point of
    tandems), the same site next (they must be able to meet); the same
    organisation only breaks ties in cohorts shared by several companies.
    """

    different_department: int = 3
    same_site: int = 2
    same_organisation: int = 1


@dataclass(frozen=True)
class Tandem:
    members: tuple[str, ...]
    score: int
    reasons: tuple[Message, ...]
    locked: bool = False


@dataclass(frozen=True)
class Pairing:
    tandems: tuple[Tandem, ...]
    score: int
    warnings: tuple[Message, ...] = ()


class PairingError(CoreError):
    """No tandems can be formed; `people` names who cannot be placed."""

    def __init__(self, message: Message, *, people: tuple[str, ...] = ()) -> None:
        self.people = people
        super().__init__(message)


# Pools up to this size get their group of three by trying every possible
# one (C(13, 3) = 286 small matchings); larger pools place the one left over.
_EXACT_TRIAD_LIMIT = 13
# For larger odd pools whose left-over person fits nowhere: how many other
# people to try leaving over before giving up.
_LEFT_OVER_ATTEMPTS = 12


def pair(
    people: Sequence[Person],
    *,
    history: Iterable[Collection[str]] = (),
    not_together: Iterable[Collection[str]] = (),
    locked: Sequence[Collection[str]] = (),
    weights: Weights = Weights(),
    seed: int | None = None,
) -> Pairing:
    """Tandems for everyone in `people`; `locked` tandems are kept as given."""
    rules = _Rules(people, history, not_together, weights)
    fixed = _check_locked(rules, locked)
    taken = {i for group in fixed for i in group}
    pool = sorted(i for i in rules.by_id if i not in taken)
    if len(rules.by_id) < 2:
        raise PairingError(msg("tandems need at least two people"), people=tuple(rules.by_id))
    if len(pool) == 1:
        raise PairingError(
            msg(
                "{people} cannot be placed: everyone else is in a locked tandem",
                people=[rules.by_id[pool[0]].name],
            ),
            people=tuple(pool),
        )
    groups = _solve(rules, pool, seed)
    return _result(rules, fixed, groups)


def problems(
    people: Sequence[Person],
    tandems: Sequence[Collection[str]],
    *,
    history: Iterable[Collection[str]] = (),
    not_together: Iterable[Collection[str]] = (),
) -> tuple[Message, ...]:
    """The hard rules that tandems arranged by hand break, one message each."""
    rules = _Rules(people, history, not_together, Weights())
    return tuple(
        problem
        for group in tandems
        for a, b in combinations(sorted(set(group)), 2)
        if a in rules.by_id and b in rules.by_id
        if (problem := rules.broken(a, b)) is not None
    )


def replace_withdrawn(
    people: Sequence[Person],
    current: Sequence[Collection[str]],
    withdrawn: Collection[str],
    *,
    history: Iterable[Collection[str]] = (),
    not_together: Iterable[Collection[str]] = (),
    locked: Sequence[Collection[str]] = (),
    weights: Weights = Weights(),
) -> Pairing:
    """The tandems after people withdrew: every tandem that lost nobody stays,
    a group of three that lost one stays as a pair, and partners left alone
    are placed without touching locked tandems."""
    rules = _Rules(people, history, not_together, weights)
    gone = set(withdrawn)
    locked_sets = {frozenset(group) for group in locked}
    kept: list[tuple[str, ...]] = []
    placed: set[str] = set()
    for group in current:
        remaining = tuple(sorted(i for i in group if i not in gone and i in rules.by_id))
        placed.update(remaining)
        if len(remaining) >= 2:
            kept.append(remaining)
    singles = sorted(i for i in rules.by_id if i not in placed or _alone(i, current, gone))
    fixed = [g for g in kept if frozenset(g) in locked_sets]
    free = [g for g in kept if frozenset(g) not in locked_sets]
    if not singles:
        return _result(rules, fixed, free)
    if len(singles) >= 2:
        return _result(rules, fixed, free + _solve(rules, singles, None))
    single = singles[0]
    rearranged = _place_one(rules, single, free)
    if rearranged is None:
        raise PairingError(
            msg(
                "{people} cannot be placed: every tandem that could take them is locked, "
                "or the rules forbid it",
                people=[rules.by_id[single].name],
            ),
            people=(single,),
        )
    return _result(rules, fixed, rearranged)


def _alone(person: str, current: Sequence[Collection[str]], gone: set[str]) -> bool:
    """Whether the person's tandem shrank to just them."""
    for group in current:
        if person in group:
            return sum(1 for i in group if i not in gone) == 1
    return False


def _place_one(
    rules: _Rules, single: str, free: list[tuple[str, ...]]
) -> list[tuple[str, ...]] | None:
    """One person joins the free tandems: split a group of three (so there is
    still only one), or else join the best pair as its third member."""
    best: tuple[int, list[tuple[str, ...]]] | None = None
    for index, group in enumerate(free):
        others = free[:index] + free[index + 1 :]
        if len(group) == 3:
            for member in group:
                rest = tuple(i for i in group if i != member)
                if rules.allowed(single, member):
                    new_pair = tuple(sorted((single, member)))
                    value = rules.score(single, member) + rules.score(*rest)
                    if best is None or value > best[0]:
                        best = (value, [*others, rest, new_pair])
    if best is not None:
        return best[1]
    for index, group in enumerate(free):
        if len(group) == 2 and all(rules.allowed(single, m) for m in group):
            value = sum(rules.score(single, m) for m in group)
            if best is None or value > best[0]:
                others = free[:index] + free[index + 1 :]
                best = (value, [*others, tuple(sorted((*group, single)))])
    return best[1] if best is not None else None


class _Rules:
    """The people, who may be together, and what a pair is worth."""

    def __init__(
        self,
        people: Sequence[Person],
        history: Iterable[Collection[str]],
        not_together: Iterable[Collection[str]],
        weights: Weights,
    ) -> None:
        self.by_id: dict[str, Person] = {}
        for person in people:
            if person.id in self.by_id:
                raise PairingError(
                    msg("{person} appears twice", person=person.name), people=(person.id,)
                )
            self.by_id[person.id] = person
        self.weights = weights
        self.earlier = _pairs(history)
        self.apart = _pairs(not_together)
        self.chains = {i: self._chain(i) for i in self.by_id}

    def _chain(self, person: str) -> set[str]:
        """Everyone above the person: their manager, that manager's, and so on."""
        above: set[str] = set()
        manager = self.by_id[person].manager
        while manager is not None and manager not in above and manager != person:
            above.add(manager)
            boss = self.by_id.get(manager)
            manager = boss.manager if boss is not None else None
        return above

    def broken(self, a: str, b: str) -> Message | None:
        """The hard rule a tandem of a and b would break, if any."""
        names = [self.by_id[a].name, self.by_id[b].name]
        if b in self.chains[a] or a in self.chains[b]:
            return msg("{people} are in the same manager line", people=names)
        key = frozenset((a, b))
        if key in self.earlier:
            return msg("{people} were a tandem before", people=names)
        if key in self.apart:
            return msg("{people} must not be a tandem", people=names)
        return None

    def allowed(self, a: str, b: str) -> bool:
        return self.broken(a, b) is None

    def score(self, a: str, b: str) -> int:
        first, second, w = self.by_id[a], self.by_id[b], self.weights
        value = 0
        if first.department and second.department and first.department != second.department:
            value += w.different_department
        if first.site and second.site and first.site == second.site:
            value += w.same_site
        if first.organisation and first.organisation == second.organisation:
            value += w.same_organisation
        return value

    def group_score(self, group: Sequence[str]) -> int:
        return sum(self.score(a, b) for a, b in combinations(group, 2))

    def reasons(self, group: Sequence[str]) -> tuple[Message, ...]:
        members = [self.by_id[i] for i in group]
        found: list[Message] = []
        departments = [p.department for p in members]
        if all(departments) and self.weights.different_department:
            if len(set(departments)) == len(departments):
                found.append(msg("different departments"))
            elif len(set(departments)) == 1:
                found.append(msg("same department"))
        sites = [p.site for p in members]
        if all(sites) and self.weights.same_site:
            if len(set(sites)) == 1:
                found.append(msg("same site"))
            elif len(set(sites)) == len(sites):
                found.append(msg("different sites"))
        organisations = {p.organisation for p in members}
        if len(organisations) > 1 and None not in organisations:
            found.append(msg("different organisations"))
        if not any(frozenset(p) in self.earlier for p in combinations(group, 2)):
            found.append(msg("never paired before"))
        return tuple(found)


def _pairs(groups: Iterable[Collection[str]]) -> set[frozenset[str]]:
    """Every two people of each group (a group of three gives three pairs)."""
    return {frozenset((a, b)) for group in groups for a, b in combinations(sorted(set(group)), 2)}


def _check_locked(rules: _Rules, locked: Sequence[Collection[str]]) -> list[tuple[str, ...]]:
    fixed: list[tuple[str, ...]] = []
    seen: set[str] = set()
    for group in locked:
        members = tuple(sorted(set(group)))
        unknown = [i for i in members if i not in rules.by_id]
        if unknown:
            raise PairingError(
                msg("a locked tandem names people who are not in the cohort: {ids}", ids=unknown),
                people=tuple(unknown),
            )
        if not 2 <= len(members) <= 3:
            raise PairingError(
                msg(
                    "a locked tandem must have two or three people: {people}",
                    people=[rules.by_id[i].name for i in members],
                ),
                people=members,
            )
        twice = [i for i in members if i in seen]
        if twice:
            raise PairingError(
                msg(
                    "{people} are in two locked tandems",
                    people=[rules.by_id[i].name for i in twice],
                ),
                people=tuple(twice),
            )
        seen.update(members)
        fixed.append(members)
    return fixed


def _solve(rules: _Rules, pool: list[str], seed: int | None) -> list[tuple[str, ...]]:
    """Pairs, and one group of three when the pool is odd, of the best total score."""
    graph = _graph(rules, pool, seed)
    if len(pool) % 2 == 0:
        pairs = _matching(graph)
        _require_everyone(rules, pool, pairs)
        return pairs
    if len(pool) <= _EXACT_TRIAD_LIMIT:
        return _exact_with_triad(rules, graph, pool)
    return _placed_with_triad(rules, graph, pool)


def _graph(rules: _Rules, pool: list[str], seed: int | None) -> nx.Graph:
    """Allowed pairs weighted by score. With a seed, a little noise decides
    between equally good tandems: scaled so that all the noise of a whole
    pairing is worth less than one point, the best score is never given up."""
    noise = random.Random(seed) if seed is not None else None  # noqa: S311 -- a shuffle, not a secret
    scale = len(pool) + 1
    graph = nx.Graph()
    graph.add_nodes_from(pool)
    for a, b in combinations(pool, 2):
        if rules.allowed(a, b):
            extra = noise.randrange(scale) if noise is not None else 0
            # Every allowed pair is worth at least 1, so that more pairs always win.
            graph.add_edge(a, b, weight=(rules.score(a, b) + 1) * scale * scale + extra)
    return graph


def _matching(graph: nx.Graph) -> list[tuple[str, ...]]:
    found = nx.max_weight_matching(graph, maxcardinality=True)
    return sorted(tuple(sorted(edge)) for edge in found)


def _weight(graph: nx.Graph, pairs: Iterable[tuple[str, ...]]) -> int:
    return sum(int(graph.edges[a, b]["weight"]) for a, b in pairs)


def _require_everyone(rules: _Rules, pool: list[str], groups: list[tuple[str, ...]]) -> None:
    placed = {i for group in groups for i in group}
    missing = [i for i in pool if i not in placed]
    if missing:
        raise PairingError(
            msg(
                "{people} cannot be placed: every possible partner is in their manager line, "
                "an earlier tandem or a not-together pair",
                people=[rules.by_id[i].name for i in missing],
            ),
            people=tuple(missing),
        )


def _exact_with_triad(rules: _Rules, graph: nx.Graph, pool: list[str]) -> list[tuple[str, ...]]:
    """Try every possible group of three with the best pairs of the rest."""
    best: tuple[int, list[tuple[str, ...]]] | None = None
    for triad in combinations(pool, 3):
        if not all(graph.has_edge(a, b) for a, b in combinations(triad, 2)):
            continue
        rest = graph.subgraph([i for i in pool if i not in triad])
        pairs = _matching(rest)
        if 2 * len(pairs) != len(pool) - 3:
            continue
        value = _weight(graph, combinations(triad, 2)) + _weight(graph, pairs)
        if best is None or value > best[0]:
            best = (value, [*pairs, triad])
    if best is None:
        alone = [i for i in pool if graph.degree(i) == 0]
        if alone:
            _require_everyone(rules, pool, [(i,) for i in pool if i not in alone])
        raise PairingError(
            msg(
                "no group of three is possible: for every three people, "
                "two of them may not be together"
            ),
            people=tuple(pool),
        )
    return sorted(best[1])


def _placed_with_triad(rules: _Rules, graph: nx.Graph, pool: list[str]) -> list[tuple[str, ...]]:
    """The best pairs, and the person left over joins the pair that suits
    them best; when they fit nowhere, someone else is left over instead."""
    pairs = _matching(graph)
    placed = {i for p in pairs for i in p}
    left = [i for i in pool if i not in placed]
    if len(left) > 1:
        _require_everyone(rules, pool, pairs)
    joined = _join(graph, left[0], pairs)
    if joined is not None:
        return joined
    # The fewest possible partners first: they are the hardest to place later.
    candidates = sorted((i for i in pool if i != left[0]), key=lambda i: (graph.degree(i), i))
    for candidate in candidates[:_LEFT_OVER_ATTEMPTS]:
        rest = _matching(graph.subgraph([i for i in pool if i != candidate]))
        if 2 * len(rest) == len(pool) - 1:
            joined = _join(graph, candidate, rest)
            if joined is not None:
                return joined
    raise PairingError(
        msg(
            "{people} cannot be placed: every possible partner is in their manager line, "
            "an earlier tandem or a not-together pair",
            people=[rules.by_id[left[0]].name],
        ),
        people=(left[0],),
    )


def _join(
    graph: nx.Graph, person: str, pairs: list[tuple[str, ...]]
) -> list[tuple[str, ...]] | None:
    best: tuple[int, int] | None = None
    for index, (a, b) in enumerate(pairs):
        if graph.has_edge(person, a) and graph.has_edge(person, b):
            value = _weight(graph, [(person, a), (person, b)])
            if best is None or value > best[0]:
                best = (value, index)
    if best is None:
        return None
    index = best[1]
    triad = tuple(sorted((*pairs[index], person)))
    return sorted([*pairs[:index], *pairs[index + 1 :], triad])


def _result(
    rules: _Rules, fixed: Sequence[tuple[str, ...]], groups: Sequence[tuple[str, ...]]
) -> Pairing:
    warnings: list[Message] = []
    tandems: list[Tandem] = []
    for group in fixed:
        for a, b in combinations(group, 2):
            problem = rules.broken(a, b)
            if problem is not None:
                warnings.append(msg("a locked tandem breaks a rule: {problem}", problem=problem))
        tandems.append(_tandem(rules, group, locked=True))
    tandems.extend(_tandem(rules, group, locked=False) for group in groups)
    tandems.sort(key=lambda t: (not t.locked, t.members))
    return Pairing(
        tandems=tuple(tandems),
        score=sum(t.score for t in tandems),
        warnings=tuple(warnings),
    )


def _tandem(rules: _Rules, group: Sequence[str], *, locked: bool) -> Tandem:
    members = tuple(sorted(group))
    return Tandem(
        members=members,
        score=rules.group_score(members),
        reasons=rules.reasons(members),
        locked=locked,
    )
