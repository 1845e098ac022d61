"""pytest plugin: time per test tier, printed at the end of every run (and under xdist too).

A tier is what a test needs to run, which is also what makes it slow:

- ``unit``: pure logic (``tests/unit``);
- ``moto``: handlers and the template in-process, on moto's mock (the rest of
  ``tests/integration``);
- ``DynamoDB Local``: anything that uses the ``dynamodb_local`` fixture (marked by
  ``tests/conftest.py``), the local server included;
- ``build``: a fresh ``sam build`` run on python3.13 (``test_built_artifact.py``);
- ``browser``: Playwright driving Debian's Chromium (``tests/e2e``).

For each tier the summary shows the number of tests and their outcome, the test time (setup,
call and teardown added up, whichever worker ran them) and the wall time from the tier's first
test starting to its last one ending (tiers overlap when pytest-xdist runs them in parallel).
The same figures go to ``artifacts/test-tiers.json``.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TIERS = ("unit", "moto", "DynamoDB Local", "build", "browser")
ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "test-tiers.json"


def tier_of(nodeid: str, keywords: dict[str, object] | set[str]) -> str:
    """The tier of a test, from its node id and keywords (markers included)."""
    path = nodeid.split("::", 1)[0]
    if path.startswith("tests/e2e/"):
        return "browser"
    if path.startswith("tests/unit/"):
        return "unit"
    if path.endswith("test_built_artifact.py"):
        return "build"
    if "dynamodb_local" in keywords:
        return "DynamoDB Local"
    return "moto"


@dataclass
class _Tier:
    outcomes: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    seconds: float = 0.0  # setup + call + teardown, added up
    start: float = float("inf")
    stop: float = 0.0

    @property
    def wall(self) -> float:
        return max(0.0, self.stop - self.start)


class TierTimes:
    def __init__(self) -> None:
        self.tiers: dict[str, _Tier] = defaultdict(_Tier)

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Under xdist, the controller gets every worker's reports here, keywords included.
        # Times on this process's perf_counter, as each phase's report arrives: report.start
        # and report.stop are wall-clock times, which tests that move the clock
        # (time-machine) shift by days.
        now = time.perf_counter()
        tier = self.tiers[tier_of(report.nodeid, report.keywords)]
        tier.seconds += report.duration
        tier.start = min(tier.start, now - report.duration)
        tier.stop = max(tier.stop, now)
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = "xfailed" if hasattr(report, "wasxfail") and report.skipped else None
            tier.outcomes[outcome or report.outcome] += 1

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.tiers:
            return
        write = terminalreporter.write_line
        terminalreporter.section("time per tier")
        write(f"{'tier':<16}{'tests':>7}  {'test time':>10}  {'wall':>8}  outcome")
        rows = []
        for name in TIERS:
            tier = self.tiers.get(name)
            if tier is None:
                continue
            count = sum(tier.outcomes.values())
            outcome = ", ".join(f"{n} {k}" for k, n in sorted(tier.outcomes.items()))
            write(f"{name:<16}{count:>7}  {tier.seconds:>9.1f}s  {tier.wall:>7.1f}s  {outcome}")
            rows.append(
                {
                    "tier": name,
                    "tests": count,
                    "outcomes": dict(tier.outcomes),
                    "test_seconds": round(tier.seconds, 2),
                    "wall_seconds": round(tier.wall, 2),
                }
            )
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        ARTIFACT.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist) reports
        config.pluginmanager.register(TierTimes(), "newsdesk-tier-times")
