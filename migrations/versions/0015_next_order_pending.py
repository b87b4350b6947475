"""orders: next_order_pending, so placement follows up settled orders a group at a time

Revision ID: 0015nextorderpending
Revises: 0014dashboard
Create Date: 2026-12-08 04:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0015nextorderpending"
down_revision = "0014dashboard"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_order_pending", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index(
        "ix_orders_next_order_pending",
        "orders",
        ["merchant_id"],
        sqlite_where=sa.text("next_order_pending"),
        postgresql_where=sa.text("next_order_pending"),
    )


def downgrade():
    op.drop_index("ix_orders_next_order_pending", table_name="orders")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("next_order_pending")
