"""Fault-suite reporting: what each scenario did, in the terminal summary and the test report."""

from __future__ import annotations

import pytest

from tests.faults.scenario import OUTCOMES


@pytest.fixture(autouse=True)
def _record_scenario(request: pytest.FixtureRequest, record_property) -> None:
    """Each property test carries its scenario's counts (requests, answers, faults) in the report."""
    callspec = getattr(request.node, "callspec", None)
    named = [n for n in ("outcome", "killed", "stalled") if n in request.fixturenames]
    name = named[0] if named else callspec.params.get("scenario") if callspec else None
    if name:
        outcome = request.getfixturevalue(name)
        record_property("scenario", outcome.name)
        record_property("faults", outcome.faults)
        record_property("counts", outcome.summary)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not OUTCOMES:
        return
    terminalreporter.section("fault scenarios: what they did")
    for outcome in OUTCOMES:
        for line in outcome.lines():
            terminalreporter.write_line(line)
