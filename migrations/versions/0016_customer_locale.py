"""customers: locale and price code, set through the customer REST API (contracts §7.3)

Revision ID: 0016customerlocale
Revises: 0015nextorderpending
Create Date: 2026-12-08 05:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0016customerlocale"
down_revision = "0015nextorderpending"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("price_code", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("price_code")
        batch_op.drop_column("locale")
