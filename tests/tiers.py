"""pytest plugin: time per test tier, printed at the end of every run (and under xdist too).

A tier is what a test needs to run, which is also what makes it slow:

- ``unit``: pure logic (``tests/unit``);
- ``moto``: handlers and the template in-process, on moto's mock (the rest of
  ``tests/integration``);
- ``DynamoDB Local``: anything that uses the ``dynamodb_local`` fixture (marked by
  ``tests/conftest.py``), the local server included;
- ``build``: a fresh ``sam build`` run on python3.13 (``test_built_artifact.py``);
- ``browser``: Playwright driving Debian's Chromium (``tests/e2e``);
- ``sam local``: the built functions in SAM CLI's emulator, ``sam local start-api`` with
  Docker (``tests/samlocal``). Where this machine cannot run Docker its tests are skipped,
  and the summary says in one line that the tier was NOT RUN and why; with its setup's
  times (Docker, base image, build, each function's first request) when it ran.

For each tier the summary shows the number of tests and their outcome, the test time (setup,
call and teardown added up, whichever worker ran them) and the wall time from the tier's first
test starting to its last one ending (tiers overlap when pytest-xdist runs them in parallel).
The same figures go to ``artifacts/test-tiers.json``.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

TIERS = ("unit", "moto", "DynamoDB Local", "build", "browser", "sam local")
ARTIFACT = Path(__file__).resolve().parents[1] / "artifacts" / "test-tiers.json"
SAM_LOCAL_TIMES = ARTIFACT.with_name("sam-local-tier.json")  # tests/samlocal/conftest.py


def tier_of(nodeid: str, keywords: dict[str, object] | set[str]) -> str:
    """The tier of a test, from its node id and keywords (markers included)."""
    path = nodeid.split("::", 1)[0]
    if path.startswith("tests/e2e/"):
        return "browser"
    if path.startswith("tests/samlocal/"):
        return "sam local"
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
    skip_reasons: set[str] = field(default_factory=set)

    @property
    def wall(self) -> float:
        return max(0.0, self.stop - self.start)


class TierTimes:
    def __init__(self) -> None:
        self.tiers: dict[str, _Tier] = defaultdict(_Tier)
        self.started = time.time()  # wall clock: compared with a file's modification time

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
            if report.skipped and not outcome and isinstance(report.longrepr, tuple):
                reason = str(report.longrepr[2]).removeprefix("Skipped: ")
                tier.skip_reasons.add(reason.removeprefix("sam local tier not run: "))

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
        self._sam_local_lines(write)
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        ARTIFACT.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")

    def _sam_local_lines(self, write: Callable[[str], None]) -> None:
        """The sam local tier: NOT RUN and why when its tests were skipped; else the times
        of its setup and of each function's first and warm request, when it ran now."""
        tier = self.tiers.get("sam local")
        if tier is None:
            return
        if tier.outcomes.get("skipped"):
            reasons = "; ".join(sorted(tier.skip_reasons)) or "skipped"
            write(f"sam local tier NOT RUN ({tier.outcomes['skipped']} skipped): {reasons}")
        try:
            fresh = SAM_LOCAL_TIMES.stat().st_mtime >= self.started
            times = json.loads(SAM_LOCAL_TIMES.read_text(encoding="utf-8")) if fresh else None
        except (OSError, ValueError):
            times = None
        if not times:
            return
        setup = ", ".join(f"{k} {v:.1f}s" for k, v in times.get("setup_seconds", {}).items())
        write(f"sam local setup: {setup}")
        first, warm = times.get("first_request_seconds", {}), times.get("warm_request_seconds", {})
        init = times.get("first_duration_ms", {})
        write(
            "sam local first request (of it, the emulator's Duration), then a warm one: "
            + ", ".join(
                f"{fn} {first[fn]:.1f}s ({init.get(fn, 0) / 1000:.1f}s), {warm.get(fn, 0):.2f}s"
                for fn in first
            )
        )


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist) reports
        config.pluginmanager.register(TierTimes(), "newsdesk-tier-times")
