"""The store's catalog as an Ordergroove product feed, uploaded to the drop site over SFTP.

``write`` streams ``<MERCHANT_ID>.Products.xml`` (contracts §1.2-1.3) with lxml, one <product>
at a time; ``upload`` sends a finished file to ``/incoming/`` with paramiko. The server's host
key is trusted on first use and pinned in a known_hosts file of our own: once a key is on file
any other key is refused. Every failure a store owner can fix comes out as a SyncError with a
sentence that says what to do.
"""

from __future__ import annotations

import socket
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import paramiko
from lxml import etree
from paramiko.ssh_exception import NoValidConnectionsError

from demo.catalog import Product

INCOMING = "/incoming"
CONNECT_TIMEOUT = 10

# Builds an absolute URL for a route: link("shop.product", product_id="FF2040101").
Link = Callable[..., str]


class SyncError(Exception):
    """Uploading the feed failed for a reason the store owner can act on."""


@dataclass(frozen=True)
class DropSite:
    """Where and as whom to upload, and the file that pins the server's host key."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    known_hosts: Path

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class Upload:
    """A feed file that reached the drop site."""

    file_name: str
    products: int
    size: int
    address: str  # host:port of the drop site
    at: datetime


def write(out: BinaryIO, products: Iterable[Product], *, link: Link, https: bool) -> int:
    """Write the feed for ``products`` to ``out`` and return how many were written.

    :param https: whether ``link`` makes https URLs. Ordergroove only takes https images, and
        the store serves its pictures from its own origin, so over plain http (development)
        <image_url> is left out: optional, and an http one would be refused.
    """
    count = 0
    with etree.xmlfile(out, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("products"):
            xf.write("\n")
            for product in products:
                element = _product(product, link, https)
                etree.indent(element, level=1)
                xf.write("  ", element, "\n")
                count += 1
    return count


def _product(p: Product, link: Link, https: bool) -> etree._Element:
    """Build one <product>; optional elements without a value are left out, never empty."""
    el = etree.Element("product")
    _add(el, "name", _cdata(p.name))
    _add(el, "product_id", p.product_id)
    _add(el, "sku", p.sku)
    if p.sku_swap_group:
        groups = etree.SubElement(el, "groups")
        _add(groups, "group", _cdata(p.sku_swap_group)).set("type", "sku_swap")
    _add(el, "price", f"{p.price_cents // 100}.{p.price_cents % 100:02d}")
    _add(el, "details_url", link("shop.product", product_id=p.product_id))
    if https:
        _add(el, "image_url", link("shop.image", product_id=p.product_id))
    _add(el, "autoship_eligible", _flag(p.autoship_eligible))
    _add(el, "in_stock", _flag(p.in_stock))
    _add(el, "discontinued", _flag(p.discontinued))
    # No documented element holds the category; extra_data carries it for the console.
    extra = {k: v for k, v in (("variant_name", p.variant_name), ("category", p.category)) if v}
    if extra:
        data = etree.SubElement(el, "extra_data")
        for key, value in extra.items():
            _add(data, "field", _cdata(value)).set("key", key)
    if p.replacement_id:
        relationship = etree.SubElement(etree.SubElement(el, "relationships"), "relationship")
        _add(relationship, "name", "discontinued_replacement")
        _add(etree.SubElement(relationship, "related"), "product_id", p.replacement_id)
    if p.every and p.every_period:
        _add(el, "every", str(p.every))
        _add(el, "every_period", str(int(p.every_period)))
    _add(el, "product_type", p.product_type)
    return el


def _add(parent: etree._Element, tag: str, text: str | etree.CDATA) -> etree._Element:
    child = etree.SubElement(parent, tag)
    child.text = text
    return child


def _cdata(text: str) -> etree.CDATA | str:
    """Wrap free text in CDATA, as the contract asks for names with ``&``, ™ or accents."""
    return text if "]]>" in text else etree.CDATA(text)  # "]]>" cannot go in a CDATA section


def _flag(value: bool) -> str:
    return "1" if value else "0"


def publish(
    products: Iterable[Product], *, file_name: str, site: DropSite, link: Link, https: bool
) -> Upload:
    """Write the feed to a local file, then upload it: a failed write never publishes a part."""
    with tempfile.TemporaryDirectory(prefix="fernfable-feed-") as tmp:
        path = Path(tmp) / file_name
        with path.open("wb") as out:
            count = write(out, products, link=link, https=https)
        upload(path, file_name, site)
        return Upload(file_name, count, path.stat().st_size, site.address, datetime.now(UTC))


def upload(local: Path, file_name: str, site: DropSite) -> None:
    """Upload ``local`` as ``/incoming/<file_name>``; the drop site publishes it on close.

    :raises SyncError: unreachable, login refused, host key changed, or the upload failed.
    """
    with paramiko.SSHClient() as ssh:
        _load_known_hosts(ssh, site.known_hosts)
        known = ssh.get_host_keys().lookup(_host_entry(site))
        # First contact: remember the key. From then on anything not on file is refused
        # (a *different* key for a host on file raises BadHostKeyException either way).
        policy = paramiko.RejectPolicy() if known else _TrustOnFirstUse(site.known_hosts)
        ssh.set_missing_host_key_policy(policy)
        try:
            ssh.connect(
                site.host,
                port=site.port,
                username=site.username,
                password=site.password,
                look_for_keys=False,
                allow_agent=False,
                timeout=CONNECT_TIMEOUT,
                banner_timeout=CONNECT_TIMEOUT,
                auth_timeout=CONNECT_TIMEOUT,
            )
            with ssh.open_sftp() as sftp:
                sftp.put(str(local), f"{INCOMING}/{file_name}")
        except paramiko.BadHostKeyException as exc:
            raise SyncError(
                f"The drop site at {site.address} presented a different host key "
                f"({exc.key.fingerprint}) from the one pinned in {site.known_hosts}. Nothing "
                "was uploaded. If Perennial's SFTP host key really changed, delete that file "
                "and sync again."
            ) from exc
        except paramiko.AuthenticationException as exc:
            raise SyncError(
                f"The drop site at {site.address} refused the login for {site.username}. "
                "Check the SFTP username and password in the store's credentials "
                "(flask --app wsgi seed-demo --json)."
            ) from exc
        except (paramiko.SSHException, OSError) as exc:
            raise SyncError(_connection_problem(exc, site)) from exc


def _connection_problem(exc: Exception, site: DropSite) -> str:
    unreachable = (NoValidConnectionsError, ConnectionError, TimeoutError, socket.gaierror)
    if isinstance(exc, unreachable):
        if isinstance(exc, NoValidConnectionsError):  # one error per address tried
            exc = next(iter(exc.errors.values()), exc)
        return (
            f"Could not reach Perennial's SFTP drop site at {site.address} ({_why(exc)}). "
            "Is the platform's SFTP process (flask --app wsgi sftp) running?"
        )
    if isinstance(exc, paramiko.SSHException):
        return f"The SFTP session with {site.address} failed: {_why(exc)}."
    return f"Uploading to {site.address} failed: {_why(exc)}."


def _why(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def pinned_fingerprint(site: DropSite) -> str | None:
    """Return the fingerprint (``SHA256:...``) of the host key pinned for the site, if any."""
    if not site.known_hosts.exists():
        return None
    try:
        keys = paramiko.HostKeys(str(site.known_hosts)).lookup(_host_entry(site))
    except (OSError, paramiko.SSHException):
        return None
    return next(iter(keys.values())).fingerprint if keys else None


def _host_entry(site: DropSite) -> str:
    """Name the host as known_hosts does: ``host`` on port 22, else ``[host]:port``."""
    return site.host if site.port == 22 else f"[{site.host}]:{site.port}"


def _load_known_hosts(ssh: paramiko.SSHClient, path: Path) -> None:
    """Load our own known_hosts (never the user's ~/.ssh), if we have pinned anything yet."""
    if not path.exists():
        return
    try:
        ssh.get_host_keys().load(str(path))
    except (OSError, paramiko.SSHException) as exc:
        raise SyncError(f"Could not read the pinned host keys in {path}: {_why(exc)}.") from exc


class _TrustOnFirstUse(paramiko.MissingHostKeyPolicy):
    """Accept the first key a host shows and write it to our known_hosts file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        staging = self.path.with_name(f".{self.path.name}.tmp")
        client.get_host_keys().save(str(staging))
        staging.replace(self.path)  # never a half-written file, even if two syncs race
