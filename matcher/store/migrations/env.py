"""Alembic environment of the store: every table of :mod:`matcher.store` is on one metadata.

Run through :func:`matcher.store.schema.upgrade` (``matcher db upgrade`` and every start), which
passes a connection already inside a write transaction (the store's write lock held). Given only
a URL (``sqlalchemy.url``), it opens the store's engine itself.
"""

from __future__ import annotations

from alembic import context

from matcher.store.models import metadata

config = context.config


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata(),
        # SQLite cannot ALTER most things: generated revisions copy and swap the table.
        render_as_batch=True,
        compare_type=True,
    )


def run() -> None:
    if context.is_offline_mode():
        raise SystemExit("The store's migrations run against a database, not as an SQL script: "
                         "use `matcher db upgrade`.")
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from matcher.store.base import open_engine

    engine = open_engine(config.get_main_option("sqlalchemy.url"))
    try:
        with engine.connect() as conn:
            conn.execution_options(matcher_write=True)
            with conn.begin():
                _configure(conn)
                with context.begin_transaction():
                    context.run_migrations()
    finally:
        engine.dispose()


run()
