"""notify waiting job workers when jobs are queued (issue 5)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 17:30:00.000000

PostgreSQL only (adapters/db/wakeups.py): a statement that inserts jobs, and a requeue of a dead
job, send ``NOTIFY complaints_jobs``, delivered at commit, so an idle worker starts at once
instead of at its next poll. One notification per statement (the sweep's tens of thousands of
jobs send one), and PostgreSQL folds repeats within a transaction into one. SQLite has no
other process to wake: nothing to do there.
"""

from __future__ import annotations

from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(
        """
        CREATE FUNCTION complaints_jobs_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('complaints_jobs', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER jobs_queued_notify AFTER INSERT ON jobs
        FOR EACH STATEMENT EXECUTE FUNCTION complaints_jobs_notify()
        """
    )
    op.execute(
        """
        CREATE TRIGGER jobs_requeued_notify AFTER UPDATE OF status ON jobs
        FOR EACH ROW WHEN (NEW.status = 'queued' AND OLD.status = 'dead')
        EXECUTE FUNCTION complaints_jobs_notify()
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP TRIGGER jobs_requeued_notify ON jobs')
    op.execute('DROP TRIGGER jobs_queued_notify ON jobs')
    op.execute('DROP FUNCTION complaints_jobs_notify()')
