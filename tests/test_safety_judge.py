"""The optional LLM judge: parses a level, abstains when the endpoint fails."""

from __future__ import annotations

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from companion.safety_judge import make_llm_judge
from safety import Level
from tests.test_chat import ExplodingModel


def test_judge_reads_the_level_from_the_model_answer():
    judge = make_llm_judge(GenericFakeChatModel(messages=iter([AIMessage(content="Crisis."), AIMessage(content="none")])))
    assert judge("i don't see the point of anything", ("lost my job",)) == Level.CRISIS
    assert judge("fine thanks", ()) == Level.NONE


def test_judge_abstains_when_the_endpoint_is_down_or_the_answer_is_unclear():
    assert make_llm_judge(ExplodingModel())("hmm", ()) is None
    unclear = make_llm_judge(GenericFakeChatModel(messages=iter([AIMessage(content="I am not sure")])))
    assert unclear("hmm", ()) is None
