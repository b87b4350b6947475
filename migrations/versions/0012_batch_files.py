"""batch placement: files written to outgoing/ and read from incoming/, each attempt's file

Revision ID: 0012batch
Revises: 0011mail
Create Date: 2026-12-08 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0012batch"
down_revision = "0011mail"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "placement_batch_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("merchant_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=True),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("path", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["merchant_id"],
            ["merchants.id"],
            name=op.f("fk_placement_batch_files_merchant_id_merchants"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["placement_runs.id"],
            name=op.f("fk_placement_batch_files_run_id_placement_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_batch_files")),
        sa.UniqueConstraint("public_id", name=op.f("uq_placement_batch_files_public_id")),
    )
    with op.batch_alter_table("placement_batch_files", schema=None) as batch_op:
        batch_op.create_index(
            "ix_placement_batch_files_merchant_created", ["merchant_id", "created_at"], unique=False
        )
        # Unique among the files Perennial writes; a store may upload one response name twice.
        batch_op.create_index(
            "uq_placement_batch_files_orders_name",
            ["merchant_id", "file_name"],
            unique=True,
            sqlite_where=sa.text("kind = 'orders'"),
            postgresql_where=sa.text("kind = 'orders'"),
        )

    with op.batch_alter_table("placement_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_file_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_placement_attempts_batch_file_id"), ["batch_file_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_placement_attempts_batch_file_id_placement_batch_files"),
            "placement_batch_files",
            ["batch_file_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("placement_attempts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_placement_attempts_batch_file_id_placement_batch_files"),
            type_="foreignkey",
        )
        batch_op.drop_index(batch_op.f("ix_placement_attempts_batch_file_id"))
        batch_op.drop_column("batch_file_id")

    with op.batch_alter_table("placement_batch_files", schema=None) as batch_op:
        batch_op.drop_index("uq_placement_batch_files_orders_name")
        batch_op.drop_index("ix_placement_batch_files_merchant_created")

    op.drop_table("placement_batch_files")
