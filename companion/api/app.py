"""The FastAPI app factory: ``create_app(settings=None, companion=None, store=None)``.

    from companion.api import create_app
    app = create_app()                      # everything from settings
    app = create_app(settings, companion=Companion(settings, llm=fake), store=SessionStore("sqlite://…"))

Middleware, outermost first: CORS (allowlist ``settings.cors_origins``) →
access log + request id + last-resort 500 problem → body size limit (413) →
routes (problem-details errors, rate limits, auth as dependencies).
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

import companion as _companion_pkg
from companion.api import routes_chat, routes_public, routes_sessions, routes_widget
from companion.api.auth import Authenticator, WidgetTokens
from companion.api.deps import ApiContext
from companion.api.limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimitMiddleware, RateLimits
from companion.api.logs import AccessLogMiddleware
from companion.api.problems import install_problem_handlers
from companion.api.turns import SessionLocks
from companion.keys import KeyStore
from companion.sessions import SessionStore, StoreUnavailable
from companion.settings import Settings, get_settings

__all__ = ["create_app", "max_body_bytes"]

log = logging.getLogger("companion.api")

_DESCRIPTION = """
HTTP API of the gentle companion, for clinics embedding it.

* **Auth**: `Authorization: Bearer <API key>` or `X-API-Key: <API key>` (keys from
  `companion keys create --name CLINIC`), or an anonymous widget token from
  `POST /v1/widget/token`. A session is visible only to the credentials that created it.
* **Errors** are RFC 9457 problem details (`application/problem+json`).
* **Safety**: every message is screened; crisis messages are answered with the locale's
  24/7 resources (also when too long or when the language model is down).
* **Privacy**: message text is never logged; sessions expire after the retention period
  and can be deleted (`DELETE /v1/sessions/{id}`).
"""


def max_body_bytes(settings: Settings) -> int:
    """Request body limit: 64 KiB, or more when ``max_message_chars`` needs it (4 bytes/char + 4 KiB)."""
    return max(DEFAULT_MAX_BODY_BYTES, settings.max_message_chars * 4 + 4096)


class _SecurityHeaders:
    """Adds ``X-Content-Type-Options: nosniff`` everywhere and ``Cache-Control: no-store`` on /v1."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = scope.get("path", "").startswith("/v1/")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                headers.append((b"x-content-type-options", b"nosniff"))
                if private and b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _warm_up(settings: Settings) -> None:
    """Load the screening models once at startup, so the first person does not wait for them."""
    try:
        import safety

        safety.screen("warm-up", locale=settings.locale)
    except Exception as exc:  # noqa: BLE001 - the first request will retry (and fail closed)
        log.warning("screening warm-up failed: %s", type(exc).__name__)


def create_app(
    settings: Settings | None = None,
    companion: Any | None = None,
    store: SessionStore | None = None,
) -> FastAPI:
    """Build the API.

    Args:
        settings: defaults to :func:`companion.settings.get_settings`.
        companion: the turn pipeline (``companion.chat.Companion``); built from
            settings (LLM and retriever load lazily) when ``None``.
        store: the session store; ``SessionStore.from_settings(settings)`` when ``None``.

    Raises:
        ValueError: invalid ``rate_limit`` or ``encryption_key`` in settings.
    """
    settings = settings or get_settings()
    if companion is None:
        from companion.chat import Companion

        companion = Companion(settings)
    store = store or SessionStore.from_settings(settings)
    keys = KeyStore(store.engine)
    widgets = WidgetTokens.from_data_dir(settings.data_dir) if settings.widget_enabled else None
    ctx = ApiContext(
        settings=settings,
        companion=companion,
        store=store,
        keys=keys,
        widgets=widgets,
        auth=Authenticator(keys, widgets, require_api_key=settings.require_api_key),
        limits=RateLimits(settings.rate_limit),
        locks=SessionLocks(),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI):  # type: ignore[no-untyped-def]
        try:
            store.ensure_schema()
        except StoreUnavailable as exc:
            log.warning("session store not reachable at startup: %s", exc)
        await run_in_threadpool(_warm_up, settings)
        log.info(
            "api started",
            extra={"fields": {"store": store.dialect, "encrypted": store.encrypted, "widget": widgets is not None,
                              "require_api_key": settings.require_api_key}},
        )
        yield
        store.dispose()

    app = FastAPI(
        title="Gentle Companion API",
        version=_companion_pkg.__version__,
        description=_DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
    )
    app.state.ctx = ctx
    install_problem_handlers(app)
    app.include_router(routes_chat.router)
    app.include_router(routes_sessions.router)
    app.include_router(routes_public.router)
    app.include_router(routes_widget.router)

    # add_middleware puts each new one outside the previous: last added = outermost.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes(settings))
    app.add_middleware(_SecurityHeaders)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID", "Accept"],
        expose_headers=["Retry-After", "X-Request-ID", "X-RateLimit-Limit", "X-RateLimit-Remaining"],
        allow_credentials=False,
        max_age=600,
    )
    return app
