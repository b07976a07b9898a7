"""work queue and job claim indexes (issue 5)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 14:20:00.000000

A claim takes the first open item in the queue's order (deadline rank up, countdown level down,
care down, oldest first). The old index ``(status, p_deadline, p_contact, p_care, received_at)``
ran every column upwards, so that mixed order could not be read from it and each claim sorted
the whole open queue. ``ix_work_items_claim`` holds the open items only, in exactly that order,
so a claim reads one entry (plus any that other claimers hold locked); ``ix_work_items_leases``
finds expired leases among the few claimed items. ``ix_jobs_queued`` does the same for the job
worker: queued jobs in the order they are run (``run_after``, then ``id``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")
CLAIMED = sa.text("status = 'claimed'")
QUEUED = sa.text("status = 'queued'")


def upgrade() -> None:
    op.create_index(
        'ix_work_items_claim',
        'work_items',
        ['p_deadline', sa.text('p_contact DESC'), sa.text('p_care DESC'), 'received_at', 'id'],
        unique=False,
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )
    op.create_index(
        'ix_work_items_leases',
        'work_items',
        ['lease_until'],
        unique=False,
        postgresql_where=CLAIMED,
        sqlite_where=CLAIMED,
    )
    op.drop_index('ix_work_items_queue', table_name='work_items')
    op.create_index(
        'ix_jobs_queued',
        'jobs',
        ['run_after', 'id'],
        unique=False,
        postgresql_where=QUEUED,
        sqlite_where=QUEUED,
    )


def downgrade() -> None:
    op.drop_index('ix_jobs_queued', table_name='jobs')
    op.create_index(
        'ix_work_items_queue',
        'work_items',
        ['status', 'p_deadline', 'p_contact', 'p_care', 'received_at'],
        unique=False,
    )
    op.drop_index('ix_work_items_leases', table_name='work_items')
    op.drop_index('ix_work_items_claim', table_name='work_items')
