"""cancel reasons: the merchant's list a subscriber picks from when cancelling (None: defaults)

Revision ID: 0013cancelreasons
Revises: 0012batch
Create Date: 2026-12-10 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0013cancelreasons"
down_revision = "0012batch"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reasons", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_column("cancel_reasons")
