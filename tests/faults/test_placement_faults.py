"""Exactly once under faults (issue 11): real RQ workers and ``flask`` commands in processes of
their own on the test's database and Redis, a real HTTP store, and the orders counted at the
store for each subscription cycle.

Two stores: ``storekit.store()`` does not deduplicate, like the official receivers (every POST
it answers SUCCESS is one more store order), and the demo store's real ``/og/orders``, which
deduplicates on ``orderPublicId`` (its merchant declares ``endpoint_dedupes``). A claim's lease
is short here: 2 x the merchant's timeout + 1 s (``PLACEMENT_LEASE_MARGIN_SECONDS``).
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, text, update

from app.extensions import db
from app.jobs import queue
from app.models import (
    Merchant,
    Order,
    OrderItem,
    OrderStatus,
    PlacementAttempt,
    PlacementRun,
    Subscription,
)
from app.models.types import utcnow
from app.services import events, orders, placement
from app.services.errors import Conflict
from tests import storekit
from tests.factories import make_product
from tests.placementkit import T1_KEY, make_due_order, make_placing_merchant

pytestmark = pytest.mark.slow

PLACED, UNKNOWN, UNSENT = OrderStatus.SUCCESS, OrderStatus.OUTCOME_UNKNOWN, OrderStatus.UNSENT
STAFF = events.Actor("staff", "1", "test")
DEDUPES = pytest.mark.parametrize(
    "dedupes", [False, True], ids=["official-receiver", "demo-store-dedupes"]
)
_users = itertools.count(1)


# -- a placing merchant, its subscribers, its store ---------------------------------------------


@contextlib.contextmanager
def placing(
    folder: Path, *, dedupes: bool, **settings
) -> Iterator[tuple[Merchant, storekit.Store | storekit.DemoStore]]:
    """A merchant placing at any hour, to the demo store (which deduplicates, and the merchant
    says so) or to a counting store that does not (like the official receivers)."""
    merchant = make_placing_merchant(None, placement_hour=0, endpoint_dedupes=dedupes, **settings)
    endpoint = (
        storekit.demo_store(folder, merchant.public_id, T1_KEY) if dedupes else storekit.store()
    )
    with endpoint as store:
        if not dedupes:
            store.numbered = True  # each order it creates gets its own orderId
        merchant.order_endpoint_url = store.url
        db.session.commit()
        yield merchant, store


def seed(merchant: Merchant, n: int, store: object = None) -> list[int]:
    """``n`` subscribers, each with an order due yesterday (at the demo store: its product, a
    test card and customers it knows)."""
    day = placement.local_today(merchant, utcnow()) - timedelta(days=1)
    if not isinstance(store, storekit.DemoStore):
        return [make_due_order(merchant, day).id for _ in range(n)]
    product = make_product(
        merchant,
        "FF2040101",
        name="Café Crème Coffee Beans, 12 oz",
        price_minor=1650,
        sku="81020401011",
    )
    users = [f"FT{next(_users):08d}" for _ in range(n)]
    store.add_customers(users)
    return [
        make_due_order(merchant, day, product=product, user_id=user, token="tok_visa_4242").id
        for user in users
    ]


# -- counted at the store ----------------------------------------------------------------------


def store_orders(store: storekit.Store | storekit.DemoStore) -> list[storekit.Received]:
    """The POSTs that made a store order: every one a counting store answered SUCCESS; at the
    demo store, the first POST of each order in its database (one per orderPublicId)."""
    if isinstance(store, storekit.DemoStore):
        first: dict[str, storekit.Received] = {}
        for received in store.received:
            first.setdefault(received.order_public_id, received)
        return [first[public_id] for public_id in store.orders()]
    return list(store.created)


def per_cycle(posts: list[storekit.Received]) -> Counter:
    """Store orders per (subscription, cycle): the subscriptions are read from the XML the store
    received, each one's cycle in that order from the platform's database."""
    db.session.rollback()
    rows = db.session.execute(
        select(Order.public_id, Subscription.public_id, OrderItem.cycle)
        .join(OrderItem, OrderItem.order_id == Order.id)
        .join(Subscription, Subscription.id == OrderItem.subscription_id)
    )
    cycle = {(order, sub): n for order, sub, n in rows}
    return Counter(
        (sub, cycle[(post.order_public_id, sub)]) for post in posts for sub in post.subscriptions
    )


def one_each(order_ids: list[int]) -> Counter:
    """Exactly one store order for each subscription cycle in these orders."""
    rows = db.session.execute(
        select(Subscription.public_id, OrderItem.cycle)
        .join(OrderItem, OrderItem.subscription_id == Subscription.id)
        .where(OrderItem.order_id.in_(order_ids))
    )
    return Counter({(sub, n): 1 for sub, n in rows})


def posts_of(store, order_id: int) -> int:
    public_id = db.session.get(Order, order_id).public_id
    return sum(received.order_public_id == public_id for received in store.received)


# -- the platform's side -------------------------------------------------------------------------


def statuses(order_ids: list[int]) -> list[int]:
    db.session.rollback()  # read what the other processes committed
    found = dict(
        db.session.execute(select(Order.id, Order.status).where(Order.id.in_(order_ids))).all()
    )
    return [found[order_id] for order_id in order_ids]


def outcomes(order_id: int) -> list[str]:
    """The ledger's outcome of each attempt, in order."""
    db.session.rollback()
    return list(
        db.session.scalars(
            select(PlacementAttempt.outcome)
            .where(PlacementAttempt.order_id == order_id)
            .order_by(PlacementAttempt.attempt)
        )
    )


def next_orders(order_ids: list[int]) -> Counter:
    """How many cycle-3 items each of these orders' subscriptions has (its next order)."""
    subs = select(OrderItem.subscription_id).where(OrderItem.order_id.in_(order_ids))
    return Counter(
        db.session.scalars(
            select(OrderItem.subscription_id).where(
                OrderItem.subscription_id.in_(subs), OrderItem.cycle == 3
            )
        )
    )


def one_next_order_each(order_ids: list[int]) -> bool:
    made = next_orders(order_ids)
    return len(made) == len(order_ids) and set(made.values()) == {1}


def in_flight(order_ids: list[int]) -> tuple[int, int]:
    """The order being sent (its ledger row is still "sending") and the pid sending it."""
    db.session.rollback()
    attempt = db.session.scalar(
        select(PlacementAttempt).where(
            PlacementAttempt.order_id.in_(order_ids), PlacementAttempt.outcome == "sending"
        )
    )
    return attempt.order_id, int(attempt.worker.rsplit(":", 1)[1])


def lease_end(order_id: int) -> float:
    """Seconds until the order's lease ends."""
    db.session.rollback()
    return (db.session.get(Order, order_id).lease_until - utcnow()).total_seconds()


def sleep_past_lease(order_id: int) -> None:
    time.sleep(max(0.0, lease_end(order_id)) + 0.2)


def quiet() -> bool:
    """No placement job waiting or running."""
    jobs = queue.get_queue()
    return jobs.count == 0 and jobs.started_job_registry.count == 0


def settled(order_ids: list[int], *wanted: int) -> Callable[[], bool]:
    return lambda: quiet() and all(status in wanted for status in statuses(order_ids))


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what} after {timeout} s")
        time.sleep(0.05)


def ended(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:  # gone, or going
        return True
    return state in ("Z", "X")


def start_run(merchant: Merchant) -> PlacementRun:
    """A run started by hand (its own slot): recovery, then its batches queued for workers."""
    return placement.start(
        merchant.id,
        trigger="console",
        as_of=placement.local_today(merchant, utcnow()),
        now=utcnow(),
    )


def run_state(run_id: int) -> tuple[str, int]:
    db.session.rollback()
    run = db.session.get(PlacementRun, run_id, populate_existing=True)
    return run.status, run.processed


def cli_run(fleet, merchant: Merchant, name: str) -> str:
    """``flask placement run --merchant``: a run placing in its own process."""
    return fleet.command("placement", "run", "--merchant", merchant.public_id, name=name)


# -- the scenarios -------------------------------------------------------------------------------


def test_four_workers_two_cron_fires_and_overlapping_runs_place_each_cycle_once(
    app, fleet, tmp_path, figures
):
    n = 100  # two batches of 50 for each run that queues them
    with placing(tmp_path, dedupes=False, order_timeout_seconds=5) as (merchant, store):
        order_ids = seed(merchant, n)
        fleet.workers(4)
        began, hour = time.monotonic(), utcnow().hour
        for _ in range(2):  # two `rq cron` processes fire the same hour's placement job
            queue.enqueue("app.jobs.placement.schedule")
        start_run(merchant)  # a run started by hand, in its own slot, for the same workers
        clis = [
            fleet.start("placement", "run", "--merchant", merchant.public_id, name=f"cli{i}")
            for i in (1, 2)
        ]  # and two CLI runs at once
        assert [cli.wait(60) for cli in clis] == [0, 0], fleet.logs()
        wait_until(settled(order_ids, PLACED), "every order placed", timeout=60)
        took = time.monotonic() - began

        assert len(store.received) == n  # each order sent once: none twice, none lost
        assert per_cycle(store_orders(store)) == one_each(order_ids)
        runs = dict(
            db.session.execute(
                select(PlacementRun.trigger, func.count()).group_by(PlacementRun.trigger)
            ).all()
        )
        if utcnow().hour == hour:  # else the two fires may have fallen in two hours
            assert runs == {"cron": 1, "console": 1, "cli": 2}  # the second fire: refused
        assert set(db.session.scalars(select(PlacementRun.status))) == {"finished"}
        ledger = dict(
            db.session.execute(
                select(PlacementAttempt.outcome, func.count()).group_by(PlacementAttempt.outcome)
            ).all()
        )
        assert ledger == {"success": n}
        assert set(db.session.scalars(select(Order.tries).where(Order.id.in_(order_ids)))) == {1}
        assert one_next_order_each(order_ids)
        senders = Counter(db.session.scalars(select(PlacementAttempt.worker)))
        figures(
            posts=len(store.received),
            store_orders=len(store.created),
            status_5=statuses(order_ids).count(PLACED),
            sending_processes=len(senders),
            orders_per_process=sorted(senders.values(), reverse=True),
            seconds=round(took, 1),
        )


@DEDUPES
def test_a_worker_killed_mid_request_is_recovered_after_its_lease(
    app, fleet, tmp_path, figures, dedupes
):
    with placing(tmp_path, dedupes=dedupes, order_timeout_seconds=1) as (merchant, store):
        order_ids = seed(merchant, 3, store)
        store.gate.hold = 1  # the store creates the first order, then does not answer
        fleet.workers(1)
        began = time.monotonic()
        run = start_run(merchant)
        store.gate.wait_for(1)
        victim, pid = in_flight(order_ids)
        fleet.kill(pid, signal.SIGKILL)  # the work-horse, in the middle of its request
        wait_until(lambda: ended(pid), "the work-horse to end")
        store.gate.release()
        rest = [order_id for order_id in order_ids if order_id != victim]
        # Its worker saw the work-horse die: the run says so instead of running for ever.
        wait_until(lambda: run_state(run.id) == ("interrupted", 3), "the run to be interrupted")

        placement.run_now(merchant.id)  # a run before the leases end leaves them be
        assert lease_end(victim) > 0, "the run outlasted the lease: lengthen the timeout"
        assert statuses([victim]) == [OrderStatus.PENDING_PLACEMENT]
        assert outcomes(victim) == ["sending"] and posts_of(store, victim) == 1
        # The killed worker had claimed the others with it (one group), never sent them: they
        # wait for their leases too, with nothing in the ledger.
        assert statuses(rest) == [OrderStatus.PENDING_PLACEMENT] * 2
        assert [outcomes(o) for o in rest] == [[], []] and len(store.received) == 1

        sleep_past_lease(victim)
        report = cli_run(fleet, merchant, "after-lease")  # recovers it
        took = time.monotonic() - began
        victim_order = db.session.get(Order, victim)
        assert statuses(rest) == [PLACED, PLACED]  # nothing had gone: sent once each now
        assert [outcomes(o) for o in rest] == [["success"], ["success"]]
        if dedupes:  # sent again, with the same public id: the store answers the same order
            assert statuses(order_ids) == [PLACED] * 3
            assert posts_of(store, victim) == 2 and len(store.received) == 4
            assert outcomes(victim) == ["unknown", "success"]
            assert victim_order.order_merchant_id == store.orders()[victim_order.public_id]
            assert sorted(store.deliveries()) == ["accepted"] * 3 + ["repeat"]
        else:  # the official receivers do not deduplicate: it waits for staff
            assert statuses([victim]) == [UNKNOWN]
            assert posts_of(store, victim) == 1 and len(store.received) == 3
            assert outcomes(victim) == ["unknown"]
        recovered = statuses([victim])[0]
        if not dedupes:  # staff confirm it placed: its subscription gets its next order
            orders.act(merchant.id, victim_order.public_id, "confirm", actor=STAFF)
        assert per_cycle(store_orders(store)) == one_each(order_ids)
        assert one_next_order_each(order_ids)
        figures(
            posts=len(store.received),
            store_orders=len(store_orders(store)),
            killed_order=f"ledger {outcomes(victim)}, status {recovered} after recovery",
            seconds=round(took, 1),
            recovery_run=report.strip().rsplit(": ", 1)[-1],
        )


@DEDUPES
def test_a_store_that_creates_the_order_then_stalls_past_the_timeout(
    app, fleet, tmp_path, figures, dedupes
):
    with placing(tmp_path, dedupes=dedupes, order_timeout_seconds=1) as (merchant, store):
        [order_id] = seed(merchant, 1, store)
        store.stall_after.append(3.0)  # creates the order at once, answers after 3 s
        fleet.workers(1)
        began = time.monotonic()
        start_run(merchant)
        retry = OrderStatus.CONNECTION_ERROR
        wait_until(settled([order_id], UNKNOWN, retry), "the read timeout")
        after_timeout = statuses([order_id])
        assert after_timeout == [retry if dedupes else UNKNOWN]
        cli_run(fleet, merchant, "next-run")
        took = time.monotonic() - began
        order = db.session.get(Order, order_id)
        if dedupes:
            assert statuses([order_id]) == [PLACED] and outcomes(order_id) == ["unknown", "success"]
            assert [r.order_public_id for r in store.received] == [order.public_id] * 2
            assert order.order_merchant_id == store.orders()[order.public_id]
            assert store.deliveries() == ["accepted", "repeat"]
        else:
            assert statuses([order_id]) == [UNKNOWN] and outcomes(order_id) == ["unknown"]
            assert len(store.received) == 1  # not sent again by itself
        assert per_cycle(store_orders(store)) == one_each([order_id])
        figures(
            posts=len(store.received),
            store_orders=len(store_orders(store)),
            statuses=f"{after_timeout[0]} after the timeout, {statuses([order_id])[0]} "
            "after the next run",
            seconds=round(took, 1),
        )


def test_send_now_while_a_card_retry_is_being_placed_sends_it_once_more(
    app, fleet, tmp_path, figures
):
    n = 10
    with placing(tmp_path, dedupes=False, order_timeout_seconds=2) as (merchant, store):
        order_ids = seed(merchant, n)
        store.replies(storekit.error("140", "Your card was declined."))
        placement.run_now(merchant.id)  # every card declined: retry in 3 days (status 18)
        assert statuses(order_ids) == [OrderStatus.CREDIT_CARD_RETRY] * n
        # The retry day has come and its run is placing them when staff press "send now".
        db.session.execute(
            update(Order)
            .where(Order.id.in_(order_ids))
            .values(next_attempt_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
        store.replies(storekit.success())
        store.stall_seconds = 0.2
        fleet.workers(2)
        began = time.monotonic()
        start_run(merchant)
        pressed = refused = 0
        for order_id in reversed(order_ids):  # from the end of the run's batch to its start
            try:
                orders.act(
                    merchant.id, db.session.get(Order, order_id).public_id, "send_now", actor=STAFF
                )
            except Conflict:  # it is being placed, or placed: nothing to do twice
                refused += 1
            else:
                placement.place_soon(order_id)  # as the console does after "send now"
                pressed += 1
            time.sleep(0.15)
        wait_until(settled(order_ids, PLACED), "every order placed")
        took = time.monotonic() - began

        assert [posts_of(store, order_id) for order_id in order_ids] == [2] * n
        assert len(store.created) == n
        assert per_cycle(store_orders(store)) == one_each(order_ids)
        assert {tuple(outcomes(order_id)) for order_id in order_ids} == {("declined", "success")}
        assert pressed and refused  # both sides of the race happened
        figures(
            posts=len(store.received),
            store_orders=len(store.created),
            send_now_accepted=pressed,
            send_now_refused=refused,
            statuses=Counter(statuses(order_ids)),
            seconds=round(took, 1),
        )


def test_a_subscription_cancelled_while_its_order_is_in_flight(app, fleet, tmp_path, figures):
    with placing(tmp_path, dedupes=False) as (merchant, store):
        [order_id] = seed(merchant, 1)
        store.gate.hold = 1
        fleet.workers(1)
        start_run(merchant)
        store.gate.wait_for(1)  # the order is at the store; its reply has not come back
        order = db.session.get(Order, order_id)
        sub = db.session.get(Subscription, order.items[0].subscription_id)
        sub.live, sub.cancelled_at = False, utcnow()
        db.session.commit()
        store.gate.release()
        wait_until(settled([order_id], PLACED), "the reply")
        cli_run(fleet, merchant, "next-run")

        assert len(store.received) == 1 and len(store.created) == 1  # placed once
        assert statuses([order_id]) == [PLACED]
        assert per_cycle(store_orders(store)) == one_each([order_id])
        assert next_orders([order_id]) == Counter()  # no next order for a cancelled one
        db.session.refresh(sub)
        assert sub.iteration == 2 and not sub.live  # the order it had sent counts
        figures(
            posts=len(store.received),
            store_orders=len(store.created),
            status=statuses([order_id])[0],
            next_orders=0,
        )


@DEDUPES
def test_a_worker_frozen_past_its_lease_answers_late_without_a_second_order(
    app, fleet, tmp_path, figures, dedupes
):
    """Frozen on the first order of its batch (so within its job's timeout, a lease per order:
    frozen past that too, RQ ends the job as it wakes and the late reply is never read)."""
    with placing(tmp_path, dedupes=dedupes, order_timeout_seconds=1) as (merchant, store):
        order_ids = seed(merchant, 3, store)
        store.gate.hold = 1
        fleet.workers(1)
        start_run(merchant)
        store.gate.wait_for(1)
        frozen, pid = in_flight(order_ids)
        fleet.kill(pid, signal.SIGSTOP)  # frozen mid-request (a paused VM, a swap storm)
        try:
            store.gate.release()  # the store's reply waits in the frozen process's socket
            sleep_past_lease(frozen)
            placement.run_now(merchant.id)  # the next run recovers it, places the others
            recovered = statuses([frozen])[0]
            assert recovered == (PLACED if dedupes else UNKNOWN)
        finally:
            fleet.kill(pid, signal.SIGCONT)
        wait_until(lambda: quiet() and outcomes(frozen)[0] == "success", "the late reply")
        assert statuses(order_ids) == [PLACED] * 3  # the late SUCCESS settled "unknown"
        assert posts_of(store, frozen) == (2 if dedupes else 1) and len(store.received) == (
            4 if dedupes else 3
        )
        assert per_cycle(store_orders(store)) == one_each(order_ids)
        assert one_next_order_each(order_ids)
        figures(
            posts=len(store.received),
            store_orders=len(store_orders(store)),
            frozen_order=f"status {recovered} after recovery, {statuses([frozen])[0]} "
            f"after the late reply, ledger {outcomes(frozen)}",
        )


def test_a_placement_job_may_run_a_lease_for_each_of_its_orders(app, tmp_path, monkeypatch):
    """A batch to a slow store (4 s an order is 200 s for 50) must not be killed by RQ's default
    job timeout (180 s) in the middle of a request: that order's outcome would be unknown."""
    monkeypatch.setattr(placement, "BATCH_SIZE", 50)
    with placing(tmp_path, dedupes=False, order_timeout_seconds=15) as (merchant, store):
        order_ids = seed(merchant, placement.BATCH_SIZE + 1)
        start_run(merchant)
        placement.place_soon(order_ids[0])
        jobs = queue.get_queue().jobs
        lease = placement.lease_for(merchant).total_seconds()  # 2 x 15 s + 60 s
        sizes = [len(job.args[1]) if job.func_name.endswith("place_batch") else 1 for job in jobs]
        assert sizes == [placement.BATCH_SIZE, 1, 1]
        assert [job.timeout for job in jobs] == [size * lease + 1 for size in sizes]
        assert store.received == []


@pytest.mark.parametrize("waits_at", ["items", "ledger"])
def test_a_worker_stalled_between_its_claim_and_its_send_past_its_lease_sends_once(
    app, fleet, tmp_path, database_url, figures, waits_at
):
    """The worker waits for a lock past its lease, between claiming its orders and sending
    the first (not past its job's timeout: a lease for each order of the batch), while a new
    run tries to place them. ``items``: a long transaction holds the first order's items, which
    the worker prices again under its claim, not yet committed: the run waits for the rows the
    claim holds, then finds them no longer due; the worker sends. ``ledger``: the worker
    committed its claim and waits at its ledger row, holding nothing the recovery needs: the
    recovery run sends, and the worker, when it gets on, finds its claim gone and sends
    nothing."""
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "needs a row lock to stall the worker after its claim (SQLite has one "
            "writer lock, which would stall the claim itself)"
        )
    with placing(tmp_path, dedupes=False, order_timeout_seconds=1) as (merchant, store):
        order_ids = seed(merchant, 5)
        first = order_ids[0]
        if waits_at == "items":
            db.session.get(Order, first).items[0].product.price_minor = 1399
            db.session.commit()  # so the worker writes the order's new price under its claim
        with db.engine.connect() as blocker:
            if waits_at == "items":
                blocker.execute(
                    select(OrderItem.id).where(OrderItem.order_id == first).with_for_update()
                )
            else:  # an uncommitted row with the key the worker's ledger row will have
                blocker.execute(
                    insert(PlacementAttempt).values(
                        merchant_id=merchant.id, order_id=first, attempt=1, sent_at=utcnow()
                    )
                )
            fleet.workers(1)
            start_run(merchant)
            claimed = [OrderStatus.PENDING_PLACEMENT] if waits_at == "ledger" else [UNSENT]
            wait_until(
                lambda: statuses([first]) == claimed and lock_waits() == 1,
                "the claim, then the wait for the lock",
            )
            if waits_at == "ledger":
                sleep_past_lease(first)  # the lease ends; the worker still waits
            else:  # the claim is not committed yet: no lease to read, but it is running
                time.sleep(placement.lease_for(merchant).total_seconds() + 0.2)
            recovery = fleet.start(
                "placement", "run", "--merchant", merchant.public_id, name="recovery"
            )
            wait_until(lambda: lock_waits() == 2 or recovery.poll() is not None, "the recovery run")
            blocker.rollback()
        assert recovery.wait(30) == 0, fleet.logs()
        wait_until(settled(order_ids, PLACED), "every order placed")
        assert len(store.received) == 5 and len(store.created) == 5
        assert per_cycle(store_orders(store)) == one_each(order_ids)
        assert one_next_order_each(order_ids)
        assert outcomes(first) == ["success"]
        sender = int(
            db.session.scalar(
                select(PlacementAttempt.worker).where(PlacementAttempt.order_id == first)
            ).rsplit(":", 1)[1]
        )
        assert (sender == recovery.pid) == (waits_at == "ledger")
        figures(
            posts=len(store.received),
            store_orders=len(store.created),
            statuses=Counter(statuses(order_ids)),
            ledger_of_the_stalled_order=outcomes(first),
            sent_by="the recovery run" if sender == recovery.pid else "the stalled worker",
        )


def lock_waits() -> int:
    """Sessions of this database waiting for a lock (PostgreSQL)."""
    db.session.rollback()
    return db.session.scalar(
        text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
            "current_database() AND wait_event_type = 'Lock'"
        )
    )
