"""proctoring: the detection rules' state per session

Revision ID: 0014
Revises: 0012

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('proctor_rule_states',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['proctor_sessions.id'], name=op.f('fk_proctor_rule_states_session_id_proctor_sessions')),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_proctor_rule_states'))
    )


def downgrade() -> None:
    op.drop_table('proctor_rule_states')
