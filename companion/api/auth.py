"""Who is calling: API keys (clinics), anonymous widget tokens, or the local owner.

Credentials, in this order:

* ``X-API-Key: gck_…`` or ``Authorization: Bearer gck_…`` — a clinic key
  (:mod:`companion.keys`); sessions are owned by the hashed key id;
* ``Authorization: Bearer <widget token>`` — an anonymous browser token from
  ``POST /v1/widget/token`` (only when ``settings.widget_enabled``): signed
  with HMAC-SHA1 by itsdangerous using a server secret, valid 24 h; sessions
  are owned by the hash of its random part, so each browser sees only its
  own conversations;
* nothing — allowed only when ``settings.require_api_key`` is false (local
  development): the request acts as the anonymous local owner.

A wrong, revoked or expired credential is always ``401`` (also in local
mode). Another owner's session is answered ``404``, never ``403``, so ids
cannot be probed.

The widget secret is ``<data_dir>/widget_secret.key`` (created on first use,
mode 0600). Several API instances behind a load balancer must share it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from companion.keys import KEY_PREFIX, KeyStore, owner_for_key

__all__ = ["Principal", "WidgetTokens", "Authenticator", "AuthError", "NeedsLookup", "LOCAL_OWNER", "WIDGET_TOKEN_TTL_S"]

LOCAL_OWNER = "local"
WIDGET_TOKEN_TTL_S = 24 * 3600


@dataclass(frozen=True)
class Principal:
    """The caller. ``owner``: session owner value; ``kind``: ``key`` | ``widget`` |
    ``local``; ``key_id``: public id of an API key (else ``None``); ``rate_id``:
    identity used for per-key rate limits."""

    owner: str
    kind: str
    key_id: str | None = None

    @property
    def rate_id(self) -> str:
        """Identity for per-key rate limits (never the raw secret)."""
        return self.key_id or self.owner


class WidgetTokens:
    """Issue and check anonymous widget tokens (see the module docstring).

    Args:
        secret: the server's signing secret.
        ttl_s: token lifetime in seconds.
    """

    def __init__(self, secret: str, ttl_s: int = WIDGET_TOKEN_TTL_S):
        self._signer = URLSafeTimedSerializer(secret, salt="companion-widget-token")
        self.ttl_s = ttl_s

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> WidgetTokens:
        """Signer with the secret in ``data_dir/widget_secret.key`` (created if missing)."""
        return cls(load_or_create_secret(Path(data_dir) / "widget_secret.key"))

    def issue(self) -> str:
        """A new signed token carrying 128 random bits."""
        return self._signer.dumps({"w": secrets.token_hex(16)})

    def owner(self, token: str) -> str | None:
        """The owner value of a valid token, ``None`` when forged, malformed or expired."""
        try:
            data = self._signer.loads(token, max_age=self.ttl_s)
        except (BadSignature, SignatureExpired, ValueError, TypeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("w"), str):
            return None
        return "w:" + hashlib.sha256(("widget:" + data["w"]).encode()).hexdigest()[:40]


def load_or_create_secret(path: Path) -> str:
    """Read the secret at ``path``, or create it (32 random bytes, hex, mode 0600)."""
    try:
        value = path.read_text(encoding="ascii").strip()
        if len(value) >= 32:
            return value
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_hex(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(value + "\n")
    return value


class AuthError(Exception):
    """Credentials missing or invalid; ``str(err)`` is the 401 detail."""


class NeedsLookup(Exception):
    """``authenticate(cache_only=True)`` needs the key store (a database read)."""


class Authenticator:
    """Turns request headers into a :class:`Principal`.

    Args:
        keys: the API key store.
        widgets: widget token checker, or ``None`` when the widget is disabled.
        require_api_key: when false, requests without credentials act as the local owner.
    """

    def __init__(self, keys: KeyStore, widgets: WidgetTokens | None, *, require_api_key: bool):
        self.keys = keys
        self.widgets = widgets
        self.require_api_key = require_api_key

    def authenticate(
        self, api_key_header: str | None, authorization: str | None, *, cache_only: bool = False
    ) -> Principal:
        """The caller for these header values.

        Args:
            cache_only: do no I/O; raise :class:`NeedsLookup` when an API key is
                not in the key cache (call again without it, in a thread).

        Raises:
            AuthError: missing (when required), malformed, unknown, revoked or expired credentials.
            NeedsLookup: only with ``cache_only``.
            companion.sessions.StoreUnavailable: the key store cannot be read.
        """
        credential = (api_key_header or "").strip()
        if not credential and authorization:
            scheme, _, value = authorization.strip().partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise AuthError("the Authorization header must be 'Bearer <API key or widget token>'.")
            credential = value.strip()
        if not credential:
            if not self.require_api_key:
                return Principal(owner=LOCAL_OWNER, kind="local")
            raise AuthError(
                "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>' "
                "(create one with `companion keys create --name CLINIC`)."
            )
        if credential.startswith(KEY_PREFIX + "_"):
            if cache_only:
                info = self.keys.cached(credential)
                if info is None:
                    raise NeedsLookup()
            else:
                info = self.keys.verify(credential)
            if info is None:
                raise AuthError("the API key is invalid or has been revoked.")
            return Principal(owner=owner_for_key(info.id), kind="key", key_id=info.id)
        if api_key_header:
            raise AuthError("the API key is invalid or has been revoked.")
        if self.widgets is None:
            raise AuthError("widget tokens are disabled on this server; use an API key.")
        owner = self.widgets.owner(credential)
        if owner is None:
            raise AuthError("the widget token is invalid or expired; get a new one from POST /v1/widget/token.")
        return Principal(owner=owner, kind="widget")
