"""Long work as jobs with progress

Revision ID: e16_jobs
Revises: e16_preferences
"""

revision = "e16_jobs"
down_revision = "e16_preferences"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
