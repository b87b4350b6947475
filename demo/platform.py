"""Where the demo store meets Perennial: settings, and each integration point with it.

Only public contracts cross this boundary (spec §9); nothing here imports ``app.*``. One
function per integration point; those that later issues fill in do nothing yet, on purpose,
and say so:

* ``sync_catalog``      the product feed: ``demo.feed`` writes it, SFTP uploads it (§1); the
                        store admin's "Sync catalog" button and ``flask --app demo sync-catalog``
* ``cart_subscriptions`` the cart page: which lines the shopper opted in to, read from the
                        platform's cart view ``/carts/<og_session_id>/`` (contracts §2.3)
* ``record_purchase``   checkout -> purchase POST ``/subscription/create`` (spec §4), sent and
                        retried by ``demo.purchase_post``; ``flask --app demo retry-purchases``
* ``sign_in``/``sign_out``  login/logout -> set or clear the ``og_auth`` cookie (spec §5)
* ``set_contact_details`` the account page's new email or phone -> ``PATCH
                        /customers/<user_id>/set_contact_details`` (contracts §7.1)
* ``order_endpoint_url`` where Perennial POSTs recurring orders (contracts §6):
                        ``{STORE_URL}/og/orders``, answered by ``demo.recurring``; its store
                        admin switch is also ``flask --app demo recurring-orders [MODE]``
* ``init_app``          checks the settings and registers the platform-facing commands
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import click
import requests
from flask import Flask, Response, current_app, request
from flask.cli import with_appcontext

from demo import catalog, customers, feed, orders, purchase_post, recurring, signing

MERCHANT_ID_RE = re.compile(r"[0-9a-f]{32}")


def init_app(app: Flask) -> None:
    """Check the platform settings and register the platform-facing commands.

    :raises ValueError: if ``MERCHANT_PUBLIC_ID`` is set but is not 32 lowercase hex digits.
    """
    app.config["PLATFORM_URL"] = app.config["PLATFORM_URL"].rstrip("/")
    app.config["STORE_URL"] = app.config["STORE_URL"].rstrip("/")
    if not app.config.get("SFTP_KNOWN_HOSTS"):
        # Beside the store's database: the instance folder, or a test's temp dir.
        app.config["SFTP_KNOWN_HOSTS"] = str(
            Path(app.config["DEMO_DB"]).with_name("demo_known_hosts")
        )
    app.cli.add_command(sync_catalog_command)
    app.cli.add_command(retry_purchases_command)
    app.cli.add_command(recurring_orders_command)
    merchant_id = app.config.get("MERCHANT_PUBLIC_ID")
    if merchant_id and not MERCHANT_ID_RE.fullmatch(merchant_id):
        raise ValueError("MERCHANT_PUBLIC_ID must be 32 lowercase hex digits")
    if not merchant_id:
        app.logger.warning(
            "MERCHANT_PUBLIC_ID is not set (nor DEMO_CREDENTIALS): pages carry no platform "
            "script tags. Run `flask --app wsgi seed-demo --json` and point DEMO_CREDENTIALS at it."
        )


def platform_url() -> str:
    """Return the platform's origin, without a trailing slash."""
    return current_app.config["PLATFORM_URL"]


def merchant_public_id() -> str | None:
    """Return this store's merchant public id at the platform, if configured."""
    return current_app.config.get("MERCHANT_PUBLIC_ID")


def script_url(name: str) -> str | None:
    """Return the URL of a platform storefront script (``main.js``, ``msi.js``), if configured."""
    merchant_id = merchant_public_id()
    return f"{platform_url()}/{merchant_id}/{name}" if merchant_id else None


def order_endpoint_url() -> str:
    """Return the URL to enter as the order endpoint in the Perennial console's Settings."""
    return f"{current_app.config['STORE_URL']}/og/orders"


def feed_filename() -> str | None:
    """Return the product feed's file name on the SFTP drop site (contracts §1.1)."""
    merchant_id = merchant_public_id()
    return f"{merchant_id}.Products.xml" if merchant_id else None


def console_url(path: str = "") -> str:
    """Return a page of the platform's merchant console, e.g. ``console_url("feeds/")``."""
    return f"{platform_url()}/console/{path}"


def configured_drop_site() -> feed.DropSite | None:
    """Return where the feed goes, from the seed-demo credentials; None if not configured."""
    config = current_app.config
    if not (merchant_public_id() and config.get("SFTP_USERNAME") and config.get("SFTP_PASSWORD")):
        return None
    return feed.DropSite(
        host=config["SFTP_HOST"],
        port=int(config["SFTP_PORT"]),
        username=config["SFTP_USERNAME"],
        password=config["SFTP_PASSWORD"],
        known_hosts=Path(config["SFTP_KNOWN_HOSTS"]),
    )


def drop_site() -> feed.DropSite:
    """Return where the feed goes.

    :raises feed.SyncError: if the merchant id or the SFTP login is not configured.
    """
    site = configured_drop_site()
    if site is None:
        raise feed.SyncError(
            "The store has no SFTP login for Perennial yet: write the credentials with "
            "flask --app wsgi seed-demo --json > instance/demo-credentials.json and start "
            "the store with DEMO_CREDENTIALS pointing at that file."
        )
    return site


def sync_catalog() -> feed.Upload:
    """Upload the whole catalog (discontinued products too, as the contract asks) as the feed.

    :raises feed.SyncError: with a message for the store owner.
    """
    site = drop_site()
    store = urlsplit(current_app.config["STORE_URL"])
    urls = current_app.url_map.bind(
        store.netloc, script_name=store.path or "/", url_scheme=store.scheme
    )

    def link(endpoint: str, **values: str) -> str:
        return urls.build(endpoint, values, force_external=True)

    return feed.publish(
        catalog.PRODUCTS,
        file_name=feed_filename() or "",
        site=site,
        link=link,
        https=store.scheme == "https",
    )


@click.command("retry-purchases")
@with_appcontext
def retry_purchases_command() -> None:
    """Resend the purchase POSTs whose next attempt is due (contracts §5.4 retry policy)."""
    click.echo(f"Retried {purchase_post.retry_due()} purchase POST(s).")


@click.command("sync-catalog")
@with_appcontext
def sync_catalog_command() -> None:
    """Upload the catalog to Perennial's SFTP drop site as <merchant id>.Products.xml."""
    try:
        upload = sync_catalog()
    except feed.SyncError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Uploaded {upload.file_name} ({upload.products} products, {upload.size:,} bytes)"
        f" to {upload.address} at {upload.at:%H:%M:%S} UTC"
    )


@click.command("recurring-orders")
@click.argument("mode", required=False, type=click.Choice(list(recurring.MODES)))
@with_appcontext
def recurring_orders_command(mode: str | None) -> None:
    """Show or set how the order endpoint answers recurring orders (the store admin switch)."""
    if mode:
        recurring.set_mode(mode)
    click.echo(f"{recurring.mode()}: {recurring.MODES[recurring.mode()]}")


CART_TIMEOUT_SECONDS = 2  # the cart page must not hang on the platform


def session_id(cookies: dict[str, str]) -> str | None:
    """The shopper's ``og_session_id`` (set on our domain by main.js), if it is ours."""
    value = cookies.get("og_session_id", "")
    merchant_id = merchant_public_id()
    if merchant_id and re.fullmatch(rf"{merchant_id}\.[0-9]{{1,20}}\.[0-9]{{1,12}}", value):
        return value
    return None


def cart_subscriptions(og_session_id: str | None) -> dict[str, dict[str, int]] | None:
    """``{product_id: {"every": 4, "every_period": 2, ...}}`` for the opted-in cart lines.

    Returns None when the platform cannot say (not configured, down, slow): the cart still
    works, it just cannot show which lines are subscriptions.
    """
    if not og_session_id:
        return {}
    try:
        response = requests.get(
            f"{platform_url()}/carts/{og_session_id}/", timeout=CART_TIMEOUT_SECONDS
        )
        response.raise_for_status()
        items = response.json()["items"]
        return {item["id"]: item for item in items}
    except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
        current_app.logger.warning("could not read the subscription cart: %s", exc)
        return None


def record_purchase(order_number: str, og_session_id: str | None) -> None:
    """Tell the platform about a placed checkout order (purchase POST, spec §4).

    Called after the store's order is committed; never fails the checkout (see
    ``demo.purchase_post``). Due retries of earlier posts go out first.
    """
    purchase_post.retry_due()
    order = orders.get_by_number(order_number)
    customer = customers.get(order["user_id"])
    purchase_post.record(order, orders.lines(order["id"]), customer, og_session_id)


OG_AUTH = "og_auth"
OG_AUTH_MAX_AGE = 7200  # two hours, as the official cartridges set it (contracts §4.2)


def sign_in(response: Response, user_id: str) -> None:
    """Set the ``og_auth`` cookie for a customer who just logged in (contracts §4.2).

    ``user_id|ts|sig`` signed with the merchant's hash key (not URL-encoded), ``Path=/``,
    two hours, readable by msi.js (not HttpOnly), ``Secure`` when the store is served over
    HTTPS. Without the hash key (no seed-demo credentials) there is no cookie, so the
    dashboard asks the customer to sign in.
    """
    hash_key = current_app.config.get("MERCHANT_HASH_KEY")
    if not hash_key:
        return
    ts = int(time.time())
    response.set_cookie(
        OG_AUTH,
        f"{user_id}|{ts}|{signing.sign(hash_key, user_id, ts)}",
        max_age=OG_AUTH_MAX_AGE,
        path="/",
        secure=request.is_secure,
        httponly=False,
        samesite="Lax",
    )


CONTACT_TIMEOUT_SECONDS = 5


def set_contact_details(user_id: str, email: str, phone: str) -> str | None:
    """Tell Perennial the customer's new email and phone (contracts §7.1), signed for the
    customer as the official integrations do; None when it took them, else why not (the
    store keeps its own change either way, as SFCC's hook does)."""
    hash_key, merchant_id = current_app.config.get("MERCHANT_HASH_KEY"), merchant_public_id()
    if not hash_key or not merchant_id:
        return "the store has no Perennial credentials"
    ts = int(time.time())
    header = json.dumps(
        {
            "public_id": merchant_id,
            "ts": ts,
            "sig_field": user_id,
            "sig": signing.sign(hash_key, user_id, ts),
        }
    )
    body = {"email": email, "merchant": merchant_id, "merchant_user_id": user_id}
    if phone:  # SFCC omits phone_number when the profile has none
        body["phone_number"] = phone
    try:
        response = requests.patch(
            f"{platform_url()}/customers/{quote(user_id, safe='')}/set_contact_details",
            json=body,
            headers={"Authorization": header},
            timeout=CONTACT_TIMEOUT_SECONDS,
        )
    except requests.RequestException as exc:
        return f"Perennial could not be reached ({type(exc).__name__})"
    if response.status_code == 200:
        return None
    if response.status_code == 404:
        return None  # Perennial knows this customer from their first subscription only
    try:
        detail = "; ".join(str(v) for v in response.json().values())
    except ValueError:
        detail = f"HTTP {response.status_code}"
    return f"Perennial refused it: {detail}"


def sign_out(response: Response) -> None:
    """Delete the ``og_auth`` cookie on logout (contracts §4.2)."""
    response.delete_cookie(OG_AUTH, path="/", secure=request.is_secure, samesite="Lax")
