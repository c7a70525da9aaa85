"""per-candidate variants

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('variant_seed', sa.BigInteger(), server_default='0', nullable=False))

    with op.batch_alter_table('exams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shuffle_items', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('shuffle_options', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('exams', schema=None) as batch_op:
        batch_op.drop_column('shuffle_options')
        batch_op.drop_column('shuffle_items')

    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_column('variant_seed')
