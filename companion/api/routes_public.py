"""Public routes: ``GET /v1/resources``, ``GET /healthz``, ``GET /readyz``.

Crisis resources are public (hotline numbers are public information, and the
widget must be able to show "Need help now?" before anything else works);
they are still rate-limited per client address.
"""

from __future__ import annotations

import asyncio
import importlib.util
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

import safety
from companion.api.deps import ApiContext, get_ctx, limit_address
from companion.api.problems import Problem, problem_responses
from companion.api.schemas import LOCALE_PATTERN, Health, Readiness
from companion.sessions import StoreUnavailable

__all__ = ["router", "readiness"]

router = APIRouter()

_CHECK_TIMEOUT_S = 10.0


@router.get(
    "/v1/resources",
    tags=["resources"],
    summary="Crisis resources for a country or locale",
    dependencies=[Depends(limit_address)],
    responses={
        200: {
            "description": "ResourceSet: country, emergency number, ordered resources (24/7 crisis lines first).",
            "content": {"application/json": {"example": {
                "country": "GB", "country_name": "United Kingdom", "emergency_number": "999",
                "emergency_alt_numbers": ["112"], "emergency_source": "https://…",
                "resources": [{"name": "Samaritans", "kind": "crisis_line", "phone": "116 123", "hours": "24/7"}],
            }}},
        },
        **problem_responses(422, 429),
    },
)
async def resources(
    request: Request,
    country: str | None = Query(None, pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2, e.g. GB."),
    locale: str | None = Query(None, pattern=LOCALE_PATTERN, description="BCP 47 locale, e.g. es-MX."),
) -> dict[str, Any]:
    """``safety.resources_for(country or locale)`` plus the clinic's contacts.

    Without either parameter the server's default locale is used; an unknown
    country gives the international set.
    """
    if country and locale:
        raise Problem(422, "give either country or locale, not both.",
                      errors=[{"field": "query", "problem": "country and locale are mutually exclusive"}])
    ctx = get_ctx(request)
    target = country.upper() if country else (locale or ctx.settings.locale)
    return safety.resources_for(target, ctx.companion.clinic).to_dict()


@router.get("/healthz", tags=["health"], response_model=Health, summary="Process is up")
async def healthz() -> dict[str, str]:
    """Liveness: 200 while the process serves requests (checks nothing else)."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    tags=["health"],
    response_model=Readiness,
    summary="Ready to answer (index, session store, LLM)",
    responses={503: {"model": Readiness, "description": "Not ready; `checks` says which part."}},
)
async def readyz(request: Request) -> JSONResponse:
    """200 when the library index has passages, the session store answers and
    an LLM is configured; else 503 with ``checks.<part>.detail`` saying what to fix."""
    result = await readiness(get_ctx(request))
    return JSONResponse(result, status_code=200 if result["ready"] else 503)


async def readiness(ctx: ApiContext) -> dict[str, Any]:
    """``{"ready": bool, "checks": {"index"|"store"|"llm": {"ok": bool, "detail": str}}}``."""
    index, store = await asyncio.gather(_check(_index, ctx), _check(_store, ctx))
    checks = {"index": index, "store": store, "llm": _llm(ctx)}
    return {"ready": all(c["ok"] for c in checks.values()), "checks": checks}


async def _check(fn: Any, ctx: ApiContext) -> dict[str, Any]:
    try:
        return await asyncio.wait_for(run_in_threadpool(fn, ctx), _CHECK_TIMEOUT_S)
    except TimeoutError:
        return {"ok": False, "detail": f"no answer within {_CHECK_TIMEOUT_S:.0f} s"}


def _index(ctx: ApiContext) -> dict[str, Any]:
    try:
        n = int(ctx.companion.retriever.count())
    except Exception as exc:  # noqa: BLE001
        return {"ok": False, "detail": f"index unavailable ({type(exc).__name__}); run `companion ingest --rebuild`"}
    if n <= 0:
        return {"ok": False, "detail": "index is empty; run `companion ingest`"}
    return {"ok": True, "detail": f"{n} passages"}


def _store(ctx: ApiContext) -> dict[str, Any]:
    try:
        ctx.store.ping()
    except StoreUnavailable as exc:
        return {"ok": False, "detail": str(exc)}
    return {"ok": True, "detail": ctx.store.dialect}


def _llm(ctx: ApiContext) -> dict[str, Any]:
    """Configuration check only: never loads a model or calls an endpoint."""
    companion = ctx.companion
    if getattr(companion, "_llm", None) is not None:
        return {"ok": True, "detail": f"{type(companion._llm).__name__} (in process)"}
    s = ctx.settings
    if s.llm_provider == "fake":
        return {"ok": True, "detail": "fake (canned replies; demos and tests only)"}
    if s.llm_provider == "openai":
        if s.llm_base_url or s.openai_api_key:
            return {"ok": True, "detail": f"openai-compatible {s.llm_model}"}
        return {"ok": False, "detail": "set COMPANION_LLM_BASE_URL or OPENAI_API_KEY"}
    if importlib.util.find_spec("llama_cpp") is None:
        return {"ok": False, "detail": "llama-cpp-python is not installed; run ./scripts/setup.sh"}
    from companion.model_assets import MODEL_FILENAME

    path = s.local_model_path or (s.model_dir / MODEL_FILENAME)
    if not path.is_file():
        return {"ok": False, "detail": "model file missing; run `companion model prepare` or set COMPANION_LOCAL_MODEL_PATH"}
    return {"ok": True, "detail": f"embedded llama.cpp: {path.name}"}
