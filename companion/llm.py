"""LLM factory: the embedded llama.cpp model or any OpenAI-compatible endpoint.

Both return a LangChain ``BaseChatModel`` so the turn pipeline is the same for
every provider. The ``langchain-community`` llama.cpp wrapper is being sunset
upstream, so the embedded model uses the small adapter :class:`LlamaCppChat`
below (generation itself is llama-cpp-python's).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from companion.model_assets import ModelUnavailable, resolve_model_path
from companion.settings import Settings

__all__ = ["LLMUnavailable", "LlamaCppChat", "build_chat_model", "describe_llm", "load_llama"]

log = logging.getLogger(__name__)


class LLMUnavailable(RuntimeError):
    """The configured LLM cannot be used; the message names the fix."""


_ROLE = {"system": "system", "human": "user", "ai": "assistant", "tool": "tool"}


def _to_dicts(messages: list[BaseMessage]) -> list[dict[str, str]]:
    return [{"role": _ROLE.get(m.type, "user"), "content": str(m.content)} for m in messages]


@lru_cache(maxsize=2)
def load_llama(model_path: str, n_ctx: int, n_threads: int | None) -> Any:
    """Load a GGUF with llama-cpp-python once per process (cached).

    The returned ``llama_cpp.Llama`` keeps its KV cache between calls, so a
    prompt that starts with the tokens of the previous one (system prompt,
    earlier turns) only evaluates the new suffix.

    Raises:
        LLMUnavailable: llama-cpp-python is not installed or the file does not load.
    """
    try:
        from llama_cpp import Llama
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise LLMUnavailable(
            "the embedded model runtime (llama-cpp-python) is not installed. Fix: run "
            "./scripts/setup.sh or `pip install -e '.[local]'`, or use an endpoint with "
            "COMPANION_LLM_PROVIDER=openai and COMPANION_LLM_BASE_URL."
        ) from exc
    try:
        llama = Llama(
            model_path=model_path,
            n_ctx=n_ctx,
            n_threads=n_threads or os.cpu_count() or 2,
            n_batch=512,
            verbose=False,
        )
    except (ValueError, RuntimeError, OSError) as exc:
        raise LLMUnavailable(
            f"could not load the model file {model_path}: {exc}. Fix: check "
            "COMPANION_LOCAL_MODEL_PATH, or run `companion model prepare` to re-assemble "
            "the packaged model."
        ) from exc
    # Free the model before interpreter teardown (llama-cpp-python's __del__ fails late in shutdown).
    atexit.register(llama.close)
    _leave_the_cores_to_llama()
    return llama


def _leave_the_cores_to_llama() -> None:
    """Run torch (the MiniLM embeddings of retrieval and screening) on one thread.

    llama.cpp already uses every core while it generates; torch's own thread
    pool then competes with it between tokens (the per-sentence output check
    embeds each sentence). Measured with benches/bench_turn.py on 2 cores:
    pipeline generation throughput 0.88-0.93x bare llama-cpp-python with torch on
    2 threads, 0.99x on 1 thread; short-text embeddings do not need more.
    """
    try:
        import torch
    except ImportError:  # pragma: no cover - torch comes with the embeddings
        return
    torch.set_num_threads(1)


class LlamaCppChat(BaseChatModel):
    """LangChain chat model over a local ``llama_cpp.Llama`` (streams tokens).

    Calls are serialised with a lock: one llama.cpp context serves one
    generation at a time.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_path: str
    n_ctx: int = 4096
    n_threads: int | None = None
    temperature: float = 0.4
    max_tokens: int = 320
    #: End-of-turn tokens are suppressed until the reply has this many tokens (0: off).
    min_tokens: int = 0
    stop: list[str] | None = None

    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def client(self) -> Any:
        """The shared ``llama_cpp.Llama`` instance."""
        return load_llama(self.model_path, self.n_ctx, self.n_threads)

    def forget(self) -> None:
        """Drop the conversation held in the model's KV cache (after a user deletes it).

        The next call re-reads its whole prompt; nothing of the previous
        conversation can be reused as a prefix.
        """
        with self._lock:
            if load_llama.cache_info().currsize:
                self.client.reset()

    def _params(self, stop: list[str] | None) -> dict[str, Any]:
        params: dict[str, Any] = {
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": stop or self.stop,
        }
        if self.min_tokens > 0:
            params["logits_processor"] = _min_length_processor(self.client, self.min_tokens)
        return params

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        text = "".join(chunk.text for chunk in self._stream(messages, stop, run_manager, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        client = self.client
        with self._lock:
            for part in client.create_chat_completion(
                messages=_to_dicts(messages), stream=True, **self._params(stop)
            ):
                delta = part["choices"][0].get("delta", {}).get("content")
                if not delta:
                    continue
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=delta))
                if run_manager:
                    run_manager.on_llm_new_token(delta, chunk=chunk)
                yield chunk


def end_of_turn_tokens(llama: Any) -> list[int]:
    """Token ids that end a reply: the model's EOS and, when the vocabulary has
    them, ``<|im_end|>`` / ``<|endoftext|>`` / ``<|eot_id|>`` (ChatML and Llama 3 templates)."""
    ids = {int(llama.token_eos())}
    for text in (b"<|im_end|>", b"<|endoftext|>", b"<|eot_id|>"):
        toks = llama.tokenize(text, add_bos=False, special=True)
        if len(toks) == 1:
            ids.add(int(toks[0]))
    return sorted(i for i in ids if i >= 0)


def _min_length_processor(llama: Any, min_tokens: int) -> Any:
    """A fresh ``LogitsProcessorList`` (one per call: it counts from that call's
    prompt) that forbids every end-of-turn token for the first ``min_tokens``
    generated tokens, llama-cpp-python's ``MinTokensLogitsProcessor`` once per id."""
    from llama_cpp import LogitsProcessorList
    from llama_cpp.llama import MinTokensLogitsProcessor

    return LogitsProcessorList(
        [MinTokensLogitsProcessor(min_tokens, tok) for tok in end_of_turn_tokens(llama)]
    )


def build_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model named by ``settings.llm_provider``.

    * ``local``: :class:`LlamaCppChat` on ``COMPANION_LOCAL_MODEL_PATH`` or the
      packaged Qwen2.5-Coder-1.5B-Instruct Q4_K_M (assembled and verified once).
    * ``openai``: ``ChatOpenAI`` against ``COMPANION_LLM_BASE_URL`` (or OpenAI),
      always with an explicit timeout and retry count (its default timeout is
      none: a dead server would hang forever).
    * ``fake``: a canned-reply model for demos (never for real users).

    Raises:
        LLMUnavailable: the model or runtime is missing; the message names the fix.
    """
    provider = settings.llm_provider
    if provider == "openai":
        from langchain_openai import ChatOpenAI

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        if not key and not settings.llm_base_url:
            raise LLMUnavailable(
                "COMPANION_LLM_PROVIDER=openai needs OPENAI_API_KEY (for OpenAI) or "
                "COMPANION_LLM_BASE_URL (for a local OpenAI-compatible server)."
            )
        return ChatOpenAI(
            model=settings.llm_model,
            base_url=settings.llm_base_url,
            api_key=key or "not-needed",
            timeout=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
            temperature=settings.llm_temperature,
            max_tokens=settings.llm_max_tokens,
            streaming=True,
        )
    if provider == "fake":
        from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

        from companion.prompts import FAKE_REPLIES

        return GenericFakeChatModel(messages=iter(FAKE_REPLIES * 1000))
    try:
        path = resolve_model_path(settings.model_dir, settings.local_model_path)
    except ModelUnavailable as exc:
        raise LLMUnavailable(str(exc)) from exc
    return LlamaCppChat(
        model_path=str(path),
        n_ctx=settings.local_n_ctx,
        n_threads=settings.local_n_threads,
        temperature=settings.llm_temperature,
        max_tokens=settings.llm_max_tokens,
        min_tokens=min(settings.llm_min_tokens, settings.llm_max_tokens),
    )


def describe_llm(settings: Settings) -> str:
    """One line naming the provider and model, for status output (no secrets)."""
    if settings.llm_provider == "openai":
        return f"openai-compatible {settings.llm_model} at {settings.llm_base_url or 'api.openai.com'}"
    if settings.llm_provider == "fake":
        return "fake (canned replies; demos and tests only)"
    name = Path(settings.local_model_path).name if settings.local_model_path else "packaged Qwen2.5-Coder-1.5B-Instruct Q4_K_M"
    return f"embedded llama.cpp: {name}"
