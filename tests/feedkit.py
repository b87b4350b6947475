"""Build product feeds and talk to a live SFTP drop site the way a merchant would."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from xml.sax.saxutils import escape

import paramiko
from flask import Flask

from app.integrations.sftp import SftpServer, SftpSettings
from app.services import events, sftp_accounts

SFTP_PASSWORD = "drop-site-password"  # noqa: S105 - a test credential


def product_xml(
    product_id: str,
    *,
    name: str | None = None,
    price: str = "19.99",
    eligible: str | None = "1",
    in_stock: str = "1",
    extra: str = "",
) -> str:
    """One <product> with sensible defaults; ``extra`` is appended inside it verbatim."""
    name = name if name is not None else f"Product {product_id}"
    eligible_tag = "" if eligible is None else f"<autoship_eligible>{eligible}</autoship_eligible>"
    return (
        f"<product><name><![CDATA[{name}]]></name><product_id>{escape(product_id)}</product_id>"
        f"<sku>SKU-{escape(product_id)}</sku><price>{price}</price>"
        f"<details_url>https://shop.example/p/{escape(product_id)}</details_url>"
        f"<image_url>https://shop.example/i/{escape(product_id)}.jpg</image_url>"
        f"{eligible_tag}<in_stock>{in_stock}</in_stock>{extra}</product>"
    )


def discontinued_xml(
    product_id: str, replacement: str | None = None, *, silent: bool = False
) -> str:
    rel = ""
    if replacement:
        kind = "discontinued_silent_replacement" if silent else "discontinued_replacement"
        rel = (
            f"<relationships><relationship><name>{kind}</name><related><product_id>"
            f"{replacement}</product_id></related></relationship></relationships>"
        )
    return product_xml(
        product_id, eligible="0", in_stock="0", extra=f"<discontinued>1</discontinued>{rel}"
    )


def feed(*products: str) -> bytes:
    return ("<products>\n" + "\n".join(products) + "\n</products>\n").encode()


def file_name(merchant) -> str:
    return f"{merchant.public_id}.Products.xml"


def open_account(merchant) -> None:
    """Give the merchant a drop-site login (username = its public id)."""
    sftp_accounts.set_password(
        merchant.id, merchant.public_id, actor=events.SYSTEM, password=SFTP_PASSWORD
    )


def drop(app: Flask, merchant, data: bytes, name: str | None = None) -> Path:
    """Publish a file in the merchant's incoming/ as a finished upload would be."""
    incoming = Path(app.config["SFTP_ROOT"]) / merchant.public_id / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    path = incoming / (name or file_name(merchant))
    path.write_bytes(data)
    return path


@contextlib.contextmanager
def drop_site(app: Flask) -> Iterator[SftpServer]:
    """The real SFTP server on a free port, checking logins against the app's database."""
    settings = SftpSettings(
        port=0, root=Path(app.config["SFTP_ROOT"]), host_key_path=Path(app.config["SFTP_HOST_KEY"])
    )
    server = SftpServer(settings, sftp_accounts.DatabaseAuthenticator(app))
    server.start_background()
    try:
        yield server
    finally:
        server.shutdown()


@contextlib.contextmanager
def sftp_client(
    server: SftpServer, username: str, password: str = SFTP_PASSWORD
) -> Iterator[paramiko.SFTPClient]:
    with paramiko.SSHClient() as client:
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # noqa: S507 - loopback test
        client.connect(
            "127.0.0.1",
            port=server.port,
            username=username,
            password=password,
            look_for_keys=False,
            allow_agent=False,
            timeout=5,
        )
        with client.open_sftp() as sftp:
            yield sftp
