"""order history: past order lines per customer (master data)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'md_order_history',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('customer_id', sa.String(length=64), nullable=False),
        sa.Column('sku', sa.String(length=64), nullable=False),
        sa.Column('quantity', sa.Float(), nullable=False),
        sa.Column('order_date', sa.Date(), nullable=True),
        sa.Column('attributes', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('md_order_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_md_order_history_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('md_order_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_md_order_history_customer_id'))
    op.drop_table('md_order_history')
