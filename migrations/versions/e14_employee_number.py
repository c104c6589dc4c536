"""employee number of participants

Revision ID: e14_employee_number
Revises: 2b9512a5698d
"""

import sqlalchemy as sa
from alembic import op

revision = "e14_employee_number"
down_revision = "2b9512a5698d"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("employee_number", sa.String(length=50), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_participants_organisation_id_employee_number"),
            ["organisation_id", "employee_number"],
        )


def downgrade():
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_participants_organisation_id_employee_number"), type_="unique"
        )
        batch_op.drop_column("employee_number")
