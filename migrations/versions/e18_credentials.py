"""Signed credentials: signing keys, issued credentials, status list counters

Revision ID: e18_credentials
Revises: e16_jobs
"""

import sqlalchemy as sa
from alembic import op

from app.schema import UTCDateTime

revision = "e18_credentials"
down_revision = "e16_jobs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "credential_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("public_jwk", sa.JSON(), nullable=False),
        sa.Column("private_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_credential_keys_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_credential_keys_kid")),
    )
    with op.batch_alter_table("credential_keys", schema=None) as batch_op:
        batch_op.create_index(
            "ix_credential_keys_current",
            ["organisation_id"],
            unique=True,
            sqlite_where=sa.text("retired_at IS NULL"),
            postgresql_where=sa.text("retired_at IS NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_credential_keys_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=80), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("jwt", sa.Text(), nullable=True),
        sa.Column("subject_salt", sa.String(length=64), nullable=True),
        sa.Column("issued_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_credentials_certificate_id_certificates"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["credential_keys.id"], name=op.f("fk_credentials_key_id_credential_keys")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_credentials_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credentials")),
        sa.UniqueConstraint("certificate_id", name=op.f("uq_credentials_certificate_id")),
        sa.UniqueConstraint(
            "organisation_id",
            "status_index",
            name=op.f("uq_credentials_organisation_id_status_index"),
        ),
    )
    with op.batch_alter_table("credentials", schema=None) as batch_op:
        for column in ("organisation_id", "key_id", "credential_id"):
            batch_op.create_index(op.f(f"ix_credentials_{column}"), [column], unique=False)

    op.create_table(
        "credential_status_lists",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_credential_status_lists_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_credential_status_lists")),
    )


def downgrade():
    op.drop_table("credential_status_lists")
    op.drop_table("credentials")
    op.drop_table("credential_keys")
