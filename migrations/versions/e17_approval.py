"""Registration with approval: cohorts open for registration until a closing
date, an organisation's registration address and manager step, and on each
registration the manager, the weekly time granted, the one-time links and
HR's decision

Revision ID: e17_approval
Revises: e17_registrations
"""

import sqlalchemy as sa
from alembic import op

from app.schema import UTCDateTime

revision = "e17_approval"
down_revision = "e17_registrations"
branch_labels = None
depends_on = None

TOKENS = ("email", "manager", "status")


def upgrade():
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("registration_open", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("registration_closes_on", sa.Date(), nullable=True))
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("manager_step", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("registration_token_hash", sa.String(length=64), nullable=True)
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_organisations_registration_token_hash"), ["registration_token_hash"]
        )
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("manager_name", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("manager_email", sa.String(length=254), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("weekly_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("manager_answered_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("manager_reason", sa.Text(), nullable=True))
        for name in TOKENS:
            batch_op.add_column(
                sa.Column(f"{name}_token_hash", sa.String(length=64), nullable=True)
            )
            batch_op.add_column(
                sa.Column(f"{name}_token_expires_at", UTCDateTime(), nullable=True)
            )
            batch_op.create_unique_constraint(
                batch_op.f(f"uq_registrations_{name}_token_hash"), [f"{name}_token_hash"]
            )
        batch_op.add_column(sa.Column("decided_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("decided_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("decline_reason", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("invited", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_registrations_decided_by_id_users"),
            "users",
            ["decided_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("registrations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_registrations_decided_by_id_users"), type_="foreignkey"
        )
        for name in reversed(TOKENS):
            batch_op.drop_constraint(
                batch_op.f(f"uq_registrations_{name}_token_hash"), type_="unique"
            )
        for column in (
            "invited",
            "decline_reason",
            "decided_at",
            "decided_by_id",
            *(f"{name}_token_{part}" for name in TOKENS for part in ("expires_at", "hash")),
            "manager_reason",
            "manager_answered_at",
            "weekly_minutes",
            "manager_email",
            "manager_name",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_organisations_registration_token_hash"), type_="unique"
        )
        batch_op.drop_column("registration_token_hash")
        batch_op.drop_column("manager_step")
    with op.batch_alter_table("cohorts", schema=None) as batch_op:
        batch_op.drop_column("registration_closes_on")
        batch_op.drop_column("registration_open")
