"""certificate names as long as a person's longest name

A person's first and last name have up to 100 characters each, so the name
printed on a certificate has up to 201.

Revision ID: e14_certificate_name
Revises: e15_participant_search
"""

import sqlalchemy as sa
from alembic import op

revision = "e14_certificate_name"
down_revision = "e15_participant_search"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.alter_column(
            "name", existing_type=sa.String(length=200), type_=sa.String(length=250)
        )


def downgrade():
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.alter_column(
            "name", existing_type=sa.String(length=250), type_=sa.String(length=200)
        )
