"""Where the demo store meets Perennial: settings now, integration calls later.

Only public contracts cross this boundary (spec §9). Today the module holds config helpers
for the page tags. The integration arrives in later issues, each at one extension point
below; until then each hook does nothing, on purpose, and says so:

* ``record_purchase``   checkout -> purchase POST ``/subscription/create`` (spec §4)
* ``sign_in``/``sign_out``  login/logout -> set or clear the ``og_auth`` cookie (spec §5)
* ``init_app``          registers platform-facing routes: the order-placement endpoint (§6)
                        and the CLI that uploads the product feed over SFTP (§1)
"""

from __future__ import annotations

import re

from flask import Flask, Response, current_app

MERCHANT_ID_RE = re.compile(r"[0-9a-f]{32}")


def init_app(app: Flask) -> None:
    """Check the platform settings; later issues register the order endpoint and feed CLI here.

    :raises ValueError: if ``MERCHANT_PUBLIC_ID`` is set but is not 32 lowercase hex digits.
    """
    app.config["PLATFORM_URL"] = app.config["PLATFORM_URL"].rstrip("/")
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


def feed_filename() -> str | None:
    """Return the product feed's file name on the SFTP drop site (contracts §1.1)."""
    merchant_id = merchant_public_id()
    return f"{merchant_id}.Products.xml" if merchant_id else None


def record_purchase(order_number: str) -> None:
    """Extension point: tell the platform about a placed checkout order (purchase POST).

    Called after the store's order is committed. Does nothing yet.
    """


def sign_in(response: Response, user_id: str) -> None:
    """Extension point: set the ``og_auth`` cookie for a customer who just logged in.

    Does nothing yet.
    """


def sign_out(response: Response) -> None:
    """Extension point: clear the ``og_auth`` cookie on logout. Does nothing yet."""
