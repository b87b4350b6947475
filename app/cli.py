"""Flask commands: thin wrappers that call services (``flask --app wsgi <command>``)."""

from __future__ import annotations

import json
import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.jobs import queue
from app.services import accounts, demo, merchants
from app.services.errors import ValidationError


@click.command("seed-demo")
@click.option("--json", "as_json", is_flag=True, help="Print the credentials as one JSON object.")
@click.option("--platform-url", default=None, help="Defaults to PLATFORM_URL.")
@click.option("--store-url", default=None, help="Defaults to DEMO_STORE_URL.")
@with_appcontext
def seed_demo(as_json: bool, platform_url: str | None, store_url: str | None) -> None:
    """Create the demo merchant, owner login, API key and store origin (idempotent)."""
    config = current_app.config
    creds = demo.seed(
        secret=config["SECRET_KEY"],
        platform_url=platform_url or config["PLATFORM_URL"],
        store_url=store_url or config["DEMO_STORE_URL"],
    )
    if as_json:
        click.echo(json.dumps(creds))
        return
    click.echo(f"Demo merchant {creds['merchant_public_id']} is ready.")
    click.echo(f"  console:  {creds['platform_url']}/console/")
    click.echo(f"  login:    {creds['console_email']} / {creds['console_password']}")
    click.echo(f"  API key:  {creds['api_key']}")
    click.echo(f"  store:    {creds['store_url']}/")


@click.command("create-merchant")
@click.argument("name")
@click.option("--owner-email", required=True)
@click.option("--timezone", default="UTC", show_default=True)
@click.password_option("--owner-password", help="Prompted for when not given.")
@with_appcontext
def create_merchant(name: str, owner_email: str, timezone: str, owner_password: str) -> None:
    """Create a merchant and its owner login (production onboarding)."""
    try:
        merchant = merchants.create(name, timezone=timezone)
        accounts.create_staff(merchant.id, owner_email, owner_password, role="owner")
    except (ValidationError, ValueError) as exc:
        db.session.rollback()
        raise click.ClickException(getattr(exc, "message", None) or str(exc)) from exc
    db.session.commit()
    click.echo(f"Merchant {merchant.public_id} created; the owner can log in at /console/.")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.argument("queues", nargs=-1)
@with_appcontext
def worker(burst: bool, queues: tuple[str, ...]) -> None:
    """Run an RQ worker (with the scheduler) inside the app context."""
    from rq import Worker

    names = list(queues) or list(current_app.config["RQ_QUEUES"])
    # The engine must not carry connections into forked work-horses.
    db.engine.dispose()
    w = Worker([queue.get_queue(n) for n in names], connection=queue.redis())
    ok = w.work(burst=burst, with_scheduler=True)
    sys.exit(0 if ok or not burst else 1)


@click.command("cron")
@with_appcontext
def cron() -> None:
    """Run the one ``rq cron`` scheduler; refuse to start beside another live one."""
    from rq.cron import CronScheduler

    conn = queue.redis()
    live = CronScheduler.all(conn)
    if live:
        names = ", ".join(s.name for s in live)
        raise click.ClickException(f"another rq cron is already running ({names}); exactly one may")
    scheduler = CronScheduler(connection=conn)
    scheduler.load_config_from_file("app.jobs.cron")
    scheduler.start()


def init_app(app: Flask) -> None:
    for command in (seed_demo, create_merchant, worker, cron):
        app.cli.add_command(command)
