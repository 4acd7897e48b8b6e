"""End to end on the real embedded model: seeds + knowledge ingested, one grounded turn.

Slow (loads the 1.1 GB model and MiniLM; about a minute on 2 cores). Needs the
model assembled by ./scripts/setup.sh (or COMPANION_LOCAL_MODEL_PATH).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from companion.chat import Companion, Reply
from companion.ingest import ingest
from companion.model_assets import ModelUnavailable, resolve_model_path
from companion.retrieval import Retriever
from companion.settings import REPO_ROOT, Settings

pytestmark = [pytest.mark.slow, pytest.mark.integration]

SEEDS = REPO_ROOT.parent / "shared" / "seeds"
QUESTION = "I feel like I'm backsliding in therapy and the old anxiety is back"
CHROME = [
    "Thank you! Your submission has been received!",
    "Oops! Something went wrong while submitting the form.",
    "Popular Categories",
    "Last Updated:",
    "No items found.",
    "offices are closed",
]


@pytest.fixture(scope="module")
def model_path() -> Path:
    try:
        llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed (run ./scripts/setup.sh)")
        del llama_cpp
        defaults = Settings()
        return resolve_model_path(defaults.model_dir, defaults.local_model_path)
    except ModelUnavailable as exc:
        pytest.fail(f"embedded model unavailable: {exc}")


@pytest.fixture(scope="module")
def settings(tmp_path_factory, model_path) -> Settings:
    if not SEEDS.is_dir():
        pytest.skip(f"seed articles not found at {SEEDS}")
    return Settings(
        data_dir=tmp_path_factory.mktemp("e2e"),
        llm_provider="local",
        local_model_path=model_path,
        llm_temperature=0.0,
        llm_max_tokens=160,
    )


@pytest.fixture(scope="module")
def indexed(settings, embeddings) -> Retriever:
    report = ingest([SEEDS, REPO_ROOT / "knowledge"], settings, progress=False, embeddings=embeddings)
    assert report.files_ingested >= 3 + 12
    assert not [s for s in report.skipped if "seeds" in s[0] and not s[0].endswith("README.md")]
    return Retriever(settings, embeddings=embeddings)


def test_seed_chunks_carry_no_page_chrome(indexed, settings):
    from companion.retrieval import open_vectorstore

    store = open_vectorstore(settings, indexed.embeddings, create=False)
    got = store.get(include=["documents", "metadatas"])
    seed_chunks = [d for d, m in zip(got["documents"], got["metadatas"]) if "not-making-progress-in-therapy" in m["source"]]
    assert seed_chunks, "seed 002 was not indexed"
    for chunk in seed_chunks:
        for chrome in CHROME:
            assert chrome not in chunk


def test_backsliding_seed_is_retrieved_for_the_question(indexed, settings):
    passages = indexed.retrieve(QUESTION, settings.retrieval_k)
    assert any("not-making-progress-in-therapy" in p.source for p in passages), [p.source for p in passages]


def test_embedded_model_gives_a_grounded_cited_reply(indexed, settings):
    bot = Companion(settings, retriever=indexed)
    pieces, reply = [], None
    for event in bot.stream(QUESTION):
        if isinstance(event, Reply):
            reply = event
        else:
            pieces.append(event)
    assert reply is not None
    assert reply.kind == "grounded", reply.warnings
    assert len(reply.text.split()) >= 15
    assert reply.sources, "the reply must name the passages it is grounded in"
    assert all(s.title for s in reply.sources)
    assert len(pieces) >= 2, "the reply should stream"
    assert reply.level.value in {"none", "concern"}

    # a follow-up turn keeps the conversation going on the same model
    history = [
        {"role": "user", "content": QUESTION, "context": reply.context},
        {"role": "assistant", "content": reply.text},
    ]
    follow = bot.reply("It is worst at night. What could I try?", history)
    assert follow.kind == "grounded", follow.warnings
    assert follow.text.strip()
