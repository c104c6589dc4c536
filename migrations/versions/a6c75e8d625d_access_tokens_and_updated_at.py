"""Access tokens for personal pages and feeds; updated_at of cohorts and sessions

Revision ID: a6c75e8d625d
Revises: 4df690495f66
Create Date: 2026-11-22 03:00:01.358506

"""

import sqlalchemy as sa
from alembic import op

import app.schema

# revision identifiers, used by Alembic.
revision = "a6c75e8d625d"
down_revision = "4df690495f66"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "access_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "PERSONAL_PAGE",
                "PARTICIPANT_FEED",
                "TRAINER_FEED",
                "COHORT_FEED",
                name="purpose",
                native_enum=False,
                length=30,
            ),
            nullable=False,
        ),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", app.schema.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", app.schema.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_access_tokens_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_access_tokens_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_access_tokens_token_hash")),
    )
    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_access_tokens_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_access_tokens_subject_id"), ["subject_id"], unique=False
        )

    # Existing rows take their cohort's creation time, then the columns become
    # required: nothing in a filled database is lost or left empty.
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", app.schema.UTCDateTime(), nullable=True))
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", app.schema.UTCDateTime(), nullable=True))
    op.execute("UPDATE cohorts SET updated_at = created_at")
    op.execute(
        "UPDATE sessions SET updated_at = "
        "(SELECT cohorts.created_at FROM cohorts WHERE cohorts.id = sessions.cohort_id)"
    )
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.alter_column("updated_at", existing_type=app.schema.UTCDateTime(), nullable=False)
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.alter_column("updated_at", existing_type=app.schema.UTCDateTime(), nullable=False)


def downgrade():
    with op.batch_alter_table("sessions", schema=None) as batch_op:
        batch_op.drop_column("updated_at")

    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.drop_column("updated_at")

    with op.batch_alter_table("access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_tokens_subject_id"))
        batch_op.drop_index(batch_op.f("ix_access_tokens_organisation_id"))

    op.drop_table("access_tokens")
