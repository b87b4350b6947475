"""Generated hostile input on every public route: no 5xx, no write on refusal, no leak.

Routes come from the app's URL map, so a new route is attacked without anyone listing it
(``test_every_route_has_a_spec`` then asks for the names it reads). Each (rule, method) is
one test of two Hypothesis runs: every part of the request (path variables, query and form
names, body encoding, headers) with every class of hostile value once (``sweep``), then
random requests, hostile in one or two parts or all over (``routes``), in proportion to the
parts. The purchase POST also gets a mutation-based test (``mutations``).

``HYPOTHESIS_EXAMPLES_SCALE`` multiplies the random counts (default 1: well within a minute
per database on two CPUs). ``GENERATED_INPUT_LOG=<file>`` appends every failing example as
a JSON line; with ``GENERATED_INPUT_KEEP_GOING=1`` a failing example is recorded and the
test goes on, failing at its end, so one run lists every distinct failure. The figures are
printed at the end of the run (tests/web/conftest.py).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Event, Merchant
from tests import hostile
from tests.conftest import IsolatedClient
from tests.web.generated_input import mutations, sweep
from tests.web.generated_input.routes import requests, slots
from tests.web.generated_input.specs import SPECS, Spec
from tests.web.generated_input.world import build_world

SCALE = float(os.environ.get("HYPOTHESIS_EXAMPLES_SCALE", "1"))
PER_ROUTE, PER_PART, MUTATIONS = 4, 3, 100
# No example database: every route's test shares one inner function (see below), so saved
# examples would be replayed against the wrong route; print_blob reproduces a failure.
SETTINGS = {
    "deadline": None,
    "print_blob": True,
    "database": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
}
MUTATIONS_ID = "POST /subscription/create (mutations)"
ISOLATED = ("api_key_a", "signed_a", "console_a")  # A's credentials: B's data must not show


def public_routes() -> list[tuple[str, str, str]]:
    """(rule, method, endpoint) for every route but static files, HEAD and OPTIONS."""
    app = create_app(TestConfig)
    return sorted(
        (rule.rule, method, rule.endpoint)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


ROUTES = public_routes()


@pytest.fixture(scope="module")
def world(_session_app):
    """Merchants A and B seeded once; every example leaves the database as it found it."""
    app = _session_app
    ctx = app.app_context()
    ctx.push()
    app.test_client_class = IsolatedClient
    _empty(app)
    world = build_world(app, app.test_client())
    try:
        yield world
    finally:
        app.logger.removeHandler(world.log)
        world.watch.close()
        _empty(app)
        db.session.remove()
        ctx.pop()


def _empty(app) -> None:
    db.session.rollback()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    app.extensions["rq"]["redis"].flushdb()


def examples(count: float) -> int:
    return max(1, round(SCALE * count))


@pytest.mark.parametrize(
    ("rule", "method"), [(r, m) for r, m, _ in ROUTES], ids=[f"{m} {r}" for r, m, _ in ROUTES]
)
def test_route_answers_hostile_input_without_5xx_or_writes(world, rule, method):
    route = world.rules[(rule, method)]
    test_id = f"{method} {rule}"
    parts = slots(route, SPECS.get(route.endpoint, Spec()), body=method == "POST")
    api_or_console = route.endpoint.startswith(("api.", "console."))
    every_case = sweep.cases(route, method, world)

    def check(request):
        world.check(request, test_id, isolation=api_or_console and request.mode in ISOLATED)

    @settings(max_examples=len(every_case), **SETTINGS)  # Hypothesis enumerates them all
    @given(case=st.sampled_from(every_case))
    def each_part_with_each_class_of_value(case):
        check(sweep.request(route, method, world, case))

    @settings(max_examples=examples(PER_ROUTE + PER_PART * len(parts)), **SETTINGS)
    @given(data=st.data())
    def random_requests(data):
        check(data.draw(requests(route, method, world), label="request"))

    each_part_with_each_class_of_value()
    random_requests()
    world.assert_no_failures_kept(test_id)


@pytest.mark.slow
def test_purchase_post_survives_mutated_payloads(world):
    every_case = mutations.sweep_cases(world)

    def check(request):
        world.check(request, MUTATIONS_ID, isolation=request.mode in ISOLATED)

    @settings(max_examples=len(every_case), **SETTINGS)
    @given(case=st.sampled_from(every_case))
    def each_member_with_each_class_of_value(case):
        check(mutations.swept_request(world, case))

    @settings(max_examples=examples(MUTATIONS), **SETTINGS)
    @given(data=st.data())
    def random_mutations(data):
        check(data.draw(mutations.purchase_requests(world), label="request"))

    each_member_with_each_class_of_value()
    random_mutations()
    world.assert_no_failures_kept(MUTATIONS_ID)


def test_every_route_has_a_spec():
    missing = sorted({endpoint for _, _, endpoint in ROUTES} - SPECS.keys())
    assert not missing, f"add to SPECS in tests/web/generated_input/specs.py: {missing}"


def test_the_harness_sees_a_write_and_puts_the_database_back(world):
    """No false negatives: a write is reported, an audit record is not, both are undone."""
    with db.engine.begin() as conn:
        conn.execute(update(Merchant).where(Merchant.id == world.b.id).values(name="Changed"))
    [written] = world._written_then_undone()
    assert written.startswith(f"merchants ({world.b.id},): changed name")
    assert db.session.get(Merchant, world.b.id).name == world.b.name
    login = world.rules[("/console/login", "POST")]
    wrong = sweep.Case("form", "password", b"wrong-password-1")
    assert world._send(sweep.request(login, "POST", world, wrong))[0] == 401
    assert world._written_then_undone() == []
    assert not db.session.scalar(select(Event).where(Event.type == "staff.login_failed"))


def test_the_harness_would_see_merchant_b_data(world):
    """No false negatives: B's secrets are what B's own credentials read back."""
    request = hostile.Request("GET", b"/products/", headers=[("x-api-key", world.b.api_key)])
    status, body, _ = world._send(request)
    assert status == 200 and world.b.products[0].encode() in body
