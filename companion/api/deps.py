"""Per-app context and the FastAPI dependencies built on it (auth, rate limits)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from companion.api.auth import Authenticator, AuthError, NeedsLookup, Principal, WidgetTokens
from companion.api.limits import RateLimits
from companion.api.problems import Problem
from companion.api.turns import SessionLocks
from companion.keys import KeyStore
from companion.sessions import SessionStore, StoreUnavailable
from companion.settings import Settings

__all__ = ["ApiContext", "get_ctx", "current_principal", "limit_address"]


@dataclass
class ApiContext:
    """Everything a route needs, created once per app by :func:`companion.api.app.create_app`."""

    settings: Settings
    companion: Any  # companion.chat.Companion
    store: SessionStore
    keys: KeyStore
    widgets: WidgetTokens | None
    auth: Authenticator
    limits: RateLimits
    locks: SessionLocks


def get_ctx(request: Request) -> ApiContext:
    """The app's :class:`ApiContext`."""
    return request.app.state.ctx


_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="Clinic API key (gck_…).")
_bearer = HTTPBearer(auto_error=False, description="Clinic API key or anonymous widget token.")


def limit_address(request: Request) -> None:
    """Dependency: per-client-address rate limit (429 problem when exceeded)."""
    get_ctx(request).limits.check_address(request)


async def current_principal(
    request: Request,
    api_key: str | None = Depends(_api_key_header),
    _bearer_creds: HTTPAuthorizationCredentials | None = Depends(_bearer),
) -> Principal:
    """Dependency: the authenticated caller, then the per-key rate limit.

    Raises (as problems): 401 with ``WWW-Authenticate: Bearer``; 503 when the
    key store cannot be read; 429 when over the per-key limit.
    """
    ctx = get_ctx(request)
    authorization = request.headers.get("authorization")
    try:
        try:  # no I/O for widget tokens, local mode and recently verified keys
            principal = ctx.auth.authenticate(api_key, authorization, cache_only=True)
        except NeedsLookup:
            principal = await run_in_threadpool(ctx.auth.authenticate, api_key, authorization)
    except AuthError as exc:
        raise Problem(401, str(exc), headers={"WWW-Authenticate": 'Bearer realm="companion"'}) from None
    except StoreUnavailable as exc:
        raise Problem(503, str(exc), slug="store-unavailable", title="Session store unavailable") from None
    request.state.principal_kind = principal.kind
    request.state.key_id = principal.key_id
    ctx.limits.hit("key", principal.rate_id)
    return principal
