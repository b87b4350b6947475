"""drop the staff login lockout columns: the console throttles logins in Redis now

Revision ID: 0009nolockout
Revises: 0008defaultoffers
Create Date: 2026-12-07 17:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009nolockout"
down_revision = "0008defaultoffers"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade():
    # The server default fills existing rows; the second step leaves the column as it was.
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.alter_column("failed_logins", server_default=None)
