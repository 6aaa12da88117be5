"""The database: SQLite file by default, any SQLAlchemy URL (PostgreSQL for a team).

``open_database`` brings the schema up to date with the shipped Alembic migrations,
so a new file or an empty PostgreSQL database is ready to use.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from importlib import resources
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

from pool.errors import OtosError
from pool.private import secure_sqlite_file
from pool.i18n import _

DEFAULT_URL = "sqlite:///otos.db"
ENV_VAR = "OTOS_DATABASE_URL"


def database_url(given: str | None = None) -> str:
    """The URL to use: ``--db`` first, then ``OTOS_DATABASE_URL``, then ``otos.db`` here.

    A plain file path is taken as an SQLite file.
    """
    url = given or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    # secure_delete: erased personal data is overwritten, not left in free pages.
    cur.execute("PRAGMA secure_delete = ON")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute(f"PRAGMA busy_timeout = {BUSY_WAIT_MS}")
    cur.close()


BUSY_WAIT_MS = 30_000  # how long a writer waits for another Otos command's write to finish
BUSY = ("database is locked", "database table is locked", "database is busy")


def _busy_is_a_message(context) -> None:
    """A database still busy after the wait is a message the user can act on, not an
    unexpected error (SQLAlchemy's handle_error: raising here replaces the error)."""
    orig = context.original_exception
    if any(b in str(orig).lower() for b in BUSY):
        raise OtosError(_("Another Otos command is writing to this database; nothing was saved by this one."),
                        hint=_("Try again when it finishes.")) from None


def make_engine(url: str) -> Engine:
    """An engine for ``url`` without touching the schema."""
    try:
        if url.startswith("sqlite"):
            memory = url in ("sqlite://", "sqlite:///:memory:")
            kwargs = {"poolclass": StaticPool} if memory else {}
            database = make_url(url).database
            if database and not memory and not database.startswith("file:"):
                secure_sqlite_file(database)  # owner-only before SQLite creates it 0644
            engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "handle_error", _busy_is_a_message)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise OtosError(
            _("Cannot use the database address {redact!r}: {exc}.").format(redact=redact(url), exc=exc),
            hint=_("Give an SQLite file path or a URL like postgresql://user@host/dbname."),
        ) from None
    return engine


def redact(url: str) -> str:
    """The URL with any password hidden, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        if ":" in cred:
            cred = cred.split(":", 1)[0] + ":***"
        return f"{scheme}://{cred}@{host}"
    return url


def migrate(engine: Engine) -> None:
    """Apply every shipped migration that the database lacks."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("pool") / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def reading(source: Engine | Session) -> Iterator[Session]:
    """A session to read with: the caller's own (inside its transaction) or a new one."""
    if isinstance(source, Session):
        yield source
    else:
        with Session(source) as session:
            yield session


def open_database(given: str | None = None) -> Engine:
    """Open (and create or upgrade) the workspace database."""
    url = database_url(given)
    engine = make_engine(url)
    try:
        migrate(engine)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else _("connection failed")
        raise OtosError(
            _("Cannot open the database {redact!r}: {reason}.").format(redact=redact(url), reason=reason),
            hint=_("Check the --db address or OTOS_DATABASE_URL, and that the server is running."),
        ) from None
    return engine


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back on any error. With
    ``write`` it holds the database's write lock from its start (``audit.take_write_lock``),
    so what it reads cannot change before it commits: every change to the workspace
    writes an audit entry and so waits for that lock."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            if write:
                from pool import audit

                audit.take_write_lock(session)
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
