"""The traffic model (scripts/traffic_model.py): who it counts as online."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from newsdesk import caches, presence
from newsdesk.dal import db

from scripts import traffic_model


@pytest.fixture
def simulation() -> Iterator[traffic_model.Simulation]:
    """A model of 10 readers (all sampled); afterwards the client and the caches are the
    process's own again."""
    client = db.client
    try:
        yield traffic_model.Simulation(online=10, seconds=100, seed=1)
    finally:
        db.client = client  # type: ignore[method-assign]
        caches.use_environment("default")
        caches.clear_all()


def test_a_refused_write_fails_the_request_and_the_reader_reads_on(
    simulation: traffic_model.Simulation,
) -> None:
    """A write refused past a key's limit fails that request only: the reader's page shows
    and the widget keeps beating, so they stay in the exact count and their next page and
    heartbeat come (the model used to drop them, and the readers they stand for)."""
    simulation.memory.limit = 0  # every write to a shared key refused; visitor items not
    simulation.arrive(5.0)  # reader 0, sampled (10 readers: all are)

    simulation.request(5.0, 0, "page")

    assert simulation.memory.throttled > 0
    assert simulation.counts["failed"] == 1
    assert simulation.last[0] == 5.0
    upcoming = {(kind, reader) for at, _, reader, kind in simulation.events if at > 5.0}
    assert {("page", 0), ("beat", 0)} <= upcoming


def test_arrivals_keep_the_labelled_audience_in_the_exact_count() -> None:
    """seconds_counted: a reader's mean time in the exact count (stay, plus the window after
    their last request, less that request's age when they leave), against the same readers
    drawn one by one: arrivals at online / seconds_counted keep `online` readers counted."""
    rng, window = random.Random(7), 300
    total, readers = 0.0, 100_000
    for _ in range(readers):
        stay, last = rng.expovariate(1 / traffic_model.STAY), 0.0
        while True:
            gap = min(rng.expovariate(1 / traffic_model.PAGE_EVERY), presence.HEARTBEAT_SECONDS)
            if last + gap > stay:
                break
            last += gap
        total += last + window
    assert traffic_model.seconds_counted(window) == pytest.approx(total / readers, rel=0.01)
