"""Time to pair cohorts of 12, 30, 100 and 300 people.

People get random departments, sites and managers (fixed seed); the history
holds five earlier cohorts of the same people, paired at random. For 30
people, the ratio against networkx's `max_weight_matching` alone on the same
graph says what the rules, scores, reasons and the group of three cost on
top. Peak memory is measured for 300 people. Targets: 30 people under 50 ms,
300 under 3 s.

Run: `make bench` or `.venv/bin/python bench/pairing_times.py [--runs N]`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import tracemalloc
from itertools import combinations

import networkx as nx

from cohorts.pairing import Person, pair

SIZES = (12, 30, 100, 300)
DEPARTMENTS = [f"Abteilung {n}" for n in range(8)]
SITES = ["Stuttgart", "Ulm", "Esslingen", "Reutlingen"]


def cohort(size: int, rng: random.Random) -> tuple[list[Person], list[tuple[str, ...]]]:
    ids = [f"p{n:03d}" for n in range(size)]
    people = [
        Person(
            id=i,
            name=f"Person {i}",
            department=rng.choice(DEPARTMENTS),
            site=rng.choice(SITES),
            # A few managers among the participants, the rest outside the cohort.
            manager=rng.choice(ids[: max(2, size // 10)]) if rng.random() < 0.3 else None,
        )
        for i in ids
    ]
    history: list[tuple[str, ...]] = []
    for _ in range(5):
        order = ids[:]
        rng.shuffle(order)
        history.extend(tuple(order[i : i + 2]) for i in range(0, size - 1, 2))
    return people, history


def timed(work, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return times


def matching_alone(people: list[Person], history: list[tuple[str, ...]]) -> nx.Graph:
    """The same allowed pairs and weights, built outside the core."""
    banned = {frozenset(p) for p in history}
    graph = nx.Graph()
    for a, b in combinations(people, 2):
        if frozenset((a.id, b.id)) in banned or a.manager == b.id or b.manager == a.id:
            continue
        weight = 3 * (a.department != b.department) + 2 * (a.site == b.site) + 1
        graph.add_edge(a.id, b.id, weight=weight)
    return graph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    rng = random.Random(12)
    print(f"{'people':>7}{'median ms':>11}{'p95 ms':>9}{'tandems':>9}")
    for size in SIZES:
        people, history = cohort(size, rng)
        runs = args.runs if size < 300 else max(3, args.runs // 3)
        result = pair(people, history=history)
        times = timed(lambda: pair(people, history=history), runs)  # noqa: B023
        p95 = max(times) if len(times) < 20 else statistics.quantiles(times, n=20)[-1]
        print(
            f"{size:>7}{statistics.median(times) * 1000:>11.1f}{p95 * 1000:>9.1f}"
            f"{len(result.tandems):>9}"
        )
        if size == 30:
            graph = matching_alone(people, history)
            floor = statistics.median(
                timed(lambda: nx.max_weight_matching(graph, maxcardinality=True), runs)  # noqa: B023
            )
            ours = statistics.median(times)
            print(
                f"        networkx max_weight_matching alone: {floor * 1000:.1f} ms; "
                f"pairing ÷ matching = {ours / floor:.2f}"
            )
        if size == 300:
            tracemalloc.start()
            pair(people, history=history)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"        peak memory for 300 people: {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
