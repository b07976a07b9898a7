"""indexes for the SQL reports

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 13:20:00.000000

Covering indexes, so the report queries (adapters/reports) read compact indexes instead of the
wide case rows: measured in bench/reports.py over 1,000,000 complaints.
"""

from __future__ import annotations

from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

INDEXES = {
    'case_milestones': [('ix_case_milestones_report', ['name', 'business_date', 'case_id'])],
    'case_events': [('ix_case_events_kind_case', ['kind', 'case_id'])],
    'cases': [
        ('ix_cases_calendar', ['calendar']),
        (
            'ix_cases_report',
            ['id', 'workflow', 'tenure', 'calendar', 'received_on', 'category', 'area', 'channel'],
        )
    ],
    'case_flags': [('ix_case_flags_kind_raised', ['kind', 'raised_on', 'level', 'case_id'])],
    'case_clocks': [
        (
            'ix_case_clocks_stopped',
            ['stopped_on', 'clock', 'stop_reason', 'case_id', 'started_on', 'due_on',
             'base_days', 'extended_days'],
        )
    ],
}


def upgrade() -> None:
    for table, indexes in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, columns in indexes:
                batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, indexes in reversed(list(INDEXES.items())):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, _ in reversed(indexes):
                batch_op.drop_index(name)
