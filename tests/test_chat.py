"""The turn pipeline with a fake chat model: what a person would notice in one turn."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatResult

import safety
from companion.chat import Companion, InputError, Reply, history_window
from companion.retrieval import Passage
from companion.settings import Settings
from safety import Level

BACKSLIDE = Passage(
    id="p1",
    title="When old patterns come back",
    source="knowledge/backsliding-in-therapy.md",
    text="A setback after months of progress is common. Old feelings coming back does not erase what you learned.",
    score=0.71,
)
GROUNDING = Passage(
    id="p2",
    title="The 5-4-3-2-1 grounding exercise",
    source="knowledge/grounding-5-4-3-2-1.md",
    text="Name five things you can see, four you can touch, three you can hear.",
    score=0.52,
)


class FakeRetriever:
    """Returns fixed passages; records the queries it was asked."""

    def __init__(self, passages: list[Passage]):
        self.passages = passages
        self.queries: list[str] = []

    def retrieve(self, query: str, k: int | None = None) -> list[Passage]:
        self.queries.append(query)
        return self.passages[: k or len(self.passages)]

    def count(self) -> int:
        return len(self.passages)


class ExplodingModel(BaseChatModel):
    """A chat model whose server is down: every call raises."""

    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "exploding"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        self.calls += 1
        raise ConnectionError("connection refused by 127.0.0.1:9")


def fake_llm(*replies: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies]))


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, llm_provider="fake", max_message_chars=200)


def run(bot: Companion, message: str, **kw: Any) -> tuple[list[str], Reply]:
    pieces: list[str] = []
    reply = None
    for event in bot.stream(message, **kw):
        if isinstance(event, Reply):
            reply = event
        else:
            pieces.append(event)
    assert reply is not None
    return pieces, reply


def test_grounded_reply_streams_and_cites_the_retrieved_passage(settings):
    text = (
        "It makes sense that this feels discouraging after all your work. "
        "Setbacks are a common part of healing and do not erase what you learned [1]. "
        "What has felt hardest this week?"
    )
    bot = Companion(settings, llm=fake_llm(text), retriever=FakeRetriever([BACKSLIDE, GROUNDING]))
    pieces, reply = run(bot, "I feel like I'm backsliding in therapy")

    assert reply.kind == "grounded"
    # never a crisis; the semantic layer may read the mild distress as concern, which only adds a
    # one-line pointer to a support line after the grounded reply (and its resources)
    assert reply.level <= Level.CONCERN
    assert len(pieces) >= 2, "the reply should arrive in pieces, not all at once"
    assert "".join(pieces).strip() == reply.text
    assert [s.title for s in reply.sources] == ["When old patterns come back"]
    assert reply.sources[0].cited
    assert reply.context and "[1] (from \"When old patterns come back\")" in reply.context
    assert (reply.resources is None) == (reply.level == Level.NONE)


def test_citation_to_a_passage_that_was_not_retrieved_is_removed(settings):
    bot = Companion(
        settings,
        llm=fake_llm("That sounds heavy. Small steps still count [1]. Research shows this too [7]."),
        retriever=FakeRetriever([BACKSLIDE]),
    )
    _, reply = run(bot, "I'm tired of trying")
    assert "[7]" not in reply.text
    assert "[1]" in reply.text
    assert {s.number for s in reply.sources} == {1}


def test_uncited_reply_still_lists_the_passages_it_was_grounded_in(settings):
    bot = Companion(settings, llm=fake_llm("That sounds really hard. You are not alone in this."), retriever=FakeRetriever([BACKSLIDE, GROUNDING]))
    _, reply = run(bot, "everything feels slow")
    assert [s.number for s in reply.sources] == [1, 2]
    assert not any(s.cited for s in reply.sources)


def test_crisis_message_gets_resources_and_never_reaches_the_llm(settings):
    model = ExplodingModel()
    bot = Companion(settings, llm=model, retriever=FakeRetriever([BACKSLIDE]))
    pieces, reply = run(bot, "I want to kill myself tonight", locale="en-US")

    assert reply.level >= Level.CRISIS
    assert reply.kind == "crisis"
    assert model.calls == 0
    assert reply.resources and reply.resources["resources"], "a crisis reply must carry resources"
    assert "".join(pieces).strip() == reply.text.strip()
    assert "?" in reply.text, "a crisis reply asks directly about safety"


def test_screening_error_fails_closed_to_crisis(settings, monkeypatch):
    def broken(*a: Any, **k: Any):
        raise RuntimeError("pattern file unreadable")

    monkeypatch.setattr(safety, "screen", broken)
    bot = Companion(settings, llm=fake_llm("hello"), retriever=FakeRetriever([]))
    _, reply = run(bot, "just a normal day")
    assert reply.level >= Level.CRISIS
    assert reply.kind == "crisis"
    assert reply.resources


def test_dead_llm_gives_a_grounded_fallback_not_an_exception(settings):
    bot = Companion(settings, llm=ExplodingModel(), retriever=FakeRetriever([BACKSLIDE]))
    pieces, reply = run(bot, "I'm backsliding and I feel ashamed")
    assert reply.kind == "fallback"
    assert "When old patterns come back" in reply.text, "the fallback should point to the best passage"
    assert any(w.startswith("llm_unavailable") for w in reply.warnings)
    assert "ConnectionError" in reply.warnings[0]
    assert pieces


def test_unsafe_sentence_from_the_model_is_never_shown(settings):
    bad = (
        "I'm sorry you're going through this. "
        "You clearly have bipolar disorder, so take 300 mg of lithium every night. "
        "That will fix it."
    )
    bot = Companion(settings, llm=fake_llm(bad), retriever=FakeRetriever([BACKSLIDE]))
    pieces, reply = run(bot, "my moods swing a lot")
    shown = "".join(pieces)
    assert "lithium" not in shown and "bipolar" not in shown
    assert "lithium" not in reply.text
    assert reply.kind == "fallback"
    assert any(w.startswith("output_blocked") for w in reply.warnings)
    assert shown.startswith("I'm sorry you're going through this."), "safe sentences before the bad one stay"


def test_a_citation_shown_before_a_blocked_sentence_stays_a_listed_source(settings):
    bad = "That sounds hard. Grounding can help [2]. You clearly have bipolar disorder, so take 300 mg of lithium."
    bot = Companion(settings, llm=fake_llm(bad), retriever=FakeRetriever([BACKSLIDE, GROUNDING]))
    _, reply = run(bot, "my moods swing a lot")
    assert reply.kind == "fallback" and "[2]" in reply.text
    assert 2 in [s.number for s in reply.sources], "every [n] in the text must name a listed source"


@pytest.mark.parametrize(
    ("message", "code"),
    [("", "empty"), ("   \n\t ", "empty"), ("\u200b\u200b", "empty"), (None, "wrong_type"), (42, "wrong_type"), (["hi"], "wrong_type")],
)
def test_bad_messages_raise_a_clear_input_error(settings, message, code):
    bot = Companion(settings, llm=ExplodingModel(), retriever=FakeRetriever([]))
    with pytest.raises(InputError) as info:
        bot.reply(message)
    assert info.value.code == code
    assert str(info.value)


def test_too_long_message_is_rejected_with_the_limit_in_the_error(settings):
    bot = Companion(settings, llm=ExplodingModel(), retriever=FakeRetriever([]))
    with pytest.raises(InputError) as info:
        bot.reply("work was long today. " * 20)
    assert info.value.code == "too_long"
    assert "200" in str(info.value)


def test_too_long_crisis_message_is_still_answered_with_resources(settings):
    bot = Companion(settings, llm=ExplodingModel(), retriever=FakeRetriever([]))
    reply = bot.reply("work was long today. " * 20 + "I want to kill myself tonight.")
    assert reply.kind == "crisis"
    assert reply.resources


def test_lone_surrogates_do_not_crash_the_turn(settings):
    bot = Companion(settings, llm=fake_llm("That sounds hard. I'm here."), retriever=FakeRetriever([]))
    reply = bot.reply("I feel \ud800 off today")
    assert reply.text


def test_follow_up_prompt_starts_with_the_previous_prompt(settings):
    """Turn 2 re-sends turn 1 byte for byte, so the embedded model reuses its KV cache."""
    retriever = FakeRetriever([BACKSLIDE])
    bot = Companion(settings, llm=fake_llm("a"), retriever=retriever)
    from companion.prompts import render_context

    ctx1 = render_context([BACKSLIDE])
    turn1 = bot._messages("first message", ctx1, [])
    history = [
        {"role": "user", "content": "first message", "context": ctx1},
        {"role": "assistant", "content": "first reply"},
    ]
    turn2 = bot._messages("second message", render_context([GROUNDING]), history)
    assert [m.content for m in turn2[: len(turn1)]] == [m.content for m in turn1]
    assert turn2[len(turn1)].content == "first reply"


def test_a_passage_already_in_the_conversation_is_not_pasted_again_but_stays_citable(settings):
    """Follow-up prompts stay short: a passage the model read in turn 1 is referenced, not repeated."""
    bot = Companion(settings, llm=fake_llm("That sounds hard. A setback is common [1]. Grounding can help [2]."),
                    retriever=FakeRetriever([BACKSLIDE, GROUNDING]))
    from companion.prompts import render_context

    ctx1 = render_context([BACKSLIDE])
    history = [
        {"role": "user", "content": "first message", "context": ctx1},
        {"role": "assistant", "content": "first reply"},
    ]
    reply = bot.reply("second message", history)
    assert BACKSLIDE.text not in reply.context, "turn 2 repeated a passage the model already has"
    assert GROUNDING.text in reply.context
    assert "[1]" in reply.context and "When old patterns come back" in reply.context
    assert [s.title for s in reply.sources] == [BACKSLIDE.title, GROUNDING.title]

    # once turn 1 has left the history window, the passage is pasted in full again
    long_history = history + [{"role": "user" if i % 2 == 0 else "assistant", "content": f"m{i}"} for i in range(settings.history_turns + 2)]
    bot2 = Companion(settings, llm=fake_llm("That sounds hard. A setback is common [1]."), retriever=FakeRetriever([BACKSLIDE]))
    assert BACKSLIDE.text in bot2.reply("third message", long_history).context


def test_history_window_evicts_in_blocks_so_the_prefix_stays_stable():
    history = [{"role": "user" if i % 2 == 0 else "assistant", "content": str(i)} for i in range(30)]
    window = 6
    starts = []
    for n in range(2, 30, 2):
        kept = history_window(history[:n], window)
        assert len(kept) <= window
        assert kept[0]["role"] == "user", "the window must start on a user message"
        starts.append(int(kept[0]["content"]))
    changes = sum(1 for a, b in zip(starts, starts[1:]) if a != b)
    assert changes <= len(starts) // 2, f"the window start moved too often: {starts}"
    assert history_window(history, 0) == []


def test_retrieval_query_includes_the_previous_user_message(settings):
    retriever = FakeRetriever([BACKSLIDE])
    bot = Companion(settings, llm=fake_llm("I hear you. That sounds hard."), retriever=retriever)
    history = [{"role": "user", "content": "my therapist is on holiday"}, {"role": "assistant", "content": "ok"}]
    bot.reply("and it feels worse now", history)
    assert "therapist is on holiday" in retriever.queries[-1]


def test_reply_to_dict_has_the_documented_keys(settings):
    bot = Companion(settings, llm=fake_llm("That sounds hard [1]."), retriever=FakeRetriever([BACKSLIDE]))
    data = bot.reply("hello").to_dict()
    for key in ("reply", "level", "categories", "resources", "sources", "session_id"):
        assert key in data
    assert data["level"] == "none"
    assert data["sources"][0]["title"] == BACKSLIDE.title


def test_forget_clears_the_models_conversation_state(settings):
    class RememberingModel(GenericFakeChatModel):
        forgotten: int = 0

        def forget(self) -> None:
            self.forgotten += 1

    model = RememberingModel(messages=iter([AIMessage(content="I hear you.")]))
    bot = Companion(settings, llm=model, retriever=FakeRetriever([]))
    bot.reply("hello there")
    bot.forget()
    assert model.forgotten == 1


class SlowModel(BaseChatModel):
    """Streams one sentence, then stalls (a looping or overloaded model)."""

    @property
    def _llm_type(self) -> str:
        return "slow"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        raise NotImplementedError

    def _stream(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any):
        import time as _time

        from langchain_core.messages import AIMessageChunk
        from langchain_core.outputs import ChatGenerationChunk

        for word in ("That ", "sounds ", "really ", "hard. ", "And ", "then "):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word))
        for _ in range(50):
            _time.sleep(0.1)
            yield ChatGenerationChunk(message=AIMessageChunk(content="more "))


def test_a_stalled_model_is_cut_off_at_the_time_limit(tmp_path):
    import time as _time

    s = Settings(data_dir=tmp_path, llm_provider="fake", reply_time_limit_s=0.5)
    bot = Companion(s, llm=SlowModel(), retriever=FakeRetriever([BACKSLIDE]))
    t = _time.perf_counter()
    reply = bot.reply("I feel low")
    assert _time.perf_counter() - t < 3
    assert reply.text.startswith("That sounds really hard.")
    assert "more more" not in reply.text
    assert "generation_time_limit" in reply.warnings
