"""district exams: organisation tree, sites and rooms, forms, sittings, seats and admission numbers

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('districts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_districts')),
    sa.UniqueConstraint('code', name=op.f('uq_districts_code')),
    sa.UniqueConstraint('name', name=op.f('uq_districts_name'))
    )
    op.create_table('grades',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('entry_year', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_grades_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grades')),
    sa.UniqueConstraint('school_id', 'name', name=op.f('uq_grades_school_id'))
    )
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grades_school_id'), ['school_id'], unique=False)

    op.create_table('sites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('school_id', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['school_id'], ['schools.id'], name=op.f('fk_sites_school_id_schools')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('code', name=op.f('uq_sites_code'))
    )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sites_school_id'), ['school_id'], unique=False)

    op.create_table('rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('cols', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_rooms_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms')),
    sa.UniqueConstraint('site_id', 'code', name=op.f('uq_rooms_site_id'))
    )
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rooms_site_id'), ['site_id'], unique=False)

    op.create_table('teacher_assignments',
    sa.Column('teacher_id', sa.Integer(), nullable=False),
    sa.Column('class_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['class_id'], ['school_classes.id'], name=op.f('fk_teacher_assignments_class_id_school_classes')),
    sa.ForeignKeyConstraint(['teacher_id'], ['users.id'], name=op.f('fk_teacher_assignments_teacher_id_users')),
    sa.PrimaryKeyConstraint('teacher_id', 'class_id', 'subject', name=op.f('pk_teacher_assignments'))
    )
    with op.batch_alter_table('teacher_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teacher_assignments_class_id'), ['class_id'], unique=False)

    op.create_table('exam_forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=10), nullable=False),
    sa.Column('paper_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_exam_forms_exam_id_exams')),
    sa.ForeignKeyConstraint(['paper_id'], ['papers.id'], name=op.f('fk_exam_forms_paper_id_papers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_forms')),
    sa.UniqueConstraint('exam_id', 'label', name=op.f('uq_exam_forms_exam_id'))
    )
    with op.batch_alter_table('exam_forms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_forms_exam_id'), ['exam_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_forms_paper_id'), ['paper_id'], unique=False)

    op.create_table('exam_sittings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_makeup', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_exam_sittings_exam_id_exams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_sittings')),
    sa.UniqueConstraint('exam_id', 'name', name=op.f('uq_exam_sittings_exam_id'))
    )
    with op.batch_alter_table('exam_sittings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_sittings_exam_id'), ['exam_id'], unique=False)

    op.create_table('exam_rooms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('sitting_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('form_label', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_exam_rooms_exam_id_exams')),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_exam_rooms_room_id_rooms')),
    sa.ForeignKeyConstraint(['sitting_id'], ['exam_sittings.id'], name=op.f('fk_exam_rooms_sitting_id_exam_sittings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_rooms')),
    sa.UniqueConstraint('sitting_id', 'room_id', name=op.f('uq_exam_rooms_sitting_id'))
    )
    with op.batch_alter_table('exam_rooms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_rooms_exam_id'), ['exam_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_rooms_room_id'), ['room_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_rooms_sitting_id'), ['sitting_id'], unique=False)

    with op.batch_alter_table('exam_candidates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('class_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sitting_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('exam_room_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seat_no', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('form_label', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('admission_no', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('absent', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('accommodations', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_exam_candidates_admission_no'), ['admission_no'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_candidates_class_id'), ['class_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_candidates_exam_room_id'), ['exam_room_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_candidates_sitting_id'), ['sitting_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_exam_candidates_exam_id'), ['exam_id', 'admission_no'])
        batch_op.create_foreign_key(batch_op.f('fk_exam_candidates_sitting_id_exam_sittings'), 'exam_sittings', ['sitting_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_exam_candidates_exam_room_id_exam_rooms'), 'exam_rooms', ['exam_room_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_exam_candidates_class_id_school_classes'), 'school_classes', ['class_id'], ['id'])

    with op.batch_alter_table('exam_staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exam_room_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_exam_staff_exam_room_id'), ['exam_room_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_exam_staff_exam_room_id_exam_rooms'), 'exam_rooms', ['exam_room_id'], ['id'])

    with op.batch_alter_table('exams', schema=None) as batch_op:
        batch_op.add_column(sa.Column('admission_scheme', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('admission_published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('seat_seed', sa.BigInteger(), server_default='0', nullable=False))

    with op.batch_alter_table('school_classes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grade_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_school_classes_grade_id'), ['grade_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_school_classes_grade_id_grades'), 'grades', ['grade_id'], ['id'])

    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.add_column(sa.Column('district_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('code', sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_schools_district_id'), ['district_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_schools_code'), ['code'])
        batch_op.create_foreign_key(batch_op.f('fk_schools_district_id_districts'), 'districts', ['district_id'], ['id'])

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('student_number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('gender', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('photo_sha256', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_users_school_id'), ['school_id', 'student_number'])

    # Rosters copied before this remember the class the exam was for.
    op.execute("UPDATE exam_candidates SET class_id = "
               "(SELECT exams.class_id FROM exams WHERE exams.id = exam_candidates.exam_id)")


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_school_id'), type_='unique')
        batch_op.drop_column('photo_sha256')
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('gender')
        batch_op.drop_column('student_number')

    with op.batch_alter_table('schools', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_schools_district_id_districts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_schools_code'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_schools_district_id'))
        batch_op.drop_column('code')
        batch_op.drop_column('district_id')

    with op.batch_alter_table('school_classes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_school_classes_grade_id_grades'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_school_classes_grade_id'))
        batch_op.drop_column('grade_id')

    with op.batch_alter_table('exams', schema=None) as batch_op:
        batch_op.drop_column('seat_seed')
        batch_op.drop_column('admission_published_at')
        batch_op.drop_column('admission_scheme')

    with op.batch_alter_table('exam_staff', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_exam_staff_exam_room_id_exam_rooms'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_exam_staff_exam_room_id'))
        batch_op.drop_column('exam_room_id')

    with op.batch_alter_table('exam_candidates', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_exam_candidates_class_id_school_classes'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_exam_candidates_exam_room_id_exam_rooms'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_exam_candidates_sitting_id_exam_sittings'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_exam_candidates_exam_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_exam_candidates_sitting_id'))
        batch_op.drop_index(batch_op.f('ix_exam_candidates_exam_room_id'))
        batch_op.drop_index(batch_op.f('ix_exam_candidates_class_id'))
        batch_op.drop_index(batch_op.f('ix_exam_candidates_admission_no'))
        batch_op.drop_column('accommodations')
        batch_op.drop_column('absent')
        batch_op.drop_column('admission_no')
        batch_op.drop_column('form_label')
        batch_op.drop_column('seat_no')
        batch_op.drop_column('exam_room_id')
        batch_op.drop_column('sitting_id')
        batch_op.drop_column('class_id')

    with op.batch_alter_table('exam_rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_rooms_sitting_id'))
        batch_op.drop_index(batch_op.f('ix_exam_rooms_room_id'))
        batch_op.drop_index(batch_op.f('ix_exam_rooms_exam_id'))

    op.drop_table('exam_rooms')
    with op.batch_alter_table('exam_sittings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_sittings_exam_id'))

    op.drop_table('exam_sittings')
    with op.batch_alter_table('exam_forms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_forms_paper_id'))
        batch_op.drop_index(batch_op.f('ix_exam_forms_exam_id'))

    op.drop_table('exam_forms')
    with op.batch_alter_table('teacher_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teacher_assignments_class_id'))

    op.drop_table('teacher_assignments')
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rooms_site_id'))

    op.drop_table('rooms')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sites_school_id'))

    op.drop_table('sites')
    with op.batch_alter_table('grades', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grades_school_id'))

    op.drop_table('grades')
    op.drop_table('districts')
