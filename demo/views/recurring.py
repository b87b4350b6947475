"""The order endpoint Perennial POSTs recurring orders to (contracts §6; see demo.recurring)."""

from flask import Blueprint, request

from demo import recurring
from demo.views import csrf

bp = Blueprint("recurring", __name__, url_prefix="/og")


def _body() -> bytes | None:
    """The request body, or None if it is larger than the endpoint takes."""
    if (request.content_length or 0) > recurring.MAX_BODY_BYTES:
        return None
    data = request.stream.read(recurring.MAX_BODY_BYTES + 1)
    return None if len(data) > recurring.MAX_BODY_BYTES else data


@bp.post("/orders")
@csrf.exempt  # server to server: the signed Authorization header is the proof
def receive():
    reply = recurring.receive(
        request.headers.get("Content-Type"), request.headers.get("Authorization"), _body()
    )
    return reply.body, 200, {"Content-Type": reply.content_type}
