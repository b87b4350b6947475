"""outbox delivery: public id, dedupe key, attempts, backoff and lease for each queued email

Revision ID: 0011mail
Revises: 0010placement
Create Date: 2026-12-07 18:00:00.000000

"""

import uuid

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0011mail"
down_revision = "0010placement"
branch_labels = None
depends_on = None


def upgrade():
    # Added nullable (and attempts with a server default) so existing rows are filled first.
    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("dedupe_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("transport", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))

    conn = op.get_bind()
    emails = sa.table(
        "outbound_emails", sa.column("id", sa.Integer), sa.column("public_id", sa.String)
    )
    for email_id in conn.execute(sa.select(emails.c.id)).scalars().all():
        conn.execute(
            emails.update().where(emails.c.id == email_id).values(public_id=uuid.uuid4().hex)
        )

    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.alter_column("public_id", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("attempts", existing_type=sa.Integer(), server_default=None)
        batch_op.create_index("ix_outbound_emails_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_outbound_emails_merchant_id_dedupe_key"), ["merchant_id", "dedupe_key"]
        )
        batch_op.create_unique_constraint(batch_op.f("uq_outbound_emails_public_id"), ["public_id"])


def downgrade():
    # Emails caught mid-claim go back to the queue; the old schema knows no "sending".
    op.execute("UPDATE outbound_emails SET status = 'queued' WHERE status = 'sending'")
    with op.batch_alter_table("outbound_emails", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_outbound_emails_public_id"), type_="unique")
        batch_op.drop_constraint(
            batch_op.f("uq_outbound_emails_merchant_id_dedupe_key"), type_="unique"
        )
        batch_op.drop_index("ix_outbound_emails_due")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
        batch_op.drop_column("transport")
        batch_op.drop_column("dedupe_key")
        batch_op.drop_column("public_id")
