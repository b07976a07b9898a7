"""re-plan open work items: every item now carries its case's countdown level (issue 5)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 18:45:00.000000

Data only. Items used to carry the contact-countdown level only on ``contact`` items; now every
item of a case carries it, so that between two breached deadlines the resident left longer
without contact comes first (engine/queue.py). Existing items change only when their case is
planned again, which for a case already at its last countdown level may be never. The open
cases with a raised countdown flag and another kind of open item are therefore marked for the
next sweep, with their work signature cleared so that it rewrites their items.
"""

from __future__ import annotations

from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        UPDATE cases SET work_signature = NULL, next_flag_on = CURRENT_DATE
        WHERE is_open
          AND id IN (SELECT case_id FROM case_flags
                     WHERE kind = 'contact' AND cleared_on IS NULL)
          AND id IN (SELECT case_id FROM work_items
                     WHERE status IN ('open', 'claimed') AND kind <> 'contact')
        """
    )


def downgrade() -> None:
    # Nothing to undo: the items are simply planned again by the next sweep.
    return None
