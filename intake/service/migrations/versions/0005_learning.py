"""learning: labelled examples (a corrected order aligned onto its document's words)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 16:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'labelled_examples',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('document_sha256', sa.String(length=64), nullable=False),
        sa.Column('filename', sa.String(length=512), nullable=True),
        sa.Column('document_index', sa.Integer(), nullable=False),
        sa.Column('customer_id', sa.String(length=128), nullable=True),
        sa.Column('model_version', sa.String(length=128), nullable=True),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=128), nullable=False),
        sa.Column('truth', sa.JSON(), nullable=False),
        sa.Column('example', sa.JSON(), nullable=False),
        sa.Column('values_total', sa.Integer(), nullable=False),
        sa.Column('values_found', sa.Integer(), nullable=False),
        sa.Column('training_example_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_in_model', sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(['training_example_id'], ['training_examples.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('training_example_id'),
    )
    with op.batch_alter_table('labelled_examples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_labelled_examples_document_sha256'), ['document_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_labelled_examples_customer_id'), ['customer_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('labelled_examples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_labelled_examples_customer_id'))
        batch_op.drop_index(batch_op.f('ix_labelled_examples_document_sha256'))
    op.drop_table('labelled_examples')
