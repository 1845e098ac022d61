"""Hypothesis profiles for the property tests (tests/unit/test_sanitize.py,
tests/integration/test_hostile_input.py). Imported by tests/conftest.py, so a profile is in
force before any test module builds its `settings(...)` (those copy the default at import).

- "ci" (loaded by default, for `make test`, `.ci/run` and a bare `pytest` alike): the
  examples are derived from each test's own code (`derandomize=True`), so every run on every
  machine tries the same examples and gives the same verdict; a red CI run is red on the
  developer's machine too, and a green one cannot turn red on a re-run. Nothing is read from
  or written to an example database (no .hypothesis/ folder), no wall-clock limit applies
  (`deadline=None`, and the `too_slow` health check, which times data generation, is off), so a
  loaded machine cannot fail a test; a failure prints its example and the
  `@reproduce_failure` blob. These are the settings of Hypothesis' own "ci" profile, which it
  loads by itself only when a CI variable is set: loading it always is what makes a
  developer's `make test` see CI's examples (a random run used to fail the sanitiser's
  property test on developers' machines while CI stayed green).
- "dev": fresh random examples on every run, to look for new failures on purpose:
  `HYPOTHESIS_PROFILE=dev pytest tests/unit/test_sanitize.py` or
  `pytest --hypothesis-profile=dev --hypothesis-seed=7 ...` (the seed replays a run). Whatever
  it finds belongs in the tests as an explicit example, so that "ci" keeps checking it.

Derandomized examples change only when the test's code, Hypothesis or Python changes; that is
the price of a suite that never gives two answers for one commit.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,  # a wall-clock assertion per example: never in a test
    "database": None,  # no .hypothesis/ folder in the work tree
    "print_blob": True,  # a failure prints @reproduce_failure(...) to replay it
    "report_multiple_bugs": True,  # every distinct failure, each with its example
    "suppress_health_check": [HealthCheck.too_slow],  # times data generation: load-dependent
}

settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("dev", derandomize=False, **_COMMON)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)
