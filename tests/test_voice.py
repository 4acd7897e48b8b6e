"""The style guide holds whatever the model does: what a person would see in the reply."""

from __future__ import annotations

import random
import re

from companion.chat import Companion
from companion.settings import Settings
from companion.voice import VoiceShaper
from tests.test_chat import BACKSLIDE, FakeRetriever, fake_llm, run


def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path, llm_provider="fake")


def test_only_one_question_is_shown_and_generation_stops_after_it(tmp_path):
    text = (
        "That sounds really hard, and it makes sense that you're tired after months of effort. "
        "Setbacks are part of how change usually goes, and they do not erase what you learned [1]. "
        "Many people find it helps to notice what was different this week. "
        "What has felt hardest lately? Have you told your therapist? Do you sleep well?"
    )
    # a message the screener leaves at none: at concern a support line follows the question
    _, reply = run(Companion(settings(tmp_path), llm=fake_llm(text), retriever=FakeRetriever([BACKSLIDE])), "I keep falling back into procrastinating")
    assert reply.text.count("?") == 1
    assert reply.text.rstrip().endswith("What has felt hardest lately?")


def test_reply_that_opens_with_an_instruction_gets_a_validating_opener(tmp_path):
    text = "Try writing down three things that went well today. It can help to see progress [1]."
    pieces, reply = run(Companion(settings(tmp_path), llm=fake_llm(text), retriever=FakeRetriever([BACKSLIDE])), "nothing is working")
    first = re.split(r"(?<=[.!?])\s", reply.text)[0]
    assert "Try writing" not in first
    assert VoiceShaper()._validates(first)
    assert "Try writing down three things" in reply.text


def test_prompt_echo_and_repeated_sentences_are_not_shown(tmp_path):
    text = (
        "I hear you, and that sounds exhausting. "
        "First, I reflect and validate what the person feels, then use the numbered passages. "
        "I hear you, and that sounds exhausting. "
        "Small steps still count [1]."
    )
    _, reply = run(Companion(settings(tmp_path), llm=fake_llm(text), retriever=FakeRetriever([BACKSLIDE])), "so tired")
    assert "passages" not in reply.text
    assert reply.text.count("that sounds exhausting") == 1
    assert "Small steps still count" in reply.text


def test_claiming_to_be_a_person_blocks_the_reply(tmp_path):
    text = "That sounds hard. I'm Dr. Maple, your human pharmacist, and I can advise you. Take care."
    pieces, reply = run(Companion(settings(tmp_path), llm=fake_llm(text), retriever=FakeRetriever([BACKSLIDE])), "can you help me")
    assert "pharmacist" not in "".join(pieces)
    assert "pharmacist" not in reply.text
    assert any("claims_human" in w for w in reply.warnings)


def test_a_name_and_title_claim_blocks_the_reply(tmp_path):
    text = "I hear you, and that sounds hard. I'm Dr. Maple, a human pharmacist, and I'm here to help."
    pieces, reply = run(Companion(settings(tmp_path), llm=fake_llm(text), retriever=FakeRetriever([BACKSLIDE])), "can you help me")
    assert "Maple" not in "".join(pieces) and "Maple" not in reply.text
    assert any("claims_human" in w for w in reply.warnings)


def test_a_rambling_reply_is_cut_at_a_sentence_boundary_within_the_word_limit(tmp_path):
    sentence = "It makes sense to feel worn down when healing takes longer than you hoped it would. "
    _, reply = run(Companion(settings(tmp_path), llm=fake_llm("That sounds hard. " + sentence * 1 + " ".join(f"Point number {i} is one more gentle idea for you to hold." for i in range(40))), retriever=FakeRetriever([BACKSLIDE])), "tired")
    assert len(re.findall(r"\w+", reply.text)) <= 170
    assert reply.text.rstrip().endswith(".")


def test_spanish_message_asks_the_model_to_reply_in_spanish(tmp_path):
    bot = Companion(settings(tmp_path), llm=fake_llm("Suena muy difícil. Estoy aquí contigo."), retriever=FakeRetriever([]))
    msgs = bot._messages("me siento estancada en terapia", "", [], "es")
    assert "Responde en español" in msgs[-1].content
    assert "Responde" not in bot._messages("I feel stuck", "", [], "en")[-1].content


def test_spanish_opener_when_the_first_sentence_does_not_validate():
    shaper = VoiceShaper("es", random.Random(1))
    out = shaper.shape("Intenta escribir lo que sientes.")
    assert len(out) == 2
    assert shaper._validates(out[0])


def test_a_reply_that_pastes_the_persons_message_back_does_not_show_the_copy(tmp_path):
    message = "Desde que me corrieron del trabajo ya no le encuentro sentido a nada."
    text = "Desde que me corrieron del trabajo ya no le encuentro sentido a nada. Perder el trabajo sacude mucho más que la rutina."
    _, reply = run(Companion(settings(tmp_path), llm=fake_llm(text), retriever=FakeRetriever([])), message)
    assert "me corrieron del trabajo" not in reply.text
    assert "Perder el trabajo sacude" in reply.text


def test_a_reflection_that_reuses_a_few_of_the_persons_words_is_kept():
    shaper = VoiceShaper("en", random.Random(1), echo_of="I feel like I'm backsliding in therapy and the old anxiety is back.")
    out = shaper.shape("It makes sense that the old anxiety coming back feels like backsliding.")
    assert out and "old anxiety coming back" in out[-1]


def test_a_draft_dropped_entirely_is_retried_once_with_a_nudge(tmp_path):
    refusal = "I can't help with that."
    second = "That sounds really heavy, and I'm glad you said it out loud. Feeling stuck is part of how change goes [1]."
    llm = fake_llm(refusal, second)
    _, reply = run(Companion(settings(tmp_path), llm=llm, retriever=FakeRetriever([BACKSLIDE])), "I feel stuck")
    assert reply.kind == "grounded"
    assert "Feeling stuck is part of how change goes" in reply.text
    assert "can't help" not in reply.text
    assert "empty_reply_retried" in reply.warnings


def test_two_empty_drafts_fall_back_in_the_persons_language(tmp_path):
    llm = fake_llm("No puedo ayudarte con eso.", "No puedo ayudarte con eso.")
    _, reply = run(Companion(settings(tmp_path), llm=llm, retriever=FakeRetriever([])), "Siento que nada mejora y estoy cansada.")
    assert reply.kind == "fallback"
    assert "Gracias por contármelo" in reply.text
    assert "Thank you" not in reply.text
    # the model answered, so this is a quality failure, not an outage (the eval's availability gate)
    assert any(w.startswith("empty_reply") for w in reply.warnings)
    assert not any(w.startswith("llm_unavailable") for w in reply.warnings)


def test_a_bare_greeting_mid_reply_is_not_shown():
    shaper = VoiceShaper("es", random.Random(1))
    assert shaper.shape("¡Hola!") == []
    assert shaper.shape("Hola, qué bueno que escribes; suena a un día pesado.")


def test_a_passage_pasted_with_its_prompt_layout_keeps_its_text_and_citation_not_the_layout(tmp_path):
    text = ("I hear how discouraging this is. Here's something that might help. "
            "[1] (from \"When old patterns come back\") A setback after months of progress is common. "
            "Old feelings coming back does not erase what you learned.")
    _, reply = run(Companion(settings(tmp_path), llm=fake_llm(text), retriever=FakeRetriever([BACKSLIDE])), "I'm backsliding")
    assert "(from" not in reply.text
    assert "A setback after months of progress is common [1]." in reply.text
    assert [s.title for s in reply.sources] == [BACKSLIDE.title]


def test_a_title_abbreviation_does_not_end_a_sentence(tmp_path):
    """'Dr.' must not be shown on its own before the rest of its sentence is checked."""
    text = "I hear you, and that sounds exhausting. Dr. Maple here, and I am your pharmacist."
    _, reply = run(Companion(settings(tmp_path), llm=fake_llm(text), retriever=FakeRetriever([BACKSLIDE])), "I can't sleep")
    assert reply.kind == "fallback"  # the human claim blocked the sentence
    assert "Dr." not in reply.text  # and no dangling fragment of it was shown


def test_every_canned_fallback_meets_the_style_guide_length():
    """A person who gets a fallback still gets a reply of the companion's usual length."""
    from companion.evals.reply_checks import check_length
    from companion.prompts import voice

    v = voice()
    texts = [*v["fallback"]["without_passage"], v["fallback"]["output_blocked"]]
    for lang in v["fallback_by_language"].values():
        texts += [*lang["without_passage"], lang["output_blocked"]]
    for text in texts:
        result = check_length(text)
        assert result.status == "pass", (result.detail, text[:60])


def test_a_sentence_that_is_only_a_citation_is_not_shown():
    shaper = VoiceShaper("en", random.Random(1))
    assert shaper.shape("[1] ") == []
    assert shaper.shape("That sounds heavy [1].")


# --------------------------------------------------------------------------- short replies

SHORT = "That sounds really heavy, and it makes sense that you feel lost. What has been hardest?"
MORE = (
    "Setbacks after a job loss are common, and they do not say anything about your worth [1]. "
    "It can help to keep one small routine this week, like a short walk at the same time each day [1]. "
    "Talking it over with someone you trust can also make the load a little lighter."
)


class _RecordingLLM:
    """A chat model stand-in that records the messages of each call."""

    def __init__(self, *replies: str):
        self.inner = fake_llm(*replies)
        self.calls: list[list] = []

    def stream(self, messages):
        self.calls.append(list(messages))
        return self.inner.stream(messages)


def _continuing(tmp_path, **kw) -> Settings:
    # a real provider (the demo "fake" provider's canned lines are never continued)
    return Settings(data_dir=tmp_path, llm_provider="openai", llm_base_url="http://127.0.0.1:9", **kw)


def test_a_reply_shorter_than_the_style_guide_is_continued_once(tmp_path):
    llm = _RecordingLLM(SHORT, MORE)
    pieces, reply = run(Companion(_continuing(tmp_path), llm=llm, retriever=FakeRetriever([BACKSLIDE])), "I lost my job")
    assert len(llm.calls) == 2
    # the model sees what it already said, then the nudge
    assert llm.calls[1][-2].content.startswith("That sounds really heavy")
    assert "two or three more sentences" in llm.calls[1][-1].content
    assert reply.text.startswith("That sounds really heavy")
    assert "one small routine" in reply.text
    assert len(reply.text.split()) >= 60
    assert "short_reply_continued" in reply.warnings
    assert "".join(pieces).strip().startswith(reply.text[:40])  # streamed, not only in the final reply


def test_the_continuation_keeps_the_one_question_rule(tmp_path):
    more = MORE + " Would a short walk feel possible tomorrow?"
    llm = _RecordingLLM(SHORT, more)
    _, reply = run(Companion(_continuing(tmp_path), llm=llm, retriever=FakeRetriever([BACKSLIDE])), "I lost my job")
    assert reply.text.count("?") == 1


def test_the_nudge_is_in_the_persons_language(tmp_path):
    short_es = "Suena muy difícil, y tiene sentido que te sientas así. ¿Qué ha sido lo más duro?"
    llm = _RecordingLLM(short_es, "Los retrocesos son parte del cambio [1].")
    run(Companion(_continuing(tmp_path), llm=llm, retriever=FakeRetriever([BACKSLIDE])),
        "Desde que perdí el trabajo ya nada tiene sentido para mí", locale="es-MX")
    assert "Continúa" in llm.calls[1][-1].content


def test_a_failing_continuation_keeps_the_reply_already_shown(tmp_path):
    llm = _RecordingLLM(SHORT)  # a second call finds no reply: the model "fails"
    _, reply = run(Companion(_continuing(tmp_path), llm=llm, retriever=FakeRetriever([BACKSLIDE])), "I lost my job")
    assert reply.kind == "grounded"
    assert reply.text.startswith("That sounds really heavy")
    assert any(w.startswith("short_reply_continuation_failed") for w in reply.warnings)


def test_long_enough_replies_and_a_zero_minimum_are_not_continued(tmp_path):
    long_reply = SHORT.replace(" What has been hardest?", " ") + MORE
    llm = _RecordingLLM(long_reply)
    run(Companion(_continuing(tmp_path), llm=llm, retriever=FakeRetriever([BACKSLIDE])), "I lost my job")
    assert len(llm.calls) == 1
    llm = _RecordingLLM(SHORT)
    _, reply = run(Companion(_continuing(tmp_path, reply_min_words=0), llm=llm, retriever=FakeRetriever([BACKSLIDE])),
                   "I lost my job")
    assert len(llm.calls) == 1 and "short_reply_continued" not in reply.warnings
