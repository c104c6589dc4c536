"""Calendar invitations: the sender address and how each person gets their dates

Revision ID: e16_invitations
Revises: e16_reminders
"""

revision = "e16_invitations"
down_revision = "e16_reminders"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
