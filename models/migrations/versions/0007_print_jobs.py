"""print jobs: large print runs done by the worker, with progress and output files

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('print_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('group_by', sa.String(length=10), nullable=False),
    sa.Column('sitting_id', sa.Integer(), nullable=True),
    sa.Column('exam_room_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('output_dir', sa.String(length=500), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_print_jobs_exam_id_exams')),
    sa.ForeignKeyConstraint(['exam_room_id'], ['exam_rooms.id'], name=op.f('fk_print_jobs_exam_room_id_exam_rooms')),
    sa.ForeignKeyConstraint(['requested_by'], ['users.id'], name=op.f('fk_print_jobs_requested_by_users')),
    sa.ForeignKeyConstraint(['sitting_id'], ['exam_sittings.id'], name=op.f('fk_print_jobs_sitting_id_exam_sittings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_print_jobs'))
    )
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_print_jobs_exam_id'), ['exam_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_print_jobs_requested_by'), ['requested_by'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('print_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_print_jobs_requested_by'))
        batch_op.drop_index(batch_op.f('ix_print_jobs_exam_id'))
    op.drop_table('print_jobs')
