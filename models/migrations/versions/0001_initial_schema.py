"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 12:31:16.530951
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('schools',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('district', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schools')),
    sa.UniqueConstraint('name', name=op.f('uq_schools_name'))
    )
    op.create_table('school_classes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_school_classes_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_school_classes')),
    sa.UniqueConstraint('school_id', 'name', name=op.f('uq_school_classes_school_id'))
    )
    with op.batch_alter_table('school_classes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_school_classes_school_id'), ['school_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_users_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_school_id'), ['school_id'], unique=False)

    op.create_table('class_memberships',
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['school_classes.id'], name=op.f('fk_class_memberships_class_id_school_classes')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_class_memberships_user_id_users')),
    sa.PrimaryKeyConstraint('class_id', 'user_id', name=op.f('pk_class_memberships'))
    )
    with op.batch_alter_table('class_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_memberships_user_id'), ['user_id'], unique=False)

    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=30), nullable=False),
    sa.Column('stem', sa.Text(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_items_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_items_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_type'), ['type'], unique=False)

    op.create_table('papers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_papers_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_papers'))
    )
    with op.batch_alter_table('papers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_papers_author_id'), ['author_id'], unique=False)

    op.create_table('refresh_tokens',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_refresh_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('jti', name=op.f('pk_refresh_tokens'))
    )
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_refresh_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('exams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('paper_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=True),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('results_released', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['school_classes.id'], name=op.f('fk_exams_class_id_school_classes')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_exams_created_by_users')),
    sa.ForeignKeyConstraint(['paper_id'], ['papers.id'], name=op.f('fk_exams_paper_id_papers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exams'))
    )
    with op.batch_alter_table('exams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exams_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exams_created_by'), ['created_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_exams_paper_id'), ['paper_id'], unique=False)

    op.create_table('paper_sections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('paper_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['paper_id'], ['papers.id'], name=op.f('fk_paper_sections_paper_id_papers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_sections')),
    sa.UniqueConstraint('paper_id', 'position', name=op.f('uq_paper_sections_paper_id'))
    )
    with op.batch_alter_table('paper_sections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_sections_paper_id'), ['paper_id'], unique=False)

    op.create_table('attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finish_reason', sa.String(length=20), nullable=True),
    sa.Column('score', sa.Numeric(precision=10, scale=4, asdecimal=False), nullable=True),
    sa.Column('max_score', sa.Numeric(precision=10, scale=4, asdecimal=False), nullable=False),
    sa.Column('needs_manual_grading', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_attempts_exam_id_exams')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attempts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempts')),
    sa.UniqueConstraint('exam_id', 'user_id', name=op.f('uq_attempts_exam_id'))
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attempts_deadline'), ['deadline'], unique=False)
        batch_op.create_index(batch_op.f('ix_attempts_exam_id'), ['exam_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attempts_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_attempts_user_id'), ['user_id'], unique=False)

    op.create_table('exam_candidates',
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('extra_minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_exam_candidates_exam_id_exams')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exam_candidates_user_id_users')),
    sa.PrimaryKeyConstraint('exam_id', 'user_id', name=op.f('pk_exam_candidates'))
    )
    with op.batch_alter_table('exam_candidates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_candidates_user_id'), ['user_id'], unique=False)

    op.create_table('paper_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('section_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Numeric(precision=8, scale=2, asdecimal=False), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_paper_slots_item_id_items')),
    sa.ForeignKeyConstraint(['section_id'], ['paper_sections.id'], name=op.f('fk_paper_slots_section_id_paper_sections')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_slots')),
    sa.UniqueConstraint('section_id', 'position', name=op.f('uq_paper_slots_section_id'))
    )
    with op.batch_alter_table('paper_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_paper_slots_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_paper_slots_section_id'), ['section_id'], unique=False)

    op.create_table('attempt_answers',
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('response', sa.JSON(), nullable=False),
    sa.Column('client_seq', sa.BigInteger(), nullable=False),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fraction', sa.Numeric(precision=8, scale=6, asdecimal=False), nullable=True),
    sa.Column('grading_state', sa.String(length=20), nullable=True),
    sa.Column('feedback', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_attempt_answers_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['slot_id'], ['paper_slots.id'], name=op.f('fk_attempt_answers_slot_id_paper_slots')),
    sa.PrimaryKeyConstraint('attempt_id', 'slot_id', name=op.f('pk_attempt_answers'))
    )
    op.create_table('attempt_steps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('client_seq', sa.BigInteger(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_attempt_steps_actor_id_users')),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_attempt_steps_attempt_id_attempts')),
    sa.ForeignKeyConstraint(['slot_id'], ['paper_slots.id'], name=op.f('fk_attempt_steps_slot_id_paper_slots')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempt_steps'))
    )
    with op.batch_alter_table('attempt_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attempt_steps_attempt_id'), ['attempt_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('attempt_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attempt_steps_attempt_id'))

    op.drop_table('attempt_steps')
    op.drop_table('attempt_answers')
    with op.batch_alter_table('paper_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_slots_section_id'))
        batch_op.drop_index(batch_op.f('ix_paper_slots_item_id'))

    op.drop_table('paper_slots')
    with op.batch_alter_table('exam_candidates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_candidates_user_id'))

    op.drop_table('exam_candidates')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attempts_user_id'))
        batch_op.drop_index(batch_op.f('ix_attempts_state'))
        batch_op.drop_index(batch_op.f('ix_attempts_exam_id'))
        batch_op.drop_index(batch_op.f('ix_attempts_deadline'))

    op.drop_table('attempts')
    with op.batch_alter_table('paper_sections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_paper_sections_paper_id'))

    op.drop_table('paper_sections')
    with op.batch_alter_table('exams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exams_paper_id'))
        batch_op.drop_index(batch_op.f('ix_exams_created_by'))
        batch_op.drop_index(batch_op.f('ix_exams_class_id'))

    op.drop_table('exams')
    with op.batch_alter_table('refresh_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_refresh_tokens_user_id'))

    op.drop_table('refresh_tokens')
    with op.batch_alter_table('papers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_papers_author_id'))

    op.drop_table('papers')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_type'))
        batch_op.drop_index(batch_op.f('ix_items_author_id'))

    op.drop_table('items')
    with op.batch_alter_table('class_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_memberships_user_id'))

    op.drop_table('class_memberships')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_school_id'))

    op.drop_table('users')
    with op.batch_alter_table('school_classes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_school_classes_school_id'))

    op.drop_table('school_classes')
    op.drop_table('schools')

