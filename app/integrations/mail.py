"""Hand one email to a backend picked from settings: an SMTP server, or the console's outbox.

SMTP delivery is at least once. A server takes responsibility for a message when it answers
250 to the end of DATA; if the connection drops after the data went out but before that
answer, the sender cannot know whether the server kept it, so it must try again and the
recipient may get two copies. Every attempt at one email therefore carries the same
``Message-ID`` (built from the email's public id) and ``X-Perennial-Email-Id``, and the same
``Date``: RFC 5322 §3.6.4 makes the Message-ID the identity of a message, so a mail store or
client that drops duplicates by Message-ID shows the second copy as the repeat it is.

Nothing here logs a password, a message body or a recipient address.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote, urlsplit

log = logging.getLogger("perennial.mail")
LOOPBACK = ("127.0.0.1", "::1", "localhost")
TRUE = ("1", "true", "yes", "on")
ID_HEADER = "X-Perennial-Email-Id"


@dataclass(frozen=True)
class Outgoing:
    """One email as a backend needs it; ``email_id`` names it across every attempt."""

    email_id: str
    to: str
    subject: str
    body: str
    date: datetime  # when it was queued: the same on every attempt


class MailError(Exception):
    """The server did not take the email; ``permanent`` when trying again cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class MailUnavailable(MailError):
    """No usable server (down, unreachable, TLS or login refused): no email can go now."""


class Backend(Protocol):
    name: str

    def send(self, message: Outgoing) -> None: ...


def sender_domain(sender: str) -> str:
    """The domain of ``sender`` ("Shop <no-reply@example.com>"), refusing a malformed one."""
    email = EmailMessage()
    try:
        email["From"] = sender
        [address] = email["From"].addresses
    except (ValueError, MessageError) as exc:
        raise ValueError("MAIL_FROM must be one address, e.g. Shop <no-reply@example.com>") from exc
    if not address.domain:
        raise ValueError("MAIL_FROM must be one address, e.g. Shop <no-reply@example.com>")
    return address.domain


def build_message(message: Outgoing, *, sender: str) -> EmailMessage:
    """The RFC 5322 message for ``message``; MailError (permanent) if it cannot be one."""
    email = EmailMessage()
    try:
        email["From"] = sender
        email["To"] = message.to
        email["Subject"] = message.subject
        if len(email["To"].addresses) != 1 or not email["To"].addresses[0].domain:
            raise ValueError("not one address")
    except (ValueError, MessageError) as exc:  # a line break or a list in To or Subject
        raise MailError(
            "The recipient address or the subject is malformed.", permanent=True
        ) from exc
    email["Date"] = format_datetime(message.date)
    email["Message-ID"] = f"<{message.email_id}@{sender_domain(sender)}>"
    email[ID_HEADER] = message.email_id
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: out-of-office robots stay quiet
    email.set_content(message.body)
    return email


class OutboxBackend:
    """Send nothing: the console's outbox is where these emails are read (development)."""

    name = "outbox"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.sender = settings["MAIL_FROM"]
        sender_domain(self.sender)

    def send(self, message: Outgoing) -> None:
        build_message(message, sender=self.sender)  # refuse here what SMTP would refuse


@dataclass(frozen=True)
class SmtpServer:
    """Where ``SMTP_URL`` points: ``smtp://user:pass@host:587?starttls=1``, ``smtps://host``."""

    host: str
    port: int
    tls: bool  # smtps: TLS from the first byte
    starttls: bool
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Parse ``url``; ValueError (never quoting the URL, which may hold a password)."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(
                "SMTP_URL must look like smtp://user:pass@host:587?starttls=1 or smtps://host:465"
            )
        options = dict(parse_qsl(parts.query))
        if set(options) - {"starttls"}:
            raise ValueError("SMTP_URL knows one option: ?starttls=1")
        tls = parts.scheme == "smtps"
        starttls = options.get("starttls", "0").lower() in TRUE
        if tls and starttls:
            raise ValueError("SMTP_URL: smtps:// is TLS already; drop ?starttls=1")
        server = cls(
            parts.hostname,
            parts.port or (465 if tls else 587 if starttls else 25),
            tls,
            starttls,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )
        if server.username and not (tls or starttls) and server.host not in LOOPBACK:
            raise ValueError(
                "SMTP_URL would send its password in clear text: use smtps:// or ?starttls=1"
            )
        return server


class SmtpBackend:
    """Hand each email to one SMTP server (a new connection per email)."""

    name = "smtp"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        self.server = SmtpServer.from_url(settings["SMTP_URL"])
        self.sender = settings["MAIL_FROM"]
        self.timeout = float(settings["SMTP_TIMEOUT"])
        sender_domain(self.sender)

    def send(self, message: Outgoing) -> None:
        email = build_message(message, sender=self.sender)
        smtp = self._open()
        try:
            smtp.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise MailError(_reply(code, reply), permanent=code >= 500) from exc
        except smtplib.SMTPNotSupportedError as exc:  # e.g. SMTPUTF8 to a server without it
            raise MailError(str(exc), permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                _reply(exc.smtp_code, exc.smtp_error), permanent=exc.smtp_code >= 500
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # Maybe after the data went out: trying again may deliver a second copy.
            raise MailError(f"Connection lost while sending: {_describe(exc)}") from exc
        finally:
            _quit(smtp)  # the email is the server's from its 250; a failed QUIT changes nothing
        log.info("email %s handed to %s:%s", message.email_id, self.server.host, self.server.port)

    def _open(self) -> smtplib.SMTP:
        server, context = self.server, ssl.create_default_context()
        where = f"{server.host}:{server.port}"
        try:
            if server.tls:
                smtp = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=self.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailUnavailable(
                f"Cannot reach the SMTP server {where}: {_describe(exc)}"
            ) from exc
        try:
            if server.starttls:
                smtp.starttls(context=context)
            if server.username:
                smtp.login(server.username, server.password or "")
        except (smtplib.SMTPException, OSError) as exc:
            _quit(smtp)
            raise MailUnavailable(
                f"The SMTP server {where} refused TLS or login: {_describe(exc)}"
            ) from exc
        return smtp


BACKENDS: dict[str, Callable[[Mapping[str, Any]], Backend]] = {
    "outbox": OutboxBackend,
    "smtp": SmtpBackend,
}


def get_backend(settings: Mapping[str, Any]) -> Backend:
    """SMTP when ``SMTP_URL`` is set, the outbox otherwise."""
    return BACKENDS["smtp" if settings.get("SMTP_URL") else "outbox"](settings)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"[:300]


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    return str(exc) or type(exc).__name__


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()
