"""item bank: versions, knowledge points, enemy sets, usage, statistics

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_INDEX = "ix_items_search_trgm"  # PostgreSQL only; autogenerate ignores it (see env.py)


def upgrade() -> None:

    op.create_table('knowledge_points',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['knowledge_points.id'], name=op.f('fk_knowledge_points_parent_id_knowledge_points')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_knowledge_points')),
    sa.UniqueConstraint('parent_id', 'name', name=op.f('uq_knowledge_points_parent_id'))
    )
    with op.batch_alter_table('knowledge_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_points_parent_id'), ['parent_id'], unique=False)

    op.create_table('enemy_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_enemy_sets_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enemy_sets'))
    )
    op.create_table('enemy_set_members',
    sa.Column('enemy_set_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['enemy_set_id'], ['enemy_sets.id'], name=op.f('fk_enemy_set_members_enemy_set_id_enemy_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('enemy_set_id', 'family_id', name=op.f('pk_enemy_set_members'))
    )
    with op.batch_alter_table('enemy_set_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enemy_set_members_family_id'), ['family_id'], unique=False)

    op.create_table('item_knowledge_points',
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('knowledge_point_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_knowledge_points_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['knowledge_point_id'], ['knowledge_points.id'], name=op.f('fk_item_knowledge_points_knowledge_point_id_knowledge_points')),
    sa.PrimaryKeyConstraint('item_id', 'knowledge_point_id', name=op.f('pk_item_knowledge_points'))
    )
    with op.batch_alter_table('item_knowledge_points', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_knowledge_points_knowledge_point_id'), ['knowledge_point_id'], unique=False)

    op.create_table('item_usages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('family_id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['school_classes.id'], name=op.f('fk_item_usages_class_id_school_classes')),
    sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_item_usages_exam_id_exams')),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_usages_item_id_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_usages')),
    sa.UniqueConstraint('item_id', 'exam_id', name=op.f('uq_item_usages_item_id'))
    )
    with op.batch_alter_table('item_usages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_usages_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_usages_exam_id'), ['exam_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_usages_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_usages_item_id'), ['item_id'], unique=False)

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('family_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('is_latest', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('title', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('tags', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('source', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('default_points', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('time_seconds', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('difficulty_estimate', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('p_value', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('point_biserial', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('classical_n', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('irt_a', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('irt_b', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('irt_c', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('irt_n', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('exposure_count', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('media', sa.JSON(), server_default='[]', nullable=False))
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_items_external_id'), ['external_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_is_latest'), ['is_latest'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_status'), ['status'], unique=False)

    # Existing items start their own version family; search text is backfilled from the stem.
    op.execute("UPDATE items SET family_id = id WHERE family_id IS NULL")
    op.execute("UPDATE items SET search_text = lower(stem)")
    if op.get_bind().dialect.name == "postgresql":
        # Substring search (Chinese has no word breaks) served by a trigram index.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX {SEARCH_INDEX} ON items USING gin (search_text gin_trgm_ops)")



def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {SEARCH_INDEX}")

    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_items_status'))
        batch_op.drop_index(batch_op.f('ix_items_is_latest'))
        batch_op.drop_index(batch_op.f('ix_items_family_id'))
        batch_op.drop_index(batch_op.f('ix_items_external_id'))
        batch_op.drop_column('updated_at')
        batch_op.drop_column('search_text')
        batch_op.drop_column('media')
        batch_op.drop_column('exposure_count')
        batch_op.drop_column('irt_n')
        batch_op.drop_column('irt_c')
        batch_op.drop_column('irt_b')
        batch_op.drop_column('irt_a')
        batch_op.drop_column('classical_n')
        batch_op.drop_column('point_biserial')
        batch_op.drop_column('p_value')
        batch_op.drop_column('difficulty_estimate')
        batch_op.drop_column('time_seconds')
        batch_op.drop_column('default_points')
        batch_op.drop_column('external_id')
        batch_op.drop_column('source')
        batch_op.drop_column('tags')
        batch_op.drop_column('title')
        batch_op.drop_column('is_latest')
        batch_op.drop_column('family_id')

    with op.batch_alter_table('item_usages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_usages_item_id'))
        batch_op.drop_index(batch_op.f('ix_item_usages_family_id'))
        batch_op.drop_index(batch_op.f('ix_item_usages_exam_id'))
        batch_op.drop_index(batch_op.f('ix_item_usages_class_id'))

    op.drop_table('item_usages')
    with op.batch_alter_table('item_knowledge_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_knowledge_points_knowledge_point_id'))

    op.drop_table('item_knowledge_points')
    with op.batch_alter_table('enemy_set_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enemy_set_members_family_id'))

    op.drop_table('enemy_set_members')
    op.drop_table('enemy_sets')
    with op.batch_alter_table('knowledge_points', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_points_parent_id'))

    op.drop_table('knowledge_points')

