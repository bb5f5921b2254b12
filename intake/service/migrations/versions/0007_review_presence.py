"""review presence: who has an order open in the review UI

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'review_presence',
        sa.Column('order_id', sa.String(length=36), nullable=False),
        sa.Column('user_name', sa.String(length=128), nullable=False),
        sa.Column('since', sa.DateTime(timezone=True), nullable=False),
        sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.PrimaryKeyConstraint('order_id', 'user_name'),
    )
    with op.batch_alter_table('review_presence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_presence_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('review_presence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_presence_seen_at'))
    op.drop_table('review_presence')
