"""The embedded model's minimum reply length: end-of-turn tokens are forbidden
until a reply has ``llm_min_tokens`` tokens (a 1.5B model often stops after one
sentence and a question, below the style guide's 60 words)."""

from __future__ import annotations

import numpy as np
import pytest

from companion import llm as llm_mod
from companion.llm import LlamaCppChat, end_of_turn_tokens


class _Vocab:
    """Stands in for ``llama_cpp.Llama``: only the vocabulary calls the processor uses."""

    EOS = 7
    SPECIAL = {b"<|im_end|>": [7], b"<|endoftext|>": [5], b"<|eot_id|>": [1, 2, 3]}

    def token_eos(self) -> int:
        return self.EOS

    def tokenize(self, text: bytes, add_bos: bool = False, special: bool = False) -> list[int]:
        return self.SPECIAL.get(text, [9, 9])


def test_end_of_turn_tokens_are_eos_and_single_token_chat_markers() -> None:
    # <|eot_id|> is three ordinary tokens in this vocabulary: not a marker, not suppressed
    assert end_of_turn_tokens(_Vocab()) == [5, 7]


def _sample(processors, prompt_len: int, generated: int) -> np.ndarray:
    scores = np.zeros(10, dtype=np.single)
    ids = np.arange(prompt_len + generated, dtype=np.intc)
    for p in processors:
        scores = p(ids, scores)
    return scores


def test_reply_cannot_end_before_the_minimum_then_can(monkeypatch: pytest.MonkeyPatch) -> None:
    model = LlamaCppChat(model_path="unused.gguf", min_tokens=3)
    monkeypatch.setattr(LlamaCppChat, "client", property(lambda self: _Vocab()))
    params = model._params(None)
    procs = params["logits_processor"]
    # the first call fixes the prompt length (12 tokens), as llama.cpp does before the first sample
    first = _sample(procs, 12, 0)
    assert first[7] == -np.inf and first[5] == -np.inf
    assert np.isfinite(first[0])  # ordinary tokens stay possible
    assert _sample(procs, 12, 2)[7] == -np.inf
    after = _sample(procs, 12, 3)
    assert np.isfinite(after[7]) and np.isfinite(after[5])


def test_each_call_counts_from_its_own_prompt(monkeypatch: pytest.MonkeyPatch) -> None:
    model = LlamaCppChat(model_path="unused.gguf", min_tokens=2)
    monkeypatch.setattr(LlamaCppChat, "client", property(lambda self: _Vocab()))
    first_call = model._params(None)["logits_processor"]
    _sample(first_call, 10, 0)
    assert np.isfinite(_sample(first_call, 10, 5)[7])
    # a later turn has a longer prompt; a shared processor would think it is past the minimum
    second_call = model._params(None)["logits_processor"]
    assert _sample(second_call, 40, 0)[7] == -np.inf


def test_zero_minimum_adds_no_processor() -> None:
    assert "logits_processor" not in LlamaCppChat(model_path="unused.gguf", min_tokens=0)._params(None)


def test_settings_minimum_reaches_the_embedded_model(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    from companion.settings import Settings

    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setattr(llm_mod, "resolve_model_path", lambda model_dir, local: gguf)
    built = llm_mod.build_chat_model(Settings(llm_provider="local", llm_min_tokens=80, llm_max_tokens=60))
    # never more than the reply may hold
    assert isinstance(built, LlamaCppChat) and built.min_tokens == 60
    built = llm_mod.build_chat_model(Settings(llm_provider="local", llm_min_tokens=80))
    assert built.min_tokens == 80
