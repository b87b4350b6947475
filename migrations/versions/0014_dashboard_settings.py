"""subscription manager settings: the store's auth page, what the dashboard offers, upsell

Revision ID: 0014dashboard
Revises: 0013cancelreasons
Create Date: 2026-12-08 02:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0014dashboard"
down_revision = "0013cancelreasons"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("auth_page_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("dashboard_settings", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("upsell_locations", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("merchants", schema=None) as batch_op:
        batch_op.drop_column("upsell_locations")
        batch_op.drop_column("dashboard_settings")
        batch_op.drop_column("auth_page_url")
