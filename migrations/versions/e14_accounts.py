"""Password reset links of staff accounts

Revision ID: e14_accounts
Revises: e14_employee_number
Create Date: 2026-12-01 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import app.schema

# revision identifiers, used by Alembic.
revision = "e14_accounts"
down_revision = "e14_employee_number"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reset_token_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reset_expires_at", app.schema.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_users_reset_token_hash"), ["reset_token_hash"]
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_reset_token_hash"), type_="unique")
        batch_op.drop_column("reset_expires_at")
        batch_op.drop_column("reset_token_hash")
