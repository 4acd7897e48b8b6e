"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API returns has ``type``, ``title``, ``status`` and a
``detail`` that says what went wrong and what to do; some add extension
members (``errors`` for validation, ``retry_after`` for 429, ``resources``
when a chat turn failed, so a person in crisis still sees where to get help).

Details never echo the request body (it is health data).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = [
    "Problem",
    "ProblemModel",
    "PROBLEM_MEDIA_TYPE",
    "problem_response",
    "install_problem_handlers",
    "problem_responses",
    "describe_validation_errors",
]

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TYPE_BASE = "urn:gentle-companion:problem:"

#: status -> (slug, title) for the problems this API raises.
_KNOWN: dict[int, tuple[str, str]] = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Missing or invalid credentials"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    413: ("too-large", "Content too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation", "Invalid request"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal", "Internal error"),
    503: ("unavailable", "Service unavailable"),
}


class ProblemModel(BaseModel):
    """RFC 9457 problem details (schema for the OpenAPI docs)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "urn:gentle-companion:problem:validation",
                    "title": "Invalid request",
                    "status": 422,
                    "detail": "body.message: field required",
                    "errors": [{"field": "body.message", "problem": "field required"}],
                }
            ]
        },
    )

    type: str = Field(description="URI reference identifying the problem type.")
    title: str = Field(description="Short, human-readable summary of the problem type.")
    status: int = Field(description="HTTP status code.")
    detail: str = Field(description="What went wrong in this request, and what to do.")
    instance: str | None = Field(None, description="Request id of this occurrence.")


class Problem(Exception):
    """Raise to answer with a problem document.

    Args:
        status: HTTP status.
        detail: specific explanation (never includes message text).
        slug: problem type suffix (default from the status).
        title: short summary (default from the status).
        headers: extra response headers (e.g. ``Retry-After``).
        **extra: extension members.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        known_slug, known_title = _KNOWN.get(status, ("error", HTTPStatus(status).phrase))
        self.slug = slug or known_slug
        self.title = title or known_title
        self.headers = headers or {}
        self.extra = extra

    def body(self, request_id: str | None = None) -> dict[str, Any]:
        """The JSON document."""
        doc: dict[str, Any] = {
            "type": _TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if request_id:
            doc["instance"] = f"urn:request:{request_id}"
        doc.update(self.extra)
        return doc


def problem_response(problem: Problem, request_id: str | None = None) -> JSONResponse:
    """A ``JSONResponse`` with ``application/problem+json`` for ``problem``."""
    return JSONResponse(
        problem.body(request_id),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _request_id(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


_VALIDATION_WORDING = {
    "missing": "field required",
    "string_type": "must be a string",
    "int_type": "must be an integer",
    "bool_type": "must be true or false",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object (send Content-Type: application/json)",
    "extra_forbidden": "unknown field",
    "string_pattern_mismatch": "has the wrong format",
    "string_too_long": "is too long",
    "string_too_short": "is too short",
}


def describe_validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """``[{"field": "body.message", "problem": "must be a string"}, …]`` from pydantic errors
    (without the offending input values)."""
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        kind = e.get("type", "")
        if kind == "json_invalid":
            pos = loc[1] if len(loc) > 1 else "?"
            reason = (e.get("ctx") or {}).get("error", "malformed JSON")
            out.append({"field": "body", "problem": f"is not valid JSON ({reason} at character {pos})"})
            continue
        field = ".".join(loc) or "body"
        problem = _VALIDATION_WORDING.get(kind) or str(e.get("msg", "is invalid")).lower()
        if kind == "missing" and loc == ["body"]:
            problem = "a JSON body is required"
        out.append({"field": field, "problem": problem})
    return out


def install_problem_handlers(app: FastAPI) -> None:
    """Route every HTTP and validation error through problem details."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, _request_id(request))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = describe_validation_errors(list(exc.errors()))
        detail = "; ".join(f"{e['field']}: {e['problem']}" for e in errors) or "the request is invalid"
        return problem_response(Problem(422, detail, errors=errors), _request_id(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no route {request.url.path}; see /docs for the API."
        elif exc.status_code == 405 and detail == "Method Not Allowed":
            detail = f"{request.method} is not allowed on {request.url.path}; see /docs."
        return problem_response(
            Problem(exc.status_code, detail, headers=dict(exc.headers or {})), _request_id(request)
        )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem answers for ``statuses``."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        slug, title = _KNOWN.get(status, ("error", HTTPStatus(status).phrase))
        out[status] = {
            "model": ProblemModel,
            "description": title,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemModel"}}},
        }
    return out
