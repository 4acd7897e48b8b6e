"""API keys per clinic, stored hashed (``api_keys`` table, same database as sessions).

A key looks like ``gck_<id>_<secret>``: ``id`` is 12 hex characters, public
and used for lookup, logs and ``companion keys list``; ``secret`` is 32 random
bytes (url-safe base64). Only ``sha256(secret)`` is stored, so a leaked
database does not leak usable keys; the full key is shown once, at creation.

    ks = KeyStore(store.engine)
    created = ks.create("Clinic North")   # created.key is shown once
    ks.verify(created.key)                # -> ApiKeyInfo(id=..., name=...)
    ks.revoke(created.id)

Verification compares hashes in constant time (:func:`hmac.compare_digest`).
Successful look-ups are cached in-process for ``cache_ttl_s`` seconds (default
5 s), so a revocation from another process takes effect within that time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Column, String, Table, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from companion.sessions import StoreUnavailable, _describe_db_error, _UTCDateTime, metadata

__all__ = ["KeyStore", "ApiKeyInfo", "CreatedKey", "KEY_PREFIX", "owner_for_key", "api_keys_table"]

KEY_PREFIX = "gck"
_KEY_RE = re.compile(rf"^{KEY_PREFIX}_([0-9a-f]{{12}})_([A-Za-z0-9_\-]{{20,100}})$")

api_keys_table = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", _UTCDateTime(), nullable=False),
    Column("revoked_at", _UTCDateTime(), nullable=True),
)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def owner_for_key(key_id: str) -> str:
    """The session ``owner`` value for sessions created with API key ``key_id`` (hashed id)."""
    return "k:" + _sha256("api-key:" + key_id)[:40]


@dataclass(frozen=True)
class ApiKeyInfo:
    """A stored key without its secret. ``revoked_at`` is ``None`` while active."""

    id: str
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        """True unless revoked."""
        return self.revoked_at is None


@dataclass(frozen=True)
class CreatedKey:
    """A new key: ``key`` is the full secret string, shown once and never stored."""

    id: str
    name: str
    key: str


class KeyStore:
    """Create, list, revoke and verify API keys (see the module docstring).

    Args:
        engine: the session store's SQLAlchemy engine (``SessionStore.engine``).
        cache_ttl_s: seconds a verified key stays cached in-process.

    Every method raises :class:`~companion.sessions.StoreUnavailable` when the
    database fails.
    """

    def __init__(self, engine: Engine, *, cache_ttl_s: float = 5.0):
        self.engine = engine
        self.cache_ttl_s = cache_ttl_s
        self._cache: dict[str, tuple[float, ApiKeyInfo]] = {}
        self._cache_lock = threading.Lock()
        self._schema_ready = False

    def _ensure(self) -> None:
        if not self._schema_ready:
            self._run(lambda: api_keys_table.create(self.engine, checkfirst=True), "schema setup")
            self._schema_ready = True

    @staticmethod
    def _run(fn, what: str):  # type: ignore[no-untyped-def]
        try:
            return fn()
        except SQLAlchemyError as exc:
            raise StoreUnavailable(f"key store unavailable ({what} failed: {_describe_db_error(exc)}).") from None

    def create(self, name: str) -> CreatedKey:
        """Make a key for ``name`` (a clinic); returns it with the full key string.

        Raises:
            ValueError: empty name or longer than 200 characters.
        """
        name = name.strip()
        if not name or len(name) > 200:
            raise ValueError("key name must be 1-200 characters, e.g. the clinic's name.")
        self._ensure()
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        now = dt.datetime.now(dt.timezone.utc)

        def write() -> None:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(api_keys_table).values(
                        id=key_id, name=name, secret_sha256=_sha256(secret), created_at=now, revoked_at=None
                    )
                )

        self._run(write, "create key")
        return CreatedKey(id=key_id, name=name, key=f"{KEY_PREFIX}_{key_id}_{secret}")

    def list(self) -> list[ApiKeyInfo]:
        """All keys, oldest first (active and revoked)."""
        self._ensure()

        def read() -> list[ApiKeyInfo]:
            with self.engine.connect() as conn:
                rows = conn.execute(select(api_keys_table).order_by(api_keys_table.c.created_at)).all()
            return [ApiKeyInfo(r.id, r.name, r.created_at, r.revoked_at) for r in rows]

        return self._run(read, "list keys")

    def revoke(self, key_id: str) -> bool:
        """Revoke ``key_id``; ``False`` when no active key has that id."""
        self._ensure()
        now = dt.datetime.now(dt.timezone.utc)

        def write() -> int:
            with self.engine.begin() as conn:
                res = conn.execute(
                    update(api_keys_table)
                    .where(api_keys_table.c.id == key_id, api_keys_table.c.revoked_at.is_(None))
                    .values(revoked_at=now)
                )
                return int(res.rowcount or 0)

        changed = self._run(write, "revoke key")
        with self._cache_lock:
            self._cache = {k: v for k, v in self._cache.items() if v[1].id != key_id}
        return changed > 0

    def cached(self, presented: str) -> ApiKeyInfo | None:
        """The key if it was verified within ``cache_ttl_s`` (no database access), else ``None``."""
        m = _KEY_RE.match(presented.strip())
        if not m:
            return None
        key_id, secret = m.groups()
        with self._cache_lock:
            hit = self._cache.get(_sha256(secret))
        if hit and hit[0] > time.monotonic() and hit[1].id == key_id:
            return hit[1]
        return None

    def verify(self, presented: str) -> ApiKeyInfo | None:
        """The active key matching ``presented``, or ``None`` (malformed, unknown, wrong or revoked)."""
        m = _KEY_RE.match(presented.strip())
        if not m:
            return None
        hit = self.cached(presented)
        if hit is not None:
            return hit
        key_id, secret = m.groups()
        digest = _sha256(secret)
        now = time.monotonic()
        self._ensure()

        def read():  # type: ignore[no-untyped-def]
            with self.engine.connect() as conn:
                return conn.execute(select(api_keys_table).where(api_keys_table.c.id == key_id)).first()

        row = self._run(read, "verify key")
        if row is None or row.revoked_at is not None:
            return None
        if not hmac.compare_digest(row.secret_sha256, digest):
            return None
        info = ApiKeyInfo(row.id, row.name, row.created_at, row.revoked_at)
        with self._cache_lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + self.cache_ttl_s, info)
        return info
