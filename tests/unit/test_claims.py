"""A conditional UPDATE claims a row for exactly one caller, however many race for it."""

import threading

from app.extensions import db
from app.models import FeedRun
from app.services import claims
from tests.factories import make_merchant


def queued_run() -> FeedRun:
    run = FeedRun(merchant_id=make_merchant().id, trigger="cli", status="queued")
    db.session.add(run)
    db.session.commit()
    return run


def test_the_first_claim_wins_and_the_next_finds_it_taken(app):
    run = queued_run()
    assert claims.claim(FeedRun, run.id, FeedRun.status == "queued", status="running")
    assert not claims.claim(FeedRun, run.id, FeedRun.status == "queued", status="running")
    db.session.expire_all()
    assert db.session.get(FeedRun, run.id).status == "running"


def test_eight_threads_racing_for_one_row_give_one_winner(app):
    run_id = queued_run().id
    wins, start = [], threading.Barrier(8)

    def race():
        with app.app_context():
            start.wait()
            if claims.claim(FeedRun, run_id, FeedRun.status == "queued", status="running"):
                wins.append(1)
            db.session.remove()

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 1
