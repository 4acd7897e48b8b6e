"""Fixtures for the HTTP API tests: a fake LLM, a fake retriever, an app with a key."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from companion.api import create_app
from companion.chat import Companion
from companion.keys import KeyStore
from companion.retrieval import Passage
from companion.sessions import SessionStore
from companion.settings import Settings

PASSAGE = Passage(
    id="p1",
    title="When old patterns come back",
    source="knowledge/backsliding-in-therapy.md",
    text="A setback after months of progress is common. Old feelings coming back does not erase what you learned.",
    score=0.71,
)

CRISIS_MESSAGE = "I want to kill myself tonight"
GROUNDED_REPLY = (
    "That sounds really discouraging after all your work. "
    "Setbacks are a common part of change, not proof that therapy failed [1]. What felt hardest this week?"
)


class FakeRetriever:
    """Returns fixed passages (``count()`` = how many)."""

    def __init__(self, passages: list[Passage] | None = None):
        self.passages = [PASSAGE] if passages is None else passages

    def retrieve(self, query: str, k: int | None = None) -> list[Passage]:
        return self.passages[: k or len(self.passages)]

    def count(self) -> int:
        return len(self.passages)


class EchoModel(BaseChatModel):
    """Answers 'Thanks for telling me about <last word of the message>.' and records prompts."""

    prompts: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "echo"

    def _answer(self, messages: list[BaseMessage]) -> str:
        self.prompts.append(list(messages))
        words = re.findall(r"[A-Za-z0-9\-]+", str(messages[-1].content))
        return f"Thanks for telling me about {words[-1] if words else 'that'}. I am here with you."

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._answer(messages)))])

    def _stream(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any) -> Iterator[ChatGenerationChunk]:
        for word in re.split(r"(\s+)", self._answer(messages)):
            if word:
                yield ChatGenerationChunk(message=AIMessageChunk(content=word))


class DownModel(BaseChatModel):
    """An LLM endpoint that is down: every call raises ConnectionError."""

    @property
    def _llm_type(self) -> str:
        return "down"

    def _generate(self, *a: Any, **kw: Any) -> ChatResult:
        raise ConnectionError("connection refused by 127.0.0.1:9")

    def _stream(self, *a: Any, **kw: Any) -> Iterator[ChatGenerationChunk]:
        raise ConnectionError("connection refused by 127.0.0.1:9")


def fake_llm(text: str = GROUNDED_REPLY, n: int = 200) -> GenericFakeChatModel:
    """The team's standard fake: the same reply ``n`` times."""
    return GenericFakeChatModel(messages=iter([text] * n))


@dataclass
class Api:
    """A test app: client, settings, store, the companion and one API key."""

    app: FastAPI
    client: TestClient
    settings: Settings
    store: SessionStore
    companion: Companion
    key: str
    keys: KeyStore

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def new_key(self, name: str = "Other clinic") -> str:
        return self.keys.create(name).key

    def chat(self, message: str, session_id: str | None = None, headers: dict[str, str] | None = None, **extra: Any):
        body: dict[str, Any] = {"message": message, **extra}
        if session_id:
            body["session_id"] = session_id
        return self.client.post("/v1/chat", json=body, headers=self.auth if headers is None else headers)


@pytest.fixture
def make_api(tmp_path) -> Iterator[Callable[..., Api]]:
    """Factory: ``make_api(llm=..., retriever=..., store=..., **settings)`` -> :class:`Api`."""
    made: list[Api] = []

    def build(llm: Any = None, retriever: Any = None, store: SessionStore | None = None, **overrides: Any) -> Api:
        values: dict[str, Any] = {
            "data_dir": tmp_path / f"data{len(made)}",
            "llm_provider": "fake",
            "rate_limit": "1000/minute",
            "cors_origins": ["https://clinic.example"],
            "locale": "en-GB",
        }
        values.update(overrides)
        settings = Settings(**values)
        companion = Companion(settings, llm=llm if llm is not None else fake_llm(),
                              retriever=retriever if retriever is not None else FakeRetriever())
        store = store or SessionStore.from_settings(settings)
        app = create_app(settings, companion=companion, store=store)
        client = TestClient(app)
        keys = app.state.ctx.keys
        api = Api(app, client, settings, store, companion, keys.create("Clinic North").key, keys)
        made.append(api)
        return api

    yield build
    for api in made:
        api.client.close()
        api.store.dispose()


@pytest.fixture
def api(make_api) -> Api:
    """An app with the fake LLM, a one-passage retriever, a SQLite store and an API key."""
    return make_api()


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Parse a ``text/event-stream`` body into ``[(event, json data), …]`` (pings skipped)."""
    import json

    out = []
    for block in re.split(r"\r\n\r\n|\n\n", text):
        event, data = "message", []
        for line in re.split(r"\r\n|\n", block):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))
        if data:
            out.append((event, json.loads("\n".join(data))))
    return out


@pytest.fixture
def all_logs(caplog) -> pytest.LogCaptureFixture:
    """Capture every logger at DEBUG."""
    caplog.set_level(logging.DEBUG)
    return caplog
