"""``GET /v1/sessions/{id}`` (transcript) and ``DELETE /v1/sessions/{id}`` (erase).

Both answer 404 for a session that does not exist *or* belongs to other
credentials (no 403: ids cannot be probed).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from companion.api.auth import Principal
from companion.api.deps import current_principal, get_ctx, limit_address
from companion.api.erase import forget_cached_text
from companion.api.problems import Problem, problem_responses
from companion.api.schemas import SESSION_ID_PATTERN, Transcript
from companion.api.turns import store_problem
from companion.sessions import StoreUnavailable

__all__ = ["router"]

router = APIRouter(prefix="/v1/sessions", tags=["sessions"], dependencies=[Depends(limit_address)])

SessionId = Path(pattern=SESSION_ID_PATTERN, description="The conversation id returned by /v1/chat.")


def _not_found(session_id: str) -> Problem:
    return Problem(404, f"no conversation {session_id} for these credentials (it may have been deleted or expired).")


@router.get("/{session_id}", response_model=Transcript, summary="Read a conversation",
            responses=problem_responses(401, 404, 422, 429, 503))
async def get_session(
    request: Request, session_id: str = SessionId, principal: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """The conversation's messages, oldest first (for the credentials that created it)."""
    ctx = get_ctx(request)
    try:
        record = await run_in_threadpool(ctx.store.get, session_id, principal.owner)
    except StoreUnavailable as exc:
        raise store_problem(exc) from None
    if record is None:
        raise _not_found(session_id)
    return {
        "session_id": record.id,
        "created_at": record.created_at.isoformat(),
        "updated_at": record.updated_at.isoformat(),
        "messages": [m.to_dict() for m in record.messages],
    }


@router.delete("/{session_id}", status_code=204, summary="Delete a conversation",
               responses=problem_responses(401, 404, 409, 422, 429, 503))
async def delete_session(
    request: Request, session_id: str = SessionId, principal: Principal = Depends(current_principal)
) -> Response:
    """Erase the conversation and all its messages (waits for a turn in progress to finish),
    and reset the embedded model's KV cache, the only in-memory copy of recent turns."""
    ctx = get_ctx(request)
    try:
        release = await ctx.locks.acquire(session_id)
    except TimeoutError:
        raise Problem(409, "a message in this conversation is still being answered; retry in a moment.") from None
    try:
        deleted = await run_in_threadpool(ctx.store.delete, session_id, principal.owner)
    except StoreUnavailable as exc:
        raise store_problem(exc) from None
    finally:
        release()
    if not deleted:
        raise _not_found(session_id)
    await run_in_threadpool(forget_cached_text, ctx.companion)
    return Response(status_code=204)
