"""nightly sweep storage (issue 4)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:20:00.000000

The sweep finds the due cases with one scan of a partial index of the open cases by
``next_flag_on`` (with the id, so the scan needs no table visit); it replaces the plain index on
``next_flag_on``, which also listed closed cases and made every update of the column maintain two
indexes. ``calendar_states`` records, per calendar, the fingerprint the last recompute brought
every open case to, so a recompute no longer restamps every case row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        'ix_cases_due',
        'cases',
        ['next_flag_on', 'id'],
        unique=False,
        postgresql_where=sa.text('is_open'),
        sqlite_where=sa.text('is_open'),
    )
    op.drop_index('ix_cases_next_flag_on', table_name='cases')
    op.create_table(
        'calendar_states',
        sa.Column('calendar', sa.String(length=64), nullable=False),
        sa.Column('fingerprint', sa.String(length=32), nullable=False),
        sa.Column('recomputed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('calendar', name=op.f('pk_calendar_states')),
    )


def downgrade() -> None:
    op.drop_table('calendar_states')
    op.create_index('ix_cases_next_flag_on', 'cases', ['next_flag_on'], unique=False)
    op.drop_index('ix_cases_due', table_name='cases')
