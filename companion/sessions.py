"""Session store: conversations and their messages, in SQLAlchemy 2.0 (SQLite or PostgreSQL).

One SQLAlchemy code path serves both back ends; the URL decides
(``settings.effective_database_url``): a SQLite file in ``data_dir`` by
default, ``postgresql+psycopg://user:pass@host/db`` past one machine.

Tables::

    sessions(id, owner, created_at, updated_at)
    messages(id autoincrement, session_id -> sessions.id, seq, role, content,
             context, level, sources_json, created_at, UNIQUE(session_id, seq))

``owner`` is an opaque hash (an API key id or an anonymous widget token,
hashed by the caller; see :mod:`companion.api.auth`). A session read or
deleted with another owner behaves as if it did not exist.

Guarantees:

* a turn (user message + assistant reply) is written in one transaction:
  both messages or neither;
* concurrent turns on one session never lose or interleave messages: an
  in-process lock per session (one writer lock for SQLite, which has a single
  writer anyway), ``SELECT … FOR UPDATE`` on the session row in PostgreSQL, and
  the ``UNIQUE(session_id, seq)`` constraint with retry across processes;
* any database error becomes :class:`StoreUnavailable` after the transaction
  is rolled back, so data written earlier is never touched; error texts never
  carry SQL parameters (``hide_parameters=True``: they hold health data);
* with ``encryption_key`` (a Fernet key) the ``content`` and ``context``
  columns are encrypted at rest (AES-128-CBC + HMAC-SHA256, the Fernet spec);
  rows written before encryption was enabled stay readable.

Retention: :meth:`SessionStore.purge` deletes sessions not updated for
``retention_days`` (``companion sessions purge``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.types import TypeDecorator

__all__ = [
    "SessionStore",
    "StoreUnavailable",
    "SessionNotFound",
    "NewMessage",
    "StoredMessage",
    "SessionRecord",
    "metadata",
    "new_session_id",
]

log = logging.getLogger(__name__)

_ENC_PREFIX = "enc:v1:"
_MAX_ATTEMPTS = 6


class StoreUnavailable(RuntimeError):
    """The session store cannot be reached or used. ``str(err)`` is safe to show
    (no SQL parameters, no message text) and says what failed."""


class SessionNotFound(LookupError):
    """No such session for this owner (also raised for another owner's session)."""


def new_session_id() -> str:
    """A fresh random session id (32 hex characters, 122 random bits)."""
    return uuid.uuid4().hex


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class _UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every back end (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        value = value.astimezone(dt.timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)


#: Shared metadata (the API key table of :mod:`companion.keys` lives here too).
metadata = MetaData()

sessions_table = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(80), nullable=False, index=True),
    Column("created_at", _UTCDateTime(), nullable=False),
    Column("updated_at", _UTCDateTime(), nullable=False, index=True),
)

messages_table = Table(
    "messages",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("session_id", String(64), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("context", Text, nullable=True),
    Column("level", String(16), nullable=True),
    Column("sources_json", Text, nullable=True),
    Column("created_at", _UTCDateTime(), nullable=False),
    UniqueConstraint("session_id", "seq", name="uq_messages_session_seq"),
)


@dataclass(frozen=True)
class NewMessage:
    """A message to append. ``role``: ``user`` | ``assistant``; ``context``: the
    turn's ``Reply.context`` (user messages); ``level``: safety level value;
    ``sources``: ``Source.to_dict()`` items (assistant messages)."""

    role: str
    content: str
    context: str | None = None
    level: str | None = None
    sources: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class StoredMessage:
    """A message as stored (decrypted). ``seq`` is 1-based and gapless per session."""

    seq: int
    role: str
    content: str
    context: str | None
    level: str | None
    sources: list[dict[str, Any]]
    created_at: dt.datetime

    def as_history(self) -> dict[str, Any]:
        """The pipeline's history item: ``{"role", "content", "context"}``."""
        return {"role": self.role, "content": self.content, "context": self.context}

    def to_dict(self) -> dict[str, Any]:
        """Public JSON shape (without ``context``, an internal prompt block)."""
        return {
            "seq": self.seq,
            "role": self.role,
            "content": self.content,
            "level": self.level,
            "sources": self.sources,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(frozen=True)
class SessionRecord:
    """A session with its messages, oldest first."""

    id: str
    owner: str
    created_at: dt.datetime
    updated_at: dt.datetime
    messages: list[StoredMessage] = field(default_factory=list)


class _Cipher:
    """Fernet encryption of text columns (``None`` key = plain text)."""

    def __init__(self, key: str | None):
        self._fernet = None
        if key:
            from cryptography.fernet import Fernet

            try:
                self._fernet = Fernet(key.encode() if isinstance(key, str) else key)
            except (ValueError, TypeError) as exc:
                raise ValueError(
                    "COMPANION_ENCRYPTION_KEY is not a valid Fernet key (32 url-safe base64-encoded "
                    "bytes). Make one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'"
                ) from exc

    @property
    def enabled(self) -> bool:
        return self._fernet is not None

    def seal(self, value: str | None) -> str | None:
        if value is None or self._fernet is None:
            return value
        return _ENC_PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def open(self, value: str | None) -> str | None:
        if value is None or not value.startswith(_ENC_PREFIX):
            return value
        if self._fernet is None:
            raise StoreUnavailable(
                "session store unavailable: stored messages are encrypted but no encryption key "
                "is configured (set COMPANION_ENCRYPTION_KEY to the key they were written with)."
            )
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.decrypt(value[len(_ENC_PREFIX) :].encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise StoreUnavailable(
                "session store unavailable: stored messages cannot be decrypted with the configured "
                "COMPANION_ENCRYPTION_KEY (wrong or rotated key)."
            ) from exc


def _describe_db_error(exc: BaseException) -> str:
    """A short, parameter-free reason for an exception (safe to log and show)."""
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    if isinstance(exc, OperationalError) and first and "[SQL" not in first:
        return f"{type(orig).__name__}: {first[:200]}"
    return type(orig).__name__


def _is_unique_violation(exc: IntegrityError) -> bool:
    text_ = str(getattr(exc, "orig", exc)).lower()
    return "unique" in text_ or "duplicate key" in text_


def _is_busy(exc: OperationalError) -> bool:
    return "locked" in str(getattr(exc, "orig", exc)).lower() or "busy" in str(getattr(exc, "orig", exc)).lower()


class SessionStore:
    """Conversations in a SQL database (see the module docstring).

    Args:
        url: SQLAlchemy URL (``sqlite:///path.sqlite3``, ``postgresql+psycopg://…``).
        encryption_key: Fernet key; when given, message text is encrypted at rest.
        retention_days: default age for :meth:`purge` (days since last update).
        sqlite_timeout_s: how long a SQLite writer waits for a lock (seconds).
        connect_timeout_s: PostgreSQL connection timeout (seconds).

    The constructor does not connect: the schema is created on first use, so
    an API can start (and report "not ready") while the database is down.

    Raises:
        ValueError: ``encryption_key`` is not a Fernet key.
    """

    def __init__(
        self,
        url: str,
        *,
        encryption_key: str | None = None,
        retention_days: int = 30,
        sqlite_timeout_s: float = 15.0,
        connect_timeout_s: float = 5.0,
    ):
        self.url = url
        self.retention_days = retention_days
        self._cipher = _Cipher(encryption_key)
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {"hide_parameters": True, "future": True}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": sqlite_timeout_s}
        else:
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20, pool_timeout=connect_timeout_s)
            if self.dialect == "postgresql":
                kwargs["connect_args"] = {"connect_timeout": max(1, int(connect_timeout_s))}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._schema_ready = False
        self._schema_lock = threading.Lock()
        self._global_write_lock = threading.Lock()  # SQLite: one writer at a time
        self._locks: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
        self._locks_guard = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Any) -> SessionStore:
        """The store named by ``settings.effective_database_url`` (+ encryption, retention)."""
        key = settings.encryption_key.get_secret_value() if settings.encryption_key else None
        return cls(settings.effective_database_url, encryption_key=key, retention_days=settings.retention_days)

    @property
    def encrypted(self) -> bool:
        """True when new message text is encrypted at rest."""
        return self._cipher.enabled

    @property
    def safe_url(self) -> str:
        """The URL with any password masked (for status output)."""
        return make_url(self.url).render_as_string(hide_password=True)

    # -- plumbing -----------------------------------------------------------------
    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except (StoreUnavailable, SessionNotFound):
            raise
        except SQLAlchemyError as exc:
            reason = _describe_db_error(exc)
            log.error("session store error during %s: %s", what, reason)
            raise StoreUnavailable(f"session store unavailable ({what} failed: {reason}).") from None

    def ensure_schema(self) -> None:
        """Create the tables if missing (idempotent; retried on the next call after a failure).

        Raises:
            StoreUnavailable: the database cannot be reached.
        """
        if self._schema_ready:
            return
        with self._schema_lock, self._errors("schema setup"):
            if not self._schema_ready:
                import companion.keys  # noqa: F401  (registers the api_keys table)

                metadata.create_all(self.engine, checkfirst=True)
                self._schema_ready = True

    def ping(self) -> None:
        """Check the database answers (and the schema exists).

        Raises:
            StoreUnavailable: with the reason.
        """
        self.ensure_schema()
        with self._errors("health check"), self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def _lock_for(self, session_id: str) -> threading.Lock:
        if self.dialect == "sqlite":
            return self._global_write_lock
        with self._locks_guard:
            lock = self._locks.get(session_id)
            if lock is None:
                lock = threading.Lock()
                self._locks[session_id] = lock
            return lock

    def _row_to_message(self, row: Any) -> StoredMessage:
        return StoredMessage(
            seq=row.seq,
            role=row.role,
            content=self._cipher.open(row.content) or "",
            context=self._cipher.open(row.context),
            level=row.level,
            sources=json.loads(row.sources_json) if row.sources_json else [],
            created_at=row.created_at,
        )

    # -- reads ----------------------------------------------------------------------
    def get(self, session_id: str, owner: str) -> SessionRecord | None:
        """The session with its messages, or ``None`` if missing or owned by someone else.

        Raises:
            StoreUnavailable: the database failed.
        """
        self.ensure_schema()
        with self._errors("read"), self.engine.connect() as conn:
            s = conn.execute(select(sessions_table).where(sessions_table.c.id == session_id)).first()
            if s is None or s.owner != owner:
                return None
            rows = conn.execute(
                select(messages_table)
                .where(messages_table.c.session_id == session_id)
                .order_by(messages_table.c.seq)
            ).all()
        return SessionRecord(
            id=s.id,
            owner=s.owner,
            created_at=s.created_at,
            updated_at=s.updated_at,
            messages=[self._row_to_message(r) for r in rows],
        )

    def history(self, session_id: str, owner: str) -> list[dict[str, Any]] | None:
        """Pipeline history (``{"role", "content", "context"}``, oldest first), or ``None``
        when the session does not exist for ``owner``.

        Raises:
            StoreUnavailable: the database failed.
        """
        record = self.get(session_id, owner)
        return None if record is None else [m.as_history() for m in record.messages]

    def count_sessions(self) -> int:
        """Number of stored sessions (all owners)."""
        self.ensure_schema()
        with self._errors("count"), self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(sessions_table)).scalar_one())

    # -- writes ---------------------------------------------------------------------
    def append(
        self,
        session_id: str,
        owner: str,
        messages: Sequence[NewMessage],
        *,
        create: bool = False,
    ) -> int:
        """Append ``messages`` to a session in one transaction; returns the first new ``seq``.

        Args:
            session_id: the session (see :func:`new_session_id`).
            owner: the owner hash; must match the stored one.
            messages: written in order with consecutive ``seq`` numbers.
            create: create the session for ``owner`` when it does not exist.

        Raises:
            SessionNotFound: missing (and not ``create``) or owned by someone else.
            StoreUnavailable: the database failed; nothing of this call was written.
        """
        self.ensure_schema()
        last_exc: BaseException | None = None
        with self._lock_for(session_id):
            for attempt in range(_MAX_ATTEMPTS):
                with self._errors("write"):
                    try:
                        return self._append_once(session_id, owner, messages, create)
                    except IntegrityError as exc:
                        if not _is_unique_violation(exc):
                            raise
                        last_exc = exc  # seq or id taken by another process: retry
                    except OperationalError as exc:
                        if not _is_busy(exc):
                            raise
                        last_exc = exc  # SQLite busy beyond its timeout: retry
                time.sleep(min(0.5, 0.01 * 2**attempt))
        reason = _describe_db_error(last_exc) if last_exc else "retries exhausted"
        log.error("session store write gave up after %d attempts: %s", _MAX_ATTEMPTS, reason)
        raise StoreUnavailable(f"session store unavailable (write kept conflicting: {reason}).")

    def _append_once(self, session_id: str, owner: str, messages: Sequence[NewMessage], create: bool) -> int:
        now = _utcnow()
        with self.engine.begin() as conn:
            q = select(sessions_table.c.owner).where(sessions_table.c.id == session_id)
            if self.dialect == "postgresql":
                q = q.with_for_update()
            row = conn.execute(q).first()
            if row is None:
                if not create:
                    raise SessionNotFound(session_id)
                conn.execute(insert(sessions_table).values(id=session_id, owner=owner, created_at=now, updated_at=now))
            elif row.owner != owner:
                raise SessionNotFound(session_id)
            else:
                conn.execute(update(sessions_table).where(sessions_table.c.id == session_id).values(updated_at=now))
            last = conn.execute(
                select(func.coalesce(func.max(messages_table.c.seq), 0)).where(
                    messages_table.c.session_id == session_id
                )
            ).scalar_one()
            first = int(last) + 1
            if messages:
                conn.execute(
                    insert(messages_table),
                    [
                        {
                            "session_id": session_id,
                            "seq": first + i,
                            "role": m.role,
                            "content": self._cipher.seal(m.content),
                            "context": self._cipher.seal(m.context),
                            "level": m.level,
                            "sources_json": json.dumps(m.sources, ensure_ascii=False) if m.sources else None,
                            "created_at": now,
                        }
                        for i, m in enumerate(messages)
                    ],
                )
        return first

    def delete(self, session_id: str, owner: str) -> bool:
        """Erase a session and all its messages. Returns ``False`` when there was
        no such session for ``owner`` (nothing is touched then).

        Raises:
            StoreUnavailable: the database failed (nothing was deleted).
        """
        self.ensure_schema()
        with self._lock_for(session_id), self._errors("delete"), self.engine.begin() as conn:
            row = conn.execute(select(sessions_table.c.owner).where(sessions_table.c.id == session_id)).first()
            if row is None or row.owner != owner:
                return False
            conn.execute(delete(messages_table).where(messages_table.c.session_id == session_id))
            conn.execute(delete(sessions_table).where(sessions_table.c.id == session_id))
        self._scrub()
        return True

    def _scrub(self) -> None:
        """Push deletions out of SQLite's write-ahead log so erased text is not left on disk.

        ``secure_delete`` (set on every connection) zeroes freed pages; the
        checkpoint copies them into the database file and truncates the WAL.
        A failure here is logged, never raised: the delete itself succeeded.
        """
        if self.dialect != "sqlite":
            return
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception as exc:  # noqa: BLE001 - best effort after a committed delete
            log.warning("could not checkpoint the session store after a delete (%s)", type(exc).__name__)

    def purge(self, older_than_days: float | None = None, *, now: dt.datetime | None = None) -> int:
        """Delete sessions not updated for ``older_than_days`` (default ``retention_days``).

        Returns:
            the number of sessions deleted (their messages go with them).

        Raises:
            StoreUnavailable: the database failed (nothing was deleted).
        """
        self.ensure_schema()
        days = self.retention_days if older_than_days is None else older_than_days
        cutoff = (now or _utcnow()) - dt.timedelta(days=days)
        lock = self._global_write_lock if self.dialect == "sqlite" else threading.Lock()
        with lock, self._errors("purge"), self.engine.begin() as conn:
            old = select(sessions_table.c.id).where(sessions_table.c.updated_at < cutoff)
            conn.execute(delete(messages_table).where(messages_table.c.session_id.in_(old)))
            result = conn.execute(delete(sessions_table).where(sessions_table.c.updated_at < cutoff))
        self._scrub()
        count = int(result.rowcount or 0)
        log.info("purged %d session(s) older than %s days", count, days)
        return count

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA secure_delete=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()
