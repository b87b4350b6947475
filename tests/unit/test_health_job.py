"""The heartbeat job round-trips through real Redis and a real RQ worker."""

from datetime import UTC, datetime, timedelta

from app.jobs import queue
from app.models.types import utcnow
from app.services import health


def test_heartbeat_job_runs_in_a_real_worker_and_records_both_processes(app, runner):
    before = utcnow() - timedelta(seconds=1)
    job = queue.enqueue("app.jobs.health.heartbeat")
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code == 0, result.output
    job.refresh()
    assert job.is_finished
    beats = {b.name: b for b in health.status()}
    assert beats["worker"].fresh and beats["worker"].seen_at >= before
    assert beats["scheduler"].seen_at is not None and beats["scheduler"].fresh


def test_status_reports_missing_and_stale_processes(app):
    assert [(b.name, b.seen_at) for b in health.status()] == [("worker", None), ("scheduler", None)]
    health.beat(scheduled_at=datetime(2020, 1, 1, tzinfo=UTC))
    beats = {b.name: b for b in health.status()}
    assert beats["worker"].fresh and not beats["scheduler"].fresh


def test_an_older_scheduler_time_never_moves_the_heartbeat_back(app):
    health.beat(scheduled_at=utcnow())
    first = {b.name: b.seen_at for b in health.status()}["scheduler"]
    health.beat(scheduled_at=first - timedelta(minutes=5))
    assert {b.name: b.seen_at for b in health.status()}["scheduler"] == first


def test_cron_schedule_registers_the_heartbeat():
    import importlib

    from rq import cron

    cron._job_data_registry.clear()
    import app.jobs.cron as schedule

    importlib.reload(schedule)
    names = [job["name"] for job in cron._job_data_registry]
    cron._job_data_registry.clear()
    assert "heartbeat" in names
