"""One page measured as the benches measure it: in turn with the floor (the
start page), so that both meet the same load of the machine, with the SQL
statements of one request."""

from __future__ import annotations

import statistics
import time

from sqlalchemy import event

FLOOR = "/"  # the start page: a template, no database


def measure(client, url: str, rounds: int, engine) -> tuple[float, float, float, int]:  # type: ignore[no-untyped-def]
    """Median and 95th percentile of the page in ms, the median of the floor
    requested in turn with it, and the SQL statements of one request."""
    for _ in range(3):
        assert client.get(url).status_code == 200, url
        client.get(FLOOR)
    statements: list[str] = []

    def count(*args) -> None:  # type: ignore[no-untyped-def]
        if not args[2].startswith(("BEGIN", "COMMIT", "ROLLBACK")):  # SQLite's own
            statements.append(args[2])

    timings, floors = [], []
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            client.get(FLOOR)
            floors.append(time.perf_counter() - started)
            statements.clear()
            started = time.perf_counter()
            response = client.get(url)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, url
    finally:
        event.remove(engine, "before_cursor_execute", count)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return (
        statistics.median(timings) * 1000,
        p95 * 1000,
        statistics.median(floors) * 1000,
        len(statements),
    )
