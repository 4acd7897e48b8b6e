"""The embeddable widget: ``GET /widget.js``, ``GET /widget.css`` and ``POST /v1/widget/token``.

All three answer 404 when ``settings.widget_enabled`` is false. A clinic embeds::

    <script src="https://companion.example/widget.js" data-api-base="https://companion.example"
            data-clinic-name="Clinic North" data-country="GB"></script>

(and adds its site's origin to ``COMPANION_CORS_ORIGINS``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse

from companion.api.deps import get_ctx, limit_address
from companion.api.problems import Problem, problem_responses
from companion.api.schemas import WidgetToken
from companion.prompts import DISCLOSURE

__all__ = ["router", "STATIC_DIR"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["widget"])


def _require_widget(request: Request) -> None:
    if get_ctx(request).widgets is None:
        raise Problem(404, "the widget is disabled on this server (COMPANION_WIDGET_ENABLED=false).")


@router.post(
    "/v1/widget/token",
    response_model=WidgetToken,
    summary="Get an anonymous widget token",
    dependencies=[Depends(limit_address)],
    responses=problem_responses(404, 429),
)
async def widget_token(request: Request) -> dict[str, object]:
    """A signed random token for one browser; it can only see the sessions it creates."""
    _require_widget(request)
    widgets = get_ctx(request).widgets
    assert widgets is not None
    request.state.principal_kind = "widget"
    return {"token": widgets.issue(), "token_type": "Bearer", "expires_in": widgets.ttl_s, "disclosure": DISCLOSURE}


def _static(request: Request, name: str, media_type: str) -> FileResponse:
    _require_widget(request)
    return FileResponse(
        STATIC_DIR / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"},
    )


@router.get("/widget.js", summary="Widget script", include_in_schema=True, response_class=FileResponse)
async def widget_js(request: Request) -> FileResponse:
    """The dependency-free widget script (see the module docstring for the embed snippet)."""
    return _static(request, "widget.js", "text/javascript; charset=utf-8")


@router.get("/widget.css", summary="Widget styles", response_class=FileResponse)
async def widget_css(request: Request) -> FileResponse:
    """The widget's stylesheet (loaded by widget.js)."""
    return _static(request, "widget.css", "text/css; charset=utf-8")
