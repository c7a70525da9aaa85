"""Alembic environment: runs on SQLite (batch mode) and PostgreSQL.

The URL is taken from the config's ``sqlalchemy.url`` (set by the caller) or EXAM_DATABASE_URL.
"""

import os

from alembic import context
from sqlalchemy import create_engine

from models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or os.environ.get("EXAM_DATABASE_URL", "sqlite:///./var/exam.db")
is_sqlite = url.startswith("sqlite")
# Indexes created by hand in migrations for one dialect only (not in the ORM metadata).
DIALECT_ONLY_INDEXES = {"ix_items_search_trgm"}


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "index" and name in DIALECT_ONLY_INDEXES)


def run_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=is_sqlite,
                      include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = create_engine(url)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=is_sqlite,
                      include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
