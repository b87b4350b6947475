"""Fixtures for the web tests, and the generated-input suite's figures."""

import sys

import pytest

from tests.factories import login, make_staff


@pytest.fixture
def owner(client):
    """A merchant owner, logged in on ``client``."""
    user = make_staff(role="owner")
    login(client, user)
    return user


def pytest_terminal_summary(terminalreporter):
    """The generated-input suite's figures, for the closing note: routes, examples, failures."""
    generated = sys.modules.get("tests.web.generated_input.harness")
    if generated is None or not generated.FIGURES:
        return
    figures = generated.FIGURES
    routes = [figures[name] for name in figures if not name.endswith("(mutations)")]
    mutations = sum(figures.values()) - sum(routes)
    failed = [
        r for r in terminalreporter.stats.get("failed", []) if "test_generated_input" in r.nodeid
    ]
    low, high = min(routes, default=0), max(routes, default=0)
    terminalreporter.write_line(
        f"generated input: {len(routes)} routes, {sum(routes)} examples ({low} to {high} a "
        f"route) + {mutations} purchase POST mutations = {sum(figures.values())} requests, "
        f"{len(failed)} failing tests"
    )
