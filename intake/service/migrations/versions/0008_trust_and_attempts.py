"""trust and hostile input: message identity and read attempts, API key scopes

Messages: the mail's From (``from_addr``), whether its domain was authenticated by the
receiving server (``sender_verified``, ``sender_auth``), the EDI partner the channel proves
(``trusted_partner``), and the read attempts/lease (with the process holding it) that end a
message that keeps stopping the process. API keys: ``scopes`` and an optional ``partner``. Keys made before this migration keep
every right they had (all four scopes); ``intake apikey list`` shows them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('from_addr', sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column('sender_verified', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('sender_auth', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('trusted_partner', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lease_owner', sa.String(length=128), nullable=True))
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scopes', sa.String(length=128), nullable=False,
                                      server_default='read,ingest,review,admin'))
        batch_op.add_column(sa.Column('partner', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_column('partner')
        batch_op.drop_column('scopes')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('lease_owner')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('attempts')
        batch_op.drop_column('trusted_partner')
        batch_op.drop_column('sender_auth')
        batch_op.drop_column('sender_verified')
        batch_op.drop_column('from_addr')
