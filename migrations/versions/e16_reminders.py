"""When reminders go out, and who wants them

Revision ID: e16_reminders
Revises: e16_jobs
"""

revision = "e16_reminders"
down_revision = "e16_jobs"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
