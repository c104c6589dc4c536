"""Notification settings: an organisation's sender and reminders, each
person's language, calendar choice, reminders and digest

Revision ID: e16_preferences
Revises: e16_notifications
"""

import sqlalchemy as sa
from alembic import op

revision = "e16_preferences"
down_revision = "e16_notifications"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mail_from", sa.String(length=320), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("reminder_days", sa.JSON(), nullable=False, server_default="[7, 1]")
        )
        batch_op.add_column(
            sa.Column("study_reminders", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    # Plain ADD COLUMN (no batch copy of the table on SQLite), so the
    # participant search's triggers on this table stay as they are.
    op.add_column(
        "participants",
        sa.Column("language", sa.String(length=5), nullable=False, server_default="de"),
    )
    op.add_column(
        "participants",
        sa.Column(
            "calendar_choice", sa.String(length=20), nullable=False, server_default="invitations"
        ),
    )
    op.add_column(
        "participants",
        sa.Column("reminders", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "calendar_choice",
                sa.String(length=20),
                nullable=False,
                server_default="invitations",
            )
        )
        batch_op.add_column(
            sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("digest")
        batch_op.drop_column("calendar_choice")
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("reminders")
        batch_op.drop_column("calendar_choice")
        batch_op.drop_column("language")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("study_reminders")
        batch_op.drop_column("reminder_days")
        batch_op.drop_column("mail_from")
