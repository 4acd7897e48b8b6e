"""``POST /v1/chat`` (JSON) and ``POST /v1/chat/stream`` (Server-Sent Events).

Stream protocol (``text/event-stream``):

* ``event: token`` — ``{"text": "<piece>"}``, repeated: released text, a
  sentence or so at a time (already safety-checked by the pipeline);
* ``event: error`` — a problem document (e.g. 503 when the turn could not be
  saved), with ``resources``; followed by the final ``reply``;
* ``event: reply`` — last: the same JSON as ``POST /v1/chat`` plus ``saved``.

Errors found before the first token (bad input, unknown session, a message
too long) are ordinary HTTP problem responses, not streams. The blocking
pipeline generator runs in the thread pool
(:func:`starlette.concurrency.iterate_in_threadpool`), so the event loop stays free.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from companion.api.auth import Principal
from companion.api.deps import current_principal, get_ctx, limit_address
from companion.api.problems import problem_responses
from companion.api.schemas import ChatRequest, ChatResponse
from companion.api.turns import chat_problem, open_turn, reply_payload, save_turn

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1", tags=["chat"], dependencies=[Depends(limit_address)])


@router.post(
    "/chat",
    response_model=ChatResponse,
    summary="Send a message, get the reply",
    responses=problem_responses(401, 404, 409, 413, 422, 429, 500, 503),
)
async def chat(
    body: ChatRequest, request: Request, response: Response, principal: Principal = Depends(current_principal)
) -> dict[str, Any]:
    """Run one turn. Starts a conversation when ``session_id`` is omitted.

    A message in crisis is always answered with the locale's 24/7 resources.
    When the language model is down the reply is a library-based fallback
    (``kind: "fallback"``), still 200. The user message and the reply are
    stored together; if storing fails the answer is 503 (with resources).
    """
    ctx = get_ctx(request)
    turn = await open_turn(ctx, principal.owner, body.session_id, body.locale)
    try:
        def run() -> Any:
            reply = ctx.companion.reply(body.message, turn.history, locale=body.locale, session_id=turn.session_id)
            request.state.safety_level = reply.level.value
            save_turn(ctx, principal.owner, turn, body.message, reply)
            return reply

        reply = await run_in_threadpool(run)
    except Exception as exc:  # noqa: BLE001 - mapped to a problem (never a traceback)
        raise chat_problem(exc, ctx, body.locale) from None
    finally:
        turn.release()
    total = reply.timings.get("total")
    if total is not None:  # time spent in the pipeline (screening, retrieval, generation), for operators
        response.headers["Server-Timing"] = f"pipeline;dur={total * 1000:.1f}"
    return reply_payload(reply, turn)


def _first(gen: Iterator[Any]) -> Any:
    return next(gen)


@router.post(
    "/chat/stream",
    summary="Send a message, stream the reply (Server-Sent Events)",
    response_class=EventSourceResponse,
    responses={
        200: {
            "description": "`token` events ({\"text\"}), then one `reply` event (the ChatResponse JSON plus `saved`).",
            "content": {"text/event-stream": {"example": 'event: token\ndata: {"text": "That sounds hard. "}\n\n'
                                               'event: reply\ndata: {"session_id": "…", "level": "none", …}\n\n'}},
        },
        **problem_responses(401, 404, 409, 413, 422, 429, 500, 503),
    },
)
async def chat_stream(
    body: ChatRequest, request: Request, principal: Principal = Depends(current_principal)
) -> EventSourceResponse:
    """Like ``POST /v1/chat`` but streams the reply as it is released (crisis replies too)."""
    ctx = get_ctx(request)
    turn = await open_turn(ctx, principal.owner, body.session_id, body.locale)
    try:
        gen = ctx.companion.stream(body.message, turn.history, locale=body.locale, session_id=turn.session_id)
        first = await run_in_threadpool(_first, gen)
    except BaseException as exc:
        turn.release()
        if isinstance(exc, Exception):
            raise chat_problem(exc, ctx, body.locale) from None
        raise
    request.state.stream = True
    state = request.scope.setdefault("state", {})

    async def events() -> AsyncIterator[ServerSentEvent]:
        reply = None
        try:
            pending: list[Any] = [first]

            async def all_events() -> AsyncIterator[Any]:
                for item in pending:
                    yield item
                async for item in iterate_in_threadpool(gen):
                    yield item

            async for event in all_events():
                if isinstance(event, str):
                    yield ServerSentEvent(data=json.dumps({"text": event}, ensure_ascii=False), event="token")
                else:
                    reply = event
            assert reply is not None
            state["safety_level"] = reply.level.value
            payload = reply_payload(reply, turn)
            try:
                await run_in_threadpool(save_turn, ctx, principal.owner, turn, body.message, reply)
                payload["saved"] = True
            except Exception as exc:  # noqa: BLE001
                problem = chat_problem(exc, ctx, body.locale)
                payload["saved"] = False
                yield ServerSentEvent(data=json.dumps(problem.body(state.get("request_id"))), event="error")
            yield ServerSentEvent(data=json.dumps(payload, ensure_ascii=False), event="reply")
        except Exception as exc:  # noqa: BLE001 - the stream already started: report as an event
            problem = chat_problem(exc, ctx, body.locale)
            yield ServerSentEvent(data=json.dumps(problem.body(state.get("request_id"))), event="error")
        finally:
            turn.release()

    return EventSourceResponse(events(), ping=15, headers={"X-Accel-Buffering": "no"})
