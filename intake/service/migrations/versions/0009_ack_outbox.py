"""EDI acknowledgments through the outbox: ``outbound_documents`` keeps each acknowledgment's
bytes and whether the relay has written its file yet (``pending`` | ``written``).

Acknowledgments made before this migration were written at once: they are ``written``.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 19:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbound_documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=16), nullable=False, server_default='written'))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('written_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbound_documents_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('outbound_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbound_documents_status'))
        batch_op.drop_column('written_at')
        batch_op.drop_column('last_error')
        batch_op.drop_column('attempts')
        batch_op.drop_column('status')
        batch_op.drop_column('content')
