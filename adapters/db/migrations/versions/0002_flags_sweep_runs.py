"""flags, sweep runs and the calendar as a table

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:20:40.239615
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('calendar_days',
    sa.Column('calendar', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('cum', sa.Integer(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('calendar', 'day', name=op.f('pk_calendar_days'))
    )
    op.create_index('ix_calendar_days_cum', 'calendar_days', ['calendar', 'cum'], unique=False)
    op.create_table('sweep_runs',
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('host', sa.String(length=100), nullable=False),
    sa.Column('summary', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.PrimaryKeyConstraint('business_date', 'kind', name=op.f('pk_sweep_runs'))
    )
    op.create_table('case_flags',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('level', sa.String(length=32), nullable=False),
    sa.Column('clock', sa.String(length=32), nullable=True),
    sa.Column('anchor_on', sa.Date(), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('cleared_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_flags_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_flags')),
    sa.UniqueConstraint('case_id', 'name', 'anchor_on', name='uq_case_flags_crossing')
    )
    with op.batch_alter_table('case_flags', schema=None) as batch_op:
        batch_op.create_index('ix_case_flags_case', ['case_id'], unique=False)
        batch_op.create_index('ix_case_flags_raised', ['name', 'cleared_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_flags', schema=None) as batch_op:
        batch_op.drop_index('ix_case_flags_raised')
        batch_op.drop_index('ix_case_flags_case')

    op.drop_table('case_flags')
    op.drop_table('sweep_runs')
    op.drop_index('ix_calendar_days_cum', table_name='calendar_days')
    op.drop_table('calendar_days')
