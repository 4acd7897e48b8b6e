"""Structured JSON logs and the access-log middleware.

One JSON object per line on stderr. The access log (logger
``companion.access``) records, per request: request id, method, route
*template* (``/v1/sessions/{session_id}``, never the concrete path), status,
latency in ms, the turn's safety level, the API key id (public part) and
the principal kind. It never records bodies, message text, replies, query
strings, tokens or client addresses.

The request id comes from a well-formed ``X-Request-ID`` header or is
generated, and is echoed in the response's ``X-Request-ID`` header. A
``Server-Timing: app;dur=<ms>`` entry gives the server time until the response
started (``/v1/chat`` adds ``pipeline;dur=<ms>``, the turn pipeline's share).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from companion.api.problems import Problem, problem_response

__all__ = ["JsonFormatter", "configure_logging", "AccessLogMiddleware", "access_log"]

access_log = logging.getLogger("companion.access")
_errors = logging.getLogger("companion.api")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


class JsonFormatter(logging.Formatter):
    """Formats records as one JSON object: ``ts``, ``level``, ``logger``, ``msg`` and
    the ``fields`` dict passed via ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            doc.update(fields)
        if record.exc_info and record.exc_info[0] is not None:
            doc["exc_type"] = record.exc_info[0].__name__  # type only: exception text may hold user data
        return json.dumps(doc, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Send all logging (ours, uvicorn's) as JSON lines to stderr at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers[:] = []
        lg.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # we write our own access log


class AccessLogMiddleware:
    """ASGI middleware: request id, access log line, and a last-resort 500 problem.

    Any exception that escapes the app before the response started becomes a
    ``500`` problem (with the request id) instead of a stack trace; its type
    and traceback location are logged, not its message (it could contain text
    from the request).
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state["request_id"] = request_id
        status = {"code": 500, "started": False}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["started"] = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                # server time until the response started (ms), next to the route's own timings
                app_ms = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
                for i, (k, v) in enumerate(headers):
                    if k.lower() == b"server-timing":
                        headers[i] = (k, v + b", " + app_ms.encode())
                        break
                else:
                    headers.append((b"server-timing", app_ms.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as exc:  # noqa: BLE001 - last resort: never a traceback to the client
            _errors.error(
                "unhandled error",
                extra={"fields": {"request_id": request_id, "error": type(exc).__name__, "where": _where(exc)}},
            )
            if not status["started"]:
                response = problem_response(
                    Problem(500, "an unexpected error occurred; it was logged with this request id. Please retry."),
                    request_id,
                )
                await response(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            fields = {
                "request_id": request_id,
                "method": scope.get("method"),
                "route": template,
                "status": status["code"],
                "latency_ms": round((time.perf_counter() - started) * 1000, 2),
                "safety_level": state.get("safety_level"),
                "key_id": state.get("key_id"),
                "principal": state.get("principal_kind"),
            }
            if state.get("stream"):
                fields["stream"] = True
            access_log.info("request", extra={"fields": fields})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            try:
                return value.decode("latin-1")
            except Exception:  # noqa: BLE001
                return None
    return None


def _where(exc: BaseException) -> str:
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return "?"
    code = last.tb_frame.f_code
    return f"{code.co_filename.rsplit('/', 1)[-1]}:{last.tb_lineno} in {code.co_name}"
