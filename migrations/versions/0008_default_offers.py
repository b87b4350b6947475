"""every merchant has its default offer: created with the merchant, not by a storefront read

Revision ID: 0008defaultoffers
Revises: 0007noindex
Create Date: 2026-12-07 17:00:00

"""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0008defaultoffers"
down_revision = "0007noindex"
branch_labels = None
depends_on = None

# The offer defaults as they were when this migration was written (migrations never import
# the models, which keep changing).
TOOLTIP = (
    "Get this delivered on your schedule. Skip, change or cancel any time from your "
    "account; no commitment."
)


def upgrade():
    conn = op.get_bind()
    offers = sa.table(
        "offers",
        sa.column("public_id", sa.String),
        sa.column("merchant_id", sa.Integer),
        sa.column("location", sa.String),
        sa.column("offer_type", sa.String),
        sa.column("optin_label", sa.String),
        sa.column("optout_label", sa.String),
        sa.column("every_label", sa.String),
        sa.column("tooltip_trigger", sa.String),
        sa.column("tooltip", sa.Text),
        sa.column("show_tooltip", sa.Boolean),
        sa.column("frequencies", sa.JSON),
        sa.column("default_frequency", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    missing = (
        conn.execute(
            sa.text(
                "SELECT id FROM merchants WHERE id NOT IN "
                "(SELECT merchant_id FROM offers WHERE location = 'default')"
            )
        )
        .scalars()
        .all()
    )
    now = datetime.now(UTC)
    if conn.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # stored as naive UTC on SQLite (see UTCDateTime)
    rows = [
        {
            "public_id": uuid.uuid4().hex,
            "merchant_id": merchant_id,
            "location": "default",
            "offer_type": "radio",
            "optin_label": "Subscribe and save",
            "optout_label": "One-time purchase",
            "every_label": "Deliver every",
            "tooltip_trigger": "How subscriptions work",
            "tooltip": TOOLTIP,
            "show_tooltip": True,
            "frequencies": ["2_2", "4_2", "6_2", "2_3"],
            "default_frequency": "4_2",
            "active": True,
            "created_at": now,
            "updated_at": now,
        }
        for merchant_id in missing
    ]
    if rows:
        op.bulk_insert(offers, rows)


def downgrade():
    pass  # the default offers stay: they are ordinary offers the merchant may have edited
