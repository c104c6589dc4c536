"""Make-ups across a consultant's organisations: an organisation may share
its sessions for make-ups with the other organisations its consultants
serve (both must allow it)

Revision ID: e17_make_up_sharing
Revises: e17_approval
"""

import sqlalchemy as sa
from alembic import op

revision = "e17_make_up_sharing"
down_revision = "e17_approval"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "organisations",
        sa.Column("share_make_ups", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade():
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_column("share_make_ups")
