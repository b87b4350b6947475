"""Name the files of the batch (SFTP) order placement method (contracts §6.6, test T8).

Perennial writes ``<MERCHANT_ID>_batch_orders_MM-DD-YYYY_HHMMSS.xml`` (the body comes from
``order.build_batch``) and reads back ``<MERCHANT_ID>.BatchResponseMM-DD-YYYY_HHMMSS.xml`` (read
with ``order_reply.parse_batch_response``). The time stamps only keep files from overwriting
each other; Ordergroove does not say in which time zone they are, so the caller picks: the
stamp is ``when`` as given (an aware datetime in its own zone, a naive one as it is), and a
response stamp comes back naive. Names match exactly, case included, as feed names do.
"""

from __future__ import annotations

import re
from datetime import datetime

MERCHANT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
STAMP_FORMAT = "%m-%d-%Y_%H%M%S"
_STAMP = r"[0-9]{2}-[0-9]{2}-[0-9]{4}_[0-9]{6}"


def batch_file_name(merchant_public_id: str, when: datetime) -> str:
    """The name of the batch request file written at ``when``."""
    _check_merchant(merchant_public_id)
    return f"{merchant_public_id}_batch_orders_{when.strftime(STAMP_FORMAT)}.xml"


def response_file_time(name: str, merchant_public_id: str) -> datetime | None:
    """The stamp of the merchant's batch response file called ``name``; None if it is not one.

    A name of the right shape whose stamp is not a real date and time (13-45-2022_250000) is
    not a response file either.
    """
    _check_merchant(merchant_public_id)
    pattern = re.escape(merchant_public_id) + rf"\.BatchResponse({_STAMP})\.xml"
    match = re.fullmatch(pattern, name)
    if match is None:
        return None
    try:
        return datetime.strptime(match[1], STAMP_FORMAT)
    except ValueError:
        return None


def _check_merchant(merchant_public_id: str) -> None:
    """Refuse a merchant id that could not be part of a plain file name."""
    if not MERCHANT_ID.fullmatch(merchant_public_id):
        raise ValueError(f"not a merchant public id: {merchant_public_id[:70]!r}")
