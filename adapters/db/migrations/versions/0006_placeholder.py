"""nightly sweep storage (issue 4)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:20:00.000000

Placeholder: no schema change yet.
"""

from __future__ import annotations


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
