"""Flask commands: thin wrappers that call services (``flask --app wsgi <command>``)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.jobs import queue
from app.services import (
    accounts,
    demo,
    events,
    feeds,
    merchants,
    notices,
    placement,
    placement_batch,
    placement_responses,
)
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
        sftp_port=config["SFTP_PORT"],
    )
    if as_json:
        click.echo(json.dumps(creds))
        return
    click.echo(f"Demo merchant {creds['merchant_public_id']} is ready.")
    click.echo(f"  console:  {creds['platform_url']}/console/")
    click.echo(f"  login:    {creds['console_email']} / {creds['console_password']}")
    click.echo(f"  API key:  {creds['api_key']}")
    click.echo(
        f"  SFTP:     {creds['sftp_username']} / {creds['sftp_password']}"
        f" on port {creds['sftp_port']}"
    )
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


@click.command("create-staff")
@click.argument("merchant_public_id")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(accounts.ROLES), default="staff", show_default=True)
@click.option("--name", default="")
@click.password_option("--password", help="Prompted for when not given.")
@with_appcontext
def create_staff(merchant_public_id: str, email: str, role: str, name: str, password: str) -> None:
    """Give a merchant another console login (an owner, or staff without owner rights)."""
    merchant = merchants.get_by_public_id(merchant_public_id)
    if merchant is None:
        raise click.ClickException(f"no merchant {merchant_public_id!r}")
    try:
        accounts.create_staff(merchant.id, email, password, role=role, name=name)
    except ValidationError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(
        f"{role.capitalize()} login {accounts.normalise_email(email)} created for "
        f"merchant {merchant.public_id}."
    )


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
@click.argument("queues", nargs=-1)
@with_appcontext
def worker(burst: bool, queues: tuple[str, ...]) -> None:
    """Run an RQ worker (with the scheduler) inside the app context."""
    names = list(queues) or list(current_app.config["RQ_QUEUES"])
    w = queue.AppWorker([queue.get_queue(n) for n in names], connection=queue.redis())
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


feeds_cli = click.Group("feeds", help="Product feed ingestion.")


@feeds_cli.command("run")
@click.option("--merchant", "merchant_id", default=None, help="Merchant public id (default: all).")
@with_appcontext
def feeds_run(merchant_id: str | None) -> None:
    """Ingest every pending feed file now and print each run's report."""
    if merchant_id:
        merchant = merchants.get_by_public_id(merchant_id)
        if merchant is None:
            raise click.ClickException(f"no merchant {merchant_id!r}")
        ids = [merchant.id]
    else:
        ids = feeds.merchants_with_accounts()
    runs = [run for mid in ids for run in feeds.run_now(mid, requested_by="cli")]
    if not runs:
        click.echo("No new feed files.")
    for run in runs:
        click.echo(feeds.describe(run))
    if any(run.status != "succeeded" for run in runs):
        sys.exit(1)


@click.command("sftp")
@with_appcontext
def sftp() -> None:
    """Serve the SFTP drop site (one chrooted home per merchant)."""
    from app.integrations.sftp import SftpServer, SftpSettings
    from app.services.sftp_accounts import DatabaseAuthenticator

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    # paramiko logs port probes and client resets as tracebacks; our own lines say enough.
    logging.getLogger("perennial.sftp.transport").setLevel(logging.CRITICAL)
    config = current_app.config
    settings = SftpSettings(
        host=config["SFTP_HOST"],
        port=config["SFTP_PORT"],
        root=Path(config["SFTP_ROOT"]),
        host_key_path=Path(config["SFTP_HOST_KEY"]),
        max_file_bytes=config["SFTP_MAX_FILE_BYTES"],
        max_connections=config["SFTP_MAX_CONNECTIONS"],
        max_auth_failures=config["SFTP_MAX_AUTH_FAILURES"],
        lockout_seconds=config["SFTP_LOCKOUT_SECONDS"],
    )
    server = SftpServer(settings, DatabaseAuthenticator(current_app._get_current_object()))
    click.echo(f"SFTP drop site on {settings.host}:{settings.port}, homes in {settings.root}")
    server.serve_forever()


placement_cli = click.Group("placement", help="Recurring order placement.")


@placement_cli.command("run")
@click.option("--merchant", "merchant_id", default=None, help="Merchant public id (default: all).")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    metavar="YYYY-MM-DD",
    help="Place as if this were the merchant's local date (a rehearsal).",
)
@with_appcontext
def placement_run(merchant_id: str | None, as_of: str | None) -> None:
    """Apply uploaded batch responses, then place every due order now, in this process, and
    print each run's report."""
    try:
        day = placement.check_as_of(as_of)
    except ValidationError as exc:
        raise click.ClickException(exc.message) from exc
    if merchant_id:
        merchant = merchants.get_by_public_id(merchant_id)
        if merchant is None:
            raise click.ClickException(f"no merchant {merchant_id!r}")
        chosen = [merchant]
        responses = placement_responses.sweep(merchant.id)
    else:
        chosen = placement.placing_merchants(as_of=day)
        responses = placement_responses.sweep_all()
    for batch in responses:
        click.echo(f"batch response {placement_responses.describe(batch)}")
    if not chosen:
        click.echo("No merchant is placing orders now (see each one's placement hour).")
    for merchant in chosen:
        report = placement.run_now(merchant.id, as_of=day)
        for line in report.lines():
            click.echo(f"{merchant.public_id}: {line}")
        for batch in placement_batch.files_of_run(report.run.id):
            click.echo(f"{merchant.public_id}: batch file {placement_responses.describe(batch)}")
        waiting = len(placement_batch.overdue(merchant.id))
        if waiting:
            click.echo(
                f"{merchant.public_id}: {waiting} orders have waited over "
                f"{placement_batch.RESPONSE_DAYS} days for a batch response"
            )


@placement_cli.command("notices")
@click.option("--merchant", "merchant_id", default=None, help="Merchant public id (default: all).")
@with_appcontext
def placement_notices(merchant_id: str | None) -> None:
    """Queue the order reminders and expiring-card notices that are due now."""
    if merchant_id:
        merchant = merchants.get_by_public_id(merchant_id)
        if merchant is None:
            raise click.ClickException(f"no merchant {merchant_id!r}")
        sent = notices.send(merchant.id)
    else:
        sent = notices.send_all()
    click.echo(f"Queued {sent.reminders} order reminders and {sent.cards} expiring-card notices.")


merchant_cli = click.Group("merchant", help="Merchant settings, for automation.")


@merchant_cli.command("set")
@click.argument("public_id")
@click.argument("pairs", nargs=-1, required=True, metavar="KEY=VALUE...")
@with_appcontext
def merchant_set(public_id: str, pairs: tuple[str, ...]) -> None:
    """Set merchant settings, e.g. order_endpoint_url=https://… placement_hour=6."""
    merchant = merchants.get_by_public_id(public_id)
    if merchant is None:
        raise click.ClickException(f"no merchant {public_id!r}")
    form = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in merchants.SETTABLE:
            raise click.ClickException(
                f"{pair!r}: use KEY=VALUE with KEY one of {', '.join(merchants.SETTABLE)}"
            )
        form[key] = value
    try:
        merchants.update_settings(merchant.id, form, actor=events.Actor("cli", None, "cli"))
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {v}" for k, v in exc.fields.items()) or exc.message
        raise click.ClickException(problems) from exc
    click.echo(f"{public_id}: {', '.join(sorted(form))} set.")


def init_app(app: Flask) -> None:
    for command in (
        seed_demo,
        create_merchant,
        create_staff,
        worker,
        cron,
        feeds_cli,
        sftp,
        placement_cli,
        merchant_cli,
    ):
        app.cli.add_command(command)
