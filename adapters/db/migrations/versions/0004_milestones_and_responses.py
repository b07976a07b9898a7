"""milestones and responses for reports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 11:58:57.145344
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_milestones',
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=48), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_milestones_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'name', name=op.f('pk_case_milestones'))
    )
    with op.batch_alter_table('case_milestones', schema=None) as batch_op:
        batch_op.create_index('ix_case_milestones_name_date', ['name', 'business_date'], unique=False)

    op.create_table('case_responses',
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('stage', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=32), nullable=False),
    sa.Column('avoidable', sa.Boolean(), nullable=True),
    sa.Column('compensation_pence', sa.BigInteger(), nullable=False),
    sa.Column('responded_on', sa.Date(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_responses_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'stage', name=op.f('pk_case_responses'))
    )
    with op.batch_alter_table('case_responses', schema=None) as batch_op:
        batch_op.create_index('ix_case_responses_date', ['responded_on'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('case_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_case_responses_date')

    op.drop_table('case_responses')
    with op.batch_alter_table('case_milestones', schema=None) as batch_op:
        batch_op.drop_index('ix_case_milestones_name_date')

    op.drop_table('case_milestones')
