"""channels: IMAP/scan cursors, seen mail, mail attachments, outgoing mail (connectors/models.py)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 16:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        'channel_state',
        sa.Column('key', sa.String(length=512), nullable=False),
        sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
        sa.Column('last_uid', sa.BigInteger(), nullable=False),
        sa.Column('updated_at', TS, nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_table(
        'mail_seen',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('mailbox', sa.String(length=512), nullable=False),
        sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
        sa.Column('uid', sa.BigInteger(), nullable=False),
        sa.Column('rfc822_message_id', sa.String(length=998), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('message_id', sa.String(length=36), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('seen_at', TS, nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('mailbox', 'uidvalidity', 'uid', name='uq_mail_seen_uid'),
    )
    with op.batch_alter_table('mail_seen', schema=None) as batch_op:
        batch_op.create_index('ix_mail_seen_rfc822_message_id', ['rfc822_message_id'], unique=False)
        batch_op.create_index('ix_mail_seen_sha256', ['sha256'], unique=False)
        batch_op.create_index('ix_mail_seen_message_id', ['message_id'], unique=False)

    op.create_table(
        'mail_attachments',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('message_id', sa.String(length=36), nullable=False),
        sa.Column('filename', sa.String(length=512), nullable=True),
        sa.ForeignKeyConstraint(['message_id'], ['messages.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('mail_attachments', schema=None) as batch_op:
        batch_op.create_index('ix_mail_attachments_sha256', ['sha256'], unique=False)
        batch_op.create_index('ix_mail_attachments_message_id', ['message_id'], unique=False)

    op.create_table(
        'mail_outgoing',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('order_id', sa.String(length=36), nullable=True),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('dedupe_key', sa.String(length=128), nullable=False),
        sa.Column('to_addr', sa.String(length=512), nullable=False),
        sa.Column('subject', sa.Text(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('rfc822_message_id', sa.String(length=998), nullable=False),
        sa.Column('in_reply_to', sa.String(length=998), nullable=True),
        sa.Column('references', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('next_attempt_at', TS, nullable=False),
        sa.Column('created_at', TS, nullable=False),
        sa.Column('sent_at', TS, nullable=True),
        sa.ForeignKeyConstraint(['order_id'], ['orders.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dedupe_key'),
        sa.UniqueConstraint('rfc822_message_id'),
    )
    with op.batch_alter_table('mail_outgoing', schema=None) as batch_op:
        batch_op.create_index('ix_mail_outgoing_order_id', ['order_id'], unique=False)
        batch_op.create_index('ix_mail_outgoing_status', ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('mail_outgoing')
    op.drop_table('mail_attachments')
    op.drop_table('mail_seen')
    op.drop_table('channel_state')
