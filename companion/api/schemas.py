"""Request and response models of the HTTP API (with OpenAPI examples)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

__all__ = [
    "ChatRequest",
    "ChatResponse",
    "SourceModel",
    "TranscriptMessage",
    "Transcript",
    "WidgetToken",
    "Health",
    "Readiness",
    "SESSION_ID_PATTERN",
    "LOCALE_PATTERN",
]

#: Session ids are made by the server (32 hex chars); this pattern only guards the input.
SESSION_ID_PATTERN = r"^[A-Za-z0-9_\-]{8,64}$"
#: BCP 47 / POSIX-like locale: ``en``, ``en-GB``, ``es_MX``, ``pt-BR``.
LOCALE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8}){0,3}$"

_RESOURCES_EXAMPLE = {
    "country": "GB",
    "country_name": "United Kingdom",
    "emergency_number": "999",
    "emergency_alt_numbers": ["112"],
    "emergency_source": "https://www.gov.uk/…",
    "resources": [
        {"name": "Samaritans", "kind": "crisis_line", "phone": "116 123", "hours": "24/7", "url": "https://www.samaritans.org"}
    ],
}


class ChatRequest(BaseModel):
    """One message from the person. Unknown fields are ignored."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"message": "I keep going back to old habits even though therapy was helping.", "locale": "en-GB"},
                {"session_id": "3f2b8c1e9d5a4f6b8e7c2a1d0b9f8e7d", "message": "Thank you, that helps a bit."},
            ]
        }
    )

    session_id: str | None = Field(
        None,
        pattern=SESSION_ID_PATTERN,
        description="Conversation to continue (from an earlier response); omit to start a new one.",
    )
    message: StrictStr = Field(
        description="The person's message (non-empty text; longer than the server's limit is refused with 413, "
        "except that a message in crisis is always answered)."
    )
    locale: str | None = Field(
        None,
        pattern=LOCALE_PATTERN,
        max_length=35,
        description="BCP 47 locale for language and crisis resources, e.g. en-GB, es-MX (default: server's).",
    )


class SourceModel(BaseModel):
    """A library passage the reply drew on."""

    number: int = Field(description="The [n] the reply cites it by.")
    title: str
    source: str = Field(description="File or URL of the document.")
    excerpt: str
    score: float = Field(description="Retrieval relevance 0..1.")
    cited: bool = Field(description="The reply text cites [number].")


class ChatResponse(BaseModel):
    """The companion's reply to one message."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "session_id": "3f2b8c1e9d5a4f6b8e7c2a1d0b9f8e7d",
                    "reply": "Going back to old patterns is a common part of change, not proof it failed [1].",
                    "level": "none",
                    "categories": [],
                    "resources": None,
                    "sources": [
                        {
                            "number": 1,
                            "title": "Why healing is not linear",
                            "source": "knowledge/healing-not-linear.md",
                            "excerpt": "Progress in therapy often looks like a spiral…",
                            "score": 0.71,
                            "cited": True,
                        }
                    ],
                    "kind": "grounded",
                    "warnings": [],
                    "disclosure": "I'm Companion, an AI, not a therapist or an emergency service. …",
                },
                {
                    "session_id": "9a1c…",
                    "reply": "I'm really glad you told me. Are you safe right now? …",
                    "level": "crisis",
                    "categories": ["suicidal_ideation"],
                    "resources": _RESOURCES_EXAMPLE,
                    "sources": [],
                    "kind": "crisis",
                    "warnings": [],
                    "disclosure": None,
                },
            ]
        }
    )

    session_id: str = Field(description="Send it back to continue this conversation.")
    reply: str = Field(description="The text to show.")
    level: str = Field(description="Safety level of the turn: none < concern < crisis < emergency.")
    categories: list[str] = Field(description="Safety categories that fired (e.g. suicidal_ideation).")
    resources: dict[str, Any] | None = Field(
        description="Crisis resources for the locale (country, emergency_number, resources[]) when the level is "
        "concern or higher; else null."
    )
    sources: list[SourceModel]
    kind: str = Field(description="grounded | crisis | fallback (the language model was unavailable).")
    warnings: list[str] = Field(description="Operator notes (never user text), e.g. llm_unavailable.")
    disclosure: str | None = Field(
        None, description="AI disclosure to show; present on the first turn of a new conversation."
    )


class TranscriptMessage(BaseModel):
    """A stored message."""

    seq: int
    role: str = Field(description="user | assistant")
    content: str
    level: str | None
    sources: list[dict[str, Any]]
    created_at: str


class Transcript(BaseModel):
    """A conversation, oldest message first."""

    session_id: str
    created_at: str
    updated_at: str
    messages: list[TranscriptMessage]


class WidgetToken(BaseModel):
    """An anonymous token for the embeddable widget."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"token": "eyJ3IjoiNGYx…", "token_type": "Bearer", "expires_in": 86400, "disclosure": "I'm Companion, an AI…"}
            ]
        }
    )

    token: str = Field(description="Send as 'Authorization: Bearer <token>'; only sees its own sessions.")
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
    disclosure: str = Field(description="AI disclosure to show before the first message.")


class Health(BaseModel):
    """Liveness."""

    status: str = "ok"


class Readiness(BaseModel):
    """Readiness of each part (index, session store, LLM)."""

    ready: bool
    checks: dict[str, dict[str, Any]]
