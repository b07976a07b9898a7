"""report indexes, second round (issue 6)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 14:20:00.000000

``ix_cases_not_complaint`` lists the cases of other workflows (dissatisfactions) only. Report
measures that need nothing from the case row but "is it a complaint?" (breaches, extensions,
countdown crossings) test that as "no case of another workflow has this id" against this small
index, instead of joining every fact to a million case rows (bench/reports.py). A complaint has
no entry in it, so opening and updating complaints costs nothing more.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

NOT_COMPLAINT = sa.text("workflow <> 'complaint'")


def upgrade() -> None:
    op.create_index(
        'ix_cases_not_complaint',
        'cases',
        ['id'],
        unique=False,
        postgresql_where=NOT_COMPLAINT,
        sqlite_where=NOT_COMPLAINT,
    )


def downgrade() -> None:
    op.drop_index('ix_cases_not_complaint', table_name='cases')
