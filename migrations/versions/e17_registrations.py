"""Registrations and waiting lists: a person's registration for a cohort, the
cohort's waiting-list switch, an organisation's waiting-list mode and offer days

Revision ID: e17_registrations
Revises: e18_credentials
"""

import sqlalchemy as sa
from alembic import op

from app.schema import UTCDateTime

revision = "e17_registrations"
down_revision = "e18_credentials"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "waiting_list_mode", sa.String(length=20), nullable=False, server_default="offer"
            )
        )
        batch_op.add_column(
            sa.Column("offer_days", sa.Integer(), nullable=False, server_default="3")
        )
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("waiting_list", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "REGISTERED",
                "EMAIL_CONFIRMED",
                "MANAGER_CONFIRMED",
                "ACCEPTED",
                "DECLINED",
                "WAITING",
                "OFFERED",
                "OFFER_EXPIRED",
                "OFFER_DECLINED",
                "WITHDRAWN",
                "MOVED",
                name="registrationstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("registered_at", UTCDateTime(), nullable=False),
        sa.Column("offered_at", UTCDateTime(), nullable=True),
        sa.Column("offer_expires_at", UTCDateTime(), nullable=True),
        sa.Column("offer_token_hash", sa.String(length=64), nullable=True),
        sa.Column("changed_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_registrations_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_registrations_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_registrations_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participants.id"],
            name=op.f("fk_registrations_participant_id_participants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registrations")),
        sa.UniqueConstraint(
            "cohort_id", "participant_id", name=op.f("uq_registrations_cohort_id_participant_id")
        ),
        sa.UniqueConstraint("offer_token_hash", name=op.f("uq_registrations_offer_token_hash")),
    )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registrations_list",
            ["cohort_id", "state", "registered_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_registrations_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_registrations_participant_id"), ["participant_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registrations_participant_id"))
        batch_op.drop_index(batch_op.f("ix_registrations_organisation_id"))
        batch_op.drop_index("ix_registrations_list")
    op.drop_table("registrations")
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.drop_column("waiting_list")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("offer_days")
        batch_op.drop_column("waiting_list_mode")
