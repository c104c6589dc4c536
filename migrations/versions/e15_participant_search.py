"""The participant search: a folded search text, German sort keys and their indexes

Revision ID: e15_participant_search
Revises: e14_accounts
"""

import sqlalchemy as sa
from alembic import op

from app.models import participant_search
from app.models.participants import SEARCHED, derived

revision = "e15_participant_search"
down_revision = "e14_accounts"
branch_labels = None
depends_on = None

BATCH = 1000
KEY = sa.String(length=400).with_variant(sa.String(length=400, collation="C"), "postgresql")


def upgrade():
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("search_text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("last_name_key", KEY, nullable=False, server_default=""))
        batch_op.add_column(sa.Column("first_name_key", KEY, nullable=False, server_default=""))
    connection = op.get_bind()
    _fill(connection)
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.create_index(
            "ix_participants_name_order", ["last_name_key", "first_name_key", "id"], unique=False
        )
    participant_search.create(connection)


def _fill(connection):
    """The people there are, a thousand at a time, by id."""
    people = sa.table(
        "participants",
        sa.column("id", sa.Integer),
        *(sa.column(name, sa.String) for name in SEARCHED),
        sa.column("search_text", sa.Text),
        sa.column("last_name_key", sa.String),
        sa.column("first_name_key", sa.String),
    )
    update = (
        sa.update(people)
        .where(people.c.id == sa.bindparam("person_id"))
        .values(
            search_text=sa.bindparam("search_text"),
            last_name_key=sa.bindparam("last_name_key"),
            first_name_key=sa.bindparam("first_name_key"),
        )
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(people.c.id, *(people.c[name] for name in SEARCHED))
            .where(people.c.id > last_id)
            .order_by(people.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            update,
            [{"person_id": row.id} | derived(dict(row._mapping)) for row in rows],
        )
        last_id = rows[-1].id


def downgrade():
    participant_search.drop(op.get_bind())
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_index("ix_participants_name_order")
        batch_op.drop_column("first_name_key")
        batch_op.drop_column("last_name_key")
        batch_op.drop_column("search_text")
