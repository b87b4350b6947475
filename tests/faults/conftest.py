"""Fixtures for the fault tests: the processes a test starts, and the figures each scenario
reports (printed at the end of the run)."""

from __future__ import annotations

import pytest

from tests.faults.fleet import Fleet

LEASE_MARGIN = 1  # seconds: a claim's lease is 2 x the merchant's timeout + this
FIGURES: list[str] = []


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def fleet(app, database_url, tmp_path, monkeypatch, request):
    """Real processes on the test's database and Redis; every one of them ended afterwards (their
    output is printed when the test failed)."""
    monkeypatch.setitem(app.config, "PLACEMENT_LEASE_MARGIN_SECONDS", LEASE_MARGIN)
    fleet = Fleet(app, database_url, tmp_path, PLACEMENT_LEASE_MARGIN_SECONDS=LEASE_MARGIN)
    try:
        yield fleet
    finally:
        fleet.stop()
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            print(fleet.logs())


@pytest.fixture
def figures(request):
    """Note a scenario's figures for the closing summary."""

    def note(**values) -> None:
        FIGURES.append(
            f"{request.node.name}: "
            + "; ".join(f"{name.replace('_', ' ')} {value}" for name, value in values.items())
        )

    return note


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("placement fault figures")
        for line in FIGURES:
            terminalreporter.write_line(line)
