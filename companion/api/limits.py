"""Request limits: body size (413) and rate limits per client address and per key (429).

Rate limits use slowapi's :class:`slowapi.Limiter` (its ``limits`` storage
and moving-window strategy) from a FastAPI dependency, so the limit comes
from ``settings.rate_limit`` of each app instance (``"30/minute"``, limits
syntax, ``;`` separates several) and is checked twice: once per client
address (before authentication, so failed logins count) and once per
principal (API key id, widget token or the local owner). A refused request
gets ``429`` with ``Retry-After`` (seconds) and ``X-RateLimit-*`` headers.

Behind a reverse proxy, run uvicorn with ``--proxy-headers`` and
``--forwarded-allow-ips`` so the client address is the real one.
"""

from __future__ import annotations

import math
import time

from fastapi import HTTPException
from limits import RateLimitItem, parse_many
from slowapi import Limiter
from slowapi.util import get_remote_address
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from companion.api.problems import Problem, problem_response

__all__ = ["RateLimits", "BodySizeLimitMiddleware", "DEFAULT_MAX_BODY_BYTES"]

#: Default request body limit (bytes).
DEFAULT_MAX_BODY_BYTES = 64 * 1024


class RateLimits:
    """Per-address and per-principal rate limits for one app.

    Args:
        rate: limits string, e.g. ``"30/minute"`` or ``"5/second;100/hour"``.

    Raises:
        ValueError: ``rate`` is not valid limits syntax (the message says so).
    """

    def __init__(self, rate: str):
        try:
            self.items: list[RateLimitItem] = list(parse_many(rate))
        except ValueError as exc:
            raise ValueError(
                f"COMPANION_RATE_LIMIT={rate!r} is not a valid rate limit; use e.g. '30/minute' or '5/second;100/hour'."
            ) from exc
        self.rate = rate
        self.limiter = Limiter(key_func=get_remote_address, storage_uri="memory://", strategy="moving-window")

    def hit(self, scope_name: str, identity: str) -> None:
        """Count one request for ``identity``; raises a 429 :class:`Problem` when over a limit."""
        for item in self.items:
            if not self.limiter.limiter.hit(item, scope_name, identity):
                stats = self.limiter.limiter.get_window_stats(item, scope_name, identity)
                retry = max(1, math.ceil(stats.reset_time - time.time()))
                raise Problem(
                    429,
                    f"rate limit of {item} per {'client address' if scope_name == 'addr' else 'API key'} "
                    f"reached; retry in {retry} s.",
                    headers={
                        "Retry-After": str(retry),
                        "X-RateLimit-Limit": str(item.amount),
                        "X-RateLimit-Remaining": "0",
                    },
                    retry_after=retry,
                )

    def check_address(self, request: Request) -> None:
        """Dependency body: limit by client address."""
        self.hit("addr", get_remote_address(request) or "unknown")


class BodySizeLimitMiddleware:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with a 413 problem.

    Checks ``Content-Length`` up front and counts streamed (chunked) bodies
    while they are read.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES):
        self.app = app
        self.max_bytes = max_bytes

    def _detail(self) -> str:
        return f"request body is larger than {self.max_bytes:,} bytes; send a shorter message."

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in {"GET", "HEAD", "OPTIONS"}:
            await self.app(scope, receive, send)
            return
        for key, value in scope.get("headers", []):
            if key == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    rid = scope.get("state", {}).get("request_id")
                    await problem_response(Problem(413, self._detail()), rid)(scope, receive, send)
                    return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # FastAPI re-raises HTTPException from body reading: rendered as a 413 problem.
                    raise HTTPException(413, self._detail())
            return message

        await self.app(scope, counting_receive, send)
